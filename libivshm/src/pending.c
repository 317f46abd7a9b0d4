// SPDX-License-Identifier: LGPL-2.1-or-later
/* Declared in the 1.2 header, not implemented yet: they say so. */
#include <errno.h>

#include "internal.h"

int ivshm_chan_peek(struct ivshm_chan *ch, const void **msg, size_t *len, int timeout_ms)
{
	(void)ch; (void)msg; (void)len; (void)timeout_ms;
	return -ENOSYS;
}

int ivshm_chan_release(struct ivshm_chan *ch, size_t len)
{
	(void)ch; (void)len;
	return -ENOSYS;
}

int ivshm_chan_send_batch(struct ivshm_chan *ch, const struct ivshm_msg *msgs, unsigned int n,
			  unsigned int *sent, int timeout_ms)
{
	(void)ch; (void)msgs; (void)n; (void)sent; (void)timeout_ms;
	return -ENOSYS;
}

int ivshm_chan_recv_batch(struct ivshm_chan *ch, struct ivshm_msg *msgs, unsigned int n,
			  unsigned int *received, int timeout_ms)
{
	(void)ch; (void)msgs; (void)n; (void)received; (void)timeout_ms;
	return -ENOSYS;
}

int ivshm_chan_batch_begin(struct ivshm_chan *ch)
{
	(void)ch;
	return -ENOSYS;
}

int ivshm_chan_batch_end(struct ivshm_chan *ch)
{
	(void)ch;
	return -ENOSYS;
}

int ivshm_chan_set_events(struct ivshm_chan *ch, uint32_t events, void *data)
{
	(void)ch; (void)events; (void)data;
	return -ENOSYS;
}

int ivshm_poll(struct ivshm_dev *dev, struct ivshm_chan_event *evs, unsigned int max,
	       unsigned int *n)
{
	(void)dev; (void)evs; (void)max; (void)n;
	return -ENOSYS;
}
