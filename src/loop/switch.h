/* SPDX-License-Identifier: MIT */
/* switch.h (internal): the machine context of a coroutine and the switch between two of them.
 *
 * On x86-64 and aarch64 a switch is a handful of instructions (switch_asm.c): save the
 * callee-saved registers on the current stack, store the stack pointer, load the other one,
 * restore. No syscall, unlike swapcontext, which saves and restores the signal mask each time.
 * Elsewhere, or with -DCF_UCONTEXT=ON, it is ucontext (switch_ucontext.c). */
#ifndef CF__SWITCH_H
#define CF__SWITCH_H

#include <stddef.h>

#if !defined(CF__USE_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#define CF__USE_UCONTEXT 1
#endif

#ifdef CF__USE_UCONTEXT
#include <ucontext.h>
typedef struct cf__ctx { ucontext_t uc; } cf__ctx;
#else
typedef struct cf__ctx { void *sp; } cf__ctx;   /* the saved registers live on the stack */
#endif

/* Prepares ctx so that the first switch to it calls entry(arg) on the stack [lo, lo + size).
 * entry must never return: a coroutine ends by switching away for good. */
void cf__ctx_make(cf__ctx *ctx, void *lo, size_t size, void (*entry)(void *), void *arg);
/* Saves the running context into from and resumes to. Returns when someone switches back. */
void cf__ctx_switch(cf__ctx *from, cf__ctx *to);

#endif
