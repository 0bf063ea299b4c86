/* SPDX-License-Identifier: MIT */
/* fnref.h (internal): a function pointer as a word that means the same function in another
 * process running the same program, whatever its address-space layout: the loaded object that
 * holds the function (0: the program itself; else a 24-bit hash of the object's file name) and
 * the function's offset from that object's load bias (40 bits). The far side finds the object
 * among its own (dl_iterate_phdr) and accepts the offset only inside one of its executable
 * segments, so a word that names nothing of that process fails the task instead of jumping
 * anywhere. Both directions keep a small cache: a lookup walks every loaded object. */
#ifndef CF__FNREF_H
#define CF__FNREF_H

#include <stddef.h>
#include <stdint.h>

/* The word for fn, or 0 when fn is in no loaded object's executable segment (generated code). */
uint64_t cf__fnref_of(const void *fn);
/* The function a word names in this process, or NULL (no such object or segment). */
void    *cf__fnref_resolve(uint64_t word);
/* The program's GNU build ID, copied to id (at most cap bytes): its length, or 0 when the
 * program has none. */
size_t   cf__fnref_build_id(unsigned char *id, size_t cap);

#endif
