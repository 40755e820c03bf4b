/*  timer_heap.h: an intrusive binary min-heap of due times.

    What waits for a time embeds a timer_heap_node_t and asks the heap for
    the earliest one; the node records its own place in the heap, so remove
    and update are O(log n) without a search and nothing is allocated per
    node. The owner of the node gets back to its struct with offsetof (see
    webhooker/main.c). Ties come out in no particular order.

    One thread owns a heap (the webhooker's loop, a bus client). The heap owns only its
    array of pointers; nodes stay the caller's and must be removed before
    they are freed.  */
#ifndef EASEL_TIMER_HEAP_H
#define EASEL_TIMER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_HEAP_NONE SIZE_MAX        /* a node's index while it is in no heap */

typedef struct {
    int64_t due_ms;                     /* the key: when the owner wants attention */
    size_t index;                       /* its slot in the heap, TIMER_HEAP_NONE outside */
} timer_heap_node_t;

typedef struct _timer_heap_t timer_heap_t;

/* An empty heap; NULL when out of memory. */
timer_heap_t *timer_heap_new (void);

/* Frees the heap (not the nodes, which are left as they were) and nulls
   *self_p; safe on NULL and twice. */
void timer_heap_destroy (timer_heap_t **self_p);

/* Makes node a fresh one, in no heap. Call once before its first push. */
void timer_heap_node_init (timer_heap_node_t *node);

/* Whether node is in a heap now. */
bool timer_heap_contains (const timer_heap_node_t *node);

/* Number of nodes in the heap. */
size_t timer_heap_size (const timer_heap_t *self);

/* Adds node (in no heap) due at due_ms. 0, or -1 when the array cannot
   grow: then node and the heap are unchanged. */
int timer_heap_push (timer_heap_t *self, timer_heap_node_t *node, int64_t due_ms);

/* The earliest node, left in the heap; NULL when the heap is empty. */
timer_heap_node_t *timer_heap_peek (const timer_heap_t *self);

/* Takes the earliest node out of the heap and returns it; NULL when empty. */
timer_heap_node_t *timer_heap_pop (timer_heap_t *self);

/* Takes node out of the heap it is in; nothing when it is in none. */
void timer_heap_remove (timer_heap_t *self, timer_heap_node_t *node);

/* Moves node to due_ms, pushing it when it is in no heap. 0, or -1 when a
   push could not grow the array (node then stays in no heap). */
int timer_heap_update (timer_heap_t *self, timer_heap_node_t *node, int64_t due_ms);

#endif
