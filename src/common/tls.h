/* SPDX-License-Identifier: MIT */
/* tls.h: thread-local storage for the library's hot per-thread state (caches, the running task).
 * The initial-exec model turns each access into one %fs-relative load instead of a call to
 * __tls_get_addr (the default for a shared library). It costs a few bytes of the static TLS
 * reserve, which glibc keeps for this, so dlopen() of libcfutures still works. */
#ifndef CF__TLS_H
#define CF__TLS_H

#if defined(__GNUC__)
#define CF__TLS _Thread_local __attribute__((tls_model("initial-exec")))
#else
#define CF__TLS _Thread_local
#endif

#endif
