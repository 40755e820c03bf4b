/*  webhook_sign.h: sign and verify Easel webhook deliveries (CONTRACT 6).

    Two signatures go on every delivery, both HMAC-SHA256 over the raw body:
      X-ASA-Signature:   t=<unix>,v1=<hex>      key = the whole secret string,
                                                "whsec_" included, as ASCII;
                                                msg = "<t>.<body>"
      webhook-signature: v1,<base64>            key = base64-decoded part after
                                                "whsec_"; msg = "<id>.<t>.<body>"
    During a secret rotation a header carries several signatures (X-ASA:
    "t=..,v1=..,v1=.."; Standard Webhooks: space-separated "v1,.. v1,..");
    a verifier accepts the delivery if any one matches.

    This file is the verification helper receivers can copy: it needs only
    OpenSSL (HMAC) and libsodium (base64). No state; thread safe. Output is
    written to caller buffers of the sizes named below.  */
#ifndef EASEL_WEBHOOK_SIGN_H
#define EASEL_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_SECRET_PREFIX   "whsec_"
#define WEBHOOK_SECRET_MAX      256   /* bytes of one secret string */
#define WEBHOOK_ASA_MAX         96    /* "t=" + 20 digits + ",v1=" + 64 hex + NUL */
#define WEBHOOK_STD_MAX         52    /* "v1," + 44 base64 + NUL */
#define WEBHOOK_HEADER_MAX      1024  /* a whole received signature header */

/* Writes the X-ASA-Signature value "t=<t>,v1=<hex>" into out (WEBHOOK_ASA_MAX bytes).
   0; -1 if the secret is empty or longer than WEBHOOK_SECRET_MAX. */
int webhook_sign_asa (const char *secret, int64_t t, const void *body, size_t len,
                      char out[WEBHOOK_ASA_MAX]);

/* Writes the webhook-signature value "v1,<base64>" into out (WEBHOOK_STD_MAX bytes).
   0; -1 if the secret is not "whsec_" + valid base64 or id is empty. */
int webhook_sign_std (const char *secret, const char *id, int64_t t,
                      const void *body, size_t len, char out[WEBHOOK_STD_MAX]);

/* Verifies an X-ASA-Signature header: 0 if its t is within tolerance_s of now
   (either direction) and any v1= entry matches body under secret; -1 otherwise
   (malformed header, stale, tampered body, wrong secret). */
int webhook_verify_asa (const char *secret, const char *header, const void *body, size_t len,
                        int64_t now, int64_t tolerance_s);

/* Verifies Standard Webhooks headers (webhook-id, webhook-timestamp,
   webhook-signature): 0 if the timestamp is within tolerance_s of now and any
   "v1,<base64>" entry of sig_header matches; -1 otherwise. */
int webhook_verify_std (const char *secret, const char *id, const char *timestamp,
                        const char *sig_header, const void *body, size_t len,
                        int64_t now, int64_t tolerance_s);

/* ---- opt-in ed25519 (Standard Webhooks "v1a") ------------------------------
   webhook-signature carries "v1a,<base64 of the 64-byte ed25519 signature over
   "<id>.<t>.<body>">" next to the v1 entries. Keys are base64 (original
   alphabet): the 64-byte libsodium secret key, the 32-byte public key. */
#define WEBHOOK_ED_MAX          96    /* "v1a," + 88 base64 + NUL */

/* Writes "v1a,<base64>" into out. 0; -1 if the key is not 64 bytes of base64. */
int webhook_sign_ed25519 (const char *secret_key_b64, const char *id, int64_t t,
                          const void *body, size_t len, char out[WEBHOOK_ED_MAX]);

/* 0 if the timestamp is fresh and any "v1a,..." entry of sig_header verifies
   under the base64 public key; -1 otherwise. */
int webhook_verify_ed25519 (const char *public_key_b64, const char *id, const char *timestamp,
                            const char *sig_header, const void *body, size_t len,
                            int64_t now, int64_t tolerance_s);

#endif
