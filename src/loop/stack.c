/* SPDX-License-Identifier: MIT */
/* stack.c: where coroutine stacks come from.
 *
 * Design notes.
 * - Every stack is 256 KiB of anonymous private memory, committed by the kernel page by page as
 *   the coroutine touches it: an idle coroutine costs the pages its frames reach (one or two).
 * - A guard (64 KiB of PROT_NONE below the stack) turns an overflow into SIGSEGV. It costs a
 *   second kernel mapping per stack (the guard splits the mapping), and vm.max_map_count (65,530
 *   by default) caps a process's mappings. So the process keeps at most max_map_count / 4 guarded
 *   stacks (half the budget, leaving the rest to malloc, libraries and threads); beyond that,
 *   stacks are carved from unguarded arenas of 64 (adjacent, same protection: one mapping per
 *   arena) and carry a canary at their bottom (its lowest 64 bytes stay zero, see stack.h), checked
 *   at every switch. The count is process-wide
 *   (atomic) because the budget is.
 * - Freed stacks go back to the loop's pool. Past the first POOL_WARM, a guarded one is unmapped
 *   (giving its two mappings back) and an unguarded one is given back to the kernel with
 *   MADV_DONTNEED (its arena stays mapped until the loop is freed: punching holes would split it).
 * - Under AddressSanitizer a reused stack still carries the shadow poison of frames that never
 *   returned (a coroutine's first frame never does): it is unpoisoned on reuse.
 * - Valgrind must be told where stacks are, or it takes every switch for a wild jump of the
 *   stack pointer and reports the new frames as uninitialised: a stack in use is registered
 *   (VALGRIND_STACK_REGISTER, where the header was there at build time; a few instructions, and
 *   nothing at all when not run under valgrind). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stack.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define VG_REGISTER(lo, hi) VALGRIND_STACK_REGISTER(lo, hi)
#define VG_DEREGISTER(id) VALGRIND_STACK_DEREGISTER(id)
#endif
#endif
#ifndef VG_REGISTER
#define VG_REGISTER(lo, hi) ((void)(lo), (void)(hi), 0u)
#define VG_DEREGISTER(id) ((void)(id))
#endif

#define ARENA_STACKS 64
#define POOL_WARM    64

struct cf__stack_arena {
    cf__stack_arena *next;
    void            *base;
};

static atomic_long guarded_now;
static long guarded_max;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

static void read_limits(void)
{
    long maps = 65530;
    FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
    if (fp) {
        if (fscanf(fp, "%ld", &maps) != 1)
            maps = 65530;
        fclose(fp);
    }
    guarded_max = maps / 4;
}

/* Room in the free list for n more stacks: 0 | ENOMEM. */
static int reserve(cf__stack_pool *p, size_t n)
{
    size_t cap = p->cap ? p->cap : 64;
    while (cap < p->nfree + n)
        cap *= 2;
    if (cap == p->cap)
        return 0;
    cf__stack *v = realloc(p->free, cap * sizeof *v);
    if (!v)
        return ENOMEM;
    p->free = v;
    p->cap = cap;
    return 0;
}

static int push_free(cf__stack_pool *p, cf__stack s)
{
    if (reserve(p, 1) != 0)
        return ENOMEM;
    p->free[p->nfree++] = s;
    return 0;
}

static int new_guarded(cf__stack_pool *p, cf__stack *s)
{
    void *m = mmap(NULL, CF__GUARD_SIZE + p->size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return ENOMEM;
    s->lo = (char *)m + CF__GUARD_SIZE;
    if (mprotect(s->lo, p->size, PROT_READ | PROT_WRITE) != 0) {
        munmap(m, CF__GUARD_SIZE + p->size);
        return ENOMEM;
    }
    s->guarded = true;
    return 0;
}

/* Maps an arena and puts all but one of its stacks in the pool. */
static int new_arena(cf__stack_pool *p, cf__stack *s)
{
    cf__stack_arena *a = malloc(sizeof *a);
    if (!a)
        return ENOMEM;
    /* The pool's array must hold the new stacks: grow it first, so nothing can fail later. */
    if (reserve(p, ARENA_STACKS) != 0) {
        free(a);
        return ENOMEM;
    }
    a->base = mmap(NULL, (size_t)ARENA_STACKS * p->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->base == MAP_FAILED) {
        free(a);
        return ENOMEM;
    }
    a->next = p->arenas;
    p->arenas = a;
    /* Handed out from the top down, so that an overflow runs into a neighbour in the arena
     * (caught by the canary) rather than into whatever is mapped below it. */
    for (size_t i = 0; i < ARENA_STACKS - 1; i++)
        p->free[p->nfree++] = (cf__stack){ (char *)a->base + i * p->size, false, 0 };
    *s = (cf__stack){ (char *)a->base + (ARENA_STACKS - 1) * p->size, false, 0 };
    return 0;
}

int cf__stack_get(cf__stack_pool *p, cf__stack *s)
{
    if (p->nfree > 0) {
        *s = p->free[--p->nfree];
        UNPOISON(s->lo, p->size);
    } else {
        pthread_once(&limits_once, read_limits);
        int r = ENOMEM;
        if (atomic_fetch_add(&guarded_now, 1) < guarded_max) {
            if ((r = new_guarded(p, s)) != 0)
                atomic_fetch_sub(&guarded_now, 1);
        } else {
            atomic_fetch_sub(&guarded_now, 1);
        }
        if (r != 0 && (r = new_arena(p, s)) != 0)
            return r;
    }
    if (cf__stack_smashed(s))   /* a coroutine went deep into it (but no further): re-arm */
        memset(s->lo, 0, CF__CANARY_WORDS * sizeof(uint64_t));
    s->vg_id = VG_REGISTER((char *)s->lo, (char *)s->lo + p->size);
    return 0;
}

static void unmap_guarded(cf__stack_pool *p, cf__stack s)
{
    munmap((char *)s.lo - CF__GUARD_SIZE, CF__GUARD_SIZE + p->size);
    atomic_fetch_sub(&guarded_now, 1);
}

void cf__stack_put(cf__stack_pool *p, cf__stack s)
{
    VG_DEREGISTER(s.vg_id);
    if (p->nfree >= POOL_WARM) {
        if (s.guarded) {
            unmap_guarded(p, s);
            return;
        }
        madvise(s.lo, p->size, MADV_DONTNEED);
    }
    if (push_free(p, s) != 0) {
        /* No memory for the list: a guarded stack can still go; an arena's stays mapped (and
         * is freed with the pool) but is lost to reuse. */
        if (s.guarded)
            unmap_guarded(p, s);
    }
}

void cf__stack_pool_destroy(cf__stack_pool *p)
{
    for (size_t i = 0; i < p->nfree; i++)
        if (p->free[i].guarded)
            unmap_guarded(p, p->free[i]);
    for (cf__stack_arena *a = p->arenas, *next; a; a = next) {
        next = a->next;
        munmap(a->base, (size_t)ARENA_STACKS * p->size);
        free(a);
    }
    free(p->free);
    *p = (cf__stack_pool){ .size = p->size };
}
