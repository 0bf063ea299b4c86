/* SPDX-License-Identifier: MIT */
/* stack.h (internal): coroutine stacks, mmap'd and committed lazily, pooled per loop. */
#ifndef CF__STACK_H
#define CF__STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF__STACK_SIZE (256u * 1024)   /* default usable bytes; address space, committed as touched */
#define CF__STACK_MIN  (16u * 1024)
#define CF__STACK_MAX  (1024u * 1024 * 1024)
#define CF__GUARD_SIZE (64u * 1024)    /* PROT_NONE below a guarded stack: wider than sane frames */
#define CF__CANARY_WORDS 8             /* the lowest 64 bytes of an unguarded stack stay zero */

typedef struct cf__stack {
    void    *lo;       /* lowest usable byte; the stack grows down from lo + the pool's size */
    bool     guarded;
    unsigned vg_id;    /* valgrind's name for it while in use (stack.c) */
} cf__stack;

typedef struct cf__stack_arena cf__stack_arena;

/* A loop's stacks. Only the loop's thread touches it. */
typedef struct cf__stack_pool {
    size_t           size;       /* usable bytes per stack, a multiple of the page size */
    cf__stack       *free;       /* LIFO: the most recently used stack is the warmest */
    size_t           nfree, cap;
    cf__stack_arena *arenas;     /* unguarded stacks are carved from these, freed with the pool */
} cf__stack_pool;

/* 0 | ENOMEM. An unguarded stack's canary (its lowest bytes) is zero. */
int  cf__stack_get(cf__stack_pool *p, cf__stack *s);
void cf__stack_put(cf__stack_pool *p, cf__stack s);
/* Unmaps everything; every stack must have been put back. */
void cf__stack_pool_destroy(cf__stack_pool *p);
/* An unguarded stack whose bottom words are no longer zero: the coroutine ran past its end.
 * Zero is the canary because reading an untouched page maps the kernel's zero page: checking
 * costs no memory, where writing a canary would commit a page per stack. */
static inline bool cf__stack_smashed(const cf__stack *s)
{
    if (s->guarded)
        return false;
    const volatile uint64_t *w = (const volatile uint64_t *)s->lo;
    uint64_t any = 0;
    for (int i = 0; i < CF__CANARY_WORDS; i++)
        any |= w[i];
    return any != 0;
}

#endif
