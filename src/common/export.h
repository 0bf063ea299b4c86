/* SPDX-License-Identifier: MIT */
/* export.h (internal): CF__SHARED marks the internal functions libcfutures exports for
 * libcfutures_mpi, its companion library built from the same tree (the MPI executor lives
 * apart so that libcfutures never links MPI, yet runs on libcfutures' futures, task contexts and
 * wire format, which must be the same objects, not copies). These are not API: no stability,
 * no documentation outside the tree; the companion's pkg-config file and Debian package require
 * the exact version. Everything else internal stays hidden. */
#ifndef CF__EXPORT_H
#define CF__EXPORT_H

#define CF__SHARED __attribute__((visibility("default")))

#endif
