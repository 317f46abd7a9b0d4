// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd's server page (publish.c) on a real memfd: the table, the vector
 * count, the tick (never 0, wraps to 1, goes on after a restart on the same
 * memory) and its withdrawal at exit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "publish.h"

struct fixture {
	int fd;
	struct ivshm_shm_server *page;	/* what a peer sees */
	void *map;
};

static int setup(void **state)
{
	static struct fixture f;

	f.fd = memfd_create("publish", MFD_CLOEXEC);
	if (f.fd < 0 || ftruncate(f.fd, 1 << 20) < 0)
		return -1;
	f.map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd, 0);
	if (f.map == MAP_FAILED)
		return -1;
	f.page = (struct ivshm_shm_server *)((char *)f.map + IVSHM_SHM_SERVER_OFF);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	munmap(f->map, 4096);
	close(f->fd);
	return 0;
}

static void page_ticks_and_is_withdrawn(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_publish pub;
	uint32_t t0;

	assert_int_equal(ivshmd_publish_start(&pub, f->fd, 4096, 3, false), 0);
	assert_int_equal(f->page->magic, IVSHM_SHM_SERVER_MAGIC);
	assert_int_equal(f->page->vectors, 3);
	assert_int_equal(f->page->nr_ids, IVSHM_SHM_SERVER_IDS);
	assert_int_equal(f->page->seq % 2, 0);
	assert_int_equal(f->page->tick_ms, IVSHM_SHM_TICK_MS);
	t0 = f->page->tick;
	assert_int_equal(t0, 1);
	ivshmd_publish_tick(&pub);
	assert_int_equal(f->page->tick, t0 + 1);
	ivshmd_publish_set(&pub, 33, true);
	assert_int_equal(f->page->live[1], 1u << 1);
	/* Peers may scribble on the page: ivshmd rewrites it from its own copy. */
	f->page->live[1] = 0xffffffff;
	ivshmd_publish_set(&pub, 34, true);
	assert_int_equal(f->page->live[1], 3u << 1);
	ivshmd_publish_stop(&pub);
	assert_int_equal(f->page->magic, 0);
	assert_int_equal(f->page->tick_ms, 0);
	assert_int_equal(f->page->live[1], 0);
}

/* A supervised restart keeps the memory: the tick goes on from where it was. */
static void restart_goes_on_from_the_tick_found(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_publish pub;

	f->page->tick = 1000;
	assert_int_equal(ivshmd_publish_start(&pub, f->fd, 4096, 1, true), 0);
	assert_int_equal(f->page->tick, 1001);
	ivshmd_publish_stop(&pub);

	/* Never 0: from UINT32_MAX it wraps to 1. */
	f->page->tick = UINT32_MAX - 1;
	assert_int_equal(ivshmd_publish_start(&pub, f->fd, 4096, 1, true), 0);
	assert_int_equal(f->page->tick, UINT32_MAX);
	ivshmd_publish_tick(&pub);
	assert_int_equal(f->page->tick, 1);
	ivshmd_publish_stop(&pub);
}

/*
 * A restart keeps the table it finds until its peers are restored: a table
 * without them, even for a moment, tells every peer that the others are gone
 * for good (proxies reset their connections: 077 in CI). A peer that was not
 * restored is gone once the table is released.
 */
static void restart_holds_the_table_until_the_peers_are_back(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_publish pub;

	assert_int_equal(ivshmd_publish_start(&pub, f->fd, 4096, 1, false), 0);
	ivshmd_publish_set(&pub, 0, true);
	ivshmd_publish_set(&pub, 1, true);
	ivshmd_publish_set(&pub, 2, true);
	assert_int_equal(f->page->live[0], 7u);
	/* Killed: nothing withdrawn. The new server restores peers 0 and 1 one by one. */
	assert_int_equal(ivshmd_publish_start(&pub, f->fd, 4096, 1, true), 0);
	assert_int_equal(f->page->live[0], 7u);
	assert_int_equal(f->page->magic, IVSHM_SHM_SERVER_MAGIC);
	ivshmd_publish_set(&pub, 0, true);
	assert_int_equal(f->page->live[0], 7u);
	ivshmd_publish_set(&pub, 1, true);
	assert_int_equal(f->page->seq % 2, 0);
	ivshmd_publish_release(&pub);
	assert_int_equal(f->page->live[0], 3u);
	assert_int_equal(f->page->seq % 2, 0);
	/* From now on every change shows at once. */
	ivshmd_publish_set(&pub, 1, false);
	assert_int_equal(f->page->live[0], 1u);
	ivshmd_publish_stop(&pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(page_ticks_and_is_withdrawn, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_goes_on_from_the_tick_found, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_holds_the_table_until_the_peers_are_back, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
