/* SPDX-License-Identifier: MIT */
/* lock.h (internal): what cf_condition needs of a cf_lock: the mutex inside. */
#ifndef CF__SYNC_LOCK_INTERNAL_H
#define CF__SYNC_LOCK_INTERNAL_H

#include "cfutures/sync.h"
#include "../wait/mutex.h"

cf__mutex *cf__lock_mutex(cf_lock *l);

#endif
