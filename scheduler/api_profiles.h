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

void api_profiles_handle (scheduler_t *self, zframe_t *identity, const char *data, size_t len);

#endif
