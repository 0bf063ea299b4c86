/* SPDX-License-Identifier: MIT */
/* future.c: the future state machine, done-callbacks, and waiting on one future.
 *
 * Design notes.
 * - Every state change happens under f->lock (a 4-byte futex lock, see lock.h), so the owner hook, the listeners and the callback
 *   list see one order of events. Readers of the state do not lock: they load `word` (acquire).
 * - Completion publishes value/err/msg, then the done state with an exchange (release) that also
 *   reads and clears CF__WAITERS: if a sleeper announced itself, it is woken. The sleeper sets
 *   CF__WAITERS with a CAS on the not-done word it saw and passes that exact value to futex_wait,
 *   so a completion between its check and its sleep makes futex_wait return at once.
 * - Callbacks are detached under the lock and run after it is released, so a callback may add
 *   callbacks (they run at once: the future is done), drop references or submit work.
 * - The completer holds a temporary reference while it wakes and calls back: a callback or a woken
 *   waiter may drop what was the last other reference.
 * Lock order: f->lock -> a listener's own lock. Nothing takes f->lock while holding another future's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/futex.h"
#include "../common/lock.h"
#include "../wait/parker.h"
#include "future.h"

CF_EXTERN cf_future *cf_future_new(void)
{
    return cf__future_alloc();   /* sets errno */
}

CF_EXTERN cf_future *cf_future_ref(cf_future *f)
{
    if (f)
        atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

/* A cf_submit_full job's argument goes once the task is done with it (or with the future). */
static void release_arg(cf__full_job *j)
{
    if (!j->arg_released) {
        j->arg_released = true;
        if (j->arg_free)
            j->arg_free(j->arg);
    }
}

static void future_destroy(cf_future *f)
{
    if (f->kind == CF__KIND_FULL) {
        cf__full_job *j = f->arg;
        release_arg(j);
        if (j->result_free && !atomic_load_explicit(&j->taken, memory_order_relaxed) && !f->err &&
            cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed)) == CF_FINISHED)
            j->result_free(f->value);
        free(j);
    } else if (f->kind == CF__KIND_BYTES) {
        free(f->arg);                 /* the job, unless the task freed it already */
        if (cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed)) == CF_FINISHED && !f->err)
            free(f->value);
    }
    cf__callback *cb = f->cbs;
    while (cb) {                  /* a future freed before it was done: its callbacks never ran */
        cf__callback *next = cb->next;
        free(cb);
        cb = next;
    }
    free(f->msg);
    cf__future_release(f);
}

CF_EXTERN void cf_future_unref(cf_future *f)
{
    if (!f)
        return;
    /* acq_rel: our writes happen-before the destruction, and the destroyer sees everyone's.
     * (An acquire fence would be cheaper on paper; ThreadSanitizer does not model fences.) */
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
        future_destroy(f);
}

CF_EXTERN cf_state cf_future_state(const cf_future *f)
{
    if (!f)
        return CF_PENDING;
    return cf__state_of(atomic_load_explicit(&((cf_future *)f)->word, memory_order_acquire));
}

CF_EXTERN bool cf_future_done(const cf_future *f)
{
    return cf__is_done(cf_future_state(f));
}

static void run_callbacks(cf_future *f, cf_done_fn fn0, void *arg0, cf__callback *cb)
{
    if (fn0)
        fn0(f, arg0);
    while (cb) {
        cf__callback *next = cb->next;
        cb->fn(f, cb->arg);
        free(cb);
        cb = next;
    }
}

int cf__future_complete(cf_future *f, cf_state to, int err, void *value, char *msg)
{
    return cf__future_complete_ref(f, to, err, value, msg, false);
}

enum { BY_OWNER = 1, HOLDS_REF = 2 };

