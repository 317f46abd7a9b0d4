// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * common/session.c: the client's view of the message sequence, with the
 * rules QEMU's ivshmem device enforces (hw/misc/ivshmem.c): version 0 and
 * the own ID without fds, IDs within 0..65535, one shared memory message,
 * no more eventfds per peer than vectors, no departure of oneself. The
 * session owns every fd it is fed, on success and on error alike.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "ivshmem-server.h"
#include "session.h"
#include "unit.h"

static int efd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static struct ivshm_session *new_session(unsigned vectors, bool keep)
{
	struct ivshm_session *s = NULL;

	assert_int_equal(ivshm_session_new(vectors, keep, &s), 0);
	assert_non_null(s);
	return s;
}

static struct ivshm_event feed_ok(struct ivshm_session *s, int64_t value, int fd)
{
	struct ivshm_event ev;

	assert_int_equal(ivshm_session_feed(s, value, fd, &ev), 0);
	return ev;
}

/* Feeds a message the session must refuse with reason; its fd must be closed. */
static void feed_bad(struct ivshm_session *s, int64_t value, bool with_fd, const char *reason)
{
	struct ivshm_event ev;
	int fd = with_fd ? efd() : -1;

	assert_int_equal(ivshm_session_feed(s, value, fd, &ev), -EPROTO);
	assert_string_equal(ivshm_session_error(s), reason);
	if (with_fd)
		assert_false(fd_open(fd));
}

/* Version, own ID and memory; returns the memory fd the session now holds. */
static int start(struct ivshm_session *s, unsigned id)
{
	int shm = new_memfd();

	assert_int_equal(feed_ok(s, 0, -1).type, IVSHM_EV_VERSION);
	assert_int_equal(feed_ok(s, id, -1).type, IVSHM_EV_ID);
	assert_int_equal(feed_ok(s, IVSHMEM_SERVER_MSG_SHM, shm).type, IVSHM_EV_SHM);
	return shm;
}

static void vectors_bounds(void **state)
{
	struct ivshm_session *s = (void *)1;

	(void)state;
	assert_int_equal(ivshm_session_new(UIO_IVSHMEM_MAX_VECTORS + 1, true, &s), -EINVAL);
	assert_ptr_equal(s, (void *)1);
	s = new_session(UIO_IVSHMEM_MAX_VECTORS, true);
	assert_int_equal(ivshm_session_vectors(s), UIO_IVSHMEM_MAX_VECTORS);
	ivshm_session_free(s);
	s = new_session(0, true);
	assert_int_equal(ivshm_session_vectors(s), 0);
	ivshm_session_free(s);
	ivshm_session_free(NULL);
}

/* The setup as ivshmd and QEMU's server send it, with peer 1 present and own ID 3. */
static void full_setup(void **state)
{
	struct ivshm_session *s = new_session(2, true);
	struct ivshm_event ev;
	int shm, p1[2], own[2];

	(void)state;
	assert_string_equal(ivshm_session_error(s), "no error");
	assert_int_equal(ivshm_session_id(s), -1);
	assert_int_equal(ivshm_session_shm_fd(s), -1);
	ev = feed_ok(s, 0, -1);
	assert_int_equal(ev.type, IVSHM_EV_VERSION);
	assert_int_equal(ev.value, 0);
	ev = feed_ok(s, 3, -1);
	assert_int_equal(ev.type, IVSHM_EV_ID);
	assert_int_equal(ev.peer, 3);
	assert_int_equal(ivshm_session_id(s), 3);
	shm = new_memfd();
	ev = feed_ok(s, -1, shm);
	assert_int_equal(ev.type, IVSHM_EV_SHM);
	assert_int_equal(ivshm_session_shm_fd(s), shm);
	assert_false(ivshm_session_ready(s));

	for (unsigned i = 0; i < 2; i++) {
		p1[i] = efd();
		ev = feed_ok(s, 1, p1[i]);
		assert_int_equal(ev.type, IVSHM_EV_VECTOR);
		assert_int_equal(ev.peer, 1);
		assert_int_equal(ev.vector, i);
		assert_int_equal(ev.complete, i == 1);
		assert_false(ivshm_session_ready(s));
	}
	for (unsigned i = 0; i < 2; i++) {
		own[i] = efd();
		ev = feed_ok(s, 3, own[i]);
		assert_int_equal(ev.peer, 3);
		assert_int_equal(ev.vector, i);
		assert_int_equal(ev.complete, i == 1);
		assert_int_equal(ivshm_session_ready(s), i == 1);
	}
	assert_int_equal(ivshm_session_peer_vectors(s, 1), 2);
	assert_int_equal(ivshm_session_peer_vectors(s, 3), 2);
	assert_int_equal(ivshm_session_peer_vectors(s, 2), 0);
	assert_int_equal(ivshm_session_peer_vectors(s, 100000), 0);
	assert_true(ivshm_session_peer_limit(s) > 3);
	assert_int_equal(ivshm_session_peer_fd(s, 1, 0), p1[0]);
	assert_int_equal(ivshm_session_peer_fd(s, 1, 1), p1[1]);
	assert_int_equal(ivshm_session_peer_fd(s, 3, 1), own[1]);
	assert_int_equal(ivshm_session_peer_fd(s, 1, 2), -ENOENT);
	assert_int_equal(ivshm_session_peer_fd(s, 2, 0), -ENOENT);
	ivshm_session_free(s);
	assert_false(fd_open(shm));
	assert_false(fd_open(p1[0]));
	assert_false(fd_open(own[1]));
}

