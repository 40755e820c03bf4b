/*  store_names.h: renames the job_store_* functions a backend defines (the
    rows of store_ops.h, with job_store_destroy and store_url_secret) to
    STORE_FN (name), which the backend's private header defines first:
    sqlite_store_<name> or pg_store_<name>. Included by a backend's private
    header before anything else, never by a caller. A new row of STORE_OPS
    needs its line here (the build fails until it has one: the backend's
    definition would clash with the dispatcher's).
    Thread: none. Memory: none. */
#ifndef EASEL_STORE_NAMES_H
#define EASEL_STORE_NAMES_H

#ifndef STORE_FN
#error "define STORE_FN (name) before including store_names.h"
#endif

#define job_store_destroy STORE_FN (destroy)
#define store_url_secret STORE_FN (url_secret)
#define job_store_account_create STORE_FN (account_create)
#define job_store_account_count STORE_FN (account_count)
#define job_store_key_list STORE_FN (key_list)
#define job_store_key_revoke STORE_FN (key_revoke)
#define job_store_begin STORE_FN (begin)
#define job_store_commit STORE_FN (commit)
#define job_store_rollback STORE_FN (rollback)
#define job_store_lease_take STORE_FN (lease_take)
#define job_store_lease_fence STORE_FN (lease_fence)
#define job_store_auth STORE_FN (auth)
#define job_store_render_create STORE_FN (render_create)
#define job_store_capture_create STORE_FN (capture_create)
#define job_store_render_get STORE_FN (render_get)
#define job_store_render_head STORE_FN (render_head)
#define job_store_render_next_settled STORE_FN (render_next_settled)
#define job_store_render_complete STORE_FN (render_complete)
#define job_store_task_lease_next STORE_FN (task_lease_next)
#define job_store_task_lease_for STORE_FN (task_lease_for)
#define job_store_task_lease_fair STORE_FN (task_lease_fair)
#define job_store_render_accounts_processing STORE_FN (render_accounts_processing)
#define job_store_task_leased_counts STORE_FN (task_leased_counts)
#define job_store_task_succeed STORE_FN (task_succeed)
#define job_store_task_fail STORE_FN (task_fail)
#define job_store_task_requeue_leased STORE_FN (task_requeue_leased)
#define job_store_upload_find STORE_FN (upload_find)
#define job_store_upload_put STORE_FN (upload_put)
#define job_store_upload_sweep STORE_FN (upload_sweep)
#define job_store_blob_add STORE_FN (blob_add)
#define job_store_file_get STORE_FN (file_get)
#define job_store_review_gen STORE_FN (review_gen)
#define job_store_review_decide STORE_FN (review_decide)
#define job_store_review_revoke STORE_FN (review_revoke)
#define job_store_event_add STORE_FN (event_add)
#define job_store_event_last_seq STORE_FN (event_last_seq)
#define job_store_events_since STORE_FN (events_since)
#define job_store_delivery_report STORE_FN (delivery_report)
#define job_store_delivery_get STORE_FN (delivery_get)
#define job_store_delivery_attempts STORE_FN (delivery_attempts)
#define job_store_delivery_reset STORE_FN (delivery_reset)
#define job_store_webhook_secret_rotate STORE_FN (webhook_secret_rotate)
#define job_store_webhook_ed25519 STORE_FN (webhook_ed25519)
#define job_store_idem_lookup STORE_FN (idem_lookup)
#define job_store_idem_put STORE_FN (idem_put)
#define job_store_idem_complete STORE_FN (idem_complete)
#define job_store_idem_sweep STORE_FN (idem_sweep)
#define job_store_account_get STORE_FN (account_get)
#define job_store_ledger_list STORE_FN (ledger_list)
#define job_store_credits_check STORE_FN (credits_check)
#define job_store_credits_add STORE_FN (credits_add)
#define job_store_render_list STORE_FN (render_list)
#define job_store_render_cancel STORE_FN (render_cancel)
#define job_store_task_held_by STORE_FN (task_held_by)
#define job_store_task_release STORE_FN (task_release)
#define job_store_render_running STORE_FN (render_running)
#define job_store_req_set STORE_FN (req_set)
#define job_store_req_get STORE_FN (req_get)
#define job_store_task_render STORE_FN (task_render)
#define job_store_is_full STORE_FN (is_full)
#define job_store_storage_used STORE_FN (storage_used)
#define job_store_retention_sweep STORE_FN (retention_sweep)
#define job_store_blob_gc STORE_FN (blob_gc)
#define job_store_blob_known STORE_FN (blob_known)
#define job_store_task_unlease STORE_FN (task_unlease)
#define job_store_stmt_cache_cap STORE_FN (stmt_cache_cap)
#define job_store_task_state_counts STORE_FN (task_state_counts)
#define job_store_profile_create STORE_FN (profile_create)
#define job_store_profile_get STORE_FN (profile_get)
#define job_store_profile_list STORE_FN (profile_list)
#define job_store_profile_delete STORE_FN (profile_delete)
#define job_store_backup STORE_FN (backup)

#endif
