/*  pg_webhooks.c: the outbox and webhook management (job_store.h, "events
    and webhook deliveries" and "webhook management"), PostgreSQL backend.
    An event and its delivery are written in the transaction of the state
    they report; the webhooker reads pending deliveries and reports attempts.
    Tables: events, deliveries, delivery_attempts, webhook_secrets_old,
    webhook_keys, renders.webhook_status, accounts.webhook_secret.
    Thread: the handle's. Memory: proto_events_t is the caller's. */

#include "store_pg.h"

/* ---- events and deliveries ------------------------------------------------- */

int
job_store_event_add (job_store_t *self, const char *event_id, const char *type,
                     const char *account_id, const char *object_id, int64_t created_at_ms,
                     const char *payload, const char *webhook_url, int64_t *seq_out,
                     char *err)
{
    assert (payload || !webhook_url);
    /* nothing reads the payload of an event without a delivery */
    PGresult *res = pg_query (self, err,
        "INSERT INTO events (id, type, account_id, object_id, created_at, payload)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq", "ssssis",
        event_id, type, account_id, object_id, created_at_ms, webhook_url ? payload : "");
    if (!res)
        return -1;
    int64_t seq = pg_i64 (res, 0, 0);
    PQclear (res);
    if (webhook_url
    &&  pg_run (self, err, "INSERT INTO deliveries (id, event_seq, account_id, url, status, updated_at)"
                           " VALUES ($1, $2, $3, $4, 'pending', $5)", "sissi",
                event_id, seq, account_id, webhook_url, created_at_ms))
        return -1;
    if (seq_out)
        *seq_out = seq;
    return 0;
}

int64_t
job_store_event_last_seq (job_store_t *self)
{
    PGresult *res = pg_query (self, NULL, "SELECT coalesce(max(seq), 0) FROM events", "");
    if (!res)
        return -1;
    int64_t seq = pg_i64 (res, 0, 0);
    PQclear (res);
    return seq;
}

int
job_store_events_since (job_store_t *self, int64_t since, int32_t limit,
                        proto_events_t *out, char *err)
{
    if (limit < 1 || limit > EASEL_EVENTS_PAGE_MAX)
        limit = EASEL_EVENTS_PAGE_MAX;
    out->last_seq = job_store_event_last_seq (self);
    if (out->last_seq < 0)
        return pg_fail (self, NULL, err);
    out->events = calloc ((size_t) limit, sizeof *out->events);
    if (!out->events) {
        pg_set_err (err, "out of memory");
        return -1;
    }
    PGresult *res = pg_query (self, err,
        "SELECT e.seq, e.id, e.type, e.object_id, e.created_at, d.id, d.url,"
        /* the current secret, then any old one still in its overlap, then the ed25519 key */
        " a.webhook_secret || coalesce((SELECT ' ' || string_agg(o.secret, ' ')"
        "   FROM webhook_secrets_old o WHERE o.account_id = a.id AND o.valid_until > $1), '')"
        " || coalesce((SELECT ' edsk_' || k.secret_key FROM webhook_keys k"
        "   WHERE k.account_id = a.id AND k.enabled = 1), ''),"
        " e.payload, d.attempts FROM events e JOIN deliveries d ON d.event_seq = e.seq"
        " JOIN accounts a ON a.id = e.account_id"
        " WHERE e.seq > $2 AND d.status IN ('pending', 'retrying') ORDER BY e.seq LIMIT $3",
        "iii", util_now_ms (), since, (int64_t) limit);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res) && out->nevents < limit; r++) {
        proto_event_t *ev = &out->events [out->nevents++];
        ev->seq = pg_i64 (res, r, 0);
        pg_copy (res, r, 1, ev->id, sizeof ev->id);
        pg_copy (res, r, 2, ev->type, sizeof ev->type);
        pg_copy (res, r, 3, ev->object_id, sizeof ev->object_id);
        ev->created_at_ms = pg_i64 (res, r, 4);
        pg_copy (res, r, 5, ev->delivery_id, sizeof ev->delivery_id);
        ev->url = pg_dup (res, r, 6);
        ev->secret = pg_dup (res, r, 7);
        ev->payload = pg_dup (res, r, 8);
        ev->attempts = (int32_t) pg_i64 (res, r, 9);
        if (!ev->url || !ev->secret || !ev->payload) {
            PQclear (res);
            pg_set_err (err, "out of memory");
            return -1;
        }
    }
    PQclear (res);
    return 0;
}

