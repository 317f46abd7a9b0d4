// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libivshm as fuzz-link.c needs it: one channel whose records come from the
 * fuzz input (after a valid HELLO if asked), each in a buffer of exactly its size; what the proxy commits is
 * checked to be well-formed frames (a proxy never sends what it would refuse);
 * every seventh reservation finds the ring full. Nothing else does anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake-ivshm.h"
#include "frame.h"

#define MAX_SEND (128u * 1024 - 8)

struct ivshm_chan {
	int unused;
};

struct ivshm_chan fake_chan;
const uint8_t *fake_in;
size_t fake_in_len;

static char *peeked, *reserved;
/* A HELLO record, served first when fake_hello is set. */
static const struct {
	struct ivshm_proxy_hdr h;
	struct ivshm_proxy_hello hl;
} hello = {
	.h = { .type = IVSHM_PROXY_HELLO, .len = sizeof(struct ivshm_proxy_hello),
	       .arg = IVSHM_PROXY_MAJOR << 16 | IVSHM_PROXY_MINOR },
	.hl = { .max_conns = 16, .max_data = 4096 },
};
int fake_hello;
static size_t reserved_len;
static unsigned int reserves;

int ivshm_chan_peek(struct ivshm_chan *ch, const void **msg, size_t *len, int timeout_ms)
{
	size_t n;

	(void)ch;
	(void)timeout_ms;
	if (peeked)
		abort();	/* the proxy released what it peeked before the next peek */
	if (fake_hello) {
		fake_hello = 0;
		peeked = malloc(sizeof(hello));
		if (!peeked)
			abort();
		memcpy(peeked, &hello, sizeof(hello));
		*msg = peeked;
		*len = sizeof(hello);
		return 0;
	}
	if (fake_in_len < 2)
		return -EAGAIN;
	n = (size_t)fake_in[0] | (size_t)fake_in[1] << 8;
	fake_in += 2;
	fake_in_len -= 2;
	if (n > fake_in_len)
		n = fake_in_len;
	peeked = malloc(n ? n : 1);
	if (!peeked)
		abort();
	memcpy(peeked, fake_in, n);
	fake_in += n;
	fake_in_len -= n;
	*msg = peeked;
	*len = n;
	return 0;
}

int ivshm_chan_release(struct ivshm_chan *ch, size_t len)
{
	(void)ch;
	(void)len;
	free(peeked);
	peeked = NULL;
	return 0;
}

int ivshm_chan_reserve(struct ivshm_chan *ch, size_t len, void **buf, int timeout_ms)
{
	(void)ch;
	(void)timeout_ms;
	if (reserved || len > MAX_SEND)
		abort();
	if (++reserves % 7 == 0)
		return -EAGAIN;
	reserved = malloc(len);
	if (!reserved)
		abort();
	reserved_len = len;
	*buf = reserved;
	return 0;
}

int ivshm_chan_commit(struct ivshm_chan *ch, size_t len)
{
	struct frame f;
	size_t pos = 0;
	int rc;

	(void)ch;
	if (!reserved || len > reserved_len)
		abort();
	while ((rc = frame_next(reserved, len, &pos, &f)) == 1)
		if (frame_check(&f))
			abort();
	if (rc < 0 || pos != len)
		abort();
	free(reserved);
	reserved = NULL;
	return 0;
}

int ivshm_chan_get_info(const struct ivshm_chan *ch, struct ivshm_chan_info *info)
{
	(void)ch;
	memset(info, 0, sizeof(*info));
	info->peer = 1;
	info->type = IVSHM_CHAN_PACKET;
	info->tx_ring = info->rx_ring = 256 * 1024;
	info->max_send = info->max_recv = MAX_SEND;
	return 0;
}

int ivshm_chan_get_stats(const struct ivshm_chan *ch, struct ivshm_chan_stats *stats)
{
	(void)ch;
	memset(stats, 0, sizeof(*stats));
	return 0;
}

void ivshm_chan_close(struct ivshm_chan *ch)
{
	(void)ch;
	free(peeked);
	free(reserved);
	peeked = reserved = NULL;
}

int ivshm_chan_set_events(struct ivshm_chan *ch, uint32_t events, void *data)
{
	(void)ch, (void)events, (void)data;
	return 0;
}

int ivshm_chan_set_wait(struct ivshm_chan *ch, enum ivshm_wait_mode mode, unsigned int spin_us)
{
	(void)ch, (void)mode, (void)spin_us;
	return 0;
}

int ivshm_chan_batch_begin(struct ivshm_chan *ch)
{
	(void)ch;
	return 0;
}

int ivshm_chan_batch_end(struct ivshm_chan *ch)
{
	(void)ch;
	return 0;
}

int ivshm_poll(struct ivshm_dev *dev, struct ivshm_chan_event *evs, unsigned int max,
	       unsigned int *n)
{
	(void)dev, (void)evs, (void)max;
	*n = 0;
	return 0;
}

int ivshm_heartbeat(struct ivshm_dev *dev)
{
	(void)dev;
	return 0;
}

int ivshm_next_timeout(struct ivshm_dev *dev, int *ms)
{
	(void)dev;
	*ms = -1;
	return 0;
}

const char *ivshm_strerror(int err)
{
	return strerror(err < 0 ? -err : err);
}

/* Devices, discovery and channel set-up: link.c and device.c, which the harness does not use. */
int ivshm_open(const char *device, unsigned int flags, struct ivshm_dev **devp)
{
	(void)device, (void)flags, (void)devp;
	return -ENOSYS;
}

int ivshm_open_server(const char *socket, unsigned int vectors, unsigned int flags, int timeout_ms,
		      struct ivshm_dev **devp)
{
	(void)socket, (void)vectors, (void)flags, (void)timeout_ms, (void)devp;
	return -ENOSYS;
}

void ivshm_close(struct ivshm_dev *dev)
{
	(void)dev;
}

int ivshm_get_peer_id(const struct ivshm_dev *dev, unsigned int *id)
{
	(void)dev, (void)id;
	return -ENOSYS;
}

int ivshm_get_fd(const struct ivshm_dev *dev, int *fd)
{
	(void)dev, (void)fd;
	return -ENOSYS;
}

int ivshm_get_limits(const struct ivshm_dev *dev, struct ivshm_limits *lim)
{
	(void)dev, (void)lim;
	return -ENOSYS;
}

int ivshm_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user)
{
	(void)dev, (void)role, (void)vector, (void)user;
	return -ENOSYS;
}

int ivshm_listen(struct ivshm_dev *dev, uint32_t port, void *data)
{
	(void)dev, (void)port, (void)data;
	return -ENOSYS;
}

int ivshm_find_peer(struct ivshm_dev *dev, const char *role, int timeout_ms, struct ivshm_peer *peer)
{
	(void)dev, (void)role, (void)timeout_ms, (void)peer;
	return -ENOENT;
}

int ivshm_get_peer(struct ivshm_dev *dev, unsigned int id, struct ivshm_peer *peer)
{
	(void)dev, (void)id, (void)peer;
	return -ENOENT;
}

int ivshm_chan_open(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		    const struct ivshm_chan_opts *opts, int timeout_ms, struct ivshm_chan **chp)
{
	(void)dev, (void)peer, (void)port, (void)opts, (void)timeout_ms, (void)chp;
	return -ENOSYS;
}

int ivshm_chan_accept(struct ivshm_dev *dev, uint32_t port, const struct ivshm_chan_opts *opts,
		      int timeout_ms, struct ivshm_chan **chp)
{
	(void)dev, (void)port, (void)opts, (void)timeout_ms, (void)chp;
	return -ETIMEDOUT;
}