/* After the setup: a newcomer's vectors end with `complete`; its departure closes them. */
static void join_leave_rejoin(void **state)
{
	struct ivshm_session *s = new_session(1, true);
	struct ivshm_event ev;
	int fd;

	(void)state;
	start(s, 0);
	feed_ok(s, 0, efd());
	assert_true(ivshm_session_ready(s));
	fd = efd();
	ev = feed_ok(s, 65535, fd);
	assert_true(ev.complete);
	assert_int_equal(ev.peer, 65535);
	assert_true(ivshm_session_peer_limit(s) > 65535);
	ev = feed_ok(s, 65535, -1);
	assert_int_equal(ev.type, IVSHM_EV_LEAVE);
	assert_int_equal(ev.peer, 65535);
	assert_false(fd_open(fd));
	assert_int_equal(ivshm_session_peer_vectors(s, 65535), 0);
	assert_int_equal(ivshm_session_peer_fd(s, 65535, 0), -ENOENT);
	ev = feed_ok(s, 65535, efd());
	assert_true(ev.complete);
	ivshm_session_free(s);
}

static void without_keep_fds_they_are_closed(void **state)
{
	struct ivshm_session *s = new_session(1, false);
	int fd = efd();

	(void)state;
	start(s, 0);
	feed_ok(s, 0, fd);
	assert_false(fd_open(fd));
	assert_true(ivshm_session_ready(s));
	assert_int_equal(ivshm_session_peer_vectors(s, 0), 1);
	assert_int_equal(ivshm_session_peer_fd(s, 0, 0), -ENOENT);
	ivshm_session_free(s);
}

static void bad_version(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	feed_bad(s, 0, true, "version message carries an fd");
	ivshm_session_free(s);
	s = new_session(1, true);
	feed_bad(s, 1, false, "unsupported protocol version");
	ivshm_session_free(s);
}

static void bad_id(void **state)
{
	static const int64_t ids[] = { -1, IVSHMEM_MAX_PEER_ID + 1, INT64_MAX, INT64_MIN };
	struct ivshm_session *s;

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		s = new_session(1, true);
		feed_ok(s, 0, -1);
		feed_bad(s, ids[i], false, "invalid ID message");
		ivshm_session_free(s);
	}
	s = new_session(1, true);
	feed_ok(s, 0, -1);
	feed_bad(s, 4, true, "invalid ID message");
	ivshm_session_free(s);
}

/* QEMU would take peer messages before the memory; the spec's order is the rule here. */
static void memory_must_come_third(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	feed_ok(s, 0, -1);
	feed_ok(s, 1, -1);
	feed_bad(s, -1, false, "expected the shared memory message");
	ivshm_session_free(s);
	s = new_session(1, true);
	feed_ok(s, 0, -1);
	feed_ok(s, 1, -1);
	feed_bad(s, 2, true, "expected the shared memory message");
	ivshm_session_free(s);
}

static void second_memory(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	start(s, 0);
	feed_bad(s, IVSHMEM_SERVER_MSG_SHM, true, "second shared memory message");
	ivshm_session_free(s);
}

static void peer_id_out_of_range(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	start(s, 0);
	feed_bad(s, IVSHMEM_MAX_PEER_ID + 1, true, "peer ID out of range");
	ivshm_session_free(s);
	s = new_session(1, true);
	start(s, 0);
	feed_bad(s, -2, false, "peer ID out of range");
	ivshm_session_free(s);
}

static void more_eventfds_than_vectors(void **state)
{
	struct ivshm_session *s = new_session(2, true);

	(void)state;
	start(s, 5);
	feed_ok(s, 1, efd());
	feed_ok(s, 1, efd());
	feed_bad(s, 1, true, "more eventfds for one peer than vectors");
	ivshm_session_free(s);
}

