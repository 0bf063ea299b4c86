/* SPDX-License-Identifier: MIT */
/* executor.c: the public executor entry points, dispatching through the vtable. Argument checks
 * live here so that every executor rejects bad input the same way. */
#include <errno.h>
#include <string.h>

#include "../future/future.h"
#include "executor.h"

CF_EXTERN cf_future *cf_submit_timeout(cf_executor *ex, cf_fn fn, void *arg, double timeout)
{
    cf__deadline d;
    if (!ex || !fn || cf__wait_deadline(&d, timeout)) {
        errno = EINVAL;
        return NULL;
    }
    return ex->ops->submit(ex, fn, arg, CF__KIND_CALL, &d);
}

CF_EXTERN cf_future *cf_submit(cf_executor *ex, cf_fn fn, void *arg)
{
    return cf_submit_timeout(ex, fn, arg, CF_FOREVER);
}

CF_EXTERN void cf_executor_shutdown(cf_executor *ex, bool wait, bool cancel_futures)
{
    if (ex)
        ex->ops->shutdown(ex, wait, cancel_futures);
}

CF_EXTERN void cf_executor_free(cf_executor *ex)
{
    if (!ex)
        return;
    ex->ops->shutdown(ex, true, false);
    ex->ops->release(ex);
}

CF_EXTERN void cf_executor_terminate(cf_executor *ex)
{
    if (ex)
        ex->ops->terminate(ex);
}

CF_EXTERN int cf_executor_stats(cf_executor *ex, cf_pool_stats *out)
{
    if (!ex || !out)
        return EINVAL;
    memset(out, 0, sizeof *out);
    ex->ops->stats(ex, out);
    return 0;
}
