/* SPDX-License-Identifier: MIT */
/* switch_ucontext.c: the portable context switch, for machines without switch_asm.c (and for
 * testing it: -DCF_UCONTEXT=ON). swapcontext also saves and restores the signal mask, a syscall
 * per switch; that is the price of portability. makecontext passes only int arguments, so the
 * entry and its argument travel through a thread-local slot read once by the starter. */
#include "switch.h"

#ifdef CF__USE_UCONTEXT

#include <stdlib.h>

#include "../common/tls.h"

static CF__TLS void (*start_entry)(void *);
static CF__TLS void *start_arg;

static void starter(void)
{
    void (*entry)(void *) = start_entry;
    void *arg = start_arg;
    entry(arg);
    abort();   /* entry never returns */
}

void cf__ctx_make(cf__ctx *ctx, void *lo, size_t size, void (*entry)(void *), void *arg)
{
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    /* The slot is per thread and read at the first switch in: a loop makes a context right before
     * switching to it, on the same thread, so two makes never overlap. */
    start_entry = entry;
    start_arg = arg;
    makecontext(&ctx->uc, starter, 0);
}

void cf__ctx_switch(cf__ctx *from, cf__ctx *to)
{
    swapcontext(&from->uc, &to->uc);
}

#endif