static void own_eventfd_after_setup(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	start(s, 2);
	feed_ok(s, 2, efd());
	feed_bad(s, 2, true, "own eventfd after the setup");
	ivshm_session_free(s);
}

static void own_departure(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	start(s, 2);
	feed_ok(s, 2, efd());
	feed_bad(s, 2, false, "server announced our own departure");
	ivshm_session_free(s);
}

static void departure_of_an_unknown_peer(void **state)
{
	struct ivshm_session *s = new_session(1, true);

	(void)state;
	start(s, 0);
	feed_ok(s, 0, efd());
	feed_bad(s, 7, false, "departure of an unknown peer");
	ivshm_session_free(s);
	s = new_session(1, true);
	start(s, 0);
	feed_ok(s, 0, efd());
	feed_bad(s, IVSHMEM_MAX_PEER_ID, false, "departure of an unknown peer");
	ivshm_session_free(s);
}

/* A peer that left before all its vectors arrived is still a known peer. */
static void departure_during_a_join(void **state)
{
	struct ivshm_session *s = new_session(4, true);
	struct ivshm_event ev;

	(void)state;
	start(s, 0);
	feed_ok(s, 1, efd());
	ev = feed_ok(s, 1, -1);
	assert_int_equal(ev.type, IVSHM_EV_LEAVE);
	ivshm_session_free(s);
}

/* Zero vectors (ivshmd -n 0, as QEMU's server allows): memory only. */
static void zero_vectors(void **state)
{
	struct ivshm_session *s = new_session(0, true);
	struct ivshm_event ev;

	(void)state;
	start(s, 1);
	assert_true(ivshm_session_ready(s));
	ev = feed_ok(s, 0, -1);
	assert_int_equal(ev.type, IVSHM_EV_LEAVE);
	assert_int_equal(ev.peer, 0);
	ev = feed_ok(s, IVSHMEM_MAX_PEER_ID, -1);
	assert_int_equal(ev.type, IVSHM_EV_LEAVE);
	feed_bad(s, 1, false, "server announced our own departure");
	ivshm_session_free(s);
	s = new_session(0, true);
	start(s, 1);
	feed_bad(s, 0, true, "more eventfds for one peer than vectors");
	ivshm_session_free(s);
}

/* Learning the count: another peer's group ends when the next peer's first eventfd comes. */
static void learns_vectors_from_a_peer_group(void **state)
{
	struct ivshm_session *s = new_session(IVSHM_SESSION_ANY_VECTORS, true);
	struct ivshm_event ev;

	(void)state;
	assert_false(ivshm_session_vectors_known(s));
	start(s, 5);
	assert_false(ivshm_session_ready(s));
	for (unsigned i = 0; i < 3; i++) {
		ev = feed_ok(s, 2, efd());
		assert_false(ev.complete);
	}
	assert_false(ivshm_session_vectors_known(s));
	assert_int_equal(ivshm_session_vectors(s), 0);
	ev = feed_ok(s, 5, efd());
	assert_true(ivshm_session_vectors_known(s));
	assert_int_equal(ivshm_session_vectors(s), 3);
	assert_true(ivshm_session_peer_present(s, 2));
	assert_false(ivshm_session_ready(s));
	feed_ok(s, 5, efd());
	ev = feed_ok(s, 5, efd());
	assert_true(ev.complete);
	assert_true(ivshm_session_ready(s));
	assert_int_equal(ivshm_session_set_vectors(s, 3), -EALREADY);
	/* The count now holds: a fourth own eventfd is refused. */
	feed_bad(s, 5, true, "own eventfd after the setup");
	ivshm_session_free(s);

	/* A later peer's group longer than the learnt count breaks the protocol. */
	s = new_session(IVSHM_SESSION_ANY_VECTORS, false);
	start(s, 5);
	feed_ok(s, 1, efd());
	feed_ok(s, 2, efd());
	assert_int_equal(ivshm_session_vectors(s), 1);
	feed_bad(s, 2, true, "more eventfds for one peer than vectors");
	ivshm_session_free(s);
}

/*
 * While we wait out the quiet gap after our own group, a peer joins and leaves
 * and another joins: the departed peer's emptied group tells nothing.
 */
static void a_departed_group_tells_no_count(void **state)
{
	struct ivshm_session *s = new_session(IVSHM_SESSION_ANY_VECTORS, true);

	(void)state;
	start(s, 3);
	for (unsigned i = 0; i < 4; i++)
		feed_ok(s, 3, efd());
	for (unsigned i = 0; i < 4; i++)
		feed_ok(s, 4, efd());
	assert_int_equal(feed_ok(s, 4, -1).type, IVSHM_EV_LEAVE);
	for (unsigned i = 0; i < 4; i++)
		feed_ok(s, 5, efd());
	assert_false(ivshm_session_vectors_known(s));
	assert_int_equal(ivshm_session_set_vectors(s, 4), 0);
	assert_true(ivshm_session_ready(s));
	assert_true(ivshm_session_peer_present(s, 5));
	ivshm_session_free(s);
}

