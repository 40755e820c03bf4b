/*  api_profiles.h: capture profiles on the api socket (CAPTURE_PROFILE).
    The scheduler holds the operator's key (EASEL_PROFILE_KEY, 32 bytes as
    64 hex digits or base64) and is the only process that seals and opens a
    profile's secrets: cookies, headers and local storage are stored as
    nonce || XChaCha20-Poly1305 ciphertext, the profile id and account as
    associated data (a row moved to another account does not open). Without
    a key every action answers 503 capture_profiles_disabled.
    Answers: create 201 with the summary; list 200 {"object": "list",
    "data": [summaries]}; show 200 summary; delete 200 {"id", "object",
    "deleted": true}; resolve 200 with the whole profile (the gateway merges
    it under a capture's options and never shows it). A summary names
    cookies (name, domain, path), headers and local storage keys, never a
    value.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_PROFILES_H
#define EASEL_API_PROFILES_H

#include "api.h"

#define API_PROFILE_KEY_BYTES 32

/* text (hex or base64 of 32 bytes) into key. 0 / -1. */
int api_profiles_parse_key (const char *text, uint8_t key [API_PROFILE_KEY_BYTES]);

/* A capture task's spec holds the page's cookies, headers and local storage
   (a profile's opened secrets among them), so with a key the scheduler
   stores it sealed: API_SPEC_SEALED (a byte msgpack never writes first)
   then nonce || XChaCha20-Poly1305 ciphertext, and opens it only to send
   the TASK. seal replaces *spec (the plain bytes wiped) and answers 0, -1
   out of memory; open replaces a sealed *spec by its plain bytes and answers 0
   (a plain spec is left alone), -1 when it does not open (key NULL,
   another key, altered). */
#define API_SPEC_SEALED 0xc1
static inline bool
api_profiles_spec_sealed (const char *spec, size_t len)
{
    return len > 0 && (uint8_t) spec [0] == API_SPEC_SEALED;
}
int api_profiles_seal_spec (const uint8_t *key, char **spec, size_t *spec_len);
int api_profiles_open_spec (const uint8_t *key, char **spec, size_t *spec_len);

void api_profiles_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
