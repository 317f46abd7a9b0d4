// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The peer directory of contracts/ivshm-shm.h: a region header every peer
 * can write identically, and slots a peer claims by compare-and-swap and then
 * alone writes. Readers copy a slot whole between two loads of its sequence
 * word, then check the copy; they never follow a number they have not checked.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include "barrier.h"
#include "clock.h"
#include "internal.h"
#include "seqlock.h"

#define MAX_HB_PERIOD_MS 60000
/* How long a claim watches a full directory for a dead holder, and how often. */
#define CLAIM_WAIT_MS (IVSHM_DEAD_PERIODS * IVSHM_HEARTBEAT_MS + 500)
#define CLAIM_POLL_MS 50

static struct ivshm_shm_header *header(const struct ivshm_region *r)
{
	return (struct ivshm_shm_header *)r->base;
}

struct ivshm_shm_slot *ivshm__slot_at(const struct ivshm_region *r, unsigned int i)
{
	return (struct ivshm_shm_slot *)(r->base + r->l.dir_off + (size_t)i * IVSHM_SHM_SLOT_SIZE);
}

char *ivshm__arena_at(const struct ivshm_region *r, unsigned int i)
{
	return r->base + r->l.arena_off + (size_t)i * r->l.arena_size;
}

int ivshm__region_init(struct ivshm_region *r, void *base, size_t size, int self_id)
{
	memset(r, 0, sizeof(*r));
	r->slot = -1;
	r->self_id = self_id;
	if (!base || ivshm_shm_layout(size, &r->l))
		return -EMSGSIZE;
	r->base = base;
	r->size = size;
	return 0;
}

/*
 * Write the header if nobody has, else compare it with ours field by field.
 * Returns 0, -EPROTONOSUPPORT (another major) or -EUCLEAN (anything else differs).
 */
int ivshm__attach(struct ivshm_region *r)
{
	struct ivshm_shm_header want = {
		.magic = IVSHM_SHM_MAGIC,
		.major = IVSHM_SHM_MAJOR,
		.minor = IVSHM_SHM_MINOR,
		.hdr_size = sizeof(struct ivshm_shm_header),
		.slot_size = IVSHM_SHM_SLOT_SIZE,
		.region_size = r->l.region_size,
		.dir_off = r->l.dir_off,
		.arena_off = r->l.arena_off,
		.arena_size = r->l.arena_size,
		.dir_slots = r->l.dir_slots,
	}, got;
	struct ivshm_shm_header *h = header(r);

	if (r->attached)
		return 0;
	if (ivshm_load_acquire(&h->magic) == 0) {
		memcpy((char *)h + sizeof(h->magic), (char *)&want + sizeof(want.magic),
		       sizeof(want) - sizeof(want.magic));
		/* Fields before the magic: a reader that sees the magic sees them. */
		ivshm_store_release(&h->magic, IVSHM_SHM_MAGIC);
	}
	memcpy(&got, h, sizeof(got));
	ivshm_fence_acquire();
	if (got.magic != IVSHM_SHM_MAGIC) {
		ivshm__log(LOG_ERR, "shared memory header magic %#x is not libivshm's", got.magic);
		return -EUCLEAN;
	}
	if (got.major != IVSHM_SHM_MAJOR) {
		ivshm__log(LOG_ERR, "shared memory layout %u.%u, libivshm speaks %u.x", got.major,
			   got.minor, IVSHM_SHM_MAJOR);
		return -EPROTONOSUPPORT;
	}
	/* A newer minor may only add after hdr_size; the fields we know must agree. */
	if (got.hdr_size < sizeof(got) || got.slot_size != want.slot_size ||
	    got.region_size != want.region_size || got.dir_off != want.dir_off ||
	    got.arena_off != want.arena_off || got.arena_size != want.arena_size ||
	    got.dir_slots != want.dir_slots) {
		ivshm__log(LOG_ERR, "shared memory header describes %llu bytes in %u slots, "
			   "this region has %llu bytes and %u slots",
			   (unsigned long long)got.region_size, got.dir_slots,
			   (unsigned long long)want.region_size, want.dir_slots);
		return -EUCLEAN;
	}
	r->attached = 1;
	return 0;
}