int
job_store_delivery_report (job_store_t *self, const proto_delivery_report_t *report,
                           int32_t max_attempts, int64_t now_ms, char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT d.status, d.attempts, e.object_id FROM deliveries d"
        " JOIN events e ON e.seq = d.event_seq WHERE d.id = $1", "s", report->delivery_id);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    char status [PROTO_SHORT_MAX], object_id [PROTO_ID_MAX];
    pg_copy (res, 0, 0, status, sizeof status);
    int64_t attempts = pg_i64 (res, 0, 1);
    pg_copy (res, 0, 2, object_id, sizeof object_id);
    PQclear (res);
    if (pg_run (self, err, "INSERT INTO delivery_attempts (delivery_id, at, status_code, latency_ms,"
                           " error, response_head) VALUES ($1, $2, $3, $4, $5, $6)", "siiiss",
                report->delivery_id, now_ms, (int64_t) report->status_code, report->latency_ms,
                report->error, report->response_head))
        return -1;
    /* a late report never reopens a finished delivery */
    if (strcmp (status, "delivered") == 0 || strcmp (status, "failed") == 0)
        return 0;
    attempts++;
    const char *next = report->ok ? "delivered"
                     : report->final || attempts >= max_attempts || report->status_code == 410 ? "failed"
                     : "retrying";
    if (pg_run (self, err, "UPDATE deliveries SET status = $1, attempts = $2, last_status_code = $3,"
                           " updated_at = $4 WHERE id = $5", "siiis",
                next, attempts, (int64_t) report->status_code, now_ms, report->delivery_id))
        return -1;
    return pg_run (self, err, "UPDATE renders SET webhook_status = $1 WHERE id = $2", "ss",
                   next, object_id);
}

/* ---- webhook management ---------------------------------------------------- */

int
job_store_delivery_get (job_store_t *self, const char *object_id, const char *account_id,
                        job_store_delivery_t *out, char *err)
{
    memset (out, 0, sizeof *out);
    snprintf (out->status, sizeof out->status, "none");
    bool found = false;
    PGresult *res = pg_query (self, err,
        "SELECT webhook_url, status, webhook_status FROM renders WHERE id = $1 AND account_id = $2",
        "ss", object_id, account_id);
    if (!res)
        return -1;
    if (PQntuples (res) > 0) {
        found = true;
        out->has_webhook = pg_text (res, 0, 0) != NULL;
        pg_copy (res, 0, 0, out->url, sizeof out->url);
        pg_copy (res, 0, 1, out->object_status, sizeof out->object_status);
        pg_copy (res, 0, 2, out->status, sizeof out->status);
    }
    PQclear (res);
    /* the newest event about the object that has a delivery */
    res = pg_query (self, err,
        "SELECT d.id, e.id, e.type, e.seq, d.url, d.status, d.attempts FROM events e"
        " JOIN deliveries d ON d.event_seq = e.seq"
        " WHERE e.object_id = $1 AND e.account_id = $2 ORDER BY e.seq DESC LIMIT 1",
        "ss", object_id, account_id);
    if (!res)
        return -1;
    if (PQntuples (res) > 0) {
        found = true;
        out->has_webhook = true;
        pg_copy (res, 0, 0, out->delivery_id, sizeof out->delivery_id);
        pg_copy (res, 0, 1, out->event_id, sizeof out->event_id);
        pg_copy (res, 0, 2, out->event_type, sizeof out->event_type);
        out->event_seq = pg_i64 (res, 0, 3);
        pg_copy (res, 0, 4, out->url, sizeof out->url);
        pg_copy (res, 0, 5, out->status, sizeof out->status);
        out->attempts = (int32_t) pg_i64 (res, 0, 6);
    }
    PQclear (res);
    if (!found) {
        pg_set_err (err, "not found");
        return -1;
    }
    return 0;
}

int
job_store_delivery_attempts (job_store_t *self, const char *delivery_id, int32_t limit,
                             void (*fn) (const job_store_attempt_t *a, void *arg), void *arg,
                             char *err)
{
    PGresult *res = pg_query (self, err,
        "SELECT at, status_code, latency_ms, error, response_head FROM"
        " (SELECT id, at, status_code, latency_ms, error, response_head FROM delivery_attempts"
        "  WHERE delivery_id = $1 ORDER BY id DESC LIMIT $2) AS last ORDER BY id",
        "si", delivery_id, (int64_t) limit);
    if (!res)
        return -1;
    for (int r = 0; r < PQntuples (res); r++) {
        job_store_attempt_t a = {
            .at_ms = pg_i64 (res, r, 0),
            .status_code = (int32_t) pg_i64 (res, r, 1),
            .latency_ms = pg_i64 (res, r, 2),
            .error = pg_text (res, r, 3),
            .response_head = pg_text (res, r, 4),
        };
        fn (&a, arg);
    }
    PQclear (res);
    return 0;
}

