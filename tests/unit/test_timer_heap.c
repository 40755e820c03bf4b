/*  test_timer_heap.c: the timer heap (common/timer_heap.h) the webhooker and the bus client use
    against a sorted reference.

    Thousands of random pushes, removes, updates and pops (a fixed seed, so a
    failure repeats) over a pool of nodes with few distinct due times (ties
    on purpose); after each step the heap's size, its earliest due time and
    every node's membership must match a sorted array of the due times of the
    nodes that are in. At the end the heap drains in sorted order. Also: the
    edge cases of an empty heap, removing a node in no heap, update as push,
    and destroy leaving nodes marked out.  */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "timer_heap.h"

#define S_NODES 700
#define S_OPS   40000

static uint64_t s_rand_state = 0x9E3779B97F4A7C15ull;

static uint32_t
s_rand (void)
{
    s_rand_state = s_rand_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t) (s_rand_state >> 33);
}

/* the reference: the due times of the nodes in the heap, ascending */
static int64_t s_ref[S_NODES];
static size_t s_nref;

static void
s_ref_add (int64_t due)
{
    size_t i = 0;
    while (i < s_nref && s_ref[i] <= due)
        i++;
    memmove (s_ref + i + 1, s_ref + i, (s_nref - i) * sizeof *s_ref);
    s_ref[i] = due;
    s_nref++;
}

static bool
s_ref_del (int64_t due)
{
    for (size_t i = 0; i < s_nref; i++)
        if (s_ref[i] == due) {
            memmove (s_ref + i, s_ref + i + 1, (s_nref - i - 1) * sizeof *s_ref);
            s_nref--;
            return true;
        }
    return false;
}

static timer_heap_node_t s_pool[S_NODES];
static bool s_in[S_NODES];

static size_t
s_slot (const timer_heap_node_t *node)
{
    return (size_t) (node - s_pool);
}

static void
test_random_against_sorted (void)
{
    timer_heap_t *heap = timer_heap_new ();
    REQUIRE (heap, "a heap");
    for (int i = 0; i < S_NODES; i++)
        timer_heap_node_init (&s_pool[i]);
    int counts[4] = { 0 };
    for (int op = 0; op < S_OPS && check_failures < 10; op++) {
        int kind = (int) (s_rand () % 4);
        size_t k = s_rand () % S_NODES;
        int64_t due = (int64_t) (s_rand () % 97);    /* few values: many ties */
        counts[kind]++;
        if (kind == 0) {                             /* push (or update when it is in) */
            if (s_in[k]) {
                CHECK (s_ref_del (s_pool[k].due_ms), "op %d: node %zu's old due time in the reference", op, k);
                CHECK (timer_heap_update (heap, &s_pool[k], due) == 0, "op %d: update", op);
            }
            else
                CHECK (timer_heap_push (heap, &s_pool[k], due) == 0, "op %d: push", op);
            s_in[k] = true;
            s_ref_add (due);
        }
        else
        if (kind == 1) {                             /* remove, in a heap or not */
            if (s_in[k])
                CHECK (s_ref_del (s_pool[k].due_ms), "op %d: node %zu's due time in the reference", op, k);
            timer_heap_remove (heap, &s_pool[k]);
            s_in[k] = false;
        }
        else
        if (kind == 2) {                             /* update: earlier, later or push */
            if (s_in[k])
                CHECK (s_ref_del (s_pool[k].due_ms), "op %d: node %zu's old due time", op, k);
            CHECK (timer_heap_update (heap, &s_pool[k], due) == 0, "op %d: update", op);
            s_in[k] = true;
            s_ref_add (due);
        }
        else {                                       /* pop */
            timer_heap_node_t *top = timer_heap_pop (heap);
            if (s_nref == 0)
                CHECK (top == NULL, "op %d: pop of an empty heap gives NULL", op);
            else {
                REQUIRE (top, "op %d: a node from a heap of %zu", op, s_nref);
                size_t slot = s_slot (top);
                CHECK (s_in[slot], "op %d: the popped node %zu was in the heap", op, slot);
                CHECK (top->due_ms == s_ref[0], "op %d: pop gives the earliest, %lld, got %lld",
                       op, (long long) s_ref[0], (long long) top->due_ms);
                CHECK (!timer_heap_contains (top), "op %d: a popped node is marked out", op);
                s_ref_del (top->due_ms);
                s_in[slot] = false;
            }
        }
        CHECK (timer_heap_size (heap) == s_nref, "op %d: size %zu, got %zu", op, s_nref,
               timer_heap_size (heap));
        timer_heap_node_t *peek = timer_heap_peek (heap);
        if (s_nref)
            CHECK (peek && peek->due_ms == s_ref[0], "op %d: peek gives the earliest, %lld", op,
                   (long long) s_ref[0]);
        else
            CHECK (peek == NULL, "op %d: peek of an empty heap gives NULL", op);
        CHECK (timer_heap_contains (&s_pool[k]) == s_in[k], "op %d: node %zu membership", op, k);
    }
    for (int i = 0; i < 4; i++)
        CHECK (counts[i] > S_OPS / 8, "each kind of op ran often: kind %d ran %d times", i, counts[i]);
    /* drain: ascending, and exactly the reference */
    size_t n = 0;
    int64_t last = INT64_MIN;
    for (timer_heap_node_t *top; (top = timer_heap_pop (heap)); n++) {
        CHECK (top->due_ms >= last, "drain ascending: %lld after %lld", (long long) top->due_ms,
               (long long) last);
        CHECK (n < s_nref && top->due_ms == s_ref[n], "drain item %zu is the reference's", n);
        last = top->due_ms;
    }
    CHECK (n == s_nref, "the drain gave every node: %zu, got %zu", s_nref, n);
    for (int i = 0; i < S_NODES; i++)
        CHECK (!timer_heap_contains (&s_pool[i]), "node %d out after the drain", i);
    timer_heap_destroy (&heap);
}

