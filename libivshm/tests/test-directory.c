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
#include "mem-dev.h"

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

	mem_server_stop();
	free(w->mem);
	free(w);
	return 0;
}

/* A ticking server page, as ivshmd keeps, with peers 1 to 3 connected. */
static void serve(struct world *w)
{
	int id;

	assert_int_equal(mem_server_start(w->mem, 10), 0);
	for (id = 1; id <= 3; id++)
		mem_server_set(id, true);
}

/* Slot @i; peers claim the lowest free one, so a gets 0 and b gets 1. */
static struct ivshm_shm_slot *slot(struct world *w, unsigned int i)
{
	return (struct ivshm_shm_slot *)(w->mem + IVSHM_SHM_PAGE + i * IVSHM_SHM_SLOT_SIZE);
}

static void layout_follows_the_size(void **state)
{
	struct ivshm_shm_layout l;

	(void)state;
	assert_int_equal(ivshm_shm_layout(SIZE, &l), 0);
	assert_int_equal(l.dir_slots, 16);
	assert_int_equal(l.arena_off, 2 * IVSHM_SHM_PAGE);
	assert_int_equal(l.arena_size % IVSHM_SHM_PAGE, 0);
	assert_true(l.arena_off + 16 * l.arena_size <= SIZE);
	assert_int_equal(ivshm_shm_layout(64u << 20, &l), 0);
	assert_int_equal(l.dir_slots, 64);
	assert_int_equal(l.arena_off, 3 * IVSHM_SHM_PAGE);
	assert_true(l.arena_off + 64 * l.arena_size <= 64u << 20);
	assert_int_equal(ivshm_shm_layout(1 << 20, &l), 0);
	assert_int_equal(l.dir_slots, 4);
	assert_true(l.arena_off + 4 * l.arena_size <= 1 << 20);
	assert_int_equal(ivshm_shm_layout((1 << 20) - 1, &l), -1);
}

static void publish_then_find_by_role_and_id(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	serve(w);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);
	assert_int_equal(ivshm__publish(&w->a, "server", 3, 0x1234), 0);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), 0);
	assert_int_equal(p.id, 1);
	assert_int_equal(p.vector, 3);
	assert_int_equal(p.user, 0x1234);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	assert_string_equal(p.role, "server");
	assert_int_equal(ivshm__find_once(&w->b, "client", &p), -ENOENT);
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.id, 1);
	assert_int_equal(ivshm__lookup(&w->b, 65, &p, NULL), -ENOENT);
	assert_int_equal(ivshm__lookup(&w->b, 2, &p, NULL), -ENOENT);
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
	assert_int_equal(ivshm__lookup(&w->b, 1, &p1, NULL), 0);
	assert_int_equal(ivshm__publish(&w->a, "server", 0, 2), 0);
	assert_int_equal(ivshm__lookup(&w->b, 1, &p2, NULL), 0);
	assert_true(p2.generation > p1.generation);
	assert_int_equal(p2.user, 2);
	assert_int_equal(p1.epoch, p2.epoch);
}

static void a_slot_being_rewritten_is_not_read(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	slot(w, 0)->seq |= 1;
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), -EAGAIN);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);
}

static void clean_exit_is_seen_at_once(void **state)
{
	struct world *w = *state;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__unpublish(&w->a), 0);
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
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

static void claims_are_exclusive_until_a_peer_leaves(void **state)
{
	struct world *w = *state;
	struct ivshm_region r[5];
	unsigned int i;

	/* 1 MiB: four slots. */
	for (i = 0; i < 5; i++)
		assert_int_equal(ivshm__region_init(&r[i], w->mem, 1 << 20, (int)(10 + i)), 0);
	memset(w->mem, 0, 1 << 20);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ivshm__publish(&r[i], "p", 0, 0), 0);
		assert_int_equal(r[i].slot, (int)i);
		/* Holders that cannot look dead while the claimer watches them (this thread
		 * beats for nobody). */
		slot(w, i)->seq++;
		slot(w, i)->hb_period_ms = 60000;
		slot(w, i)->seq++;
	}
	assert_int_equal(ivshm__publish(&r[4], "p", 0, 0), -ENOSPC);
	assert_int_equal(ivshm__unpublish(&r[2]), 0);
	assert_int_equal(ivshm__publish(&r[4], "p", 0, 0), 0);
	assert_int_equal(r[4].slot, 2);
	slot(w, 2)->seq++;
	slot(w, 2)->hb_period_ms = 60000;
	slot(w, 2)->seq++;
	/* The one that left finds no room until another leaves, or dies. */
	assert_int_equal(ivshm__publish(&r[2], "p", 0, 0), -ENOSPC);
	slot(w, 1)->seq++;
	slot(w, 1)->hb_period_ms = 1;
	slot(w, 1)->seq++;
	assert_int_equal(ivshm__publish(&r[2], "p", 0, 0), 0);
	assert_int_equal(r[2].slot, 1);
}

