/* errors.c: cf_strerror, thread-safe texts for our codes and for errno values. */
#include <netdb.h>
#include <string.h>

#include "cfutures/errors.h"
#include "cfutures/io.h"

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
    if (err > CF_EAI_BASE && err < CF_EAI_BASE + 1024)
        return gai_strerror(CF_EAI_BASE - err);
    /* strerrordesc_np (glibc >= 2.32) returns static text, unlike strerror, which may format into
     * a shared buffer for unknown values. */
    const char *s = strerrordesc_np(err);
    return s ? s : "Unknown error";
}