static int complete(cf_future *f, cf_state to, int err, void *value, char *msg, int how,
                    size_t bytes_len)
{
    cf__lock_acquire(&f->lock);
    cf_state s = cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed));
    /* Only a PENDING future can be cancelled: a cancel that saw PENDING may get here after the
     * executor started the task. The executor itself may end a RUNNING one CANCELLED (a
     * coroutine that accepted a cancel). */
    if (cf__is_done(s) || (to == CF_CANCELLED && s != CF_PENDING && !(how & BY_OWNER))) {
        cf__lock_release(&f->lock);
        free(msg);
        return EINVAL;
    }
    if (s == CF_PENDING && to == CF_CANCELLED && !(how & BY_OWNER) && f->owner &&
        f->owner->may_cancel && !f->owner->may_cancel(f->owner, f)) {
        /* Its worker started it first: it is RUNNING, which the executor would say soon. */
        atomic_fetch_xor_explicit(&f->word, CF_PENDING ^ CF_RUNNING, memory_order_release);
        cf__lock_release(&f->lock);
        return EINVAL;
    }
    if (!(how & HOLDS_REF))
        cf_future_ref(f);
    f->value = value;
    f->err = err;
    f->msg = msg;
    if ((how & BY_OWNER) && f->kind == CF__KIND_BYTES && to == CF_FINISHED)
        f->bytes_len = bytes_len;   /* in-place runners set it themselves (bytes.c) */
    if (s == CF_PENDING && f->owner && !(how & BY_OWNER))
        f->owner->left_pending(f->owner, f, to, err);
    /* The one completer; the task is past using arg. Before the done state is published, so
     * whoever sees the future done sees its argument released. */
    if (f->kind == CF__KIND_FULL)
        release_arg(f->arg);
    uint32_t old = atomic_exchange_explicit(&f->word, (uint32_t)to, memory_order_acq_rel);
    cf__callback *cbs = f->cbs;
    cf_done_fn fn0 = f->cb0_fn;
    void *arg0 = f->cb0_arg;
    f->cbs = NULL;
    f->cb0_fn = NULL;
    cf__waitq_wake_all(&f->listeners, 0);
    cf__lock_release(&f->lock);

    if (old & CF__WAITERS)
        cf__futex_wake(&f->word, CF__WAKE_ALL);
    run_callbacks(f, fn0, arg0, cbs);
    if (!(how & HOLDS_REF))
        cf_future_unref(f);
    return 0;
}

int cf__future_complete_ref(cf_future *f, cf_state to, int err, void *value, char *msg,
                            bool caller_holds_ref)
{
    return complete(f, to, err, value, msg, caller_holds_ref ? HOLDS_REF : 0, 0);
}

int cf__future_complete_owner(cf_future *f, cf_state to, int err, void *value, char *msg,
                              size_t bytes_len)
{
    return complete(f, to, err, value, msg, BY_OWNER | HOLDS_REF, bytes_len);
}

CF_EXTERN bool cf_future_set_running(cf_future *f)
{
    if (!f || f->owner)
        return false;           /* an executor's or a loop's: its owner starts it */
    return cf__future_set_running(f);
}

bool cf__future_set_running(cf_future *f)
{
    cf__lock_acquire(&f->lock);
    uint32_t w = atomic_load_explicit(&f->word, memory_order_acquire);
    bool ok = cf__state_of(w) == CF_PENDING;
    if (ok)   /* PENDING (0) -> RUNNING (1), keeping CF__WAITERS: an RMW, not a store */
        atomic_fetch_xor_explicit(&f->word, CF_PENDING ^ CF_RUNNING, memory_order_relaxed);
    cf__lock_release(&f->lock);
    return ok;
}

CF_EXTERN bool cf_future_cancel(cf_future *f)
{
    if (!f)
        return false;
    atomic_store_explicit(&f->cancel_requested, true, memory_order_relaxed);
    cf_state s = cf_future_state(f);
    if (s == CF_PENDING)
        /* EINVAL: it was started or completed meanwhile; report what it became. */
        if (cf__future_complete(f, CF_CANCELLED, ECANCELED, NULL, NULL) == 0)
            return true;
    s = cf_future_state(f);
    if (s == CF_RUNNING && f->owner && f->owner->cancel_running) {
        /* A worker in another process must be told; a coroutine accepts. Under the lock, a
         * RUNNING state means the executor (which completes under this lock) is still there. */
        bool accepted = false;
        cf__lock_acquire(&f->lock);
        if (cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed)) == CF_RUNNING)
            accepted = f->owner->cancel_running(f->owner, f);
        cf__lock_release(&f->lock);
        return accepted || cf_future_state(f) == CF_CANCELLED;
    }
    return s == CF_CANCELLED;
}

CF_EXTERN int cf_future_set_result(cf_future *f, void *value)
{
    if (!f)
        return EINVAL;
    if (f->owner)
        return EPERM;           /* an executor's or a loop's: only its owner completes it */
    return cf__future_complete(f, CF_FINISHED, 0, value, NULL);
}

CF_EXTERN int cf_future_set_error(cf_future *f, int err, const char *msg)
{
    if (!f || err == 0)
        return EINVAL;
    if (f->owner)
        return EPERM;           /* an executor's or a loop's: only its owner completes it */
    if (cf_future_done(f))
        return EINVAL;
    char *copy = msg ? strdup(msg) : NULL;   /* NULL on ENOMEM: the future still fails */
    return cf__future_complete(f, CF_FINISHED, err, NULL, copy);
}