int ivshm__role_ok(const char *role)
{
	size_t i;

	if (!role) {
		ivshm__log(LOG_DEBUG, "no role given");
		return 0;
	}
	for (i = 0; i < IVSHM_SHM_ROLE_MAX; i++) {
		if (role[i] == '\0') {
			if (i > 0)
				return 1;
			ivshm__log(LOG_DEBUG, "an empty role");
			return 0;
		}
		if (role[i] < 0x21 || role[i] > 0x7e) {
			ivshm__log(LOG_DEBUG, "role byte %zu is %#x: only printable ASCII without "
				   "blanks", i, (unsigned char)role[i]);
			return 0;
		}
	}
	ivshm__log(LOG_DEBUG, "a role of %u bytes or more: at most %u", IVSHM_SHM_ROLE_MAX,
		   IVSHM_SHM_ROLE_MAX - 1);
	return 0;
}

/* A role copied from shared memory: the same rule, without a log line per look. */
static int role_fits(const char *role)
{
	size_t i;

	for (i = 0; i < IVSHM_SHM_ROLE_MAX; i++) {
		if (role[i] == '\0')
			return i > 0;
		if (role[i] < 0x21 || role[i] > 0x7e)
			return 0;
	}
	return 0;
}

/*
 * Check a copied slot. Returns 0 (never claimed, or a well-formed
 * publication) or -EUCLEAN with the reason logged once per publication.
 */
static int slot_check(struct ivshm_region *r, unsigned int i, const struct ivshm_shm_slot *s)
{
	uint32_t owner = (uint32_t)s->owner;
	const char *why = NULL;

	if (s->state == IVSHM_SHM_SLOT_FREE)
		return 0;
	if (s->state > IVSHM_SHM_SLOT_GONE)
		why = "unknown state";
	else if (owner == 0 || IVSHM_SHM_OWNER_ID(owner) > IVSHMEM_MAX_PEER_ID)
		why = "owner out of range";
	else if (s->vector >= UIO_IVSHMEM_MAX_VECTORS)
		why = "vector out of range";
	else if (!role_fits(s->role))
		why = "role not printable or not terminated";
	else if (s->hb_period_ms == 0 || s->hb_period_ms > MAX_HB_PERIOD_MS)
		why = "heartbeat period out of range";
	if (!why)
		return 0;
	if (!r->watch[i].bad_logged || r->watch[i].bad_seq != s->seq)
		ivshm__log(LOG_ERR, "directory slot %u (owner %#llx): %s", i,
			   (unsigned long long)s->owner, why);
	r->watch[i].bad_logged = 1;
	r->watch[i].bad_seq = s->seq;
	return -EUCLEAN;
}

int ivshm__read_slot(struct ivshm_region *r, unsigned int i, struct ivshm_peer *p,
		     enum ivshm_life *life)
{
	struct ivshm_shm_slot s;
	enum ivshm_life l;
	int err;

	err = ivshm_seq_read(ivshm__slot_at(r, i), &s, sizeof(s));
	if (!err)
		err = slot_check(r, i, &s);
	if (err)
		return err;
	if (s.state == IVSHM_SHM_SLOT_FREE)
		return -ENOENT;
	memset(p, 0, sizeof(*p));
	p->id = IVSHM_SHM_OWNER_ID(s.owner);
	p->vector = s.vector;
	p->generation = s.seq / 2;
	p->user = s.user;
	p->epoch = s.epoch;
	memcpy(p->role, s.role, sizeof(s.role));
	if (s.state == IVSHM_SHM_SLOT_GONE) {
		p->state = IVSHM_PEER_GONE;
		l = IVSHM_LIFE_DEAD;
	} else {
		l = ivshm__owner_life(r, i, s.owner, s.epoch, s.hb_period_ms);
		/* Those who cannot wait see a first look as live (the header says so). */
		p->state = l == IVSHM_LIFE_DEAD ? IVSHM_PEER_DEAD : IVSHM_PEER_LIVE;
	}
	if (life)
		*life = l;
	return 0;
}

/*
 * Whether slot @i, whose owner word we saw as @owner, is free for us: never
 * claimed, ours from an earlier incarnation, left, dead, or corrupt (whoever
 * broke it cannot be trusted to hold it). A slot claimed but not yet
 * published, or whose owner died while rewriting it (its sequence word stays
 * odd), is judged by its owner's heartbeat line and the server, not by what
 * line 0 still says of the previous owner. Returns a rank: 0 not free, then 1
 * dead or corrupt, 2 left, 3 never used, 4 our own ID's.
 */
