/*  attempt.c: one HTTP attempt of a webhook delivery (attempt.h).

    attempt_start signs and starts the transfer, attempt_finish classifies
    the answer ("<class>: <detail>" errors, the deliveries list shows the
    class), fills the report and picks the next attempt's time. Thread: the
    webhooker's. Memory: the curl handle and header list of a transfer live
    in its delivery_t until attempt_finish frees them.  */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "attempt.h"
#include "log.h"
#include "metrics.h"
#include "netguard.h"
#include "util.h"
#include "webhook_sign.h"

#define S_MAX_SECRETS      4       /* space-separated secrets during a rotation */

void
attempt_host_key (const char *url, char *out, size_t size)
{
    CURLU *u = curl_url ();
    char *host = NULL, *port = NULL;
    if (u && curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK
    &&  curl_url_get (u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf (out, size, "%s:%s", host, port);
    else
        snprintf (out, size, "%s", url);
    curl_free (host);
    curl_free (port);
    curl_url_cleanup (u);
}

int64_t
attempt_wall_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static size_t
s_on_body (char *ptr, size_t size, size_t nmemb, void *arg)
{
    delivery_t *d = arg;
    size_t n = size * nmemb;
    size_t room = EASEL_WEBHOOK_RESPONSE_KEEP_BYTES - d->response_len;
    size_t take = n < room ? n : room;
    memcpy (d->response + d->response_len, ptr, take);
    d->response_len += take;
    d->response[d->response_len] = 0;
    return n;                           /* the rest is read and dropped */
}

static curl_socket_t
s_on_open (void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    delivery_t *d = arg;
    char text[64];
    (void) purpose;
    if (!d->conf->allow_private && netguard_is_private (&addr->addr, text, sizeof text)) {
        snprintf (d->refused, sizeof d->refused, "%s", text);
        return CURL_SOCKET_BAD;
    }
    return socket (addr->family, addr->socktype, addr->protocol);
}

/* Appends "name: value" to the list; false on allocation failure. */
static bool
s_header (struct curl_slist **list, const char *name, const char *value)
{
    char line[WEBHOOK_HEADER_MAX + 64];
    snprintf (line, sizeof line, "%s: %s", name, value);
    struct curl_slist *next = curl_slist_append (*list, line);
    if (next)
        *list = next;
    return next != NULL;
}

/* Builds both signature headers from every secret in d->secret (space
   separated during a rotation). 0 / -1 when no secret can sign. */
static int
s_sign (delivery_t *d, int64_t t, char *asa, char *std, size_t size)
{
    size_t len = strlen (d->payload);
    int nsigned = 0;
    char copy[WEBHOOK_SECRET_MAX * S_MAX_SECRETS];
    char *save = NULL;
    snprintf (asa, size, "t=%" PRId64, t);
    std[0] = 0;
    snprintf (copy, sizeof copy, "%s", d->secret);
    for (char *s = strtok_r (copy, " ", &save); s && nsigned < S_MAX_SECRETS;
         s = strtok_r (NULL, " ", &save)) {
        char one_asa[WEBHOOK_ASA_MAX], one_std[WEBHOOK_STD_MAX], one_ed[WEBHOOK_ED_MAX];
        if (strncmp (s, "edsk_", 5) == 0) {      /* the account opted into ed25519 */
            size_t b = strlen (std);
            if (webhook_sign_ed25519 (s + 5, d->event_id, t, d->payload, len, one_ed) == 0)
                snprintf (std + b, size - b, "%s%s", b ? " " : "", one_ed);
            continue;
        }
        if (webhook_sign_asa (s, t, d->payload, len, one_asa)
        ||  webhook_sign_std (s, d->event_id, t, d->payload, len, one_std))
            continue;
        size_t a = strlen (asa), b = strlen (std);
        snprintf (asa + a, size - a, "%s", strchr (one_asa, ','));
        snprintf (std + b, size - b, "%s%s", b ? " " : "", one_std);
        nsigned++;
    }
    return nsigned ? 0 : -1;
}

/* Prometheus: attempts by outcome and their latency (common/metrics.h). */
static metrics_family_t *s_attempts_family;
static metrics_series_t *s_attempt_seconds, *s_delivery_seconds;

void
attempt_metrics_init (void)
{
    s_attempts_family = metrics_counter ("easel_webhook_attempts_total",
                                         "Webhook delivery attempts, by outcome (delivered | retry | gave_up).",
                                         "outcome");
    metrics_get (s_attempts_family, "delivered");
    metrics_get (s_attempts_family, "retry");
    metrics_get (s_attempts_family, "gave_up");
    s_attempt_seconds = metrics_get (metrics_histogram ("easel_webhook_attempt_duration_seconds",
                                         "Time from sending a webhook to its answer (or error).", NULL,
                                         metrics_latency_buckets, metrics_latency_nbuckets));
    static const double buckets [] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000 };
    s_delivery_seconds = metrics_get (metrics_histogram ("easel_webhook_delivery_seconds",
                                         "Time from the event being written to its delivery (2xx), retries included.",
                                         NULL, buckets, (int) (sizeof buckets / sizeof buckets [0])));
}

static void
s_metrics_attempt (const char *outcome, double seconds)
{
    metrics_inc (metrics_get (s_attempts_family, outcome), 1);
    metrics_observe (s_attempt_seconds, seconds);
}

/* Turns the outcome of one attempt into the report, and decides what next. */
static void
s_attempt_done (delivery_t *d, int status, const char *error, int64_t retry_after_s)
{
    int64_t now = util_mono_ms ();
    bool ok = error == NULL && status >= 200 && status < 300;
    d->attempts++;
    proto_delivery_report_free (&d->report);
    memset (&d->report, 0, sizeof d->report);
    proto_id_new ("req_", d->report.rid, sizeof d->report.rid);
    snprintf (d->report.delivery_id, sizeof d->report.delivery_id, "%s", d->delivery_id);
    d->report.ok = ok;
    d->report.status_code = status;
    d->report.latency_ms = now - d->started_ms;
    d->report.error = ok ? NULL : strdup (error ? error : "failed");
    d->report.response_head = d->response_len ? strdup (d->response) : NULL;
    int64_t delay = ok ? -1 : webhook_schedule_next_ms (&d->conf->schedule, d->attempts,
                                                       EASEL_WEBHOOK_MAX_ATTEMPTS, status,
                                                       retry_after_s);
    /* a receiver that timed out or asked us to slow down gets at least min_retry_ms */
    bool slow_down = status == 429 || (error && strncmp (error, "timeout:", 8) == 0);
    if (delay >= 0 && slow_down && delay < d->conf->min_retry_ms)
        delay = d->conf->min_retry_ms;
    d->next_attempt_ms = delay < 0 ? -1 : now + delay;
    d->report.final = !ok && delay < 0;
    d->state = DELIVERY_REPORTING;
    d->report_sent = false;
    d->due_ms = now;

    char code[16], attempt[16], next[32];
    snprintf (code, sizeof code, "%d", status);
    snprintf (attempt, sizeof attempt, "%d", d->attempts);
    snprintf (next, sizeof next, "%" PRId64, delay);
    (ok ? log_info : log_warn) ("webhook attempt", "delivery", d->delivery_id,
        "event", d->event_id, "attempt", attempt, "status", code,
        "outcome", ok ? "delivered" : delay < 0 ? "gave up" : "will retry",
        "retry_in_ms", ok ? "-" : next, "error", ok ? "" : d->report.error,
        "request_id", d->req, NULL);
    s_metrics_attempt (ok ? "delivered" : delay < 0 ? "gave_up" : "retry",
                       (double) d->report.latency_ms / 1000.0);
    if (ok && d->event_ms > 0)
        metrics_observe (s_delivery_seconds, (double) (util_now_ms () - d->event_ms) / 1000.0);
}

int
attempt_start (delivery_t *d, CURLM *multi)
{
    char asa[WEBHOOK_HEADER_MAX], std[WEBHOOK_HEADER_MAX], ts[24];
    int64_t t = util_now_ms () / 1000;
    d->response_len = 0;
    d->response[0] = 0;
    d->errbuf[0] = 0;
    d->refused[0] = 0;
    d->started_ms = util_mono_ms ();
    if (d->conf->trace && d->attempts == 0)
        d->tr_start_us = attempt_wall_us ();
    if (s_sign (d, t, asa, std, sizeof asa)) {
        s_attempt_done (d, 0, "cannot_sign: the account's webhook secret is malformed", -1);
        return 1;
    }
    snprintf (ts, sizeof ts, "%" PRId64, t);
    curl_slist_free_all (d->headers);
    d->headers = NULL;
    d->easy = curl_easy_init ();
    if (!d->easy
    ||  !s_header (&d->headers, "Content-Type", "application/json")
    ||  !s_header (&d->headers, "X-ASA-Signature", asa)
    ||  !s_header (&d->headers, "webhook-id", d->event_id)
    ||  !s_header (&d->headers, "webhook-timestamp", ts)
    ||  !s_header (&d->headers, "webhook-signature", std)
    ||  !s_header (&d->headers, "Expect", "")) {
        if (d->easy)
            curl_easy_cleanup (d->easy);
        d->easy = NULL;
        d->due_ms = util_mono_ms () + ATTEMPT_RETRY_MS;     /* out of memory: later */
        return -1;
    }
    CURL *e = d->easy;
    curl_easy_setopt (e, CURLOPT_URL, d->url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_POST, 1L);
    curl_easy_setopt (e, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (d->payload));
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt (e, CURLOPT_USERAGENT, "Easel-Webhooks/1");
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long) d->conf->timeout_ms);
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_PROXY, "");          /* a proxy would bypass the address check */
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, d);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETFUNCTION, s_on_open);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETDATA, d);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, d->errbuf);
    curl_easy_setopt (e, CURLOPT_PRIVATE, d);
    if (curl_multi_add_handle (multi, e) != CURLM_OK) {
        curl_easy_cleanup (e);
        d->easy = NULL;
        d->due_ms = util_mono_ms () + ATTEMPT_RETRY_MS;
        return -1;
    }
    d->state = DELIVERY_SENDING;
    return 0;
}

