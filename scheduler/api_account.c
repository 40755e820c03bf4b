/*  api_account.c: GET_ACCOUNT on the api socket (see api_account.h).
    Thread: the scheduler's loop, in the pass's transaction. */
#include "api_account.h"
#include "render_json.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static void
s_ledger_one (const job_store_ledger_entry_t *e, void *arg)
{
    char iso [32];
    util_iso8601 (e->created_at_ms, iso, sizeof iso);
    json_t *o = json_pack ("{s:I, s:I, s:o, s:s, s:o, s:o, s:s}", "seq", (json_int_t) e->seq,
                           "amount", (json_int_t) e->amount,
                           "balance_after", e->unlimited ? json_null () : json_integer (e->balance_after),
                           "reason", e->reason,
                           "render_id", e->render_id ? json_string (e->render_id) : json_null (),
                           "note", e->note ? json_string (e->note) : json_null (),
                           "created_at", iso);
    if (o)
        json_array_append_new (arg, o);
}

/* GET_ACCOUNT: balance, usage, reservation and the newest ledger entries. */
void
api_account_get (scheduler_t *self, zframe_t *identity, const char *data, size_t len)
{
    proto_get_t req;
    char err [PROTO_ERR_MAX] = "";
    char account [PROTO_ID_MAX];
    if (proto_get_decode (data, len, &req, err)) {
        api_bad_message (self, identity, data, len, err);
        return;
    }
    if (api_auth (self, identity, req.rid, req.auth, account))
        return;
    if (req.key_only) {
        char body [PROTO_ID_MAX + 48];
        snprintf (body, sizeof body, "{\"object\":\"account\",\"id\":\"%s\"}", account);
        api_reply_stored (self, identity, req.rid, PROTO_ACCOUNT, 200, account, body);
        return;
    }
    job_store_account_t a;
    json_t *ledger = json_array ();
    if (!ledger
    ||  job_store_account_get (self->store, account, &a, err)
    ||  job_store_ledger_list (self->store, account, EASEL_LEDGER_SHOWN, s_ledger_one, ledger, err)) {
        json_decref (ledger);
        api_unavailable (self, identity, req.rid, "account_get", err);
        return;
    }
    json_t *obj = json_pack ("{s:s, s:s, s:s, s:b, s:o, s:I, s:I, s:o, s:o}",
                             "object", "account", "id", a.account_id, "name", a.name,
                             "unlimited", a.unlimited,
                             "balance", a.unlimited ? json_null () : json_integer (a.balance),
                             "used", (json_int_t) a.used, "reserved", (json_int_t) a.reserved,
                             "available", a.unlimited ? json_null () : json_integer (a.balance - a.reserved),
                             "ledger", ledger);
    char *text = obj ? render_json_dump (obj, NULL) : NULL;
    json_decref (obj);
    if (!text) {
        api_error (self, identity, req.rid, 500, "internal_error",
                   "The scheduler could not build the account.", NULL);
        return;
    }
    api_reply_stored (self, identity, req.rid, PROTO_ACCOUNT, 200, account, text);
    free (text);
}
