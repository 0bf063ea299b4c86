/* SPDX-License-Identifier: MIT */
/* test_queue.c: cf_queue: FIFO, LIFO and priority order (ties in insertion order), bounds and
 * timeouts, task_done/join, shutdown (normal and immediate, EPIPE precedence, waking every blocked
 * caller), bad input, and N x M stresses with tagged items: exactly once, per-producer FIFO. */
#include <math.h>
#include <sched.h>
#include <string.h>

#include "testutil.h"

START_TEST(fifo_lifo_order)
{
    cf_queue *f = cf_queue_new(0), *l = cf_queue_new_lifo(0);
    for (intptr_t i = 0; i < 100; i++) {
        ck_assert_int_eq(cf_queue_put(f, (void *)i, 0), 0);
        ck_assert_int_eq(cf_queue_put(l, (void *)i, 0), 0);
    }
    ck_assert_uint_eq(cf_queue_size(f), 100);
    for (intptr_t i = 0; i < 100; i++) {
        void *a, *b;
        ck_assert_int_eq(cf_queue_get(f, 0, &a), 0);
        ck_assert_int_eq(cf_queue_get(l, 0, &b), 0);
        ck_assert_ptr_eq(a, (void *)i);
        ck_assert_ptr_eq(b, (void *)(99 - i));
    }
    ck_assert_uint_eq(cf_queue_size(f), 0);
    cf_queue_free(f);
    cf_queue_free(l);
}
END_TEST

typedef struct job { int prio, id; } job;
static int by_prio(const void *a, const void *b)
{
    return ((const job *)a)->prio - ((const job *)b)->prio;
}

START_TEST(priority_order_with_ties)
{
    cf_queue *q = cf_queue_new_priority(0, by_prio);
    enum { N = 500 };
    job jobs[N];
    uint32_t seed = 5;
    for (int i = 0; i < N; i++) {
        jobs[i] = (job){ (int)(rnd(&seed) % 10), i };
        ck_assert_int_eq(cf_queue_put(q, &jobs[i], 0), 0);
    }
    job *prev = NULL;
    for (int i = 0; i < N; i++) {
        job *j;
        ck_assert_int_eq(cf_queue_get(q, 0, (void **)&j), 0);
        if (prev) {
            ck_assert_int_le(prev->prio, j->prio);
            if (prev->prio == j->prio)
                ck_assert_int_lt(prev->id, j->id);     /* equal priority: insertion order */
        }
        prev = j;
    }
    ck_assert_int_eq(cf_queue_get(q, 0, NULL), EAGAIN);
    cf_queue_free(q);
}
END_TEST

START_TEST(bounds_and_timeouts)
{
    cf_queue *q = cf_queue_new(2);
    ck_assert_int_eq(cf_queue_get(q, 0, NULL), EAGAIN);
    double t0 = now_s();
    ck_assert_int_eq(cf_queue_get(q, 0.03, NULL), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.03);                       /* lower bound only */
    ck_assert_int_eq(cf_queue_put(q, (void *)1, 0), 0);
    ck_assert_int_eq(cf_queue_put(q, (void *)2, CF_FOREVER), 0);
    ck_assert_int_eq(cf_queue_put(q, (void *)3, 0), EAGAIN);
    t0 = now_s();
    ck_assert_int_eq(cf_queue_put(q, (void *)3, 0.03), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.03);
    ck_assert_uint_eq(cf_queue_size(q), 2);
    void *v;
    ck_assert_int_eq(cf_queue_get(q, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)1);
    ck_assert_int_eq(cf_queue_put(q, (void *)3, 0), 0);
    cf_queue_free(q);                                      /* items left: not ours to free */

    /* Exact bounds whatever the storage: 3 (a ring of 4 cells), and 70000 (past the ring's
     * limit: the locked store, grown on demand). */
    size_t bounds[] = { 1, 3, 70000 };
    for (int b = 0; b < 3; b++) {
        q = cf_queue_new(bounds[b]);
        for (size_t i = 0; i < bounds[b]; i++)
            HOT_ASSERT(cf_queue_put(q, (void *)i, 0) == 0);
        ck_assert_int_eq(cf_queue_put(q, NULL, 0), EAGAIN);
        ck_assert_uint_eq(cf_queue_size(q), bounds[b]);
        ck_assert_int_eq(cf_queue_get(q, 0, &v), 0);
        ck_assert_ptr_eq(v, (void *)0);
        ck_assert_int_eq(cf_queue_put(q, NULL, 0), 0);
        ck_assert_int_eq(cf_queue_put(q, NULL, 0), EAGAIN);
        cf_queue_free(q);
    }

    /* A huge bound costs nothing up front; an unbounded queue grows. */
    q = cf_queue_new((size_t)-1);
    ck_assert_ptr_nonnull(q);
    for (intptr_t i = 0; i < 100000; i++)
        HOT_ASSERT(cf_queue_put(q, (void *)i, 0) == 0);
    for (intptr_t i = 0; i < 100000; i++)
        HOT_ASSERT(cf_queue_get(q, 0, &v) == 0 && v == (void *)i);
    cf_queue_free(q);
}
END_TEST

