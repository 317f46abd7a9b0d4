/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The socket addresses of services and listeners, written
 *   tcp:IPV4:PORT    tcp:[IPV6]:PORT     (numeric only: no resolver in a static guest binary)
 *   unix:PATH        unix:@NAME          (AF_UNIX stream; @ for the abstract namespace)
 *   seqpacket:PATH   seqpacket:@NAME     (AF_UNIX SOCK_SEQPACKET: message boundaries kept)
 * A listener on TCP port 0 gets one from the kernel (the status says which).
 */
#ifndef PROXY_ADDR_H
#define PROXY_ADDR_H

#include <sys/socket.h>

enum addr_kind {
	ADDR_TCP = 1,
	ADDR_UNIX = 2,
	ADDR_SEQPACKET = 3,
};

struct proxy_addr {
	enum addr_kind kind;
	socklen_t len;
	struct sockaddr_storage sa;
	char text[128];		/* as written, normalized */
};

/* Parse @s into @a. Returns 0, or -EINVAL with *@why saying what is wrong. */
int addr_parse(const char *s, struct proxy_addr *a, const char **why);

/* Whether @a is a TCP address with port 0 (a listener gets a port from the kernel). */
int addr_any_port(const struct proxy_addr *a);

/* The socket type of @a: SOCK_STREAM or SOCK_SEQPACKET. */
int addr_socktype(const struct proxy_addr *a);

/*
 * A non-blocking, close-on-exec socket listening on @a. A Unix socket left
 * behind by a process that is gone (connecting is refused) is replaced; one
 * that answers is not. Returns the fd, or -errno (-EADDRINUSE: someone listens).
 */
int addr_listen(const struct proxy_addr *a);

/*
 * A non-blocking, close-on-exec socket connecting to @a. Returns the fd with
 * *@pending 1 while a TCP connect is in progress (it becomes writable once it
 * completes), 0 once connected; or -errno (-EAGAIN: a Unix listener's backlog
 * is full, try again).
 */
int addr_connect(const struct proxy_addr *a, int *pending);

/* The address @fd is bound to, written as addr_parse() reads it (a port 0 listener's port). */
void addr_local(int fd, const struct proxy_addr *a, char *buf, size_t size);

/* Remove a Unix listener's file (not for abstract names); at exit. */
void addr_unlink(const struct proxy_addr *a);

/* Close @fd so that a TCP peer sees a reset, not an orderly end. */
void addr_close_reset(int fd);

#endif
