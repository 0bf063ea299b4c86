/* SPDX-License-Identifier: MIT */
/* fiber_san.h (internal): telling the sanitizers that the stack changed under them.
 *
 * AddressSanitizer tracks the current stack's bounds (and a fake stack per fiber for
 * use-after-return): before every switch, start_switch names the stack being entered; right after
 * it, finish_switch (run on the new stack) completes the switch and reports the stack that was
 * left. A coroutine leaving for good passes NULL so its fake stack is freed.
 * ThreadSanitizer keeps a shadow call stack and a clock per fiber: each coroutine gets a fiber,
 * and every switch is announced with __tsan_switch_to_fiber (which also orders the two fibers:
 * they run one after the other on one thread). Without these, both sanitizers report nonsense. */
#ifndef CF__FIBER_SAN_H
#define CF__FIBER_SAN_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define CF__ASAN_FIBERS 1
static inline void cf__san_start(void **fake, const void *bottom, size_t size)
{
    __sanitizer_start_switch_fiber(fake, bottom, size);
}
static inline void cf__san_finish(void *fake, const void **bottom_old, size_t *size_old)
{
    __sanitizer_finish_switch_fiber(fake, bottom_old, size_old);
}
#else
static inline void cf__san_start(void **fake, const void *bottom, size_t size)
{
    (void)fake, (void)bottom, (void)size;
}
static inline void cf__san_finish(void *fake, const void **bottom_old, size_t *size_old)
{
    (void)fake, (void)bottom_old, (void)size_old;
}
#endif

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
static inline void *cf__tsan_current(void) { return __tsan_get_current_fiber(); }
static inline void *cf__tsan_create(void) { return __tsan_create_fiber(0); }
static inline void  cf__tsan_destroy(void *f) { __tsan_destroy_fiber(f); }
static inline void  cf__tsan_switch(void *f) { __tsan_switch_to_fiber(f, 0); }
#else
static inline void *cf__tsan_current(void) { return NULL; }
static inline void *cf__tsan_create(void) { return NULL; }
static inline void  cf__tsan_destroy(void *f) { (void)f; }
static inline void  cf__tsan_switch(void *f) { (void)f; }
#endif

#endif
