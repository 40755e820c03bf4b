/*  webhook_admin.h: the scheduler's answers to the webhook management
    commands (DELIVERIES_GET, REDELIVER, WEBHOOK_TEST, WEBHOOK_ACCOUNT).

    Each builds the whole HTTP JSON body (proto_json_t) from the job store,
    inside the caller's transaction. When the webhooker should look again at
    once (a redelivery, a test event), `hint` names the topic and event seq to
    publish after the commit. Thread: the scheduler's state thread. */
#ifndef EASEL_WEBHOOK_ADMIN_H
#define EASEL_WEBHOOK_ADMIN_H

#include "job_store.h"

#define WEBHOOK_ADMIN_TOPIC_REDELIVER "webhook.redeliver"
#define WEBHOOK_ADMIN_TOPIC_TEST      "webhook.test"

typedef struct {
    char    topic [PROTO_SHORT_MAX];         /* "" when nothing is to be published */
    char    object_id [PROTO_ID_MAX];
    int64_t seq;
} webhook_admin_hint_t;

/* Answers `cmd` for `account_id`: reply->status and reply->json (heap; the
   caller frees with proto_json_free) are set, rid is left alone. 0; -1 when
   the store failed (err filled: the pass rolls back) or out of memory. */
int webhook_admin_handle (job_store_t *store, int cmd, const proto_webhook_req_t *req,
                          const char *account_id, int64_t now_ms, proto_json_t *reply,
                          webhook_admin_hint_t *hint, char *err);

/* The class of a delivery error text "<class>: <detail>" into out
   ("timeout", "connect", "url_not_allowed", "redirect", "http_status", ...;
   "other" when the text carries none). */
void webhook_admin_error_class (const char *error, char *out, size_t size);

#endif
