/*  curl_sockets.h: a curl multi handle driven through its socket and timer
    callbacks, for a zmq_poll loop.

    curl says which sockets it wants watched and for what
    (CURLMOPT_SOCKETFUNCTION) and when it next wants to be called without
    socket activity (CURLMOPT_TIMERFUNCTION); this keeps that table (each
    socket's entry is attached to curl's own record with curl_multi_assign)
    and the timer. The loop asks for the zmq_pollitem_t entries of those
    sockets, polls them beside its ZeroMQ sockets, and hands the answers
    back: curl_multi_socket_action runs for each ready socket and for the
    timer when it is due. Only the sockets curl uses are polled, so there is
    no descriptor limit (an fd_set stops at FD_SETSIZE, 1,024) and no
    cost per idle transfer.

    One thread owns it, the one that owns the multi handle. It owns its
    table; the multi handle stays the caller's and must outlive it. Finished
    transfers are read by the caller with curl_multi_info_read.  */
#ifndef EASEL_CURL_SOCKETS_H
#define EASEL_CURL_SOCKETS_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct _curl_sockets_t curl_sockets_t;

/* Installs the callbacks on multi. NULL when out of memory (multi then has
   none of them). */
curl_sockets_t *curl_sockets_new (CURLM *multi);

/* Takes the callbacks off the multi handle, frees the table and nulls
   *self_p; safe on NULL and twice. */
void curl_sockets_destroy (curl_sockets_t **self_p);

/* Number of sockets curl wants watched now. */
size_t curl_sockets_count (const curl_sockets_t *self);

/* now_ms is on util_mono_ms's clock (common/util.h) everywhere below. */

/* Milliseconds from now_ms until curl's timer is due (0 when it is), or -1
   when curl has set none. */
int64_t curl_sockets_timeout_ms (const curl_sockets_t *self, int64_t now_ms);

/* Writes one entry per watched socket into items[0 .. count): room for
   curl_sockets_count entries must be there. Returns how many it wrote. */
size_t curl_sockets_pollitems (const curl_sockets_t *self, zmq_pollitem_t *items);

/* After zmq_poll: runs curl on each of the n entries with an answer
   (revents) and on its timer when it is due at now_ms. items are the ones
   curl_sockets_pollitems wrote (the table may change while curl runs).
   Returns the number of transfers still running. */
int curl_sockets_drive (curl_sockets_t *self, const zmq_pollitem_t *items, size_t n, int64_t now_ms);

#endif
