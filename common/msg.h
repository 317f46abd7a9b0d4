/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Messages of the command-line programs on stderr, one line each, prefixed
 * with the program's name: "shm-client: error: no server found". Libraries
 * never print; programs do, through this.
 */
#ifndef IVSHM_COMMON_MSG_H
#define IVSHM_COMMON_MSG_H

/* The program name every message starts with; line-buffers stdout too, so
 * interleaved stdout and stderr lines keep their order. */
void ivshm_msg_init(const char *prog);

/* The name given to ivshm_msg_init(), "ivshm" before. */
const char *ivshm_msg_prog(void);

/* "PROG: error: ...", "PROG: warning: ...", "PROG: ..." on stderr. */
void ivshm_msg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ivshm_msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ivshm_msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* IVSHM_COMMON_MSG_H */
