/* SPDX-License-Identifier: MIT */
/* fnref.c: function pointers as (object, offset) words (fnref.h).
 *
 * Design notes.
 * - dl_iterate_phdr lists the program first (an empty name), then every shared object with the
 *   name the loader opened it by; objects are keyed by the hash of that name's last component,
 *   so the same library found under another directory on another machine still matches.
 * - The offset is from the object's load bias (dlpi_addr), which is what changes between runs
 *   of a PIE or a shared library; segment addresses are p_vaddr + bias on both sides.
 * - Caches are per thread (the root's manager threads, a worker rank's serving thread), so no
 *   lock is needed. A function must stay loaded while its tasks run (dlclose would also let a
 *   cached word outlive its object). */
#include <link.h>
#include <stdbool.h>
#include <string.h>

#include "fnref.h"

#define OFF_BITS 40
#define OFF_MASK (((uint64_t)1 << OFF_BITS) - 1)
#define CACHE    64

/* FNV-1a of the name's last component, in 24 bits, never 0 (0 is the program). */
static uint64_t object_key(const char *name, bool first)
{
    if (first || !name || !*name)
        return 0;
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)base; *c; c++)
        h = (h ^ *c) * 16777619u;
    h &= 0xffffff;
    return h ? h : 1;
}

static bool in_exec_segment(const struct dl_phdr_info *info, uint64_t off)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && off >= ph->p_vaddr &&
            off - ph->p_vaddr < ph->p_memsz)
            return true;
    }
    return false;
}

typedef struct search {
    uintptr_t addr;      /* of: the address; resolve: the result */
    uint64_t  word;      /* of: the result; resolve: the word */
    bool      first;
} search;

static int find_word(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    search *s = arg;
    bool first = s->first;
    s->first = false;
    uint64_t off = (uint64_t)(s->addr - info->dlpi_addr);
    if (s->addr < info->dlpi_addr || off > OFF_MASK || !in_exec_segment(info, off))
        return 0;
    s->word = object_key(info->dlpi_name, first) << OFF_BITS | off;
    return 1;
}

static int find_addr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    search *s = arg;
    bool first = s->first;
    s->first = false;
    uint64_t off = s->word & OFF_MASK;
    if (object_key(info->dlpi_name, first) != s->word >> OFF_BITS || !in_exec_segment(info, off))
        return 0;
    s->addr = (uintptr_t)info->dlpi_addr + off;
    return 1;
}

typedef struct entry {
    uintptr_t addr;
    uint64_t  word;
} entry;
static _Thread_local entry by_addr[CACHE], by_word[CACHE];

static size_t slot(uint64_t v) { return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 58) % CACHE; }

uint64_t cf__fnref_of(const void *fn)
{
    uintptr_t a = (uintptr_t)fn;
    entry *e = &by_addr[slot(a)];
    if (a && e->addr == a)
        return e->word;
    search s = { .addr = a, .first = true };
    if (!a || !dl_iterate_phdr(find_word, &s))
        return 0;
    *e = (entry){ a, s.word };
    return s.word;
}

void *cf__fnref_resolve(uint64_t word)
{
    entry *e = &by_word[slot(word)];
    if (word && e->word == word)
        return (void *)e->addr;
    search s = { .word = word, .first = true };
    if (!word || !dl_iterate_phdr(find_addr, &s))
        return NULL;
    *e = (entry){ s.addr, word };
    return (void *)s.addr;
}

typedef struct build_id {
    unsigned char *id;
    size_t         cap, len;
} build_id;

static int find_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    build_id *b = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t left = ph->p_memsz;
        while (left >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) n;
            memcpy(&n, p, sizeof n);
            size_t name = (n.n_namesz + 3) & ~(size_t)3, desc = (n.n_descsz + 3) & ~(size_t)3;
            if (name > left - sizeof n || desc > left - sizeof n - name)
                break;
            if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 && !memcmp(p + sizeof n, "GNU", 4)) {
                b->len = n.n_descsz < b->cap ? n.n_descsz : b->cap;
                memcpy(b->id, p + sizeof n + name, b->len);
                return 1;
            }
            p += sizeof n + name + desc;
            left -= sizeof n + name + desc;
        }
    }
    return 1;                            /* the program is the first object: stop there */
}

size_t cf__fnref_build_id(unsigned char *id, size_t cap)
{
    build_id b = { id, cap, 0 };
    dl_iterate_phdr(find_build_id, &b);
    return b.len;
}
