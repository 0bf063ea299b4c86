/* SPDX-License-Identifier: MIT */
/* plock.c: the shared-memory lock of plock.h. Memory order: acquire on taking the word, release
 * on clearing it, so the protected bytes are ordered by the word as by any mutex.
 * A coroutine cannot sleep on the shared futex (its loop would stop), and a loop has nothing to
 * watch for one: while another process holds the word, it naps (20 us doubling to 1 ms, the
 * loop running meanwhile). The word is held for a copy, so this is rare and short; a holder
 * that is stopped costs the coroutine its timeout, as it costs a thread. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "../common/backoff.h"
#include "../common/futex.h"
#include "../wait/parker.h"
#include "plock.h"

#define WAITERS 0x80000000u
#define PID_MASK 0x3fffffffu
#define SPINS 100

static uint32_t self_word(void) { return (uint32_t)getpid() & PID_MASK; }

/* The process named by the word is gone: it does not exist or is a zombie. */
static bool holder_dead(uint32_t v)
{
    pid_t pid = (pid_t)(v & PID_MASK);
    if (pid <= 0)
        return true;
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return true;
    char path[40], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;                   /* no /proc: trust kill's answer */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = NULL;              /* "pid (comm) S ...": comm may hold spaces or ')' */
    for (const char *c = buf; *c; c++)
        if (*c == ')')
            rp = c;
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* A coroutine's wait for the word to change from v, by d: true when d passed first. */
static bool nap_until(_Atomic uint32_t *word, uint32_t v, const cf__deadline *d)
{
    uint64_t nap = 20000;
    while (atomic_load_explicit(word, memory_order_relaxed) == v) {
        if (cf__wait_nap(nap, d, false) == ETIMEDOUT)   /* a cancel waits for the next wait */
            return true;
        nap = nap * 2 < 1000000 ? nap * 2 : 1000000;
    }
    return false;
}

int cf__plock_lock(_Atomic uint32_t *word, const cf__deadline *d)
{
    uint32_t me = self_word(), v = 0;
    if (atomic_compare_exchange_strong_explicit(word, &v, me, memory_order_acquire, memory_order_relaxed))
        return 0;
    cf__backoff b = cf__backoff_new(SPINS, 0);
    while (cf__backoff_step(&b)) {
        v = 0;
        if (atomic_compare_exchange_weak_explicit(word, &v, me, memory_order_acquire, memory_order_relaxed))
            return 0;
    }
    /* A poll waits one slice too: a lock is held for a copy, and "busy" is not "empty". */
    cf__deadline poll_until;
    if (d->poll) {
        cf__deadline_init(&poll_until, CF__PLOCK_SLICE);
        d = &poll_until;
    }
    for (;;) {
        if (!d->forever && cf__deadline_passed(d))
            return ETIMEDOUT;           /* checked first: a word that keeps changing ends too */
        v = atomic_load_explicit(word, memory_order_relaxed);
        if (v == 0) {
            /* Others may sleep: keep WAITERS, so our unlock wakes one. */
            if (atomic_compare_exchange_strong_explicit(word, &v, me | WAITERS, memory_order_acquire,
                                                        memory_order_relaxed))
                return 0;
            continue;
        }
        if (!(v & WAITERS) &&
            !atomic_compare_exchange_strong_explicit(word, &v, v | WAITERS, memory_order_relaxed,
                                                     memory_order_relaxed))
            continue;
        v |= WAITERS;
        cf__deadline slice;             /* to the end of this slice or the deadline */
        cf__deadline_init(&slice, CF__PLOCK_SLICE);
        bool last = !d->forever && cf__deadline_left(d) <= CF__PLOCK_SLICE;
        if (!(cf__in_coroutine() ? nap_until(word, v, last ? d : &slice)
                                 : cf__futex_wait_shared(word, v, last ? d : &slice) == ETIMEDOUT))
            continue;
        if (atomic_load_explicit(word, memory_order_relaxed) == v && holder_dead(v) &&
            atomic_compare_exchange_strong_explicit(word, &v, me | WAITERS, memory_order_acquire,
                                                    memory_order_relaxed))
            return 1;
    }
}

void cf__plock_unlock(_Atomic uint32_t *word)
{
    if (atomic_exchange_explicit(word, 0, memory_order_release) & WAITERS)
        cf__futex_wake_shared(word, 1);
}
