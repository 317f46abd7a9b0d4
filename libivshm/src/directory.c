// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The peer directory of contracts/ivshm-shm.h: a region header every peer
 * can write identically, and slots a peer claims by compare-and-swap and then
 * alone writes. Readers copy a slot whole between two loads of its sequence
 * word, then check the copy; they never follow a number they have not checked.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include "clock.h"
#include "internal.h"

/* A slot rewritten this many times while we copy it is not worth waiting for. */
#define SEQ_RETRIES 64
/* A LIVE slot whose heartbeat stood still this many periods belongs to a dead peer. */
#define DEAD_PERIODS 4
#define MAX_HB_PERIOD_MS 60000
/* How long a claim watches a full directory for a dead holder, and how often. */
#define CLAIM_WAIT_MS (DEAD_PERIODS * IVSHM_HEARTBEAT_MS + 500)
#define CLAIM_POLL_MS 50

#define LOAD32(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE32(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static struct ivshm_shm_header *header(const struct ivshm_region *r)
{
	return (struct ivshm_shm_header *)r->base;
}

static struct ivshm_shm_slot *slot_at(const struct ivshm_region *r, unsigned int i)
{
	return (struct ivshm_shm_slot *)(r->base + r->l.dir_off + (size_t)i * IVSHM_SHM_SLOT_SIZE);
}

char *ivshm__arena_at(const struct ivshm_region *r, unsigned int i)
{
	return r->base + r->l.arena_off + (size_t)i * r->l.arena_size;
}

static const struct ivshm_shm_server *server_page(const struct ivshm_region *r)
{
	return (const struct ivshm_shm_server *)(r->base + IVSHM_SHM_SERVER_OFF);
}

int ivshm__region_init(struct ivshm_region *r, void *base, size_t size, int self_id)
{
	memset(r, 0, sizeof(*r));
	r->slot = -1;
	if (!base)
		return -EMSGSIZE;	/* not mapped yet: ivshm__dev_set_memory() follows */
	if (ivshm_shm_layout(size, &r->l)) {
		ivshm__log(LOG_DEBUG, "shared memory of %zu bytes is below the %u the directory needs",
			   size, IVSHM_SHM_MIN_SIZE);
		return -EMSGSIZE;
	}
	r->base = base;
	r->size = size;
	r->self_id = self_id;
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
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == 0) {
		memcpy((char *)h + sizeof(h->magic), (char *)&want + sizeof(want.magic),
		       sizeof(want) - sizeof(want.magic));
		/* Fields before the magic: a reader that sees the magic sees them. */
		__atomic_store_n(&h->magic, IVSHM_SHM_MAGIC, __ATOMIC_RELEASE);
	}
	memcpy(&got, h, sizeof(got));
	atomic_thread_fence(memory_order_acquire);
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

