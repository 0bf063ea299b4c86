/* executor.h (internal): the executor interface. Thread pools implement it now; process pools
 * and remote (MPI) executors will implement the same four operations, and everything generic
 * (cf_submit argument checks, cf_map, cf_executor_free) is written once against it. */
#ifndef CF__EXECUTOR_H
#define CF__EXECUTOR_H

#include "cfutures.h"
#include "../common/deadline.h"

typedef struct cf__executor_ops {
    /* A new future running fn(arg), or NULL + errno. d bounds a max_pending wait. */
    cf_future *(*submit)(cf_executor *ex, cf_fn fn, void *arg, const cf__deadline *d);
    void       (*shutdown)(cf_executor *ex, bool wait, bool cancel_futures);
    void       (*stats)(cf_executor *ex, cf_pool_stats *out);
    /* Drops the user's handle; called after shutdown(wait = true). */
    void       (*release)(cf_executor *ex);
} cf__executor_ops;

struct cf_executor {
    const cf__executor_ops *ops;
};

#endif
