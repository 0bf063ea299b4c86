/* SPDX-License-Identifier: MIT */
/* timer.c: the loop's timer heap (see timer.h). Only the loop's thread touches a heap. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "timer.h"

static bool before(const cf__timer *a, const cf__timer *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void place(cf__timer_heap *h, size_t i, cf__timer *t)
{
    h->v[i] = t;
    t->slot = i + 1;
}

static void sift_up(cf__timer_heap *h, size_t i)
{
    cf__timer *t = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, t);
}

static void sift_down(cf__timer_heap *h, size_t i)
{
    cf__timer *t = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
            c++;
        if (!before(h->v[c], t))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, t);
}

int cf__timer_reserve(cf__timer_heap *h, size_t n)
{
    if (n <= h->cap)
        return 0;
    size_t cap = h->cap ? h->cap : 64;
    while (cap < n)
        cap *= 2;
    cf__timer **v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return ENOMEM;
    h->v = v;
    h->cap = cap;
    return 0;
}

void cf__timer_add(cf__timer_heap *h, cf__timer *t)
{
    t->seq = h->seq++;
    h->v[h->n++] = t;
    sift_up(h, h->n - 1);
}

void cf__timer_remove(cf__timer_heap *h, cf__timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    cf__timer *last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    if (i > 0 && before(last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

void cf__timer_heap_destroy(cf__timer_heap *h)
{
    free(h->v);
    *h = (cf__timer_heap){ 0 };
}