static int free_rank(struct ivshm_region *r, unsigned int i, uint64_t owner)
{
	enum ivshm_life life;
	struct ivshm_peer p;
	int err;

	if ((uint32_t)owner == 0)
		return 3;
	if (IVSHM_SHM_OWNER_ID(owner) == (uint32_t)r->self_id)
		return 4;
	if (owner & IVSHM_SHM_OWNER_LEFT)
		return 2;
	err = ivshm__read_slot(r, i, &p, &life);
	if (err == -EUCLEAN)
		return 1;
	if (err == -EAGAIN || err == -ENOENT || (!err && p.state == IVSHM_PEER_GONE)) {
		life = ivshm__claimer_life(r, i, owner);
		if (life == IVSHM_LIFE_DEAD && err == -EAGAIN)
			ivshm__log(LOG_DEBUG, "directory slot %u: its owner %u died mid-write", i,
				   IVSHM_SHM_OWNER_ID(owner));
		return life == IVSHM_LIFE_DEAD ? 1 : 0;
	}
	if (err)
		return 0;
	return life == IVSHM_LIFE_DEAD ? 1 : 0;
}

/* Bump the heartbeat of the slot we hold, with the server's tick: readers see us alive. */
static void beat(struct ivshm_region *r)
{
	struct ivshm_shm_slot *s = ivshm__slot_at(r, (unsigned int)r->slot);

	r->heartbeat++;
	/* The tick first: a reader that sees the new beat compares it with this tick. */
	ivshm_store_release(&s->hb_tick, ivshm__server_tick(r));
	ivshm_store_release(&s->heartbeat, r->heartbeat);
}

/*
 * Take a slot by compare-and-swap from what we saw: our own ID's (a restart
 * keeps its place), else one never used, else one whose owner left, and only
 * then one whose owner is dead (a peer that merely paused keeps its slot as
 * long as there is other room). With every slot held, watch the holders
 * until @deadline_ms: one may turn out dead. Resets the channel table and
 * our bookkeeping of it: what the previous owner left there is void.
 * Returns 0 or -ENOSPC.
 */
static int claim(struct ivshm_region *r, int64_t deadline_ms)
{
	struct ivshm_shm_slot *s;
	uint64_t seen, mine;
	unsigned int i, best_i = 0;
	int rank, best;

	for (;;) {
		best = 0;
		for (i = 0; i < r->l.dir_slots; i++) {
			seen = ivshm_load_acquire(&ivshm__slot_at(r, i)->owner);
			rank = free_rank(r, i, seen);
			if (rank > best) {
				best = rank;
				best_i = i;
			}
		}
		if (best) {
			s = ivshm__slot_at(r, best_i);
			seen = ivshm_load_acquire(&s->owner);
			/* Judged on what we saw; a claim between then and now makes the CAS fail. */
			mine = (uint64_t)((IVSHM_SHM_OWNER_CLAIMS(seen) + 1) & 0x7fffffffu) << 32 |
			       ((uint64_t)r->self_id + 1);
			if (free_rank(r, best_i, seen) == best && ivshm_cas(&s->owner, &seen, mine))
				break;
		}
		if (ivshm_clock_ms() >= deadline_ms) {
			ivshm__log(LOG_DEBUG, "all %u directory slots are held by live peers",
				   r->l.dir_slots);
			return -ENOSPC;
		}
		if (!best) {
			int64_t left = deadline_ms - ivshm_clock_ms();

			ivshm_clock_sleep_ms(left < CLAIM_POLL_MS ? (unsigned int)left : CLAIM_POLL_MS);
		}
	}
	r->slot = (int)best_i;
	r->owner = mine;
	r->lost = 0;
	r->claim_gen++;
	r->seq = ivshm_load_relaxed(&s->seq) & ~1u;
	if (getrandom(&r->epoch, sizeof(r->epoch), GRND_NONBLOCK) != sizeof(r->epoch))
		r->epoch = (uint64_t)ivshm_clock_ns() ^ mine;
	/* Alive from the claim on: a claimed slot is not free while its claimer beats. */
	r->heartbeat = ivshm_load_relaxed(&s->heartbeat);
	beat(r);
	r->hb_next_ms = ivshm_clock_ms() + IVSHM_HEARTBEAT_MS;
	memset(ivshm__arena_at(r, best_i) + IVSHM_SHM_CHAN_OFF, 0,
	       IVSHM_SHM_MAX_CHANS * IVSHM_SHM_CHAN_SIZE);
	/* A new arena: no entry, half or heap byte of an earlier claim survives. */
	memset(r->ends, 0, sizeof(r->ends));
	r->heap_next = IVSHM_SHM_HEAP_OFF;
	return 0;
}

