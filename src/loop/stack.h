/* stack.h (internal): coroutine stacks, mmap'd and committed lazily, pooled per loop. */
#ifndef CF__STACK_H
#define CF__STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF__STACK_SIZE (256u * 1024)   /* usable bytes; address space, committed as touched */
#define CF__GUARD_SIZE (64u * 1024)    /* PROT_NONE below a guarded stack: wider than any sane frame */
#define CF__STACK_CANARY 0x5afec0de0ddba11ULL

typedef struct cf__stack {
    void *lo;          /* lowest usable byte; the stack grows down from lo + CF__STACK_SIZE */
    bool  guarded;
} cf__stack;

typedef struct cf__stack_arena cf__stack_arena;

/* A loop's stacks. Only the loop's thread touches it. */
typedef struct cf__stack_pool {
    cf__stack       *free;       /* LIFO: the most recently used stack is the warmest */
    size_t           nfree, cap;
    cf__stack_arena *arenas;     /* unguarded stacks are carved from these, freed with the pool */
} cf__stack_pool;

/* 0 | ENOMEM. An unguarded stack gets the canary at lo. */
int  cf__stack_get(cf__stack_pool *p, cf__stack *s);
void cf__stack_put(cf__stack_pool *p, cf__stack s);
/* Unmaps everything; every stack must have been put back. */
void cf__stack_pool_destroy(cf__stack_pool *p);
/* An unguarded stack whose canary was overwritten: the coroutine ran past its bottom. */
static inline bool cf__stack_smashed(const cf__stack *s)
{
    return !s->guarded && *(const volatile uint64_t *)s->lo != CF__STACK_CANARY;
}

#endif
