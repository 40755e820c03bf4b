/*  capture_spec.c: the capture task spec through the one codec (see
    capture_spec.h; the fields are declared in proto/proto_msgs.c). */
#include "capture_spec.h"
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
capture_spec_encode (const capture_spec_t *self, size_t *len_out)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (proto_capture_encode (self, &sb)) {
        msgpack_sbuffer_destroy (&sb);
        return NULL;
    }
    if (len_out)
        *len_out = sb.size;
    return msgpack_sbuffer_release (&sb);
}

int
capture_spec_decode (const char *data, size_t len, capture_spec_t *self, char *err)
{
    char why [PROTO_ERR_MAX] = "";
    if (proto_capture_decode (data, len, self, why) == 0)
        return 0;
    snprintf (err, 256, "capture spec: %s", why);
    return -1;
}

void
capture_spec_free (capture_spec_t *self)
{
    proto_capture_free (self);
}

void
capture_spec_host (const char *url, char *out, size_t size)
{
    out [0] = '\0';
    const char *p = url ? strstr (url, "://") : NULL;
    if (!p || size == 0)
        return;
    p += 3;
    const char *at = p + strcspn (p, "/?#");
    const char *cred = memchr (p, '@', (size_t) (at - p));
    if (cred)
        p = cred + 1;
    size_t n = (size_t) (at - p);
    if (n >= size)
        n = size - 1;
    memcpy (out, p, n);
    out [n] = '\0';
}