static void
test_edges (void)
{
    timer_heap_t *heap = timer_heap_new ();
    REQUIRE (heap, "a heap");
    timer_heap_node_t a, b, c;
    timer_heap_node_init (&a);
    timer_heap_node_init (&b);
    timer_heap_node_init (&c);
    CHECK (timer_heap_peek (heap) == NULL && timer_heap_pop (heap) == NULL, "an empty heap has nothing");
    timer_heap_remove (heap, &a);       /* in no heap: nothing happens */
    CHECK (timer_heap_size (heap) == 0, "removing a node in no heap leaves the heap empty");
    CHECK (timer_heap_update (heap, &a, 30) == 0 && timer_heap_contains (&a), "update pushes a node in no heap");
    CHECK (timer_heap_push (heap, &b, 20) == 0 && timer_heap_push (heap, &c, 10) == 0, "two pushes");
    CHECK (timer_heap_peek (heap) == &c, "the earliest of 30, 20, 10 is 10");
    CHECK (timer_heap_update (heap, &a, 5) == 0 && timer_heap_peek (heap) == &a, "moved earlier to 5, a is first");
    CHECK (timer_heap_update (heap, &a, 50) == 0 && timer_heap_peek (heap) == &c, "moved later to 50, c is first");
    timer_heap_remove (heap, &c);
    CHECK (timer_heap_peek (heap) == &b && timer_heap_size (heap) == 2, "c removed: b first of two");
    timer_heap_destroy (&heap);
    CHECK (heap == NULL, "destroy nulls the pointer");
    CHECK (!timer_heap_contains (&a) && !timer_heap_contains (&b), "destroy marks its nodes out");
    timer_heap_destroy (&heap);         /* twice is safe */
}

int
main (void)
{
    check_case ("random_against_sorted", test_random_against_sorted);
    check_case ("edges", test_edges);
    return check_done ("test_timer_heap");
}
