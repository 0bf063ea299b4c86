/* SPDX-License-Identifier: MIT */
/** @file
 * The umbrella header. Include this one; the pieces live in include/cfutures/. */
#ifndef CFUTURES_H
#define CFUTURES_H

#include "cfutures/common.h"
#include "cfutures/version.h"
#include "cfutures/errors.h"
#include "cfutures/future.h"
#include "cfutures/executor.h"
#include "cfutures/queue.h"
#include "cfutures/pipe.h"
#include "cfutures/loop.h"
#include "cfutures/sync.h"
#include "cfutures/io.h"

#endif
