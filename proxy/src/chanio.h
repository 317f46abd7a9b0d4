/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Readiness of the links' channels for the event loop, through ivshm_poll():
 * which links have records to read or room again, and, before the loop
 * sleeps, every peer asked to ring when there is something. While the loop
 * is busy it looks at every link itself, and channels ask for no doorbell.
 */
#ifndef PROXY_CHANIO_H
#define PROXY_CHANIO_H

struct link;
struct proxy;

/* What ivshm_poll() reports for @l: IN always, OUT while it waits for room. */
void chanio_watch(struct link *l);

/*
 * The device fd was readable or a timeout of the library passed: consume the
 * interrupts, beat the heartbeat, mark the links that can go on (rx_more,
 * tx_blocked cleared). Returns 0 or the device's error (-ENOLINK, -ENODEV).
 */
int chanio_poll(struct proxy *px);

/*
 * Before the loop sleeps: channels in interrupt mode, every peer asked to ring.
 * Returns 1 when a link can go on already (do not sleep), 0, or an error.
 */
int chanio_arm(struct proxy *px);

/* Back from sleeping: channels that find nothing ask for no doorbell (poll mode). */
void chanio_busy(struct proxy *px);

#endif
