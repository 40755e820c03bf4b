/*  cli_api.c: HTTP calls and long-poll watching (see cli_api.h). */
#include "cli_api.h"
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *
s_base (void)
{
    const char *url = getenv ("EASEL_URL");
    return url && *url ? url : "http://" EASEL_LISTEN_DEFAULT;
}

int
cli_api_init (void)
{
    const char *key = getenv ("EASEL_API_KEY");
    if (!key || !*key) {
        fprintf (stderr, "easel: EASEL_API_KEY is not set (an sk_... key from `easel keys create`)\n");
        return CLI_USAGE;
    }
    if (strlen (key) > 200) {
        fprintf (stderr, "easel: EASEL_API_KEY is longer than 200 characters\n");
        return CLI_USAGE;
    }
    curl_global_init (CURL_GLOBAL_DEFAULT);
    return 0;
}

static size_t
s_write (char *ptr, size_t size, size_t n, void *userp)
{
    cli_api_resp_t *r = userp;
    size_t len = size * n;
    if (len > CLI_API_BODY_MAX - r->len)
        return 0;
    char *grown = realloc (r->body, r->len + len + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy (r->body + r->len, ptr, len);
    r->len += len;
    r->body [r->len] = '\0';
    return len;
}

int
cli_api_call (const char *method, const char *path, const char *json_body, long timeout_s,
              cli_api_resp_t *out)
{
    return cli_api_call_bytes (method, path, json_body ? "application/json" : NULL, json_body,
                               json_body ? strlen (json_body) : 0, timeout_s, out);
}

int
cli_api_call_bytes (const char *method, const char *path, const char *ctype, const void *data,
                    size_t len, long timeout_s, cli_api_resp_t *out)
{
    memset (out, 0, sizeof *out);
    char url [4096], auth [256];
    bool absolute = strncmp (path, "http://", 7) == 0 || strncmp (path, "https://", 8) == 0;
    if ((size_t) snprintf (url, sizeof url, "%s%s", absolute ? "" : s_base (), path) >= sizeof url) {
        fprintf (stderr, "easel: the URL is longer than %zu bytes\n", sizeof url);
        return CLI_USAGE;
    }
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", getenv ("EASEL_API_KEY"));
    CURL *curl = curl_easy_init ();
    if (!curl) {
        fprintf (stderr, "easel: cannot create an HTTP client\n");
        return CLI_TRANSPORT;
    }
    struct curl_slist *hdrs = curl_slist_append (NULL, auth);
    char ctype_h [160];
    if (ctype) {
        snprintf (ctype_h, sizeof ctype_h, "Content-Type: %s", ctype);
        hdrs = curl_slist_append (hdrs, ctype_h);
    }
    char errbuf [CURL_ERROR_SIZE] = "";
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "easel-cli/1");
    if (data) {
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, data);
    }
    CURLcode rc = curl_easy_perform (curl);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &out->status);
    const char *ct = NULL;
    if (curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf (out->content_type, sizeof out->content_type, "%s", ct);
    curl_slist_free_all (hdrs);
    curl_easy_cleanup (curl);
    if (rc != CURLE_OK) {
        fprintf (stderr, "easel: %s %s: %s\n", method, url, errbuf [0] ? errbuf : curl_easy_strerror (rc));
        cli_api_resp_free (out);
        return CLI_TRANSPORT;
    }
    if (!out->body && !(out->body = calloc (1, 1)))
        return CLI_TRANSPORT;
    return 0;
}

void
cli_api_resp_free (cli_api_resp_t *self)
{
    if (!self)
        return;
    free (self->body);
    self->body = NULL;
    self->len = 0;
}

