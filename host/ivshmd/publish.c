// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "publish.h"

/*
 * Readers copy the page between two loads of seq and keep the copy only if
 * both are the same even value (directory.c server_says()).
 */
static void write_page(struct ivshmd_publish *pub, uint32_t magic)
{
	struct ivshm_shm_server *sp = pub->page;

	pub->seq |= 1;
	__atomic_store_n(&sp->seq, pub->seq, __ATOMIC_RELAXED);
	/* The odd seq before any field changes. */
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(&sp->magic, magic, __ATOMIC_RELAXED);
	__atomic_store_n(&sp->nr_ids, (uint32_t)IVSHM_SHM_SERVER_IDS, __ATOMIC_RELAXED);
	__atomic_store_n(&sp->reserved, 0u, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < IVSHM_SHM_SERVER_IDS / 32; i++)
		__atomic_store_n(&sp->live[i], pub->live[i], __ATOMIC_RELAXED);
	/* Every field before the even seq. */
	pub->seq++;
	__atomic_store_n(&sp->seq, pub->seq, __ATOMIC_RELEASE);
}

int ivshmd_publish_start(struct ivshmd_publish *pub, int fd, uint64_t page)
{
	void *p;

	*pub = (struct ivshmd_publish){ 0 };
	if (page < IVSHM_SHM_SERVER_OFF + sizeof(struct ivshm_shm_server))
		page = IVSHM_SHM_PAGE;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		ivshmd_log(LOG_ERR, "--publish-peers: mapping the shared memory: %s", strerror(errno));
		return err;
	}
	pub->map = p;
	pub->map_len = page;
	pub->page = (struct ivshm_shm_server *)((char *)p + IVSHM_SHM_SERVER_OFF);
	write_page(pub, IVSHM_SHM_SERVER_MAGIC);
	return 0;
}

void ivshmd_publish_set(struct ivshmd_publish *pub, unsigned id, bool live)
{
	uint32_t bit = UINT32_C(1) << (id % 32);

	if (!pub->page || id >= IVSHM_SHM_SERVER_IDS)
		return;
	if (live)
		pub->live[id / 32] |= bit;
	else
		pub->live[id / 32] &= ~bit;
	write_page(pub, IVSHM_SHM_SERVER_MAGIC);
}

void ivshmd_publish_stop(struct ivshmd_publish *pub)
{
	if (!pub->page)
		return;
	memset(pub->live, 0, sizeof(pub->live));
	write_page(pub, 0);
	munmap(pub->map, pub->map_len);
	*pub = (struct ivshmd_publish){ 0 };
}