static void a_restart_takes_back_its_own_slot(void **state)
{
	struct world *w = *state;
	struct ivshm_region again;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__publish(&w->b, "client", 0, 0), 0);
	/* Peer 1 restarted without leaving: its new incarnation takes slot 0 over. */
	assert_int_equal(ivshm__region_init(&again, w->mem, SIZE, 1), 0);
	assert_int_equal(ivshm__publish(&again, "server", 2, 0), 0);
	assert_int_equal(again.slot, 0);
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.vector, 2);
	/* The old incarnation notices and stops writing. */
	ivshm__heartbeat(&w->a, 1);
	assert_int_equal(w->a.published, 0);
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.vector, 2);
}

static void bad_roles_are_refused(void **state)
{
	struct world *w = *state;
	struct ivshm_region plain;

	assert_int_equal(ivshm__publish(&w->a, "", 0, 0), -EINVAL);
	assert_int_equal(ivshm__publish(&w->a, "has blank", 0, 0), -EINVAL);
	assert_int_equal(ivshm__publish(&w->a, "012345678901234567890123", 0, 0), -EINVAL);
	assert_int_equal(ivshm__publish(&w->a, "01234567890123456789012", 0, 0), 0);
	assert_int_equal(ivshm__publish(&w->a, "x", 64, 0), -EINVAL);
	assert_int_equal(ivshm__region_init(&plain, w->mem, SIZE, -1), 0);
	assert_int_equal(ivshm__publish(&plain, "x", 0, 0), -ENOTSUP);
	assert_int_equal(ivshm__region_init(&plain, w->mem, 512 << 10, 1), -EMSGSIZE);
}

/* A hostile peer writes its slot: each lie is refused, and others are still found. */
static void corrupt_slots_are_refused_and_skipped(void **state)
{
	struct world *w = *state;
	struct ivshm_region c;
	struct ivshm_peer p;
	struct ivshm_shm_slot good;
	int i;

	serve(w);
	assert_int_equal(ivshm__region_init(&c, w->mem, SIZE, 3), 0);
	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__publish(&c, "server", 0, 0), 0);
	good = *slot(w, 0);
	for (i = 0; i < 6; i++) {
		*slot(w, 0) = good;
		switch (i) {
		case 0: slot(w, 0)->owner = 70000; break;	/* ID out of range */
		case 1: slot(w, 0)->state = 7; break;
		case 2: slot(w, 0)->vector = 64; break;
		case 3: memset(slot(w, 0)->role, 'x', IVSHM_SHM_ROLE_MAX); break;
		case 4: slot(w, 0)->role[0] = '\n'; break;
		case 5: slot(w, 0)->hb_period_ms = 0; break;
		}
		assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), i ? -EUCLEAN : -ENOENT);
		assert_int_equal(ivshm__find_once(&w->b, "server", &p), 0);
		assert_int_equal(p.id, 3);
	}
	/* A claimer prefers a never used slot... */
	assert_int_equal(ivshm__publish(&w->b, "client", 0, 0), 0);
	assert_int_equal(w->b.slot, 2);
	/* ... but with none left, whoever broke a slot cannot hold it: a claimer takes it. */
	for (i = 3; i < 16; i++) {
		struct ivshm_region *filler = calloc(1, sizeof(*filler));

		assert_non_null(filler);
		mem_server_set(10 + i, true);
		assert_int_equal(ivshm__region_init(filler, w->mem, SIZE, 10 + i), 0);
		assert_int_equal(ivshm__publish(filler, "filler", 0, 0), 0);
		assert_int_equal(filler->slot, i);
		free(filler);
	}
	assert_int_equal(ivshm__region_init(&c, w->mem, SIZE, 4), 0);
	mem_server_set(4, true);
	assert_int_equal(ivshm__publish(&c, "late", 0, 0), 0);
	assert_int_equal(c.slot, 0);
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
	assert_int_equal(ivshm__lookup(&fresh, 1, &p, NULL), -EUCLEAN);

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
	assert_int_equal(ivshm__lookup(&fresh, 1, &p, NULL), 0);
}

