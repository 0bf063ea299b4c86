/* SPDX-License-Identifier: MIT */
/* errors.c: cf_strerror and cf_errname, thread-safe texts and names for our codes and for errno
 * values. glibc's strerrordesc_np/strerrorname_np (2.32) give both as static strings; elsewhere a
 * table of the values cfutures itself returns stands in for the names, and strerror_r into
 * per-thread storage for the texts. */
#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "cfutures/errors.h"
#include "cfutures/io.h"

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define CF__HAVE_STRERRORDESC 1
#endif

static bool is_eai(int err)
{
    return err > CF_EAI_BASE && err < CF_EAI_BASE + 1024;
}

CF_EXTERN const char *cf_strerror(int err)
{
    switch (err) {
    case 0:          return "Success";
    case CF_EBROKEN: return "Executor is broken (the future's message says why)";
    case CF_EWORKER: return "The worker process running the task died";
    default:         break;
    }
    /* getaddrinfo's codes, folded above errno as CF_EAI_BASE - EAI_x (io.h); gai_strerror's
     * texts are static. */
    if (is_eai(err))
        return gai_strerror(CF_EAI_BASE - err);
    if (err < 0 || err >= CF_EBROKEN)
        return "Unknown error";
#ifdef CF__HAVE_STRERRORDESC
    /* Static text, unlike strerror, which may format into a shared buffer for unknown values. */
    const char *s = strerrordesc_np(err);
    return s ? s : "Unknown error";
#else
    static _Thread_local char buf[128];
    const char *s = strerror_r(err, buf, sizeof buf);   /* GNU form: returns the text */
    return s && *s ? s : "Unknown error";
#endif
}

#define NAME(e) case e: return #e
CF_EXTERN const char *cf_errname(int err)
{
    switch (err) {
    case 0: return "0";
    NAME(CF_EBROKEN);
    NAME(CF_EWORKER);
    default: break;
    }
    if (is_eai(err)) {
        switch (CF_EAI_BASE - err) {
        NAME(EAI_AGAIN); NAME(EAI_BADFLAGS); NAME(EAI_FAIL); NAME(EAI_FAMILY);
        NAME(EAI_NONAME); NAME(EAI_SERVICE); NAME(EAI_SOCKTYPE);
#ifdef EAI_NODATA
        NAME(EAI_NODATA);
#endif
#ifdef EAI_ADDRFAMILY
        NAME(EAI_ADDRFAMILY);
#endif
        default: return "EAI_UNKNOWN";
        }
    }
    if (err < 0 || err >= CF_EBROKEN)
        return "UNKNOWN";
#ifdef CF__HAVE_STRERRORDESC
    const char *s = strerrorname_np(err);
    if (s)
        return s;
#endif
    switch (err) {   /* what cfutures returns, for C libraries without strerrorname_np */
    NAME(EPERM); NAME(ENOENT); NAME(ESRCH); NAME(EINTR); NAME(EIO); NAME(E2BIG); NAME(EBADF);
    NAME(ECHILD); NAME(EAGAIN); NAME(ENOMEM); NAME(EACCES); NAME(EFAULT); NAME(EBUSY);
    NAME(EEXIST); NAME(EINVAL); NAME(ENFILE); NAME(EMFILE); NAME(ENOSPC); NAME(EPIPE);
    NAME(ERANGE); NAME(EDEADLK); NAME(ENAMETOOLONG); NAME(ENOSYS); NAME(EPROTO); NAME(EMSGSIZE);
    NAME(EOVERFLOW); NAME(ENOTSOCK); NAME(EADDRINUSE); NAME(EADDRNOTAVAIL); NAME(ENETUNREACH);
    NAME(ECONNABORTED); NAME(ECONNRESET); NAME(ENOBUFS); NAME(EISCONN); NAME(ENOTCONN);
    NAME(ESHUTDOWN); NAME(ETIMEDOUT); NAME(ECONNREFUSED); NAME(EHOSTUNREACH); NAME(EALREADY);
    NAME(EINPROGRESS); NAME(ECANCELED); NAME(EOWNERDEAD); NAME(ENOTRECOVERABLE);
    default: return "UNKNOWN";
    }
}
#undef NAME