/* Only our own group came: the client fixes the count (a quiet gap, the server page). */
static void vectors_set_by_the_client(void **state)
{
	struct ivshm_session *s = new_session(IVSHM_SESSION_ANY_VECTORS, true);

	(void)state;
	start(s, 0);
	feed_ok(s, 0, efd());
	feed_ok(s, 0, efd());
	assert_false(ivshm_session_ready(s));
	assert_int_equal(ivshm_session_set_vectors(s, 1), -EPROTO);
	ivshm_session_free(s);

	s = new_session(IVSHM_SESSION_ANY_VECTORS, true);
	start(s, 0);
	feed_ok(s, 0, efd());
	feed_ok(s, 0, efd());
	assert_int_equal(ivshm_session_set_vectors(s, 4), 0);
	assert_false(ivshm_session_ready(s));
	feed_ok(s, 0, efd());
	assert_true(feed_ok(s, 0, efd()).complete);
	assert_true(ivshm_session_ready(s));
	ivshm_session_free(s);

	s = new_session(IVSHM_SESSION_ANY_VECTORS, true);
	start(s, 0);
	feed_ok(s, 0, efd());
	feed_ok(s, 0, efd());
	assert_int_equal(ivshm_session_set_vectors(s, 2), 0);
	assert_true(ivshm_session_ready(s));
	assert_int_equal(ivshm_session_set_vectors(s, 65), -EALREADY);
	ivshm_session_free(s);

	/* No eventfd at all: memory only, the setup is complete. */
	s = new_session(IVSHM_SESSION_ANY_VECTORS, true);
	start(s, 0);
	assert_int_equal(ivshm_session_set_vectors(s, 0), 0);
	assert_true(ivshm_session_ready(s));
	ivshm_session_free(s);
	s = new_session(IVSHM_SESSION_ANY_VECTORS, true);
	start(s, 0);
	assert_int_equal(ivshm_session_set_vectors(s, UIO_IVSHMEM_MAX_VECTORS + 1), -EPROTO);
	ivshm_session_free(s);
}

/* Present: every eventfd arrived and no departure since; a leave ends it. */
static void presence_follows_joins_and_leaves(void **state)
{
	struct ivshm_session *s = new_session(2, false);

	(void)state;
	start(s, 0);
	feed_ok(s, 0, efd());
	feed_ok(s, 0, efd());
	assert_false(ivshm_session_peer_present(s, 7));
	feed_ok(s, 7, efd());
	assert_false(ivshm_session_peer_present(s, 7));
	feed_ok(s, 7, efd());
	assert_true(ivshm_session_peer_present(s, 7));
	assert_int_equal(feed_ok(s, 7, -1).type, IVSHM_EV_LEAVE);
	assert_false(ivshm_session_peer_present(s, 7));
	assert_false(ivshm_session_peer_present(s, 100000));
	ivshm_session_free(s);
}

/* Nothing the session held survives it, whatever state it was left in. */
static void free_closes_everything(void **state)
{
	int before = open_fds();
	struct ivshm_session *s = new_session(3, true);

	(void)state;
	start(s, 4);
	for (int peer = 0; peer < 4; peer++)
		feed_ok(s, peer, efd());
	feed_ok(s, 4, efd());
	assert_true(open_fds() > before);
	ivshm_session_free(s);
	assert_int_equal(open_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors_bounds),
		cmocka_unit_test(full_setup),
		cmocka_unit_test(join_leave_rejoin),
		cmocka_unit_test(without_keep_fds_they_are_closed),
		cmocka_unit_test(bad_version),
		cmocka_unit_test(bad_id),
		cmocka_unit_test(memory_must_come_third),
		cmocka_unit_test(second_memory),
		cmocka_unit_test(peer_id_out_of_range),
		cmocka_unit_test(more_eventfds_than_vectors),
		cmocka_unit_test(own_eventfd_after_setup),
		cmocka_unit_test(own_departure),
		cmocka_unit_test(departure_of_an_unknown_peer),
		cmocka_unit_test(departure_during_a_join),
		cmocka_unit_test(zero_vectors),
		cmocka_unit_test(learns_vectors_from_a_peer_group),
		cmocka_unit_test(vectors_set_by_the_client),
		cmocka_unit_test(a_departed_group_tells_no_count),
		cmocka_unit_test(presence_follows_joins_and_leaves),
		cmocka_unit_test(free_closes_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