START_TEST(bad_input)
{
    errno = 0;
    ck_assert_ptr_null(cf_queue_new_priority(0, NULL));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(cf_queue_put(NULL, NULL, 0), EINVAL);
    ck_assert_int_eq(cf_queue_get(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_queue_task_done(NULL), EINVAL);
    ck_assert_int_eq(cf_queue_join(NULL, 0), EINVAL);
    ck_assert_uint_eq(cf_queue_size(NULL), 0);
    cf_queue_shutdown(NULL, true);
    cf_queue_free(NULL);
    cf_queue *q = cf_queue_new(0);
    ck_assert_int_eq(cf_queue_put(q, NULL, NAN), EINVAL);
    ck_assert_int_eq(cf_queue_get(q, NAN, NULL), EINVAL);
    ck_assert_int_eq(cf_queue_join(q, NAN), EINVAL);
    cf_queue_free(q);
}
END_TEST

START_TEST(task_done_and_join)
{
    cf_queue *q = cf_queue_new(0);
    ck_assert_int_eq(cf_queue_task_done(q), EINVAL);
    ck_assert_int_eq(cf_queue_join(q, 0), 0);
    cf_queue_put(q, (void *)1, 0);
    cf_queue_put(q, (void *)2, 0);
    ck_assert_int_eq(cf_queue_join(q, 0), ETIMEDOUT);
    ck_assert_int_eq(cf_queue_join(q, 0.01), ETIMEDOUT);
    cf_queue_get(q, 0, NULL);
    ck_assert_int_eq(cf_queue_task_done(q), 0);
    ck_assert_int_eq(cf_queue_join(q, 0), ETIMEDOUT);
    cf_queue_get(q, 0, NULL);
    ck_assert_int_eq(cf_queue_task_done(q), 0);
    ck_assert_int_eq(cf_queue_join(q, 0), 0);
    ck_assert_int_eq(cf_queue_task_done(q), EINVAL);
    cf_queue_free(q);
}
END_TEST

typedef struct worker_arg { cf_queue *q; _Atomic int done; } worker_arg;

static void *consume_and_mark_done(void *arg)
{
    worker_arg *w = arg;
    void *v;
    while (cf_queue_get(w->q, CF_FOREVER, &v) == 0) {
        sleep_ms(0.2);
        atomic_fetch_add(&w->done, 1);     /* before task_done: join may return right after it */
        cf_queue_task_done(w->q);
    }
    return NULL;
}

START_TEST(join_waits_for_workers)
{
    worker_arg w = { cf_queue_new(4), 0 };
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, consume_and_mark_done, &w);
    for (intptr_t i = 0; i < 50; i++)
        ck_assert_int_eq(cf_queue_put(w.q, (void *)i, CF_FOREVER), 0);
    ck_assert_int_eq(cf_queue_join(w.q, CF_FOREVER), 0);
    ck_assert_int_eq(atomic_load(&w.done), 50);
    cf_queue_shutdown(w.q, false);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    cf_queue_free(w.q);
}
END_TEST

