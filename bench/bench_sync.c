/* SPDX-License-Identifier: MIT */
/* bench_sync.c: the wait layer against its peers, measured in the same run:
 * - two coroutines ping-ponging through two cf_queue (a round trip: put, the peer gets and puts
 *   back, get), against the nap-based waiting the library had before the wait layer (try with
 *   timeout 0, nap 20 us doubling to 1 ms, reproduced here) and asyncio.Queue (py_peers.py);
 * - two threads ping-ponging through two cf_event, against a pthread mutex + condvar event and
 *   Python's threading.Event;
 * - lock hand-off among 100 coroutines that hold the lock across a yield, against asyncio.Lock;
 * - an uncontended cf_lock acquire + release against pthread_mutex_lock + unlock;
 * - the wake-ups per second an idle coroutine in cf_queue_get(CF_FOREVER) costs its loop (the
 *   loop thread's voluntary context switches), against the nap-based get. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench.h"

enum { PP_ROUNDS = 200000, NAP_ROUNDS = 2000, EV_ROUNDS = 100000, HOLDERS = 100,
       HOLDS = 2000, UNCONTENDED = 20000000 };

/* ---- coroutine ping-pong through two queues ---- */

static cf_queue *qa, *qb;
static long pp_rounds;
static bool pp_nap;

/* The library's coroutine waits before the wait layer: poll, nap, double the nap. */
static int nap_put(cf_queue *q, void *v)
{
    double nap = 20e-6;
    int r;
    while ((r = cf_queue_put(q, v, 0)) == EAGAIN) {
        cf_sleep(nap);
        nap = nap * 2 < 1e-3 ? nap * 2 : 1e-3;
    }
    return r;
}

static int nap_get(cf_queue *q, void **v)
{
    double nap = 20e-6;
    int r;
    while ((r = cf_queue_get(q, 0, v)) == EAGAIN) {
        cf_sleep(nap);
        nap = nap * 2 < 1e-3 ? nap * 2 : 1e-3;
    }
    return r;
}

static int put(cf_queue *q, void *v) { return pp_nap ? nap_put(q, v) : cf_queue_put(q, v, CF_FOREVER); }
static int get(cf_queue *q, void **v) { return pp_nap ? nap_get(q, v) : cf_queue_get(q, CF_FOREVER, v); }

static void *ping(void *arg)
{
    (void)arg;
    void *v;
    for (long i = 0; i < pp_rounds; i++) {
        check(put(qa, (void *)(intptr_t)(i + 1)) == 0, "ping put");
        check(get(qb, &v) == 0 && (intptr_t)v == i + 1, "ping get");
    }
    return NULL;
}

static void *pong(void *arg)
{
    (void)arg;
    void *v;
    for (long i = 0; i < pp_rounds; i++) {
        check(get(qa, &v) == 0, "pong get");
        check(put(qb, v) == 0, "pong put");
    }
    return NULL;
}

static double queue_round_trip(bool nap)
{
    pp_nap = nap;
    pp_rounds = nap ? NAP_ROUNDS : PP_ROUNDS;
    qa = cf_queue_new(16);
    qb = cf_queue_new(16);
    cf_loop *loop = cf_loop_new();
    cf_future *b = cf_loop_spawn(loop, pong, NULL);   /* first: it waits on the empty queue */
    cf_future *a = cf_loop_spawn(loop, ping, NULL);
    double t0 = now();
    check(cf_loop_run(loop) == 0, "run");
    double t = now() - t0;
    cf_future_unref(a);
    cf_future_unref(b);
    cf_loop_free(loop);
    cf_queue_free(qa);
    cf_queue_free(qb);
    return t / (double)pp_rounds * 1e6;
}

static double cf_queue_rt(void) { return queue_round_trip(false); }
static double nap_queue_rt(void) { return queue_round_trip(true); }

/* ---- thread ping-pong through two events ---- */

typedef struct cv_event {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    bool            set;
} cv_event;

static void cv_set(cv_event *e)
{
    pthread_mutex_lock(&e->mu);
    e->set = true;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

static void cv_wait_clear(cv_event *e)
{
    pthread_mutex_lock(&e->mu);
    while (!e->set)
        pthread_cond_wait(&e->cv, &e->mu);
    e->set = false;
    pthread_mutex_unlock(&e->mu);
}

static cf_event *ea, *eb;
static cv_event ca, cb;

static void *cf_ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < EV_ROUNDS; i++) {
        check(cf_event_wait(ea, CF_FOREVER) == 0, "event wait");
        cf_event_clear(ea);
        cf_event_set(eb);
    }
    return NULL;
}

static double cf_event_rt(void)
{
    ea = cf_event_new();
    eb = cf_event_new();
    pthread_t t;
    pthread_create(&t, NULL, cf_ponger, NULL);
    double t0 = now();
    for (long i = 0; i < EV_ROUNDS; i++) {
        cf_event_set(ea);
        check(cf_event_wait(eb, CF_FOREVER) == 0, "event wait");
        cf_event_clear(eb);
    }
    double dt = now() - t0;
    pthread_join(t, NULL);
    cf_event_free(ea);
    cf_event_free(eb);
    return dt / EV_ROUNDS * 1e6;
}

static void *cv_ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < EV_ROUNDS; i++) {
        cv_wait_clear(&ca);
        cv_set(&cb);
    }
    return NULL;
}

