/*  curl_sockets.c: curl's socket and timer callbacks feeding a zmq_poll loop
    (curl_sockets.h).

    The table is a dense array of entries, one per socket curl watches; the
    entry is also curl's socketp for that socket (curl_multi_assign), so a
    change finds its entry without a search, and a removal moves the last
    entry into the hole and fixes that entry's slot. Thread: the multi
    handle's. Memory: the array and the entries.  */
#include <stdlib.h>

#include "curl_sockets.h"
#include "log.h"
#include "util.h"

typedef struct {
    curl_socket_t fd;
    int what;                           /* CURL_POLL_IN / OUT / INOUT */
    size_t slot;                        /* its index in table */
} s_entry_t;

struct _curl_sockets_t {
    CURLM *multi;
    s_entry_t **table;
    size_t count, cap;
    int64_t timer_at_ms;                /* curl's timer, -1 when none */
};

static void
s_entry_drop (curl_sockets_t *self, s_entry_t *e)
{
    s_entry_t *last = self->table[--self->count];
    self->table[e->slot] = last;
    last->slot = e->slot;
    free (e);
}

/* CURLMOPT_SOCKETFUNCTION: curl wants s watched for `what`, or no more
   (CURL_POLL_REMOVE). Returns 0. Out of memory for an entry is fatal, as
   everywhere in the webhooker: a socket nobody polls would hang its
   transfer until its timeout. */
static int
s_on_socket (CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    curl_sockets_t *self = userp;
    s_entry_t *e = socketp;
    (void) easy;
    if (what == CURL_POLL_REMOVE) {
        if (e) {
            curl_multi_assign (self->multi, s, NULL);
            s_entry_drop (self, e);
        }
        return 0;
    }
    if (!e) {
        if (self->count == self->cap) {
            size_t cap = self->cap ? self->cap * 2 : 64;
            s_entry_t **grown = realloc (self->table, cap * sizeof *grown);
            if (!grown)
                log_fatal ("out of memory", NULL);
            self->table = grown;
            self->cap = cap;
        }
        e = malloc (sizeof *e);
        if (!e)
            log_fatal ("out of memory", NULL);
        e->fd = s;
        e->slot = self->count;
        self->table[self->count++] = e;
        curl_multi_assign (self->multi, s, e);
    }
    e->what = what;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: call curl in timeout_ms (-1: no timer). */
static int
s_on_timer (CURLM *multi, long timeout_ms, void *userp)
{
    curl_sockets_t *self = userp;
    (void) multi;
    self->timer_at_ms = timeout_ms < 0 ? -1 : util_mono_ms () + timeout_ms;
    return 0;
}

curl_sockets_t *
curl_sockets_new (CURLM *multi)
{
    curl_sockets_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->multi = multi;
    self->timer_at_ms = -1;
    curl_multi_setopt (multi, CURLMOPT_SOCKETFUNCTION, s_on_socket);
    curl_multi_setopt (multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (multi, CURLMOPT_TIMERFUNCTION, s_on_timer);
    curl_multi_setopt (multi, CURLMOPT_TIMERDATA, self);
    return self;
}

void
curl_sockets_destroy (curl_sockets_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    curl_sockets_t *self = *self_p;
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, NULL);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, NULL);
    for (size_t i = 0; i < self->count; i++) {
        curl_multi_assign (self->multi, self->table[i]->fd, NULL);
        free (self->table[i]);
    }
    free (self->table);
    free (self);
    *self_p = NULL;
}

size_t
curl_sockets_count (const curl_sockets_t *self)
{
    return self->count;
}

int64_t
curl_sockets_timeout_ms (const curl_sockets_t *self, int64_t now_ms)
{
    if (self->timer_at_ms < 0)
        return -1;
    return self->timer_at_ms > now_ms ? self->timer_at_ms - now_ms : 0;
}

size_t
curl_sockets_pollitems (const curl_sockets_t *self, zmq_pollitem_t *items)
{
    for (size_t i = 0; i < self->count; i++) {
        const s_entry_t *e = self->table[i];
        short ev = (short) (((e->what & CURL_POLL_IN) ? ZMQ_POLLIN : 0)
                          | ((e->what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
        items[i] = (zmq_pollitem_t) { NULL, e->fd, ev, 0 };
    }
    return self->count;
}

int
curl_sockets_drive (curl_sockets_t *self, const zmq_pollitem_t *items, size_t n, int64_t now_ms)
{
    int running = 0;
    for (size_t i = 0; i < n; i++) {
        short re = items[i].revents;
        if (!re)
            continue;
        int mask = ((re & ZMQ_POLLIN) ? CURL_CSELECT_IN : 0) | ((re & ZMQ_POLLOUT) ? CURL_CSELECT_OUT : 0)
                 | ((re & ZMQ_POLLERR) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (self->multi, items[i].fd, mask, &running);
    }
    if (self->timer_at_ms >= 0 && now_ms >= self->timer_at_ms) {
        /* the callback may set the next timer while curl runs: clear first */
        self->timer_at_ms = -1;
        curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    return running;
}