/* The claim is gone: its channels and publication end here (-ENOTCONN from now on). */
static void lose(struct ivshm_region *r)
{
	r->slot = -1;
	r->published = 0;
	r->claim_gen++;
	memset(r->ends, 0, sizeof(r->ends));
}

int ivshm__still_ours(struct ivshm_region *r)
{
	if (r->slot < 0)
		return 0;
	if (ivshm_load_acquire(&ivshm__slot_at(r, (unsigned int)r->slot)->owner) == r->owner)
		return 1;
	ivshm__log(LOG_ERR, "directory slot %d was taken over: this peer looked dead", r->slot);
	r->lost = 1;
	lose(r);
	return 0;
}

int ivshm__claim(struct ivshm_region *r, int64_t deadline_ms)
{
	int err;

	if (r->self_id < 0) {
		ivshm__log(LOG_DEBUG, "a device without peer ID (ivshmem-plain) has no directory slot");
		return -ENOTSUP;
	}
	err = ivshm__attach(r);
	if (err)
		return err;
	if (ivshm__still_ours(r))
		return 0;
	return claim(r, deadline_ms);
}

/*
 * Rewrite our slot's line 0 under the seqlock. The owner word in it is the
 * claim's: not ours to rewrite, so the copy skips it.
 */
static void slot_write(struct ivshm_region *r, uint32_t state, const char *role,
		       unsigned int vector, uint64_t user)
{
	struct ivshm_shm_slot *s = ivshm__slot_at(r, (unsigned int)r->slot);
	struct ivshm_shm_slot val = {
		.state = state,
		.vector = vector,
		.hb_period_ms = IVSHM_HEARTBEAT_MS,
		.epoch = r->epoch,
		.user = user,
	};
	const size_t before = offsetof(struct ivshm_shm_slot, owner);
	const size_t after = offsetof(struct ivshm_shm_slot, epoch);

	memcpy(val.role, role, sizeof(val.role));
	ivshm_seq_write_begin(&s->seq, &r->seq);
	memcpy((char *)s + sizeof(s->seq), (char *)&val + sizeof(val.seq), before - sizeof(val.seq));
	memcpy((char *)s + after, (char *)&val + after,
	       offsetof(struct ivshm_shm_slot, heartbeat) - after);
	ivshm_seq_write_end(&s->seq, &r->seq);
}

int ivshm__publish(struct ivshm_region *r, const char *role, unsigned int vector, uint64_t user)
{
	char name[IVSHM_SHM_ROLE_MAX] = "";
	int err;

	if (r->self_id < 0) {
		ivshm__log(LOG_DEBUG, "a device without peer ID (ivshmem-plain) cannot publish");
		return -ENOTSUP;
	}
	if (!ivshm__role_ok(role))
		return -EINVAL;
	if (vector >= UIO_IVSHMEM_MAX_VECTORS) {
		ivshm__log(LOG_DEBUG, "vector %u: a device has at most %u", vector,
			   UIO_IVSHMEM_MAX_VECTORS);
		return -EINVAL;
	}
	strcpy(name, role);
	err = ivshm__claim(r, ivshm_clock_ms() + CLAIM_WAIT_MS);
	if (err)
		return err;
	r->published = 1;
	memcpy(r->role, name, sizeof(name));
	r->vector = vector;
	ivshm__heartbeat(r, 1);
	slot_write(r, IVSHM_SHM_SLOT_LIVE, name, vector, user);
	return 0;
}

int ivshm__unpublish(struct ivshm_region *r)
{
	if (!r->published) {
		ivshm__log(LOG_DEBUG, "this peer is not published");
		return -ENOENT;
	}
	if (ivshm__still_ours(r)) {
		struct ivshm_shm_slot *s = ivshm__slot_at(r, (unsigned int)r->slot);
		uint64_t mine = r->owner;

		slot_write(r, IVSHM_SHM_SLOT_GONE, r->role, r->vector, 0);
		/* GONE first, then free to claim: a claimer never sees our live publication. */
		ivshm_cas(&s->owner, &mine, mine | IVSHM_SHM_OWNER_LEFT);
	}
	/* The slot is free for others now: ours to claim again, not to write. */
	lose(r);
	return 0;
}