START_TEST(shutdown_semantics)
{
    cf_queue *q = cf_queue_new(2);
    cf_queue_put(q, (void *)1, 0);
    cf_queue_put(q, (void *)2, 0);
    cf_queue_shutdown(q, false);
    ck_assert_int_eq(cf_queue_put(q, (void *)3, 0), EPIPE);        /* EPIPE over EAGAIN */
    ck_assert_int_eq(cf_queue_put(q, (void *)3, 0.01), EPIPE);     /* ... and over ETIMEDOUT */
    void *v;
    ck_assert_int_eq(cf_queue_get(q, 0, &v), 0);                   /* drains what is left */
    ck_assert_ptr_eq(v, (void *)1);
    ck_assert_int_eq(cf_queue_get(q, CF_FOREVER, &v), 0);
    ck_assert_int_eq(cf_queue_get(q, 0, &v), EPIPE);               /* EPIPE over EAGAIN */
    ck_assert_int_eq(cf_queue_get(q, CF_FOREVER, &v), EPIPE);      /* never blocks */
    cf_queue_shutdown(q, false);                                   /* idempotent */
    cf_queue_free(q);

    q = cf_queue_new_lifo(0);
    for (intptr_t i = 0; i < 5; i++)
        cf_queue_put(q, (void *)i, 0);
    cf_queue_get(q, 0, NULL);                       /* taken, not done: join still waits for it */
    cf_queue_shutdown(q, true);
    ck_assert_uint_eq(cf_queue_size(q), 0);
    ck_assert_int_eq(cf_queue_get(q, 0, &v), EPIPE);
    ck_assert_int_eq(cf_queue_join(q, 0), ETIMEDOUT);   /* the 4 dropped ones count as done */
    ck_assert_int_eq(cf_queue_task_done(q), 0);
    ck_assert_int_eq(cf_queue_join(q, 0), 0);
    cf_queue_free(q);
}
END_TEST

typedef struct blocked { cf_queue *q; bool put; _Atomic int returned; _Atomic int epipe; } blocked;

static void *block_on_queue(void *arg)
{
    blocked *b = arg;
    int r = b->put ? cf_queue_put(b->q, (void *)1, CF_FOREVER) : cf_queue_get(b->q, CF_FOREVER, NULL);
    if (r == EPIPE)
        atomic_fetch_add(&b->epipe, 1);
    atomic_fetch_add(&b->returned, 1);
    return NULL;
}

START_TEST(shutdown_wakes_every_blocked_caller)
{
    for (int round = 0; round < (int)cf_scaled(20); round++) {
        cf_queue *full = cf_queue_new(1), *empty = cf_queue_new(1);
        cf_queue_put(full, NULL, 0);
        blocked bp = { full, true, 0, 0 }, bg = { empty, false, 0, 0 };
        pthread_t t[12];
        for (int i = 0; i < 6; i++) {
            pthread_create(&t[i], NULL, block_on_queue, &bp);
            pthread_create(&t[6 + i], NULL, block_on_queue, &bg);
        }
        sleep_ms(round % 3);                     /* sometimes they are asleep, sometimes not */
        cf_queue_shutdown(full, round % 2);
        cf_queue_shutdown(empty, round % 2);
        for (int i = 0; i < 12; i++)
            pthread_join(t[i], NULL);
        ck_assert_int_eq(atomic_load(&bp.returned), 6);
        ck_assert_int_eq(atomic_load(&bp.epipe), 6);
        ck_assert_int_eq(atomic_load(&bg.epipe), 6);
        cf_queue_free(full);
        cf_queue_free(empty);
    }
}
END_TEST

/* N producers x M consumers moving tagged items: exactly once; per-producer order for FIFO. */

typedef struct qctx {
    cf_queue         *q;
    bool              fifo;
    int               producers;
    long              per;
    unsigned char    *seen;
    _Atomic long      got;
    _Atomic int       producers_left;
    pthread_barrier_t start;
} qctx;
typedef struct qarg { qctx *c; int id; } qarg;

static void *q_producer(void *arg)
{
    qarg *a = arg;
    uint32_t seed = (uint32_t)a->id * 13 + 1;
    pthread_barrier_wait(&a->c->start);
    for (long s = 0; s < a->c->per; s++) {
        int r;
        /* Random timeouts: a put that times out is retried, so nothing is lost. */
        do
            r = cf_queue_put(a->c->q, TAG(a->id, s), rnd(&seed) % 8 == 0 ? 0.0001 : CF_FOREVER);
        while (r == ETIMEDOUT);
        HOT_ASSERT(r == 0);
    }
    if (atomic_fetch_sub(&a->c->producers_left, 1) == 1)
        cf_queue_shutdown(a->c->q, false);       /* the last producer closes; consumers drain */
    return NULL;
}

