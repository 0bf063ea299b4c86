/* SPDX-License-Identifier: MIT */
/* signal.c: cf_loop_add_signal_handler, asyncio's loop.add_signal_handler.
 *
 * Design notes.
 * - A handler must run whatever thread the kernel picks, threads made before it was added
 *   included, so it is a real sigaction handler (signalfd would need the signal blocked in every
 *   thread). It does only async-signal-safe things: it marks the signal pending and writes one
 *   process-wide eventfd (made on first use, never closed, so a handler never writes a stale fd).
 * - Every loop with a handler has that eventfd in its epoll. Whichever loop wakes first drains it
 *   and dispatches: a pending signal of its own becomes a coroutine (fn(arg)); one of another
 *   loop rings that loop (it may have lost the race for the eventfd), which dispatches at its next
 *   pass. Every pass looks at one "anything pending" word first, so a signal that came while no
 *   one ran its loop is handled at its next run. Deliveries close together merge, as for any
 *   signal.
 * - The table is under a mutex for everything but the handler, which reads nothing of it. Lock
 *   order: table -> a loop's rlock (ringing another loop). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>

#include "../common/doorbell.h"
#include "loop.h"

typedef struct sig_slot {
    cf_loop         *loop;     /* NULL: no handler */
    cf_fn            fn;
    void            *arg;
    struct sigaction old;      /* the disposition to restore */
} sig_slot;

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static sig_slot table[NSIG];
static atomic_int sig_fd = -1;
static atomic_bool pending[NSIG];
atomic_bool cf__signals_pending;

static void on_signal(int signo)
{
    int saved = errno;
    atomic_store_explicit(&pending[signo], true, memory_order_relaxed);
    atomic_store_explicit(&cf__signals_pending, true, memory_order_release);
    cf__bell_signal(atomic_load_explicit(&sig_fd, memory_order_relaxed));
    errno = saved;
}

/* With table_mu held: the eventfd, made once. -1 + errno. */
static int signal_fd(void)
{
    int fd = atomic_load(&sig_fd);
    if (fd < 0 && (fd = cf__bell_open()) >= 0)
        atomic_store(&sig_fd, fd);
    return fd;
}

static bool valid(int signo)
{
    return signo > 0 && signo < NSIG && signo != SIGKILL && signo != SIGSTOP;
}

CF_EXTERN int cf_loop_add_signal_handler(cf_loop *loop, int signo, cf_fn fn, void *arg)
{
    if (!loop || !fn || !valid(signo))
        return EINVAL;
    pthread_mutex_lock(&table_mu);
    int fd = signal_fd();
    if (fd < 0) {
        pthread_mutex_unlock(&table_mu);
        return ENOMEM;
    }
    if (!loop->sig_watched) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &table };   /* the marker */
        if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST) {
            int e = errno;
            pthread_mutex_unlock(&table_mu);
            return e == ENOMEM || e == ENOSPC ? ENOMEM : e;
        }
        loop->sig_watched = true;
    }
    sig_slot *s = &table[signo];
    if (!s->loop) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (sigaction(signo, &sa, &s->old) != 0) {
            pthread_mutex_unlock(&table_mu);
            return EINVAL;
        }
    } else if (s->loop != loop) {
        atomic_fetch_sub(&s->loop->signals, 1);   /* one handler per signal: another loop's is replaced */
    }
    if (s->loop != loop)
        atomic_fetch_add(&loop->signals, 1);
    s->loop = loop;
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_unlock(&table_mu);
    return 0;
}

/* With table_mu held. */
static void remove_locked(int signo)
{
    sig_slot *s = &table[signo];
    sigaction(signo, &s->old, NULL);
    atomic_fetch_sub(&s->loop->signals, 1);
    s->loop = NULL;
    atomic_store(&pending[signo], false);
}

CF_EXTERN int cf_loop_remove_signal_handler(cf_loop *loop, int signo)
{
    if (!loop || signo <= 0 || signo >= NSIG)
        return EINVAL;
    pthread_mutex_lock(&table_mu);
    int r = table[signo].loop == loop ? 0 : ENOENT;
    if (!r)
        remove_locked(signo);
    pthread_mutex_unlock(&table_mu);
    return r;
}

void cf__loop_remove_signals(cf_loop *loop)
{
    if (!atomic_load(&loop->signals))
        return;
    pthread_mutex_lock(&table_mu);
    for (int i = 1; i < NSIG; i++)
        if (table[i].loop == loop)
            remove_locked(i);
    pthread_mutex_unlock(&table_mu);
}

bool cf__is_signal_event(const void *ptr) { return ptr == &table; }

void cf__loop_dispatch_signals(cf_loop *loop)
{
    if (!atomic_exchange_explicit(&cf__signals_pending, false, memory_order_acquire))
        return;
    int fd = atomic_load(&sig_fd);
    if (fd >= 0)
        cf__bell_drain(fd);
    pthread_mutex_lock(&table_mu);
    for (int i = 1; i < NSIG; i++) {
        if (!atomic_load_explicit(&pending[i], memory_order_relaxed))
            continue;
        sig_slot *s = &table[i];
        if (!s->loop) {
            atomic_store(&pending[i], false);      /* removed meanwhile */
        } else if (s->loop == loop) {
            atomic_store(&pending[i], false);
            cf_future *f = cf_loop_spawn(loop, s->fn, s->arg);
            if (f)
                cf_future_unref(f);
            else {                                  /* out of memory: the next pass tries again */
                atomic_store(&pending[i], true);
                atomic_store(&cf__signals_pending, true);
            }
        } else {
            atomic_store(&cf__signals_pending, true);  /* its loop dispatches it */
            cf__loop_ring(s->loop);
        }
    }
    pthread_mutex_unlock(&table_mu);
}