int ivshm__seq_copy(const void *shared, void *out, size_t len)
{
	const uint32_t *seqp = shared;
	uint32_t seq;
	int tries;

	for (tries = 0; tries < SEQ_RETRIES; tries++) {
		seq = __atomic_load_n(seqp, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		memcpy(out, shared, len);
		/* The copy's loads complete before the second load of seq. */
		atomic_thread_fence(memory_order_acquire);
		if (LOAD32(seqp) == seq) {
			memcpy(out, &seq, sizeof(seq));
			return 0;
		}
	}
	return -EAGAIN;
}

void ivshm__seq_write(void *shared, const void *val, size_t len, uint32_t *seq)
{
	uint32_t *seqp = shared;

	*seq |= 1;
	STORE32(seqp, *seq);
	/* Readers see the odd word before any field changes. */
	atomic_thread_fence(memory_order_release);
	memcpy((char *)shared + sizeof(*seqp), (const char *)val + sizeof(*seqp), len - sizeof(*seqp));
	/* Every field before the even word: a copy between two equal words has them all. */
	(*seq)++;
	__atomic_store_n(seqp, *seq, __ATOMIC_RELEASE);
}

static int slot_copy(const struct ivshm_region *r, unsigned int i, struct ivshm_shm_slot *out)
{
	return ivshm__seq_copy(slot_at(r, i), out, sizeof(*out));
}

int ivshm__role_ok(const char *role, size_t max)
{
	size_t i;

	for (i = 0; i < max; i++) {
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
	else if (!ivshm__role_ok(s->role, sizeof(s->role)))
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

/* The doorbell server's word on whether @id is connected: 1, 0, or -1 (no word). */
static int server_says(const struct ivshm_region *r, unsigned int id)
{
	const struct ivshm_shm_server *sp = server_page(r);
	uint32_t seq, word;

	if (LOAD32(&sp->magic) != IVSHM_SHM_SERVER_MAGIC || LOAD32(&sp->nr_ids) != IVSHM_SHM_SERVER_IDS ||
	    id >= IVSHM_SHM_SERVER_IDS)
		return -1;
	seq = __atomic_load_n(&sp->seq, __ATOMIC_ACQUIRE);
	word = LOAD32(&sp->live[id / 32]);
	atomic_thread_fence(memory_order_acquire);
	if ((seq & 1) || LOAD32(&sp->seq) != seq)
		return -1;
	return !!(word & (UINT32_C(1) << (id % 32)));
}

/*
 * Whether the LIVE publication @s in slot @i still has a running owner: the
 * server's table when it keeps one, else a heartbeat that moved within
 * DEAD_PERIODS of its period, as seen on our clock (peers share no clock).
 */
static int owner_alive(struct ivshm_region *r, unsigned int i, const struct ivshm_shm_slot *s)
{
	struct ivshm_watch *w = &r->watch[i];
	int64_t now = ivshm_clock_ms();
	uint64_t hb = __atomic_load_n(&slot_at(r, i)->heartbeat, __ATOMIC_RELAXED);
	int server;

	server = server_says(r, IVSHM_SHM_OWNER_ID(s->owner));
	if (server == 0)
		return 0;
	if (!w->seen || w->epoch != s->epoch || w->heartbeat != hb) {
		w->seen = 1;
		w->epoch = s->epoch;
		w->heartbeat = hb;
		w->since_ms = now;
		return 1;
	}
	return server == 1 || now - w->since_ms <= (int64_t)s->hb_period_ms * DEAD_PERIODS;
}

/*
 * The publication in slot @i as a peer. Returns 0, -ENOENT (never
 * published), -EAGAIN (rewritten under us), -EUCLEAN (corrupt).
 */
int ivshm__read_slot(struct ivshm_region *r, unsigned int i, struct ivshm_peer *p)
{
	struct ivshm_shm_slot s;
	int err;

	err = slot_copy(r, i, &s);
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
	if (s.state == IVSHM_SHM_SLOT_GONE)
		p->state = IVSHM_PEER_GONE;
	else
		p->state = owner_alive(r, i, &s) ? IVSHM_PEER_LIVE : IVSHM_PEER_DEAD;
	return 0;
}

/* Whether slot @i can be claimed by us, given what was last seen in it. */
static int claimable(struct ivshm_region *r, unsigned int i, uint64_t owner)
{
	struct ivshm_peer p;
	int err;

	if ((uint32_t)owner == 0 || IVSHM_SHM_OWNER_ID(owner) == (uint32_t)r->self_id)
		return 1;
	err = ivshm__read_slot(r, i, &p);
	/* A corrupt slot is nobody's: whoever broke it cannot be trusted to hold it. */
	if (err == -EUCLEAN)
		return 1;
	return !err && p.state != IVSHM_PEER_LIVE;
}

/*
 * Take a slot: one whose owner is this ID (an earlier incarnation), a free
 * one, or one whose owner left or died, by compare-and-swap from what we saw.
 * Resets its channel table: what the previous owner left there is void.
 * Returns 0 or -ENOSPC.
 */
static int claim(struct ivshm_region *r)
{
	int64_t give_up = ivshm_clock_ms() + CLAIM_WAIT_MS;
	struct ivshm_shm_slot *s;
	uint64_t seen, mine;
	unsigned int i, pass;

	/*
	 * First pass: our own ID's slot, so a restart keeps its place; then any.
	 * With every slot held, watch the holders' heartbeats for a while: one
	 * may have died (a first look cannot tell).
	 */
	for (pass = 0; pass < 2 || ivshm_clock_ms() < give_up; pass++) {
		if (pass >= 2)
			ivshm_clock_sleep_ms(CLAIM_POLL_MS);
		for (i = 0; i < r->l.dir_slots; i++) {
			s = slot_at(r, i);
			seen = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
			if (pass == 0 && ((uint32_t)seen == 0 ||
					  IVSHM_SHM_OWNER_ID(seen) != (uint32_t)r->self_id))
				continue;
			if (!claimable(r, i, seen))
				continue;
			mine = ((seen >> 32) + 1) << 32 | ((uint64_t)r->self_id + 1);
			if (__atomic_compare_exchange_n(&s->owner, &seen, mine, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				goto claimed;
		}
	}
	ivshm__log(LOG_DEBUG, "all %u directory slots are held by live peers", r->l.dir_slots);
	return -ENOSPC;

claimed:
	r->slot = (int)i;
	r->owner = mine;
	r->seq = LOAD32(&s->seq) & ~1u;
	if (getrandom(&r->epoch, sizeof(r->epoch), GRND_NONBLOCK) != sizeof(r->epoch))
		r->epoch = (uint64_t)ivshm_clock_ns() ^ mine;
	memset(ivshm__arena_at(r, i) + IVSHM_SHM_CHAN_OFF, 0,
	       IVSHM_SHM_MAX_CHANS * IVSHM_SHM_CHAN_SIZE);
	r->heap_next = IVSHM_SHM_HEAP_OFF;
	return 0;
}

/* Whether our claim still stands: a peer that saw us dead may have taken the slot. */
static int still_ours(struct ivshm_region *r)
{
	if (r->slot < 0)
		return 0;
	if (__atomic_load_n(&slot_at(r, (unsigned int)r->slot)->owner, __ATOMIC_ACQUIRE) == r->owner)
		return 1;
	ivshm__log(LOG_ERR, "directory slot %d was taken over: this peer looked dead", r->slot);
	r->slot = -1;
	r->published = 0;
	return 0;
}

int ivshm__claim(struct ivshm_region *r)
{
	int err;

	if (r->self_id < 0)
		return -ENOTSUP;
	err = ivshm__attach(r);
	if (err)
		return err;
	if (still_ours(r))
		return 0;
	return claim(r);
}

/* Rewrite our slot's line 0 under the seqlock; owner (claimed) and line 1 stay. */
static void slot_write(struct ivshm_region *r, uint32_t state, const char *role,
		       unsigned int vector, uint64_t user)
{
	struct ivshm_shm_slot val = {
		.state = state,
		.vector = vector,
		.hb_period_ms = IVSHM_HEARTBEAT_MS,
		/* Whatever the word holds now: the claim is not ours to rewrite. */
		.owner = __atomic_load_n(&slot_at(r, (unsigned int)r->slot)->owner, __ATOMIC_RELAXED),
		.epoch = r->epoch,
		.user = user,
	};

	memcpy(val.role, role, sizeof(val.role));
	ivshm__seq_write(slot_at(r, (unsigned int)r->slot), &val, offsetof(struct ivshm_shm_slot, heartbeat),
			 &r->seq);
}

int ivshm__publish(struct ivshm_region *r, const char *role, unsigned int vector, uint64_t user)
{
	char name[IVSHM_SHM_ROLE_MAX] = "";
	size_t len;
	int err;

	if (r->self_id < 0)
		return -ENOTSUP;
	len = role ? strlen(role) : 0;
	if (len == 0 || len >= sizeof(name) || vector >= UIO_IVSHMEM_MAX_VECTORS)
		return -EINVAL;
	memcpy(name, role, len);
	if (!ivshm__role_ok(name, sizeof(name)))
		return -EINVAL;
	err = ivshm__claim(r);
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
	if (!r->published)
		return -ENOENT;
	if (still_ours(r))
		slot_write(r, IVSHM_SHM_SLOT_GONE, r->role, r->vector, 0);
	/* The slot is free for others now: ours to claim again, not to write. */
	r->slot = -1;
	r->published = 0;
	return 0;
}

void ivshm__heartbeat(struct ivshm_region *r, int force)
{
	int64_t now;

	if (!r->published)
		return;
	now = ivshm_clock_ms();
	if (!force && now < r->hb_next_ms)
		return;
	r->hb_next_ms = now + IVSHM_HEARTBEAT_MS;
	if (!still_ours(r))
		return;
	r->heartbeat++;
	__atomic_store_n(&slot_at(r, (unsigned int)r->slot)->heartbeat, r->heartbeat,
			 __ATOMIC_RELEASE);
}

int ivshm__heartbeat_due_ms(const struct ivshm_region *r)
{
	int64_t left;

	if (!r->published)
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

	if (id > IVSHMEM_MAX_PEER_ID)
		return -EINVAL;
	err = ivshm__attach(r);
	if (err)
		return err;
	/* A live publication under @id wins over what an old incarnation left behind. */
	for (i = 0; i < r->l.dir_slots; i++) {
		if ((uint32_t)__atomic_load_n(&slot_at(r, i)->owner, __ATOMIC_RELAXED) != id + 1)
			continue;
		err = ivshm__read_slot(r, i, &got);
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
		if (ivshm__read_slot(r, i, &p))
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
	struct ivshm_peer got;
	unsigned int i;
	int err;

	err = ivshm__attach(r);
	if (err)
		return err;
	/* A corrupt or busy slot is skipped: one bad peer must not hide the others. */
	for (i = 0; i < r->l.dir_slots; i++) {
		if (ivshm__read_slot(r, i, &got))
			continue;
		/* Our own publication is not a peer, nor anything claiming our ID. */
		if (r->self_id >= 0 && got.id == (unsigned int)r->self_id)
			continue;
		if (got.state != IVSHM_PEER_LIVE || strncmp(got.role, role, sizeof(got.role)) != 0)
			continue;
		*p = got;
		return 0;
	}
	return -ENOENT;
}

int ivshm__user_area(struct ivshm_region *r, unsigned int id, void **addr, size_t *size)
{
	struct ivshm_peer p;
	unsigned int slot;
	int err;

	if (r->self_id >= 0 && id == (unsigned int)r->self_id) {
		err = ivshm__claim(r);
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
