/*  route_table.c: route matching (see route_table.h).
    Thread: any. Memory: none; results point into the table or the caller's buffers. */
#include "route_table.h"

#include <stdio.h>
#include <string.h>

/* Does path match tmpl? The {id} segment (start, length) into *seg. */
static bool
s_match (const char *tmpl, const char *path, const char **seg, size_t *seglen)
{
    *seg = NULL;
    *seglen = 0;
    while (*tmpl && *path) {
        if (*tmpl == '{') {
            const char *close = strchr (tmpl, '}');
            if (!close || *path == '/')
                return false;
            *seg = path;
            while (*path && *path != '/')
                path++;
            *seglen = (size_t) (path - *seg);
            tmpl = close + 1;
        }
        else
        if (*tmpl++ != *path++)
            return false;
    }
    return !*tmpl && !*path;
}

const route_t *
route_find (const route_t *table, size_t n, const char *method, const char *path,
            char id [PROTO_ID_MAX], char *allow, size_t allow_size)
{
    id [0] = '\0';
    if (allow_size)
        allow [0] = '\0';
    bool get = false, post = false, del = false;
    for (size_t i = 0; path && i < n; i++) {
        const char *seg;
        size_t len;
        if (!s_match (table [i].path, path, &seg, &len))
            continue;
        if (strcmp (table [i].method, method) == 0) {
            if (seg && len < PROTO_ID_MAX)
                snprintf (id, PROTO_ID_MAX, "%.*s", (int) len, seg);
            return &table [i];
        }
        get = get || strcmp (table [i].method, "GET") == 0;
        post = post || strcmp (table [i].method, "POST") == 0;
        del = del || strcmp (table [i].method, "DELETE") == 0;
    }
    if (allow_size)
        snprintf (allow, allow_size, "%s%s%s%s%s", get ? "GET" : "", get && post ? ", " : "",
                  post ? "POST" : "", (get || post) && del ? ", " : "", del ? "DELETE" : "");
    return NULL;
}

const char *
route_label (const route_t *table, size_t n, const char *path)
{
    const char *seg;
    size_t len;
    for (size_t i = 0; path && i < n; i++)
        if (s_match (table [i].path, path, &seg, &len))
            return table [i].path;
    return "other";
}