/* A parked waiter (a coroutine) hears of the completion through a listener that wakes it. */
static int wait_parked(cf__parker *p, cf_future *f, const cf__deadline *d)
{
    if (p->own == f)
        return EDEADLK;         /* its own end: it would wait forever (asyncio: RuntimeError) */
    if (cf__parker_take_cancel(p))
        return ECANCELED;
    if (cf_future_done(f))
        return 0;
    if (d->poll)
        return ETIMEDOUT;
    cf__waiter w;
    cf__waiter_init(&w, p);
    cf__parker_arm(p, true);
    if (!cf__future_listen(f, &w))
        return cf__parker_unarm(p, 0);   /* done meanwhile */
    int r = cf__parker_park(p, d, CF__PARK_SOON);
    cf__future_unlisten(f, &w);
    return r;
}

/* A plain thread sleeps on the future's own word: no listener, no lock (the common case of a
 * caller blocking on a pool's result). */
int cf__future_wait(cf_future *f, const cf__deadline *d)
{
    if (cf__in_coroutine())
        return wait_parked(cf__parker_self(), f, d);
    for (;;) {
        uint32_t w = atomic_load_explicit(&f->word, memory_order_acquire);
        if (cf__is_done(cf__state_of(w)))
            return 0;
        if (d->poll || cf__deadline_passed(d))
            return ETIMEDOUT;
        if (!(w & CF__WAITERS)) {
            if (!atomic_compare_exchange_weak_explicit(&f->word, &w, w | CF__WAITERS,
                                                       memory_order_acquire, memory_order_acquire))
                continue;
            w |= CF__WAITERS;
        }
        cf__futex_wait(&f->word, w, d);   /* re-checked at the top either way */
    }
}

/* Waits for f to finish: 0 once it is FINISHED (result or error) | EINVAL | ETIMEDOUT |
 * ECANCELED. The shared front of cf_future_result and cf_future_error. */
static int wait_finished(cf_future *f, double timeout)
{
    cf__deadline d;
    if (!f || cf__wait_deadline(&d, timeout))
        return EINVAL;
    int r = cf__future_wait(f, &d);
    if (r)
        return r;
    return cf_future_state(f) == CF_CANCELLED ? ECANCELED : 0;
}

CF_EXTERN int cf_future_result(cf_future *f, double timeout, void **value)
{
    int r = wait_finished(f, timeout);
    if (r)
        return r;
    if (f->err)
        return f->err;
    if (value)
        *value = f->value;
    return 0;
}

CF_EXTERN int cf_future_take(cf_future *f, double timeout, void **value)
{
    if (f && f->kind == CF__KIND_BYTES)
        return EINVAL;     /* bytes results stay the future's */
    void *v = NULL;
    int r = cf_future_result(f, timeout, &v);
    if (!r && f->kind == CF__KIND_FULL &&
        atomic_exchange_explicit(&((cf__full_job *)f->arg)->taken, true, memory_order_relaxed))
        return EALREADY;
    if (!r && value)
        *value = v;
    return r;
}

CF_EXTERN int cf_future_error(cf_future *f, double timeout, const char **msg)
{
    int r = wait_finished(f, timeout);
    if (r)
        return r;
    if (msg)
        *msg = f->err ? (f->msg ? f->msg : cf_strerror(f->err)) : NULL;
    return f->err;
}

CF_EXTERN int cf_future_add_done_callback(cf_future *f, cf_done_fn fn, void *arg)
{
    if (!f || !fn)
        return EINVAL;
    cf__lock_acquire(&f->lock);
    if (cf__is_done(cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed)))) {
        cf__lock_release(&f->lock);
        fn(f, arg);
        return 0;
    }
    if (!f->cb0_fn && !f->cbs) {
        f->cb0_fn = fn;
        f->cb0_arg = arg;
        cf__lock_release(&f->lock);
        return 0;
    }
    cf__callback *cb = malloc(sizeof *cb);
    if (!cb) {
        cf__lock_release(&f->lock);
        return ENOMEM;
    }
    cb->fn = fn;
    cb->arg = arg;
    cb->next = NULL;
    cf__callback **tail = &f->cbs;    /* lists are short: walking beats a tail pointer's 8 bytes */
    while (*tail)
        tail = &(*tail)->next;
    *tail = cb;
    cf__lock_release(&f->lock);
    return 0;
}

bool cf__future_listen(cf_future *f, cf__waiter *w)
{
    cf__lock_acquire(&f->lock);
    bool pending = !cf__is_done(cf__state_of(atomic_load_explicit(&f->word, memory_order_relaxed)));
    if (pending)
        cf__waitq_add(&f->listeners, w);
    cf__lock_release(&f->lock);
    return pending;
}

void cf__future_unlisten(cf_future *f, cf__waiter *w)
{
    /* Taking the lock also waits out a wake in progress: after this, w is not touched. */
    cf__lock_acquire(&f->lock);
    cf__waitq_del(w);
    cf__lock_release(&f->lock);
}
