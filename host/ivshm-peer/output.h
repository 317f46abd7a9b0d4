/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-peer's results: one line per event on stdout, in the format
 * `ivshm-peer --help` documents, flushed at once because tests and scripts
 * read it while the peer runs. Diagnostics go to stderr through msg.h.
 */
#ifndef IVSHM_PEER_OUTPUT_H
#define IVSHM_PEER_OUTPUT_H

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
