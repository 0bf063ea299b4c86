/* SPDX-License-Identifier: MIT */
/* test_lfqueue.c: cf_lfqueue: FIFO order (across the consumers' batch refills), empty/EAGAIN,
 * NULL items, bad input, the items left at free, node recycling across threads, and an N x M stress with tagged items: each arrives exactly once and every
 * producer's items arrive in the order it pushed them. */
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

#include "testutil.h"

START_TEST(fifo_and_empty)
{
    cf_lfqueue *q = cf_lfqueue_new();
    ck_assert_ptr_nonnull(q);
    ck_assert(cf_lfqueue_empty(q));
    void *v = (void *)1;
    ck_assert_int_eq(cf_lfqueue_pop(q, &v), EAGAIN);
    ck_assert_ptr_eq(v, (void *)1);
    for (intptr_t i = 0; i < 1000; i++)
        ck_assert_int_eq(cf_lfqueue_push(q, (void *)i), 0);
    ck_assert(!cf_lfqueue_empty(q));
    for (intptr_t i = 0; i < 1000; i++) {
        ck_assert_int_eq(cf_lfqueue_pop(q, &v), 0);
        ck_assert_ptr_eq(v, (void *)i);
    }
    ck_assert(cf_lfqueue_empty(q));
    ck_assert_int_eq(cf_lfqueue_push(q, NULL), 0);        /* NULL is an item like any other */
    ck_assert_int_eq(cf_lfqueue_pop(q, NULL), 0);
    ck_assert_int_eq(cf_lfqueue_pop(q, &v), EAGAIN);
    for (int i = 0; i < 10; i++)
        cf_lfqueue_push(q, q);                            /* left in the queue at free */
    cf_lfqueue_free(q);
    cf_lfqueue_free(NULL);
}
END_TEST

static _Atomic int freed_items;
static void count_free(void *item) { (void)item; atomic_fetch_add(&freed_items, 1); }

/* Items left at free, some already moved into the consumers' batch (the first pop moves up to a
 * batch behind the item it takes) and some still on the producers' list: each goes to the item
 * destructor once, and empty() sees the batch's items. */
START_TEST(left_items_are_freed)
{
    cf_lfqueue *q = cf_lfqueue_new();
    ck_assert_int_eq(cf_lfqueue_set_item_free(q, count_free), 0);
    for (intptr_t i = 0; i < 500; i++)
        ck_assert_int_eq(cf_lfqueue_push(q, (void *)i), 0);
    void *v;
    ck_assert_int_eq(cf_lfqueue_pop(q, &v), 0);
    ck_assert_ptr_eq(v, (void *)0);
    ck_assert(!cf_lfqueue_empty(q));
    for (intptr_t i = 1; i < 200; i++) {                  /* drains the batch, refills it */
        ck_assert_int_eq(cf_lfqueue_pop(q, &v), 0);
        ck_assert_ptr_eq(v, (void *)i);
    }
    atomic_store(&freed_items, 0);
    cf_lfqueue_free(q);
    ck_assert_int_eq(atomic_load(&freed_items), 300);
    ck_assert_int_eq(cf_lfqueue_set_item_free(NULL, count_free), EINVAL);
}
END_TEST

/* Pushes interleaved with pops so that the batch runs out again and again with the list holding
 * 0, 1 or a few items: FIFO throughout, and empty() exactly when everything pushed was popped. */
START_TEST(fifo_across_refills)
{
    cf_lfqueue *q = cf_lfqueue_new();
    intptr_t pushed = 0, popped = 0;
    uint32_t seed = 5;
    for (int round = 0; round < 20000; round++) {
        int n = (int)(rnd(&seed) % 300);
        for (int i = 0; i < n; i++)
            ck_assert_int_eq(cf_lfqueue_push(q, (void *)pushed++), 0);
        int m = (int)(rnd(&seed) % 300);
        for (int i = 0; i < m; i++) {
            void *v;
            int r = cf_lfqueue_pop(q, &v);
            if (popped == pushed) {
                ck_assert_int_eq(r, EAGAIN);
                break;
            }
            ck_assert_int_eq(r, 0);
            ck_assert_ptr_eq(v, (void *)popped++);
        }
        ck_assert(cf_lfqueue_empty(q) == (popped == pushed));
    }
    cf_lfqueue_free(q);
}
END_TEST

