/* SPDX-License-Identifier: MIT */
/** @file
 * The library's version, at compile time (macros) and at run time
 * (cf_version), so a program can tell which cfutures it was built against and which one it runs
 * with. The CMake project version is read from this file: it is the one place the number lives. */
#ifndef CFUTURES_VERSION_H
#define CFUTURES_VERSION_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: changes when a release breaks the API (while 0, a minor release may). */
#define CF_VERSION_MAJOR 0
/** Minor version: new functionality that keeps the API and the ABI. */
#define CF_VERSION_MINOR 1
/** Patch version: fixes only. */
#define CF_VERSION_PATCH 0
/** The version as one comparable number: 0xMMmmpp (major, minor, patch, a byte each). */
#define CF_VERSION_HEX ((CF_VERSION_MAJOR << 16) | (CF_VERSION_MINOR << 8) | CF_VERSION_PATCH)
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define CF_VERSION_STRING "0.1.0"
/** True when the headers are at least version major.minor.patch: `#if CF_VERSION_CHECK(0, 2, 0)`. */
#define CF_VERSION_CHECK(major, minor, patch) \
    (CF_VERSION_HEX >= (((major) << 16) | ((minor) << 8) | (patch)))

/** The version of the library the program runs with, as CF_VERSION_HEX encodes it: compare it
 * with CF_VERSION_HEX to detect a shared library older than the headers. */
CF_EXTERN unsigned cf_version(void);
/** The version of the library the program runs with, as "MAJOR.MINOR.PATCH" (static text). */
CF_EXTERN const char *cf_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
