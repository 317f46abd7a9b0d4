// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "clock.h"
#include "pump.h"
#include "unix.h"

int ivshm_pump_open(struct ivshm_pump *p, const char *path, unsigned vectors, bool keep_fds)
{
	int err;

	*p = (struct ivshm_pump){ .sock = -1 };
	ivshm_proto_reader_init(&p->rd);
	err = ivshm_session_new(vectors, keep_fds, &p->sess);
	if (err)
		return err;
	/* Non-blocking from the start (SOCK_NONBLOCK): a read never waits for the server. */
	p->sock = ivshm_unix_connect(path);
	if (p->sock < 0) {
		err = p->sock;
		ivshm_pump_close(p);
		return err;
	}
	return 0;
}

void ivshm_pump_close(struct ivshm_pump *p)
{
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
	ivshm_proto_reader_reset(&p->rd);
	ivshm_session_free(p->sess);
	p->sess = NULL;
}

int ivshm_pump_next(struct ivshm_pump *p, struct ivshm_event *ev)
{
	int fd, ret;

	if (p->sock < 0 || !p->sess) {
		p->error = "the connection is closed";
		return -EPIPE;
	}
	p->refused = false;
	ret = ivshm_proto_read(&p->rd, p->sock, &p->value, &fd);
	if (ret == -EAGAIN)
		return 0;
	if (ret == 0) {
		p->error = "the server closed the connection";
		return -EPIPE;
	}
	if (ret < 0) {
		p->error = ret == -EPROTO ? "a malformed message" : "receiving failed";
		return ret;
	}
	p->with_fd = fd >= 0;
	ret = ivshm_session_feed(p->sess, p->value, fd, ev);
	if (ret) {
		p->error = ivshm_session_error(p->sess);
		p->refused = true;
		return ret;
	}
	return 1;
}

const char *ivshm_pump_error(const struct ivshm_pump *p)
{
	return p->error ? p->error : "no error";
}

int ivshm_pump_poll(const struct ivshm_pump *p, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = p->sock, .events = POLLIN };

	for (;;) {
		int64_t left = deadline_ms - ivshm_clock_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int ivshm_pump_setup(struct ivshm_pump *p, int64_t deadline_ms,
		     int (*fn)(void *arg, const struct ivshm_event *ev), void *arg)
{
	struct ivshm_event ev;
	int ret;

	while (!ivshm_session_ready(p->sess)) {
		ret = ivshm_pump_next(p, &ev);
		if (ret == -EPIPE)
			return -ECONNRESET;
		if (ret < 0)
			return ret;
		if (ret > 0) {
			ret = fn ? fn(arg, &ev) : 0;
			if (ret)
				return ret;
			continue;
		}
		ret = ivshm_pump_poll(p, deadline_ms);
		if (ret < 0)
			return ret;
		if (!ret)
			return -ETIMEDOUT;
	}
	return 0;
}
