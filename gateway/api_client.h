/*  api_client.h: one DEALER to the scheduler's api socket, for one thread.

    Each civetweb worker thread owns one api_client_t (made in init_thread,
    destroyed in exit_thread); the socket inside is created on first use and
    thrown away after a timeout so a late reply to an abandoned request can
    never be taken for the answer to the next one. Replies are matched by rid.
    Not thread safe by design: one owner thread. */
#ifndef EASEL_API_CLIENT_H
#define EASEL_API_CLIENT_H

#include <czmq.h>
#include "proto.h"

typedef struct _api_client_t api_client_t;

/* A client for `endpoint` waiting at most timeout_ms per call. The strings are
   copied. NULL on allocation failure. */
api_client_t *api_client_new (const char *endpoint, int timeout_ms);
/* Closes the socket and frees; *self_p becomes NULL. Safe on NULL. */
void api_client_destroy (api_client_t **self_p);

/* Sends `cmd` with `body` (a message whose "rid" is `rid`) and waits for the
   reply that repeats `rid`, dropping any other. Returns 0 with the reply's
   command in *reply_cmd and its body in *reply (the caller destroys it), or
   -1 when the request could not be sent or no reply came in time; then the
   socket is closed and the next call opens a fresh one. */
int  api_client_call (api_client_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                      int *reply_cmd, zframe_t **reply);

/* The "rid" string of a msgpack map body into rid (PROTO_ID_MAX); 0 / -1. */
int  api_client_peek_rid (const char *data, size_t len, char *rid);

#endif
