/* SPDX-License-Identifier: MIT */
/* opts.h (internal): the reserved tail of the public options structs. Each options struct ends in
 * uint64_t cf__reserved[N], space later versions give to new fields without changing the struct's
 * size (docs/versioning.md). Every initializer users write (CF_*_OPTS_INIT, designated
 * initializers, memset) leaves it zero; a constructor refuses anything else with EINVAL, so no
 * program can depend on garbage there that a later version would read as a field. */
#ifndef CF_COMMON_OPTS_H
#define CF_COMMON_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF__RESERVED_ZERO(opts) cf__reserved_zero((opts).cf__reserved, \
    sizeof (opts).cf__reserved / sizeof (opts).cf__reserved[0])

static inline bool cf__reserved_zero(const uint64_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i])
            return false;
    return true;
}

#endif
