/* SPDX-License-Identifier: MIT */
/* switch_asm.c: the hand-written context switch for x86-64 (System V) and aarch64 (AAPCS64).
 *
 * The switch saves exactly what the calling convention says a callee must preserve, pushed on the
 * current stack, and swaps stack pointers; the caller of cf__ctx_switch has already saved the
 * rest. x86-64 keeps rbx, rbp, r12-r15; aarch64 keeps x19-x30 and d8-d15.
 * The floating-point environment (MXCSR, the x87 control word, FPCR: rounding mode and exception
 * masks) is left alone: it belongs to the thread, shared by its coroutines, as the signal mask
 * is. Saving and restoring MXCSR and the x87 word took most of a switch's time in perf (ldmxcsr
 * and fldcw serialize); a coroutine that changes the rounding mode restores it before it
 * suspends.
 *
 * A new context's stack is laid out as if cf__ctx_switch had been called from the trampoline: the
 * first switch "returns" into it, and it calls entry(arg) with an aligned stack. The trampoline
 * marks the end of the call chain for debuggers and unwinders. */
#include "switch.h"

#ifndef CF__USE_UCONTEXT

#include <stdint.h>
#include <string.h>

void cf__ctx_trampoline(void);

#if defined(__x86_64__)

__asm__(
    ".text\n"
    ".globl cf__ctx_switch\n"
    ".hidden cf__ctx_switch\n"
    ".type cf__ctx_switch,@function\n"
    "cf__ctx_switch:\n"
    "    .cfi_startproc\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq (%rsi), %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    "    .cfi_endproc\n"
    ".size cf__ctx_switch,.-cf__ctx_switch\n"
    ".globl cf__ctx_trampoline\n"
    ".hidden cf__ctx_trampoline\n"
    ".type cf__ctx_trampoline,@function\n"
    "cf__ctx_trampoline:\n"
    "    .cfi_startproc\n"
    "    .cfi_undefined rip\n"
    "    movq %r12, %rdi\n"
    "    callq *%r13\n"
    "    ud2\n"
    "    .cfi_endproc\n"
    ".size cf__ctx_trampoline,.-cf__ctx_trampoline\n");

void cf__ctx_make(cf__ctx *ctx, void *lo, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    /* After `ret` pops the trampoline's address, rsp = top - 16, so the trampoline's call leaves
     * rsp = 8 (mod 16) at entry, as the ABI wants. Below it: rbp, rbx, r12 (arg), r13 (entry),
     * r14, r15. */
    uint64_t *sp = (uint64_t *)(top - 24);
    sp[0] = (uint64_t)(uintptr_t)cf__ctx_trampoline;
    sp[1] = 0;
    uint64_t *regs = sp - 6;          /* r15 r14 r13 r12 rbx rbp, in pop order */
    regs[0] = 0;
    regs[1] = 0;
    regs[2] = (uint64_t)(uintptr_t)entry;
    regs[3] = (uint64_t)(uintptr_t)arg;
    regs[4] = 0;
    regs[5] = 0;
    ctx->sp = regs;
}

#elif defined(__aarch64__)

__asm__(
    ".text\n"
    ".globl cf__ctx_switch\n"
    ".hidden cf__ctx_switch\n"
    ".type cf__ctx_switch,%function\n"
    "cf__ctx_switch:\n"
    "    sub sp, sp, #160\n"
    "    stp x19, x20, [sp, #0]\n"
    "    stp x21, x22, [sp, #16]\n"
    "    stp x23, x24, [sp, #32]\n"
    "    stp x25, x26, [sp, #48]\n"
    "    stp x27, x28, [sp, #64]\n"
    "    stp x29, x30, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    mov x9, sp\n"
    "    str x9, [x0]\n"
    "    ldr x9, [x1]\n"
    "    mov sp, x9\n"
    "    ldp x19, x20, [sp, #0]\n"
    "    ldp x21, x22, [sp, #16]\n"
    "    ldp x23, x24, [sp, #32]\n"
    "    ldp x25, x26, [sp, #48]\n"
    "    ldp x27, x28, [sp, #64]\n"
    "    ldp x29, x30, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    add sp, sp, #160\n"
    "    ret\n"
    ".size cf__ctx_switch,.-cf__ctx_switch\n"
    ".globl cf__ctx_trampoline\n"
    ".hidden cf__ctx_trampoline\n"
    ".type cf__ctx_trampoline,%function\n"
    "cf__ctx_trampoline:\n"
    "    .cfi_startproc\n"
    "    .cfi_undefined x30\n"
    "    mov x0, x19\n"
    "    blr x20\n"
    "    brk #0\n"
    "    .cfi_endproc\n"
    ".size cf__ctx_trampoline,.-cf__ctx_trampoline\n");

void cf__ctx_make(cf__ctx *ctx, void *lo, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)lo + size) & ~(uintptr_t)15;
    uint64_t *regs = (uint64_t *)(top - 160);   /* the frame cf__ctx_switch pops; sp ends at top */
    memset(regs, 0, 160);
    regs[0] = (uint64_t)(uintptr_t)arg;         /* x19 */
    regs[1] = (uint64_t)(uintptr_t)entry;       /* x20 */
    regs[11] = (uint64_t)(uintptr_t)cf__ctx_trampoline;   /* x30: where ret goes */
    ctx->sp = regs;
}

#endif
#endif /* !CF__USE_UCONTEXT */
