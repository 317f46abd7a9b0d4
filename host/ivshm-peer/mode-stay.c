// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --stay: after the actions, stay connected, printing joins, leaves and own
 * vector firings, and run commands from stdin until EOF, `quit` or a signal.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "modes.h"
#include "number.h"
#include "output.h"

struct linebuf {
	char buf[4096];
	size_t len;
};

/* Next space-separated word of *s, or NULL; *s moves past it. */
static char *word(char **s)
{
	char *w = *s + strspn(*s, " ");
	size_t n = strcspn(w, " ");

	if (!n)
		return NULL;
	*s = w + n + (w[n] ? 1 : 0);
	w[n] = '\0';
	return w;
}

/* One stdin command; returns 1 for quit. Bad commands are reported, not fatal. */
static int command(struct conn *c, char *line)
{
	char *cmd = word(&line), *x, *y;
	uint64_t a, b;

	if (!cmd)
		return 0;
	if (!strcmp(cmd, "quit"))
		return 1;
	x = word(&line);
	if (!strcmp(cmd, "write") && x && *line && !ivshm_num_parse_size(x, &a)) {
		peer_write(c, a, line);
		return 0;
	}
	y = word(&line);
	if (!strcmp(cmd, "ring") && x && y &&
	    !ivshm_num_parse(x, IVSHM_NUM_DEC, 0, UINT64_MAX, &a) &&
	    !ivshm_num_parse(y, IVSHM_NUM_DEC, 0, UINT64_MAX, &b)) {
		peer_ring(c, a, b);
		return 0;
	}
	if (!strcmp(cmd, "read") && x && y && !ivshm_num_parse_size(x, &a) &&
	    !ivshm_num_parse_size(y, &b)) {
		peer_read(c, a, b);
		return 0;
	}
	say("error unknown command");
	return 0;
}

/*
 * Read what stdin has and run each complete line. Returns 1 on EOF or quit,
 * 0 otherwise. A line longer than the buffer is an error, not a hang.
 */
static int commands(struct conn *c, struct linebuf *lb)
{
	ssize_t n = read(0, lb->buf + lb->len, sizeof(lb->buf) - 1 - lb->len);
	char *nl;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	lb->len += (size_t)n;
	lb->buf[lb->len] = '\0';
	while ((nl = strchr(lb->buf, '\n'))) {
		size_t used = (size_t)(nl - lb->buf) + 1;
		int quit;

		*nl = '\0';
		quit = command(c, lb->buf);
		memmove(lb->buf, lb->buf + used, lb->len - used + 1);
		lb->len -= used;
		if (quit)
			return 1;
	}
	if (lb->len == sizeof(lb->buf) - 1) {
		say("error command line too long");
		lb->len = 0;
	}
	return 0;
}

/* Serve events and stdin commands until EOF on either side, quit or a signal. */
static int stay(struct conn *c, int sfd)
{
	unsigned nvec = ivshm_session_vectors(c->p.sess);
	struct pollfd p[3 + UIO_IVSHMEM_MAX_VECTORS];
	struct linebuf lb = { .len = 0 };

	for (;;) {
		int ret;

		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = c->p.sock, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = 0, .events = POLLIN };
		for (unsigned v = 0; v < nvec; v++)
			p[3 + v] = (struct pollfd){ .fd = conn_own_fd(c, v), .events = POLLIN };
		ret = poll(p, 3 + nvec, -1);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents)
			return 0;
		for (unsigned v = 0; v < nvec; v++)
			if (p[3 + v].revents && conn_take(c, v) < 0)
				return -EIO;
		if (p[1].revents) {
			ret = conn_pump(c);
			if (ret)
				return ret > 0 ? 0 : ret;
		}
		if (p[2].revents && commands(c, &lb))
			return 0;
	}
}

int mode_stay(const struct peer_opts *o, int sfd)
{
	return peer_connected(o, sfd, stay);
}
