/* SPDX-License-Identifier: MIT */
/** @file
 * What every public header needs: export macro, timeouts, C++ guards.
 * Conventions for the whole API:
 *  - errors are returned as 0 or a positive errno value (pthreads style); constructors return
 *    NULL and set errno;
 *  - every blocking call takes a timeout in seconds: negative (CF_FOREVER) waits forever, 0 polls,
 *    NaN is EINVAL;
 *  - output pointers may be NULL when the caller does not want the output. */
#ifndef CFUTURES_COMMON_H
#define CFUTURES_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/** Marks a public function: exported from the shared library (everything else is hidden). */
#if defined(__GNUC__)
#define CF_EXTERN __attribute__((visibility("default")))
#else
#define CF_EXTERN
#endif

/** Lets the compiler check a printf-style format: argument f is the format, a the first value. */
#if defined(__GNUC__)
#define CF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CF_PRINTF(f, a)
#endif

/* An initializer that zeroes a whole struct, warning-free in C (`{ 0 }`) and C++ (`{}`, which
 * -Wmissing-field-initializers accepts there): what the CF_*_OPTS_INIT macros expand to. */
#ifdef __cplusplus
#define CF__ZERO_INIT {}
#else
#define CF__ZERO_INIT { 0 }
#endif

/** A destructor for a value handed to cfutures (a task's argument or result, a queue's item). */
typedef void (*cf_free_fn)(void *p);

#define CF_FOREVER (-1.0)          /**< timeouts are seconds; negative = forever, 0 = poll */

#endif
