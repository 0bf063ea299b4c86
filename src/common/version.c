/* SPDX-License-Identifier: MIT */
/* version.c: cf_version and cf_version_string, the run-time side of cfutures/version.h. */
#include "cfutures/version.h"

CF_EXTERN unsigned cf_version(void)
{
    return CF_VERSION_HEX;
}

CF_EXTERN const char *cf_version_string(void)
{
    return CF_VERSION_STRING;
}
