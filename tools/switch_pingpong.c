/* SPDX-License-Identifier: MIT */
/* switch_pingpong.c: a self-check of the hand-written context switch, for porting (tools/test.sh
 * aarch64 runs it under qemu): two contexts ping-pong a million times, each keeping a callee-saved
 * floating-point value in a local across the switches; prints "switch ok" or fails. */
#include <stdio.h>
#include <stdlib.h>

#include "loop/switch.h"

static cf__ctx main_ctx, a, b;
static long left = 1000000, hits[2];
static double scale = 1.5;

static void body(void *arg)
{
    cf__ctx *self = arg, *other = self == &a ? &b : &a;
    int me = self == &b;
    double mine = scale * (me + 2);   /* lives in a callee-saved register or on this stack */
    while (left > 0) {
        left--;
        hits[me]++;
        cf__ctx_switch(self, other);
        if (mine != scale * (me + 2)) {
            fprintf(stderr, "context %d lost its value across a switch\n", me);
            exit(1);
        }
    }
    cf__ctx_switch(self, &main_ctx);
}

int main(void)
{
    static char sa[65536] __attribute__((aligned(16))), sb[65536] __attribute__((aligned(16)));
    cf__ctx_make(&a, sa, sizeof sa, body, &a);
    cf__ctx_make(&b, sb, sizeof sb, body, &b);
    cf__ctx_switch(&main_ctx, &a);
    if (left != 0 || hits[0] != 500000 || hits[1] != 500000) {
        fprintf(stderr, "switches lost: left %ld, %ld + %ld\n", left, hits[0], hits[1]);
        return 1;
    }
    printf("switch ok: 1000000 switches between two contexts\n");
    return 0;
}