int ivshm__heartbeat(struct ivshm_region *r, int force)
{
	int64_t now;

	if (r->lost)
		return -ENOTCONN;
	if (r->slot < 0)
		return 0;
	now = ivshm_clock_ms();
	if (!force && now < r->hb_next_ms)
		return 0;
	r->hb_next_ms = now + IVSHM_HEARTBEAT_MS;
	if (!ivshm__still_ours(r))
		return -ENOTCONN;
	beat(r);
	return 0;
}

int ivshm__heartbeat_due_ms(const struct ivshm_region *r)
{
	int64_t left;

	if (r->slot < 0)
		return -1;
	left = r->hb_next_ms - ivshm_clock_ms();
	return left < 0 ? 0 : (int)left;
}

int ivshm__lookup(struct ivshm_region *r, unsigned int id, struct ivshm_peer *p,
		  unsigned int *slot)
{
	struct ivshm_peer got;
	unsigned int i;
	int err, found = -ENOENT;

	if (id > IVSHMEM_MAX_PEER_ID) {
		ivshm__log(LOG_DEBUG, "peer ID %u: IDs go up to %u", id, IVSHMEM_MAX_PEER_ID);
		return -EINVAL;
	}
	err = ivshm__attach(r);
	if (err)
		return err;
	/* A live publication under @id wins over what an old incarnation left behind. */
	for (i = 0; i < r->l.dir_slots; i++) {
		if ((uint32_t)ivshm_load_relaxed(&ivshm__slot_at(r, i)->owner) != id + 1)
			continue;
		err = ivshm__read_slot(r, i, &got, NULL);
		if (err) {
			if (found == -ENOENT && err != -ENOENT)
				found = err;
			continue;
		}
		if (got.id != id || (found == 0 && got.state != IVSHM_PEER_LIVE))
			continue;
		*p = got;
		if (slot)
			*slot = i;
		found = 0;
		if (got.state == IVSHM_PEER_LIVE)
			break;
	}
	return found;
}

int ivshm__list_peers(struct ivshm_region *r, struct ivshm_peer *peers, unsigned int max,
		      unsigned int *n)
{
	struct ivshm_peer p;
	unsigned int i, found = 0;
	int err;

	err = ivshm__attach(r);
	if (err)
		return err;
	for (i = 0; i < r->l.dir_slots; i++) {
		if (ivshm__read_slot(r, i, &p, NULL))
			continue;
		if (found < max)
			peers[found] = p;
		found++;
	}
	*n = found;
	return found > max ? -ENOSPC : 0;
}

int ivshm__find_once(struct ivshm_region *r, const char *role, struct ivshm_peer *p)
{
	enum ivshm_life life;
	struct ivshm_peer got;
	unsigned int i;
	int err, unsure = 0;

	err = ivshm__attach(r);
	if (err)
		return err;
	/* A corrupt or busy slot is skipped: one bad peer must not hide the others. */
	for (i = 0; i < r->l.dir_slots; i++) {
		if (ivshm__read_slot(r, i, &got, &life))
			continue;
		/* Our own publication is not a peer, nor anything claiming our ID. */
		if (r->self_id >= 0 && got.id == (unsigned int)r->self_id)
			continue;
		if (got.state != IVSHM_PEER_LIVE || strncmp(got.role, role, sizeof(got.role)) != 0)
			continue;
		if (life == IVSHM_LIFE_UNSURE) {
			unsure = 1;
			continue;
		}
		*p = got;
		return 0;
	}
	return unsure ? -EAGAIN : -ENOENT;
}

int ivshm__user_area(struct ivshm_region *r, unsigned int id, void **addr, size_t *size)
{
	struct ivshm_peer p;
	unsigned int slot;
	int err;

	if (r->self_id >= 0 && id == (unsigned int)r->self_id) {
		err = ivshm__claim(r, ivshm_clock_ms() + CLAIM_WAIT_MS);
		if (err)
			return err;
		slot = (unsigned int)r->slot;
	} else {
		err = ivshm__lookup(r, id, &p, &slot);
		if (err)
			return err;
	}
	*addr = ivshm__arena_at(r, slot);
	*size = IVSHM_SHM_USER_SIZE;
	return 0;
}