/* --trace: where the time of a first attempt went, in ms after the event was
   written (the render's completed_at): the last event hint received before
   the delivery was known, the fetch that brought it and its reply, the
   transfer's start, then curl's own times from that start (request ready to
   send, first byte of the answer), the answer complete, and whether curl
   had to open a new connection (1) or reused one (0). */
static void
s_trace (delivery_t *d, CURL *e)
{
    curl_off_t pre = 0, first = 0;
    long fresh = 0;
    curl_easy_getinfo (e, CURLINFO_PRETRANSFER_TIME_T, &pre);
    curl_easy_getinfo (e, CURLINFO_STARTTRANSFER_TIME_T, &first);
    curl_easy_getinfo (e, CURLINFO_NUM_CONNECTS, &fresh);
    int64_t base = d->event_ms * 1000, now = attempt_wall_us ();
    char v[8][24];
    int64_t at[] = { d->tr_sub_us, d->tr_fetch_us, d->tr_reply_us, d->tr_start_us };
    for (int i = 0; i < 4; i++)
        snprintf (v[i], sizeof v[i], "%.2f", at[i] ? (double) (at[i] - base) / 1000.0 : -1.0);
    snprintf (v[4], sizeof v[4], "%.2f", (double) pre / 1000.0);
    snprintf (v[5], sizeof v[5], "%.2f", (double) first / 1000.0);
    snprintf (v[6], sizeof v[6], "%.2f", (double) (now - base) / 1000.0);
    snprintf (v[7], sizeof v[7], "%ld", fresh);
    d->tr_start_us = 0;                 /* the first attempt only */
    log_info ("webhook trace", "delivery", d->delivery_id, "sub_ms", v[0], "fetch_sent_ms", v[1],
              "fetch_reply_ms", v[2], "start_ms", v[3], "curl_sent_ms", v[4], "curl_first_byte_ms", v[5],
              "done_ms", v[6], "new_connections", v[7], NULL);
}