/* With the heartbeat period the publisher claims, here 1 ms, a silent peer turns DEAD. */
static void a_stopped_heartbeat_means_dead(void **state)
{
	struct world *w = *state;
	int64_t deadline = ivshm_clock_ms() + 2000;
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	slot(w, 0)->seq++;
	slot(w, 0)->hb_period_ms = 1;
	slot(w, 0)->seq++;
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	do {
		assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	} while (p.state == IVSHM_PEER_LIVE && ivshm_clock_ms() < deadline);
	assert_int_equal(p.state, IVSHM_PEER_DEAD);
	assert_int_equal(ivshm__find_once(&w->b, "server", &p), -ENOENT);

	/* A heartbeat brings it back. */
	ivshm__heartbeat(&w->a, 1);
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
}

static void the_server_page_decides_at_once(void **state)
{
	struct world *w = *state;
	struct ivshm_shm_server *sp = (struct ivshm_shm_server *)(w->mem + IVSHM_SHM_SERVER_OFF);
	struct ivshm_peer p;

	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	sp->nr_ids = IVSHM_SHM_SERVER_IDS;
	sp->live[0] = 1u << 1;
	sp->magic = IVSHM_SHM_SERVER_MAGIC;
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
	sp->live[0] = 0;
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.state, IVSHM_PEER_DEAD);
	/* A table being rewritten, or of another shape, says nothing. */
	sp->seq = 1;
	assert_int_equal(ivshm__lookup(&w->b, 1, &p, NULL), 0);
	assert_int_equal(p.state, IVSHM_PEER_LIVE);
}

static void user_areas_are_per_peer_and_inside(void **state)
{
	struct world *w = *state;
	void *a1, *a1b, *a2, *seen;
	size_t n1, n2, n;

	/* Our own page before publishing: claiming is enough. */
	assert_int_equal(ivshm__user_area(&w->a, 1, &a1, &n1), 0);
	assert_int_equal(n1, IVSHM_SHM_USER_SIZE);
	assert_int_equal(ivshm__user_area(&w->b, 1, &seen, &n), -ENOENT);
	memcpy(a1, "one", 4);
	assert_int_equal(ivshm__publish(&w->a, "server", 0, 0), 0);
	assert_int_equal(ivshm__user_area(&w->a, 1, &a1b, &n1), 0);
	assert_ptr_equal(a1, a1b);
	assert_int_equal(ivshm__user_area(&w->b, 1, &seen, &n), 0);
	assert_ptr_equal(seen, a1);
	assert_int_equal(ivshm__user_area(&w->b, 2, &a2, &n2), 0);
	assert_true((char *)a2 >= (char *)a1 + n1 || (char *)a1 >= (char *)a2 + n2);
	assert_true((char *)a2 + n2 <= w->mem + SIZE);
	assert_true((char *)a1 >= w->mem + 2 * IVSHM_SHM_PAGE);
	assert_int_equal(ivshm__user_area(&w->b, 65536, &seen, &n), -EINVAL);
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
		T(claims_are_exclusive_until_a_peer_leaves),
		T(a_restart_takes_back_its_own_slot),
		T(bad_roles_are_refused),
		T(corrupt_slots_are_refused_and_skipped),
		T(foreign_or_mismatched_header_is_refused),
		T(a_stopped_heartbeat_means_dead),
		T(the_server_page_decides_at_once),
		T(user_areas_are_per_peer_and_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