int
cli_api_json (const cli_api_resp_t *resp, json_t **obj)
{
    *obj = NULL;
    json_t *parsed = json_loadb (resp->body, resp->len, 0, NULL);
    if (resp->status < 200 || resp->status > 299) {
        json_t *e = json_object_get (parsed, "error");
        const char *code = json_string_value (json_object_get (e, "code"));
        const char *msg = json_string_value (json_object_get (e, "message"));
        const char *param = json_string_value (json_object_get (e, "param"));
        fprintf (stderr, "easel: HTTP %ld %s: %s%s%s%s%s\n", resp->status, code ? code : "error",
                 msg ? msg : "the server answered without a JSON error",
                 param ? " (" : "", param ? param : "", param ? ")" : "",
                 code && strcmp (code, "use_async") == 0
                 ? "; run `easel render` with --async (add --wait to follow it)" : "");
        json_decref (parsed);
        return CLI_TRANSPORT;
    }
    if (!json_is_object (parsed)) {
        fprintf (stderr, "easel: HTTP %ld with a body that is not a JSON object\n", resp->status);
        json_decref (parsed);
        return CLI_TRANSPORT;
    }
    *obj = parsed;
    return 0;
}

bool
cli_api_final (const char *status, bool *failed)
{
    *failed = status && (strcmp (status, "failed") == 0 || strcmp (status, "canceled") == 0);
    return status && (*failed || strcmp (status, "completed") == 0 || strcmp (status, "succeeded") == 0);
}

static void
s_progress (bool tty, const char *id, json_t *obj, char *last, size_t last_size)
{
    const char *status = json_string_value (json_object_get (obj, "status"));
    json_t *prog = json_object_get (obj, "progress");
    long done = (long) json_integer_value (json_object_get (prog, "done"));
    long total = (long) json_integer_value (json_object_get (prog, "total"));
    char line [256];
    if (prog)
        snprintf (line, sizeof line, "%s %s %ld/%ld images", id, status ? status : "?", done, total);
    else                           /* a job is one capture: its state says it all */
        snprintf (line, sizeof line, "%s %s", id, status ? status : "?");
    if (tty) {
        if (prog) {
            int width = 30, fill = total > 0 ? (int) (width * done / total) : 0;
            char bar [64];
            for (int i = 0; i < width; i++)
                bar [i] = i < fill ? '#' : '.';
            bar [width] = '\0';
            fprintf (stderr, "\r[%s] %s\033[K", bar, line);    /* erase what a longer line left */
        }
        else
            fprintf (stderr, "\r%s\033[K", line);
        fflush (stderr);
    }
    else
    if (strcmp (line, last) != 0)
        fprintf (stderr, "%s\n", line);
    snprintf (last, last_size, "%s", line);
}

int
cli_api_watch (const char *kind, const char *id, json_t **obj)
{
    *obj = NULL;
    bool tty = isatty (2);
    char last [256] = "";
    char path [256];
    while (true) {
        /* a plain GET every CLI_PROGRESS_POLL_MS: a render's progress changes while
           it stays processing, and ?wait= answers only when it leaves processing */
        if (last [0]) {
            struct timespec pause = { 0, CLI_PROGRESS_POLL_MS * 1000000L };
            nanosleep (&pause, NULL);
        }
        snprintf (path, sizeof path, "/v1/%ss/%s", kind, id);
        cli_api_resp_t resp;
        int rc = cli_api_call ("GET", path, NULL, 30, &resp);
        if (rc)
            return rc;
        json_t *o = NULL;
        rc = cli_api_json (&resp, &o);
        cli_api_resp_free (&resp);
        if (rc)
            return rc;
        s_progress (tty, id, o, last, sizeof last);
        bool failed;
        if (cli_api_final (json_string_value (json_object_get (o, "status")), &failed)) {
            if (tty)
                fputc ('\n', stderr);
            *obj = o;
            return 0;
        }
        json_decref (o);
    }
}

int
cli_api_save (const char *path, const char *data, size_t len)
{
    FILE *f = fopen (path, "wb");
    bool ok = f && fwrite (data, 1, len, f) == len;
    if (f && fclose (f) != 0)
        ok = false;
    if (!ok) {
        fprintf (stderr, "easel: cannot write %s\n", path);
        return CLI_TRANSPORT;
    }
    return 0;
}