delivery_t *
attempt_finish (CURLM *multi, CURL *e, CURLcode result)
{
    delivery_t *d = NULL;
    long status = 0;
    curl_off_t retry_after = 0;
    char error[512];
    curl_easy_getinfo (e, CURLINFO_PRIVATE, (char **) &d);
    curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo (e, CURLINFO_RETRY_AFTER, &retry_after);
    /* "Retry-After: 0" means now, which CURLINFO_RETRY_AFTER cannot tell from no header */
    struct curl_header *ra = NULL;
    int64_t retry_after_s = retry_after > 0 ? (int64_t) retry_after : -1;
    if (curl_easy_header (e, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK && ra && ra->value) {
        int64_t secs = 0;
        if (util_parse_i64 (ra->value, 0, WEBHOOK_STEP_MAX_S, &secs) == 0)
            retry_after_s = secs;
    }
    if (d->conf->trace && d->tr_start_us)
        s_trace (d, e);
    curl_multi_remove_handle (multi, e);
    curl_easy_cleanup (e);
    d->easy = NULL;
    /* every error reads "<class>: <detail>"; the deliveries list shows the class */
    const char *why = NULL;
    if (d->refused[0] && result != CURLE_OK) {
        snprintf (error, sizeof error,
                  "url_not_allowed: %s resolves to the private address %s", d->url, d->refused);
        why = error;
    }
    else if (result != CURLE_OK) {
        const char *cls = result == CURLE_OPERATION_TIMEDOUT ? "timeout"
                        : result == CURLE_COULDNT_RESOLVE_HOST ? "dns"
                        : result == CURLE_COULDNT_CONNECT ? "connect"
                        : result == CURLE_SSL_CONNECT_ERROR || result == CURLE_PEER_FAILED_VERIFICATION
                          ? "tls" : "transfer";
        snprintf (error, sizeof error, "%s: %s", cls,
                  d->errbuf[0] ? d->errbuf : curl_easy_strerror (result));
        why = error;
    }
    else if (status >= 300 && status < 400) {
        snprintf (error, sizeof error, "redirect: HTTP %ld; redirects are not followed", status);
        why = error;
    }
    else if (status < 200 || status >= 300) {
        snprintf (error, sizeof error, "http_status: HTTP %ld%s", status,
                  status == 410 ? " (gone: no more attempts)" : "");
        why = error;
    }
    s_attempt_done (d, (int) status, why, why ? retry_after_s : -1);
    return d;
}
