/*  api_pool.h: a fixed set of bus clients (common/bus_client.h) shared by
    all request threads.

    civetweb runs one thread per connection (thousands of them); a DEALER
    each would be thousands of sockets and file descriptors, most held by
    requests that only wait. A request borrows a client for one round trip
    and gives it back before it waits for anything else, so the number of bus
    sockets is the pool's size whatever the number of connections. A borrower
    waits (up to the call timeout) for a free client. Thread safe. */
#ifndef EASEL_API_POOL_H
#define EASEL_API_POOL_H

#include "bus_client.h"

typedef struct _api_pool_t api_pool_t;

/* `size` clients of `endpoint`, each call waiting at most timeout_ms (the
   wait for a free client included). Sockets open on first use. NULL on
   allocation failure. */
api_pool_t *api_pool_new (const char *endpoint, int size, int timeout_ms);
/* Frees every client; no call may be running. *self_p becomes NULL. Safe on NULL. */
void api_pool_destroy (api_pool_t **self_p);

/* bus_client_call on a free client of the pool (see bus_client.h). Returns -1
   as well when no client became free within the timeout, or self is NULL. */
int  api_pool_call (api_pool_t *self, int cmd, const msgpack_sbuffer *body, const char *rid,
                    int *reply_cmd, zframe_t **reply);

#endif
