/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An intrusive circular doubly linked list, as the kernel's: O(1) removal from anywhere. */
#ifndef PROXY_LIST_H
#define PROXY_LIST_H

#include <stddef.h>

struct list {
	struct list *next, *prev;
};

#define list_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list *l)
{
	l->next = l->prev = l;
}

static inline int list_empty(const struct list *l)
{
	return l->next == l;
}

/* Whether @n is on some list (list_del() and list_init() leave it off). */
static inline int list_linked(const struct list *n)
{
	return n->next != n;
}

static inline void list_add_tail(struct list *head, struct list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
