/* SPDX-License-Identifier: MIT */
/* list.h: the library's one intrusive list (libuv's queue.h, the kernel's list_head): a circular
 * doubly-linked list whose nodes live inside the objects listed, found again with
 * cf__container_of. Insert and remove are O(1) and never allocate; a node knows whether it is
 * linked (an unlinked node points to itself), so "remove if still there" needs no flag.
 * Not thread-safe: whoever owns the list says which lock guards it. */
#ifndef CF__LIST_H
#define CF__LIST_H

#include <stdbool.h>
#include <stddef.h>

#define cf__container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

typedef struct cf__list {
    struct cf__list *next, *prev;
} cf__list;

/* A head, or a node that is in no list. */
static inline void cf__list_init(cf__list *l) { l->next = l->prev = l; }
static inline bool cf__list_empty(const cf__list *head) { return head->next == head; }
/* For a node: it is in some list (it was initialized or removed since). */
static inline bool cf__list_linked(const cf__list *n) { return n->next != n; }

static inline void cf__list_insert_before(cf__list *at, cf__list *n)
{
    n->next = at;
    n->prev = at->prev;
    at->prev->next = n;
    at->prev = n;
}

static inline void cf__list_push_back(cf__list *head, cf__list *n) { cf__list_insert_before(head, n); }
static inline void cf__list_push_front(cf__list *head, cf__list *n) { cf__list_insert_before(head->next, n); }

/* Unlinks n (no-op when it is in no list) and leaves it unlinked. */
static inline void cf__list_remove(cf__list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    cf__list_init(n);
}

static inline cf__list *cf__list_first(const cf__list *head) { return cf__list_empty(head) ? NULL : head->next; }

static inline cf__list *cf__list_pop_front(cf__list *head)
{
    cf__list *n = cf__list_first(head);
    if (n)
        cf__list_remove(n);
    return n;
}

/* Moves every node of from to the back of to; from is left empty. */
static inline void cf__list_splice(cf__list *to, cf__list *from)
{
    if (cf__list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    cf__list_init(from);
}

/* Walks head; the body may remove (only) the node it is at. */
#define cf__list_each(n, tmp, head) \
    for ((n) = (head)->next, (tmp) = (n)->next; (n) != (head); (n) = (tmp), (tmp) = (n)->next)

#endif
