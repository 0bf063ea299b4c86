/* SPDX-License-Identifier: MIT */
/* queue_store.c: the three orders of cf_queue. Storage starts small and doubles on demand up to
 * the queue's maxsize, so a bounded queue with a huge maxsize costs nothing up front and an
 * unbounded one reports ENOMEM instead of crashing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue_store.h"

#define CF__QSTORE_MIN 16

void cf__qstore_init(cf__qstore *s, cf__qkind kind, size_t max, cf_cmp_fn cmp)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->max = max;
    s->cmp = cmp;
}

static int grow(cf__qstore *s)
{
    size_t cap = s->cap ? s->cap * 2 : CF__QSTORE_MIN;
    if (cap < s->cap)
        return ENOMEM;
    if (s->max && cap > s->max)
        cap = s->max;
    if (s->kind == CF__PRIO) {
        if (cap > SIZE_MAX / sizeof(cf__pentry))
            return ENOMEM;
        cf__pentry *h = realloc(s->heap, cap * sizeof *h);
        if (!h)
            return ENOMEM;
        s->heap = h;
    } else {
        if (cap > SIZE_MAX / sizeof(void *))
            return ENOMEM;
        void **r = malloc(cap * sizeof *r);
        if (!r)
            return ENOMEM;
        /* Unwrap the ring into the new array (LIFO never wraps: head stays 0). */
        for (size_t i = 0; i < s->count; i++)
            r[i] = s->ring[(s->head + i) % s->cap];
        free(s->ring);
        s->ring = r;
        s->head = 0;
    }
    s->cap = cap;
    return 0;
}

/* a before b in the heap: cmp first, insertion order on ties. */
static int before(const cf__qstore *s, const cf__pentry *a, const cf__pentry *b)
{
    int c = s->cmp(a->item, b->item);
    return c < 0 || (c == 0 && a->seq < b->seq);
}

int cf__qstore_push(cf__qstore *s, void *item)
{
    if (s->count == s->cap) {
        int r = grow(s);
        if (r)
            return r;
    }
    switch (s->kind) {
    case CF__FIFO:
        s->ring[(s->head + s->count) % s->cap] = item;
        break;
    case CF__LIFO:
        s->ring[s->count] = item;
        break;
    case CF__PRIO: {
        cf__pentry e = { item, s->seq++ };
        size_t i = s->count;
        while (i > 0) {                       /* sift up */
            size_t parent = (i - 1) / 2;
            if (!before(s, &e, &s->heap[parent]))
                break;
            s->heap[i] = s->heap[parent];
            i = parent;
        }
        s->heap[i] = e;
        break;
    }
    }
    s->count++;
    return 0;
}

void *cf__qstore_pop(cf__qstore *s)
{
    void *item;
    s->count--;
    switch (s->kind) {
    case CF__FIFO:
        item = s->ring[s->head];
        s->head = (s->head + 1) % s->cap;
        return item;
    case CF__LIFO:
        return s->ring[s->count];
    case CF__PRIO:
    default: {
        item = s->heap[0].item;
        cf__pentry last = s->heap[s->count];
        size_t i = 0, n = s->count;
        for (;;) {                            /* sift the last entry down from the root */
            size_t c = 2 * i + 1;
            if (c >= n)
                break;
            if (c + 1 < n && before(s, &s->heap[c + 1], &s->heap[c]))
                c++;
            if (!before(s, &s->heap[c], &last))
                break;
            s->heap[i] = s->heap[c];
            i = c;
        }
        if (n)
            s->heap[i] = last;
        return item;
    }
    }
}

int cf__qstore_push_front(cf__qstore *s, void *item)
{
    if (s->count == s->cap) {
        int r = grow(s);
        if (r)
            return r;
    }
    s->head = (s->head + s->cap - 1) % s->cap;
    s->ring[s->head] = item;
    s->count++;
    return 0;
}

void *cf__qstore_peek(const cf__qstore *s) { return s->ring[s->head]; }

void cf__qstore_clear(cf__qstore *s)
{
    s->count = 0;
    s->head = 0;
}

void cf__qstore_destroy(cf__qstore *s)
{
    free(s->ring);
    free(s->heap);
    memset(s, 0, sizeof *s);
}
