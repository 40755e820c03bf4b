/*  timer_heap.c: an intrusive binary min-heap of due times (timer_heap.h).

    nodes[0] is the earliest; the children of slot i are 2i+1 and 2i+2.
    Every move of a node writes its new slot into node->index, which is what
    makes remove and update O(log n). Thread: the owner's. Memory: the array
    of pointers only.  */
#include <assert.h>
#include <stdlib.h>

#include "timer_heap.h"

#define S_FIRST_CAP 64

struct _timer_heap_t {
    timer_heap_node_t **nodes;
    size_t size, cap;
};

timer_heap_t *
timer_heap_new (void)
{
    return calloc (1, sizeof (timer_heap_t));
}

void
timer_heap_destroy (timer_heap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    timer_heap_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++)
        self->nodes[i]->index = TIMER_HEAP_NONE;
    free (self->nodes);
    free (self);
    *self_p = NULL;
}

void
timer_heap_node_init (timer_heap_node_t *node)
{
    node->due_ms = 0;
    node->index = TIMER_HEAP_NONE;
}

bool
timer_heap_contains (const timer_heap_node_t *node)
{
    return node->index != TIMER_HEAP_NONE;
}

size_t
timer_heap_size (const timer_heap_t *self)
{
    return self->size;
}

static void
s_place (timer_heap_t *self, size_t i, timer_heap_node_t *node)
{
    self->nodes[i] = node;
    node->index = i;
}

/* Moves the node at slot i towards the root while it is earlier than its
   parent. */
static void
s_sift_up (timer_heap_t *self, size_t i)
{
    timer_heap_node_t *node = self->nodes[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (self->nodes[parent]->due_ms <= node->due_ms)
            break;
        s_place (self, i, self->nodes[parent]);
        i = parent;
    }
    s_place (self, i, node);
}

/* Moves the node at slot i towards the leaves while a child is earlier. */
static void
s_sift_down (timer_heap_t *self, size_t i)
{
    timer_heap_node_t *node = self->nodes[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size && self->nodes[child + 1]->due_ms < self->nodes[child]->due_ms)
            child++;
        if (node->due_ms <= self->nodes[child]->due_ms)
            break;
        s_place (self, i, self->nodes[child]);
        i = child;
    }
    s_place (self, i, node);
}

int
timer_heap_push (timer_heap_t *self, timer_heap_node_t *node, int64_t due_ms)
{
    assert (node->index == TIMER_HEAP_NONE);
    if (self->size == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : S_FIRST_CAP;
        if (cap > SIZE_MAX / sizeof *self->nodes)
            return -1;
        timer_heap_node_t **grown = realloc (self->nodes, cap * sizeof *grown);
        if (!grown)
            return -1;
        self->nodes = grown;
        self->cap = cap;
    }
    node->due_ms = due_ms;
    s_place (self, self->size++, node);
    s_sift_up (self, node->index);
    return 0;
}

timer_heap_node_t *
timer_heap_peek (const timer_heap_t *self)
{
    return self->size ? self->nodes[0] : NULL;
}

void
timer_heap_remove (timer_heap_t *self, timer_heap_node_t *node)
{
    size_t i = node->index;
    if (i == TIMER_HEAP_NONE)
        return;
    assert (i < self->size && self->nodes[i] == node);
    node->index = TIMER_HEAP_NONE;
    timer_heap_node_t *last = self->nodes[--self->size];
    if (i == self->size)
        return;                         /* it was the last slot */
    s_place (self, i, last);
    /* the moved node may be earlier than its new parent or later than a child */
    if (i > 0 && self->nodes[(i - 1) / 2]->due_ms > last->due_ms)
        s_sift_up (self, i);
    else
        s_sift_down (self, i);
}

timer_heap_node_t *
timer_heap_pop (timer_heap_t *self)
{
    timer_heap_node_t *top = timer_heap_peek (self);
    if (top)
        timer_heap_remove (self, top);
    return top;
}

int
timer_heap_update (timer_heap_t *self, timer_heap_node_t *node, int64_t due_ms)
{
    if (node->index == TIMER_HEAP_NONE)
        return timer_heap_push (self, node, due_ms);
    int64_t was = node->due_ms;
    node->due_ms = due_ms;
    if (due_ms < was)
        s_sift_up (self, node->index);
    else
        s_sift_down (self, node->index);
    return 0;
}
