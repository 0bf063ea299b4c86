/* SPDX-License-Identifier: MIT */
/** @file
 * The library's own error codes, beside the errno values it also returns. */
#ifndef CFUTURES_ERRORS_H
#define CFUTURES_ERRORS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Chosen far above every errno value, so a task may fail with any errno and still be told apart. */
enum { CF_EBROKEN = 0x10000,       /**< executor unusable (failed initializer, ...) */
       CF_EWORKER };               /**< the process running the task died (process pools) */

/** A static, human-readable text for a cfutures code or an errno value; never NULL.
 * Thread-safe (unlike strerror), never blocks. */
CF_EXTERN const char *cf_strerror(int err);
/** The symbolic name of a cfutures code or an errno value: "ETIMEDOUT", "CF_EWORKER",
 * "EAI_NONAME" (for CF_EAI_BASE - EAI_NONAME), "0" for 0, "UNKNOWN" for what is none of these.
 * Static text, never NULL; thread-safe. For logs and tests that should not depend on wording. */
CF_EXTERN const char *cf_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
