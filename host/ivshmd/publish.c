// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "publish.h"
#include "seqlock.h"

/* The whole page under its seqlock (common/seqlock.h), from ivshmd's own copy. */
static void write_page(struct ivshmd_publish *pub, uint32_t magic)
{
	struct ivshm_shm_server *sp = pub->page;

	ivshm_seq_write_begin(&sp->seq, &pub->seq);
	ivshm_store_relaxed(&sp->magic, magic);
	ivshm_store_relaxed(&sp->nr_ids, (uint32_t)IVSHM_SHM_SERVER_IDS);
	ivshm_store_relaxed(&sp->vectors, magic ? pub->vectors : 0u);
	for (unsigned i = 0; i < IVSHM_SHM_SERVER_IDS / 32; i++)
		ivshm_store_relaxed(&sp->live[i], pub->live[i]);
	ivshm_seq_write_end(&sp->seq, &pub->seq);
}

int ivshmd_publish_start(struct ivshmd_publish *pub, int fd, uint64_t page, unsigned vectors,
			 bool restart)
{
	void *p;

	*pub = (struct ivshmd_publish){ .vectors = vectors };
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
	/* A supervised restart keeps the memory: peers' hb_tick values stay comparable. */
	pub->tick = ivshm_load_relaxed(&pub->page->tick);
	pub->seq = ivshm_load_relaxed(&pub->page->seq) & ~1u;
	pub->held = restart;
	if (!restart)
		write_page(pub, IVSHM_SHM_SERVER_MAGIC);
	ivshmd_publish_tick(pub);
	ivshm_store_release(&pub->page->tick_ms, (uint32_t)IVSHM_SHM_TICK_MS);
	return 0;
}

void ivshmd_publish_tick(struct ivshmd_publish *pub)
{
	if (!pub->page)
		return;
	pub->tick++;
	if (!pub->tick)
		pub->tick = 1;
	ivshm_store_release(&pub->page->tick, pub->tick);
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
	if (!pub->held)
		write_page(pub, IVSHM_SHM_SERVER_MAGIC);
}

void ivshmd_publish_release(struct ivshmd_publish *pub)
{
	if (!pub->page || !pub->held)
		return;
	pub->held = false;
	write_page(pub, IVSHM_SHM_SERVER_MAGIC);
}

void ivshmd_publish_stop(struct ivshmd_publish *pub)
{
	if (!pub->page)
		return;
	memset(pub->live, 0, sizeof(pub->live));
	ivshm_store_release(&pub->page->tick_ms, 0u);
	write_page(pub, 0);
	munmap(pub->map, pub->map_len);
	*pub = (struct ivshmd_publish){ 0 };
}