int
job_store_delivery_reset (job_store_t *self, const char *delivery_id, int64_t now_ms, char *err)
{
    if (pg_run_now (self, err, "UPDATE deliveries SET status = 'pending', attempts = 0, updated_at = $1"
                           " WHERE id = $2", "is", now_ms, delivery_id))
        return -1;
    if (self->changes == 0) {
        pg_set_err (err, "not found");
        return -1;
    }
    return pg_run (self, err, "UPDATE renders SET webhook_status = 'pending' WHERE id ="
                              " (SELECT e.object_id FROM deliveries d JOIN events e"
                              "  ON e.seq = d.event_seq WHERE d.id = $1)", "s", delivery_id);
}

int
job_store_webhook_secret_rotate (job_store_t *self, const char *account_id, int64_t overlap_s,
                                 int64_t now_ms, char new_secret [80], char *err)
{
    uint8_t raw [32];
    char b64 [64];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    snprintf (new_secret, 80, "whsec_%s", b64);
    int64_t until = now_ms + (overlap_s > 0 ? overlap_s * 1000 : 0);
    if (pg_sp_begin (self, err))
        return -1;
    /* only the previous secret keeps signing: an earlier overlap ends now (this
       also bounds the secrets an event carries, see PROTO's 256-byte cap) */
    int rc = pg_run (self, err, "DELETE FROM webhook_secrets_old WHERE account_id = $1", "s", account_id);
    if (rc == 0 && overlap_s > 0)
        rc = pg_run (self, err, "INSERT INTO webhook_secrets_old (account_id, secret, valid_until)"
                                " SELECT id, webhook_secret, $1 FROM accounts WHERE id = $2",
                     "is", until, account_id);
    if (rc == 0)
        rc = pg_run_now (self, err, "UPDATE accounts SET webhook_secret = $1 WHERE id = $2", "ss",
                     new_secret, account_id);
    if (rc == 0 && self->changes == 0) {
        pg_set_err (err, "not found");
        rc = -1;
    }
    if (rc) {
        pg_sp_end (self, false, NULL);
        return -1;
    }
    return pg_sp_end (self, true, err);
}

int
job_store_webhook_ed25519 (job_store_t *self, const char *account_id, int action,
                           char public_key [64], bool *enabled, char *err)
{
    public_key [0] = 0;
    *enabled = false;
    PGresult *res = pg_query (self, err, "SELECT count(*) FROM accounts WHERE id = $1", "s", account_id);
    if (!res)
        return -1;
    bool exists = pg_i64 (res, 0, 0) > 0;
    PQclear (res);
    if (!exists) {
        pg_set_err (err, "not found");
        return -1;
    }
    uint8_t pk [crypto_sign_PUBLICKEYBYTES], sk [crypto_sign_SECRETKEYBYTES];
    char pk64 [64], sk64 [128];
    crypto_sign_keypair (pk, sk);
    sodium_bin2base64 (pk64, sizeof pk64, pk, sizeof pk, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64 (sk64, sizeof sk64, sk, sizeof sk, sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero (sk, sizeof sk);
    int rc = pg_run (self, err, "INSERT INTO webhook_keys (account_id, public_key, secret_key, enabled)"
                                " VALUES ($1, $2, $3, 0) ON CONFLICT (account_id) DO NOTHING", "sss",
                     account_id, pk64, sk64);
    sodium_memzero (sk64, sizeof sk64);
    if (rc == 0 && action != 0)
        rc = pg_run (self, err, "UPDATE webhook_keys SET enabled = $1 WHERE account_id = $2", "is",
                     (int64_t) (action == 1), account_id);
    if (rc)
        return -1;
    res = pg_query (self, err, "SELECT public_key, enabled FROM webhook_keys WHERE account_id = $1",
                    "s", account_id);
    if (!res)
        return -1;
    if (PQntuples (res) == 0) {
        PQclear (res);
        pg_set_err (err, "not found");
        return -1;
    }
    pg_copy (res, 0, 0, public_key, 64);
    *enabled = pg_i64 (res, 0, 1) != 0;
    PQclear (res);
    return 0;
}
