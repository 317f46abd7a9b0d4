// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <sys/epoll.h>

#include "clock.h"
#include "device.h"
#include "notify.h"

/* How long joining the server may take, and how often to try again once it is gone. */
#define OPEN_MS 5000
#define RETRY_MS 1000

/* Published for the first time: systemd (Type=notify) and the log hear it once. */
static void ready(struct proxy *px)
{
	const struct proxy_config *cfg = px->cfg;
	char what[160], status[200];
	unsigned int i, passed = 0;
	int n;

	if (px->ready)
		return;
	px->ready = 1;
	for (i = 0; i < cfg->n_imports; i++)
		passed += px->listeners[i].inherited;
	n = snprintf(what, sizeof(what), "%s: peer %u, %u exports, %u imports", cfg->role,
		     px->self_id, cfg->n_exports, cfg->n_imports);
	if (passed && n > 0 && (size_t)n < sizeof(what))
		snprintf(what + n, sizeof(what) - (size_t)n, " (%u on sockets from systemd)", passed);
	snprintf(status, sizeof(status), "READY=1\nSTATUS=%s", what);
	(void)proxy_notify(status);
	proxy_log(LOG_NOTICE, "ready: %s", what);
}

static int publish(struct proxy *px)
{
	int err = ivshm_publish(px->dev, px->cfg->role, px->cfg->vector, 0);

	if (err) {
		proxy_log(LOG_ERR, "publishing as %s: %s", px->cfg->role, ivshm_strerror(err));
		return err;
	}
	/* Requests for links come as ivshm_poll() events. */
	err = ivshm_listen(px->dev, IVSHM_PROXY_PORT, NULL);
	if (err) {
		proxy_log(LOG_ERR, "listening for links: %s", ivshm_strerror(err));
		return err;
	}
	px->published = 1;
	return 0;
}

int device_open(struct proxy *px)
{
	const struct proxy_config *cfg = px->cfg;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &px->dev_w };
	const char *what = cfg->server[0] ? cfg->server : cfg->device[0] ? cfg->device : "uio";
	int err;

	px->dev_w.kind = W_DEVICE;
	err = cfg->server[0] ? ivshm_open_server(cfg->server, cfg->vectors, 0, OPEN_MS, &px->dev) :
			       ivshm_open(cfg->device[0] ? cfg->device : NULL, 0, &px->dev);
	if (err) {
		/* Trying again every second: the same reason is worth one line. */
		proxy_log(err == px->open_err ? LOG_DEBUG : LOG_ERR, "%s: %s", what, ivshm_strerror(err));
		px->open_err = err;
		px->dev = NULL;
		return err;
	}
	px->open_err = 0;
	err = ivshm_get_peer_id(px->dev, &px->self_id);
	if (!err)
		err = ivshm_get_fd(px->dev, &px->dev_fd);
	if (err) {
		proxy_log(LOG_ERR, "%s: no doorbells (ivshmem-doorbell is needed): %s", what,
			  ivshm_strerror(err));
		goto fail;
	}
	if (epoll_ctl(px->ep, EPOLL_CTL_ADD, px->dev_fd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	err = publish(px);
	if (err)
		goto fail;
	proxy_log(LOG_INFO, "%s: peer %u, published as %s", what, px->self_id, cfg->role);
	ready(px);
	return 0;
fail:
	device_close(px);
	return err;
}

/*
 * What a device or a server that is not there yet says: no device bound (yet), no
 * such file (a udev link, a socket), nobody listening, udev has not given the node
 * its group yet.
 */
static int not_yet(int err)
{
	return err == -ENODEV || err == -ENOENT || err == -ECONNREFUSED || err == -EACCES;
}

int device_start(struct proxy *px)
{
	char status[400];
	int err = device_open(px);

	if (!err || !not_yet(err))
		return err;
	snprintf(status, sizeof(status), "STATUS=waiting for %s: %s",
		 px->cfg->server[0] ? px->cfg->server : px->cfg->device[0] ? px->cfg->device :
		 "a uio_ivshmem device", ivshm_strerror(err));
	(void)proxy_notify(status);
	proxy_log(LOG_WARNING, "%s; trying again every %d ms", status + 7, RETRY_MS);
	px->retry_ms = ivshm_clock_ms() + RETRY_MS;
	return 0;
}

void device_close(struct proxy *px)
{
	links_free_all(px, "the proxy stops using the device");
	px->published = 0;
	/* ivshm_close() closes the fd, which leaves the epoll set with it. */
	ivshm_close(px->dev);
	px->dev = NULL;
}

void device_error(struct proxy *px, int err)
{
	if (err == -ENOTCONN) {
		proxy_log(LOG_WARNING, "this peer lost its directory slot; publishing again");
		links_free_all(px, "this peer lost its slot");
		px->published = 0;
		if (publish(px))
			px->retry_ms = ivshm_clock_ms() + RETRY_MS;
		return;
	}
	proxy_log(LOG_ERR, "the device failed: %s; opening it again", ivshm_strerror(err));
	device_close(px);
	px->retry_ms = ivshm_clock_ms() + RETRY_MS;
}

void device_retry(struct proxy *px, int64_t now)
{
	if (px->published || now < px->retry_ms)
		return;
	if (px->dev ? publish(px) : device_open(px))
		px->retry_ms = now + RETRY_MS;
}
