/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors a user can trust: libivshm returns an errno code (libc's text names
 * the kind of failure) and says which check refused, with the values it saw,
 * through its log function. The programs print both on one line:
 *   PROG: error: CONTEXT: <libc text> (<libivshm's detail>)
 */
#ifndef IVSHM_WHY_H
#define IVSHM_WHY_H

/*
 * Route libivshm's log lines here: the last one is kept for app_err(); with
 * IVSHM_DEBUG set in the environment every line also goes to stderr, as
 * libivshm's default does. Call once, before the first libivshm call.
 */
void app_log_init(void);

/*
 * "PROG: error: CONTEXT: TEXT (DETAIL)" on stderr: CONTEXT from @fmt, TEXT
 * ivshm_strerror(@err), DETAIL the last line libivshm logged since the
 * previous app_err() (no parenthesis when it logged none). @err: -errno.
 */
void app_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* IVSHM_WHY_H */