static void *q_consumer(void *arg)
{
    qarg *a = arg;
    qctx *c = a->c;
    long *last = malloc((size_t)c->producers * sizeof *last);
    for (int p = 0; p < c->producers; p++)
        last[p] = -1;
    uint32_t seed = (uint32_t)a->id * 7 + 3;
    pthread_barrier_wait(&c->start);
    for (;;) {
        void *v;
        int r = cf_queue_get(c->q, rnd(&seed) % 8 == 0 ? 0.0001 : CF_FOREVER, &v);
        if (r == ETIMEDOUT)
            continue;
        if (r == EPIPE)
            break;
        HOT_ASSERT(r == 0);
        int p = TAG_P(v);
        long s = TAG_S(v);
        HOT_ASSERT(p < c->producers && s < c->per);
        if (c->fifo)
            HOT_ASSERT(s > last[p]);
        last[p] = s;
        HOT_ASSERT(__atomic_exchange_n(&c->seen[(long)p * c->per + s], 1, __ATOMIC_RELAXED) == 0);
        atomic_fetch_add_explicit(&c->got, 1, memory_order_relaxed);
        /* An item got is an item to mark done, whatever the other threads do meanwhile. */
        HOT_ASSERT(cf_queue_task_done(c->q) == 0);
    }
    free(last);
    return NULL;
}

static void run_q(cf_queue *q, bool fifo, int producers, int consumers, long total)
{
    qctx c = { .q = q, .fifo = fifo, .producers = producers, .per = total / producers };
    atomic_store(&c.producers_left, producers);
    c.seen = calloc((size_t)(producers * c.per), 1);
    pthread_barrier_init(&c.start, NULL, (unsigned)(producers + consumers));
    pthread_t t[16];
    qarg a[16];
    for (int i = 0; i < producers + consumers; i++) {
        a[i] = (qarg){ &c, i < producers ? i : i - producers };
        pthread_create(&t[i], NULL, i < producers ? q_producer : q_consumer, &a[i]);
    }
    for (int i = 0; i < producers + consumers; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&c.got), producers * c.per);
    for (long i = 0; i < producers * c.per; i++)
        HOT_ASSERT(c.seen[i] == 1);
    ck_assert_int_eq(cf_queue_join(q, 30), 0);       /* every item was marked done */
    pthread_barrier_destroy(&c.start);
    free(c.seen);
    cf_queue_free(q);
}

static int by_tag(const void *a, const void *b)
{
    return TAG_S(a) < TAG_S(b) ? -1 : TAG_S(a) > TAG_S(b);
}

START_TEST(stress_fifo_bounded_2x2) { run_q(cf_queue_new(1024), true, 2, 2, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_fifo_bounded_8x8) { run_q(cf_queue_new(64), true, 8, 8, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_fifo_unbounded_4x2) { run_q(cf_queue_new(0), true, 4, 2, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_fifo_locked_bounded_2x3) { run_q(cf_queue_new(100000), true, 2, 3, cf_scaled(600000)); }
END_TEST
START_TEST(stress_fifo_bound_3_4x4) { run_q(cf_queue_new(3), true, 4, 4, cf_scaled(300000)); }
END_TEST
START_TEST(stress_lifo_4x4) { run_q(cf_queue_new_lifo(256), false, 4, 4, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_priority_3x5) { run_q(cf_queue_new_priority(512, by_tag), false, 3, 5, cf_scaled(300000)); }
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, fifo_lifo_order);
    tcase_add_test(tc, priority_order_with_ties);
    tcase_add_test(tc, bounds_and_timeouts);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, task_done_and_join);
    tcase_add_test(tc, join_waits_for_workers);
    tcase_add_test(tc, shutdown_semantics);
    tcase_add_test(tc, shutdown_wakes_every_blocked_caller);
    suite_add_tcase(s, tc);
    TCase *st = tcase_create("stress");
    tcase_set_timeout(st, 120);
    tcase_add_test(st, stress_fifo_bounded_2x2);
    tcase_add_test(st, stress_fifo_bounded_8x8);
    tcase_add_test(st, stress_fifo_unbounded_4x2);
    tcase_add_test(st, stress_fifo_locked_bounded_2x3);
    tcase_add_test(st, stress_fifo_bound_3_4x4);
    tcase_add_test(st, stress_lifo_4x4);
    tcase_add_test(st, stress_priority_3x5);
    suite_add_tcase(s, st);
    return s;
}

CF_RUN_SUITE(suite)