static double condvar_rt(void)
{
    cv_event init = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };
    ca = cb = init;
    pthread_t t;
    pthread_create(&t, NULL, cv_ponger, NULL);
    double t0 = now();
    for (long i = 0; i < EV_ROUNDS; i++) {
        cv_set(&ca);
        cv_wait_clear(&cb);
    }
    double dt = now() - t0;
    pthread_join(t, NULL);
    return dt / EV_ROUNDS * 1e6;
}

/* ---- lock hand-off among 100 coroutines ---- */

static cf_lock *hl;
static long held;

static void *holder(void *arg)
{
    (void)arg;
    for (int i = 0; i < HOLDS; i++) {
        check(cf_lock_acquire(hl, CF_FOREVER) == 0, "acquire");
        held++;
        cf_yield();                        /* hold it across a suspension: the others queue up */
        check(cf_lock_release(hl) == 0, "release");
    }
    return NULL;
}

static double lock_hand_offs(void)
{
    hl = cf_lock_new();
    held = 0;
    cf_loop *loop = cf_loop_new();
    cf_future *fs[HOLDERS];
    for (int i = 0; i < HOLDERS; i++)
        fs[i] = cf_loop_spawn(loop, holder, NULL);
    double t0 = now();
    check(cf_loop_run(loop) == 0, "run");
    double t = now() - t0;
    check(held == (long)HOLDERS * HOLDS, "every hold");
    for (int i = 0; i < HOLDERS; i++)
        cf_future_unref(fs[i]);
    cf_loop_free(loop);
    cf_lock_free(hl);
    return (double)held / t;
}

/* ---- uncontended lock ---- */

static double cf_lock_pairs(void)
{
    cf_lock *l = cf_lock_new();
    double t0 = now();
    for (long i = 0; i < UNCONTENDED; i++) {
        cf_lock_acquire(l, CF_FOREVER);
        cf_lock_release(l);
    }
    double t = now() - t0;
    cf_lock_free(l);
    return UNCONTENDED / t;
}

static double mutex_pairs(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    double t0 = now();
    for (long i = 0; i < UNCONTENDED; i++) {
        pthread_mutex_lock(&mu);
        pthread_mutex_unlock(&mu);
    }
    return UNCONTENDED / (now() - t0);
}

/* ---- an idle waiter's wake-ups ---- */

static long switches_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nvcsw;
}

static long idle_switches;

static void *idle_getter(void *arg)
{
    cf_queue *q = arg;
    long before = switches_now();
    void *v;
    check((pp_nap ? nap_get(q, &v) : cf_queue_get(q, CF_FOREVER, &v)) == 0, "idle get");
    idle_switches = switches_now() - before;
    return NULL;
}

static void *run_idle(void *arg)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, idle_getter, arg);
    check(cf_loop_run_until_complete(loop, f, NULL) == 0, "idle run");
    cf_future_unref(f);
    cf_loop_free(loop);
    return NULL;
}

static double idle_wakeups(bool nap)
{
    pp_nap = nap;
    cf_queue *q = cf_queue_new(0);
    pthread_t t;
    pthread_create(&t, NULL, run_idle, q);
    double t0 = now();
    struct timespec second = { 1, 0 };
    nanosleep(&second, NULL);
    check(cf_queue_put(q, (void *)1, 0) == 0, "idle put");
    pthread_join(t, NULL);
    double dt = now() - t0;
    cf_queue_free(q);
    /* The one sleep and the one wake of the wait itself are not idle wake-ups. */
    long extra = idle_switches > 1 ? idle_switches - 1 : 0;
    return (double)extra / dt;
}

static double cf_idle_wakeups(void) { return idle_wakeups(false); }
static double nap_idle_wakeups(void) { return idle_wakeups(true); }

void sync_figures(void)
{
    const char *q = "wait: two coroutines ping-pong through two cf_queue, round trip";
    figure(q, "cfutures", "us", cf_queue_rt);
    figure(q, "nap-based waiting (the library before the wait layer)", "us", nap_queue_rt);
    if (go_peers_available())
        figure(q, "Go unbuffered channels between two goroutines", "us", go_pingpong);
    if (py_peers_available())
        figure(q, "Python asyncio.Queue", "us", py_asyncio_queue_rt);
    const char *e = "wait: two threads ping-pong through two events, round trip";
    figure(e, "cfutures", "us", cf_event_rt);
    figure(e, "pthread mutex + condvar event", "us", condvar_rt);
    if (py_peers_available())
        figure(e, "Python threading.Event", "us", py_threading_event_rt);
    const char *h = "wait: lock hand-off among 100 coroutines holding it across a yield";
    figure(h, "cfutures", "hand-offs/s", lock_hand_offs);
    if (py_peers_available())
        figure(h, "Python asyncio.Lock", "hand-offs/s", py_asyncio_lock);
    const char *u = "wait: uncontended lock acquire + release";
    figure(u, "cfutures", "pairs/s", cf_lock_pairs);
    figure(u, "pthread_mutex_lock + unlock", "pairs/s", mutex_pairs);
    const char *w = "wait: wake-ups an idle coroutine in cf_queue_get(CF_FOREVER) costs its loop";
    figure(w, "cfutures", "wakeups/s", cf_idle_wakeups);
    figure(w, "nap-based waiting (the library before the wait layer)", "wakeups/s", nap_idle_wakeups);
}
