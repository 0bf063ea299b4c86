/* lock.h (internal): what cf_condition needs of a cf_lock beyond its public calls. */
#ifndef CF__SYNC_LOCK_INTERNAL_H
#define CF__SYNC_LOCK_INTERNAL_H

#include <stdbool.h>

#include "cfutures/sync.h"
#include "../wait/parker.h"

/* Whether p holds l. */
bool cf__sync_lock_held(cf_lock *l, cf__parker *p);
/* Releases l, which p holds (cf_lock_release without its checks). */
void cf__sync_lock_release(cf_lock *l, cf__parker *p);
/* Takes l for p, waiting as long as it takes: no timeout, scope or cancel cuts it. */
void cf__sync_lock_take(cf_lock *l, cf__parker *p);

#endif
