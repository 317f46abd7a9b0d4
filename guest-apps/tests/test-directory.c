// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The peer directory on a plain buffer: two or more regions over the same
 * memory act as peers; corrupting the memory plays the hostile one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "internal.h"

#define SIZE (4u << 20)

struct world {
	char *mem;
	struct ivshm_region a, b;	/* peers 1 and 2 */
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		return -1;
	w->mem = aligned_alloc(IVSHM_SHM_PAGE, SIZE);
	if (!w->mem)
		return -1;
	memset(w->mem, 0, SIZE);
	if (ivshm__region_init(&w->a, w->mem, SIZE, 1) || ivshm__region_init(&w->b, w->mem, SIZE, 2))
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	free(w->mem);
	free(w);
	return 0;
}

static struct ivshm_shm_slot *slot(struct world *w, unsigned int id)
{
	return (struct ivshm_shm_slot *)(w->mem + IVSHM_SHM_PAGE + (id % 64) * IVSHM_SHM_SLOT_SIZE);
}

static void layout_follows_the_size(void **state)
{
	struct ivshm_shm_layout l;

	(void)state;
	assert_int_equal(ivshm_shm_layout(SIZE, &l), 0);
	assert_int_equal(l.dir_slots, 64);
	assert_int_equal(l.arena_off, 3 * IVSHM_SHM_PAGE);
	assert_int_equal(l.arena_size % IVSHM_SHM_PAGE, 0);
	assert_true(l.arena_off + 64 * l.arena_size <= SIZE);
	assert_int_equal(ivshm_shm_layout(256 << 10, &l), 0);
	assert_int_equal(l.dir_slots, 4);
	assert_true(l.arena_off + 4 * l.arena_size <= 256 << 10);
	assert_int_equal(ivshm_shm_layout((256 << 10) - 1, &l), -1);
}

static void publish_then_find_by_role_and_id(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);
	assert_int_equal(ivshm__publish(&w->a, "server", 3, 0x1234), 0);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), 0);
	assert_int_equal(p.id, 1);
	assert_int_equal(p.vector, 3);
	assert_int_equal(p.user, 0x1234);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	assert_string_equal(p.role, "server");
	assert_int_equal(ivshm__find_once(&w->b, "client", &p), -ENOENT);
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.id, 1);
	assert_int_equal(ivshm__get_peer(&w->b, 65, &p), -ENOENT);
	assert_int_equal(ivshm__get_peer(&w->b, 2, &p), -ENOENT);
}

static void a_peer_never_finds_itself(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__find_once(&w->a, "server", &p), -ENOENT);
}

static void republish_grows_the_generation(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p1, p2;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 1), 0);
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p1), 0);
	assert_int_equal(ivshm__publish(&w->a, "server", 0, 2), 0);
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p2), 0);
	assert_true(p2.generation > p1.generation);
	assert_int_equal(p2.user, 2);
	assert_int_equal(p1.epoch, p2.epoch);
}

static void a_slot_being_rewritten_is_not_read(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	slot(w, 1)->seq |= 1;
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), -EAGAIN);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);
}

static void clean_exit_is_seen_at_once(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__unpublish(&w->a), 0);
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_GONE);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);
	assert_int_equal(ivshm__unpublish(&w->a), -ENOENT);
}

static void list_shows_every_publication(void **state)
{
	struct world *w = *state;
	struct ivshm_peer peers[4];
	unsigned int n = 0;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__publish(&w->b, "client", 1, 0), 0);
	assert_int_equal(ivshm__list_peers(&w->b, peers, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(peers[0].role, "server");
	assert_string_equal(peers[1].role, "client");
	assert_int_equal(ivshm__list_peers(&w->b, peers, 1, &n), -ENOSPC);
	assert_int_equal(n, 2);
}

static void same_slot_class_is_refused_while_live(void **state)
{
	struct world *w = *state;
	struct ivshm_region c;

	assert_int_equal(ivshm__region_init(&c, w->mem, SIZE, 65), 0);
	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__publish(&c, "other", 0, 0), -EADDRINUSE);
	assert_int_equal(ivshm__unpublish(&w->a), 0);
	assert_int_equal(ivshm__publish(&c, "other", 0, 0), 0);
}

static void bad_roles_are_refused(void **state)
{
	struct world *w = *state;
	struct ivshm_region plain;

	assert_int_equal(ivshm__publish(&w->a, "", 0, 0), -EINVAL);
	assert_int_equal(ivshm__publish(&w->a, "has blank", 0, 0), -EINVAL);
	assert_int_equal(ivshm__publish(&w->a, "0123456789012345678901234567890123", 0, 0), -EINVAL);
	assert_int_equal(ivshm__publish(&w->a, "x", 64, 0), -EINVAL);
	assert_int_equal(ivshm__region_init(&plain, w->mem, SIZE, -1), 0);
	assert_int_equal(ivshm__publish(&plain, "x", 0, 0), -ENOTSUP);
	assert_int_equal(ivshm__region_init(&plain, w->mem, 128 << 10, 1), -EMSGSIZE);
}

