/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The channel calls of the data path: zero-copy receive (ivshm_chan_peek and
 * _release), batches (ivshm_chan_batch_begin and _end) and readiness
 * (ivshm_poll). libivshm 1.2 declares them but answers -ENOSYS until they land;
 * until then each has a stand-in here (a copy, no batch, a look at every
 * link), chosen at the first -ENOSYS. Nothing else in the proxy knows.
 */
#ifndef PROXY_CHANIO_H
#define PROXY_CHANIO_H

#include <stddef.h>

struct link;
struct proxy;

/* The next record of @l's channel, in place (or in the stand-in's copy); -EAGAIN when none. */
int chanio_peek(struct link *l, const char **rec, size_t *len);
/* Consume the record chanio_peek() returned. */
int chanio_release(struct link *l, size_t len);
void chanio_batch_begin(struct link *l);
int chanio_batch_end(struct link *l);
/* Register @l's channel for readiness (IN, and OUT while it waits for room). */
void chanio_watch(struct link *l);
void chanio_forget(struct link *l);

/*
 * The device fd was readable or its timeout passed: consume the interrupts
 * and beat the heartbeat. Returns 0, or the device's error (-ENOLINK,
 * -ENOTCONN: this peer lost its slot).
 */
int chanio_poll(struct proxy *px);

/*
 * Before the loop sleeps: ask every link's peer to ring when there is
 * something to read or room to write. Returns 1 when something is there
 * already (do not sleep).
 */
int chanio_arm(struct proxy *px);

/* While the loop is busy, channel calls that find nothing ask for no doorbell. */
void chanio_busy(struct proxy *px, int busy);

#endif
