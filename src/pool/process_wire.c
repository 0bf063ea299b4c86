/* SPDX-License-Identifier: MIT */
/* process_wire.c: encoding and checked decoding of the process pool's messages (process_wire.h).
 * Every size is compared with what remains of the message before it is added to an offset, so
 * no sum can wrap whatever the header says. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../future/future.h"
#include "../ipc/bytering.h"
#include "process_wire.h"

size_t cf__wire_task_size(size_t plen) { return sizeof(cf__ptask) + cf__pad8(plen); }

void cf__wire_put_task(unsigned char *o, const cf__ptask *t, const void *payload, size_t plen)
{
    memcpy(o, t, sizeof *t);
    if (plen && payload != o + sizeof *t)        /* a caller may have written it in place */
        memcpy(o + sizeof *t, payload, plen);
    memset(o + sizeof *t + plen, 0, cf__pad8(plen) - plen);
}

/* n bytes (padded to 8) fit in what is left after off. */
static bool fits(size_t len, size_t off, uint64_t n)
{
    return off <= len && n <= len - off && cf__pad8(n) <= len - off;
}

int cf__wire_next_task(const unsigned char *m, size_t len, size_t *off, cf__ptask *t,
                       const unsigned char **payload)
{
    if (*off == len)
        return 0;
    if (!fits(len, *off, sizeof *t))
        return EPROTO;
    memcpy(t, m + *off, sizeof *t);
    size_t at = *off + sizeof *t;
    uint64_t plen;
    switch (t->kind) {
    case CF__KIND_CALL:
    case CF__PT_EXIT:
    case CF__PT_CANCEL: plen = 0; break;
    case CF__KIND_BYTES: plen = t->arg; break;
    case CF__KIND_CHUNK: plen = (uint64_t)t->n * 8; break;
    default: return EPROTO;
    }
    if (!fits(len, at, plen))
        return EPROTO;
    *payload = m + at;
    *off = at + cf__pad8(plen);
    return 1;
}

int cf__wire_reserve(cf__wbuf *o, size_t n)
{
    if (o->len + n <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < o->len + n)
        cap *= 2;
    unsigned char *b = realloc(o->b, cap);
    if (!b)
        return ENOMEM;
    o->b = b;
    o->cap = cap;
    return 0;
}

static int put(cf__wbuf *o, const void *src, size_t n)
{
    size_t need = o->len + cf__pad8(n);
    if (cf__wire_reserve(o, cf__pad8(n)))
        return ENOMEM;
    if (n)
        memcpy(o->b + o->len, src, n);
    memset(o->b + o->len + n, 0, need - o->len - n);
    o->len = need;
    return 0;
}

int cf__wire_put_result(cf__wbuf *o, uint64_t seq, int type, int err, const char *msg,
                        uint64_t value, const void *payload, size_t plen)
{
    cf__presult r = { .seq = seq, .type = (uint32_t)type, .err = err, .value = value };
    size_t ml = err && msg ? strlen(msg) : 0;
    r.msglen = (uint32_t)(ml > CF__WIRE_MSG_MAX ? CF__WIRE_MSG_MAX : ml);
    if (put(o, &r, sizeof r) || (r.msglen && put(o, msg, r.msglen)) || (plen && put(o, payload, plen)))
        return ENOMEM;
    return 0;
}

int cf__wire_get_result(const unsigned char *b, size_t len, cf__wresult *out)
{
    cf__presult r;
    if (len < sizeof r)
        return EPROTO;
    memcpy(&r, b, sizeof r);
    if (r.type < CF__PR_RESULT || r.type > CF__PR_SKIPPED || r.err < 0 ||
        r.msglen > CF__WIRE_MSG_MAX || r.pad != 0 || !fits(len, sizeof r, r.msglen))
        return EPROTO;
    size_t off = sizeof r + cf__pad8(r.msglen);
    *out = (cf__wresult){ .seq = r.seq, .value = r.value, .type = (int)r.type, .err = r.err,
                          .msg = (const char *)b + sizeof r, .msglen = r.msglen,
                          .payload = b + off, .plen = len - off };
    return 0;
}

bool cf__wire_result_fits(const cf__wresult *r, uint32_t kind, size_t count)
{
    switch (kind) {
    case CF__KIND_CALL:
        return r->plen == 0;
    case CF__KIND_BYTES:                /* exactly the bytes announced, padded */
        return r->value <= r->plen && r->plen - r->value < 8 && (r->value || r->plen == 0);
    case CF__KIND_CHUNK:
        return r->value <= count && r->plen == 8 * r->value;
    default:
        return false;
    }
}

int cf__wire_next_record(const unsigned char *m, size_t len, size_t *off,
                         const unsigned char **rec, size_t *rlen)
{
    if (*off == len)
        return 0;
    uint64_t n;
    if (*off > len || len - *off < sizeof n)
        return EPROTO;
    memcpy(&n, m + *off, sizeof n);
    size_t at = *off + sizeof n;
    if (n > len - at || n % 8)
        return EPROTO;
    *rec = m + at;
    *rlen = (size_t)n;
    *off = at + (size_t)n;
    return 1;
}