/* A hostile peer writes its slot: each lie is refused, and others are still found. */
static void corrupt_slots_are_refused_and_skipped(void **state)
{
	struct world *w = *state;
	struct ivshm_region c;
	struct ivshm_peer p;
	struct ivshm_shm_slot good;
	int i;

	assert_int_equal(ivshm__region_init(&c, w->mem, SIZE, 3), 0);
	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__publish(&c, "server", 0, 0), 0);
	good = *slot(w, 1);
	for (i = 0; i < 5; i++) {
		*slot(w, 1) = good;
		switch (i) {
		case 0: slot(w, 1)->peer_id = 2; break;		/* another class */
		case 1: slot(w, 1)->state = 7; break;
		case 2: slot(w, 1)->vector = 64; break;
		case 3: memset(slot(w, 1)->role, 'x', IVSHM_SHM_ROLE_MAX); break;
		case 4: slot(w, 1)->role[0] = '\n'; break;
		}
		assert_int_equal(ivshm__get_peer(&w->b, 1, &p), -EUCLEAN);
		assert_int_equal(ivshm__find_once(&w->b, "server", &p), 0);
		assert_int_equal(p.id, 3);
	}
}

static void foreign_or_mismatched_header_is_refused(void **state)
{
	struct world *w = *state;
	struct ivshm_shm_header *h = (struct ivshm_shm_header *)w->mem;
	struct ivshm_region fresh;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);

	h->region_size = SIZE * 2;
	assert_int_equal(ivshm__region_init(&fresh, w->mem, SIZE, 2), 0);
	assert_int_equal(ivshm__get_peer(&fresh, 1, &p), -EUCLEAN);

	h->region_size = SIZE;
	h->major = IVSHM_SHM_MAJOR + 1;
	assert_int_equal(ivshm__region_init(&fresh, w->mem, SIZE, 2), 0);
	assert_int_equal(ivshm__find_once(&fresh, "server", &p), -EPROTONOSUPPORT);

	h->major = IVSHM_SHM_MAJOR;
	h->magic = 0x12345678;
	assert_int_equal(ivshm__region_init(&fresh, w->mem, SIZE, 2), 0);
	assert_int_equal(ivshm__publish(&fresh, "client", 0, 0), -EUCLEAN);

	/* A newer minor is fine. */
	h->magic = IVSHM_SHM_MAGIC;
	h->minor = IVSHM_SHM_MINOR + 3;
	assert_int_equal(ivshm__region_init(&fresh, w->mem, SIZE, 2), 0);
	assert_int_equal(ivshm__get_peer(&fresh, 1, &p), 0);
}

/* With the heartbeat period the publisher claims, here 1 ms, a silent peer turns DEAD. */
static void a_stopped_heartbeat_means_dead(void **state)
{
	struct world *w = *state;
	int64_t deadline = ivshm_clock_ms() + 2000;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	slot(w, 1)->seq++;
	slot(w, 1)->hb_period_ms = 1;
	slot(w, 1)->seq++;
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	do {
		assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	} while (p.state == IVSHM_PEER_LIVE && ivshm_clock_ms() < deadline);
	assert_int_equal(p.state, IVSHM_PEER_DEAD);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);

	/* A heartbeat brings it back. */
	ivshm__heartbeat(&w->a, 1);
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
}

static void the_server_page_decides_at_once(void **state)
{
	struct world *w = *state;
	struct ivshm_shm_server *sp = (struct ivshm_shm_server *)(w->mem + IVSHM_SHM_SERVER_OFF);
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	sp->dir_slots = 64;
	sp->live[1] = 1 + 1;
	sp->magic = IVSHM_SHM_SERVER_MAGIC;
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	sp->live[1] = 0;
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_DEAD);
	/* A table being rewritten, or of another shape, says nothing. */
	sp->seq = 1;
	assert_int_equal(ivshm__get_peer(&w->b, 1, &p), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
}

static void arenas_are_disjoint_and_inside(void **state)
{
	struct world *w = *state;
	void *a1, *a2, *a65;
	size_t n1, n2, n65;

	assert_int_equal(ivshm__arena(&w->a, 1, &a1, &n1), 0);
	assert_int_equal(ivshm__arena(&w->a, 2, &a2, &n2), 0);
	assert_int_equal(ivshm__arena(&w->a, 65, &a65, &n65), 0);
	assert_ptr_equal(a1, a65);
	assert_int_equal((char *)a2 - (char *)a1, (ptrdiff_t)n1);
	assert_true((char *)a2 + n2 <= w->mem + SIZE);
	assert_true((char *)a1 >= w->mem + 3 * IVSHM_SHM_PAGE);
	assert_int_equal(ivshm__arena(&w->a, 65536, &a1, &n1), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(layout_follows_the_size),
		T(publish_then_find_by_role_and_id),
		T(a_peer_never_finds_itself),
		T(republish_grows_the_generation),
		T(a_slot_being_rewritten_is_not_read),
		T(clean_exit_is_seen_at_once),
		T(list_shows_every_publication),
		T(same_slot_class_is_refused_while_live),
		T(bad_roles_are_refused),
		T(corrupt_slots_are_refused_and_skipped),
		T(foreign_or_mismatched_header_is_refused),
		T(a_stopped_heartbeat_means_dead),
		T(the_server_page_decides_at_once),
		T(arenas_are_disjoint_and_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