START_TEST(bad_input)
{
    ck_assert_int_eq(cf_lfqueue_push(NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_lfqueue_pop(NULL, NULL), EINVAL);
    ck_assert(cf_lfqueue_empty(NULL));
}
END_TEST


typedef struct lfctx {
    cf_lfqueue        *q;
    int                producers, consumers;
    long               per_producer;
    _Atomic long       consumed;
    _Atomic int        producers_done;
    unsigned char     *seen;           /* producers * per_producer flags */
    pthread_barrier_t  start;
} lfctx;

typedef struct lfarg { lfctx *c; int id; } lfarg;

static void *lf_producer(void *arg)
{
    lfarg *a = arg;
    lfctx *c = a->c;
    uint32_t seed = (uint32_t)a->id + 11;
    pthread_barrier_wait(&c->start);
    for (long s = 0; s < c->per_producer; s++) {
        HOT_ASSERT(cf_lfqueue_push(c->q, TAG(a->id, s)) == 0);
        if (rnd(&seed) % 4096 == 0)
            sched_yield();
    }
    atomic_fetch_add(&c->producers_done, 1);
    return NULL;
}

static void *lf_consumer(void *arg)
{
    lfarg *a = arg;
    lfctx *c = a->c;
    long *last = malloc((size_t)c->producers * sizeof *last);
    for (int p = 0; p < c->producers; p++)
        last[p] = -1;
    long total = (long)c->producers * c->per_producer;
    pthread_barrier_wait(&c->start);
    for (;;) {
        void *v;
        int r = cf_lfqueue_pop(c->q, &v);
        if (r == EAGAIN) {
            if (atomic_load(&c->consumed) >= total)
                break;
            sched_yield();
            continue;
        }
        HOT_ASSERT(r == 0);
        int p = TAG_P(v);
        long s = TAG_S(v);
        HOT_ASSERT(p < c->producers);
        HOT_ASSERT(s < c->per_producer);
        /* Per-producer FIFO: one consumer sees each producer's items in increasing order. */
        HOT_ASSERT(s > last[p]);
        last[p] = s;
        unsigned char *flag = &c->seen[(long)p * c->per_producer + s];
        HOT_ASSERT(__atomic_exchange_n(flag, 1, __ATOMIC_RELAXED) == 0);   /* exactly once */
        atomic_fetch_add(&c->consumed, 1);
    }
    free(last);
    return NULL;
}

static void run_lf(int producers, int consumers, long total)
{
    lfctx c = { .producers = producers, .consumers = consumers };
    c.per_producer = total / producers;
    c.q = cf_lfqueue_new();
    c.seen = calloc((size_t)(producers * c.per_producer), 1);
    pthread_barrier_init(&c.start, NULL, (unsigned)(producers + consumers));
    pthread_t t[16];
    lfarg a[16];
    for (int i = 0; i < producers + consumers; i++) {
        a[i] = (lfarg){ &c, i < producers ? i : i - producers };
        pthread_create(&t[i], NULL, i < producers ? lf_producer : lf_consumer, &a[i]);
    }
    for (int i = 0; i < producers + consumers; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(atomic_load(&c.consumed), producers * c.per_producer);
    for (long i = 0; i < producers * c.per_producer; i++)
        HOT_ASSERT(c.seen[i] == 1);
    ck_assert(cf_lfqueue_empty(c.q));
    pthread_barrier_destroy(&c.start);
    free(c.seen);
    cf_lfqueue_free(c.q);
}

START_TEST(stress_1x1) { run_lf(1, 1, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_4x4) { run_lf(4, 4, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_8x8) { run_lf(8, 8, cf_scaled(1000000)); }
END_TEST
START_TEST(stress_8x1) { run_lf(8, 1, cf_scaled(400000)); }
END_TEST

/* fork() while other threads churn queues: the child must be able to use new queues (the node
 * cache has no lock and its slabs and stash are the child's copies). */
static _Atomic bool churn_stop;
static void *churn(void *arg)
{
    cf_lfqueue *q = arg;
    void *v;
    while (!atomic_load(&churn_stop)) {
        for (int i = 0; i < 600; i++)
            cf_lfqueue_push(q, (void *)1);
        while (cf_lfqueue_pop(q, &v) == 0)
            ;
    }
    return NULL;
}

START_TEST(fork_while_churning)
{
    const char *san = getenv("CF_SANITIZED");
    if (san && *san == '1')
        return;     /* sanitizer runtimes do not support fork() from a busy multi-threaded process */
    cf_lfqueue *q = cf_lfqueue_new();
    atomic_store(&churn_stop, false);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, churn, q);
    for (int k = 0; k < 100; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            cf_lfqueue *c = cf_lfqueue_new();
            void *v;
            for (int i = 0; i < 2000; i++)
                cf_lfqueue_push(c, (void *)1);
            for (int i = 0; i < 2000; i++)
                if (cf_lfqueue_pop(c, &v))
                    _exit(2);
            cf_lfqueue_free(c);
            _exit(0);
        }
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    atomic_store(&churn_stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    cf_lfqueue_free(q);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("lfqueue");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, fifo_and_empty);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, left_items_are_freed);
    tcase_add_test(tc, fifo_across_refills);
    tcase_add_test(tc, fork_while_churning);
    suite_add_tcase(s, tc);
    TCase *st = tcase_create("stress");
    tcase_set_timeout(st, 120);
    tcase_add_test(st, stress_1x1);
    tcase_add_test(st, stress_4x4);
    tcase_add_test(st, stress_8x8);
    tcase_add_test(st, stress_8x1);
    suite_add_tcase(s, st);
    return s;
}

CF_RUN_SUITE(suite)
