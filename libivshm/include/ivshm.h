/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libivshm: shared memory, doorbells, a peer directory and channels between
 * the peers of a QEMU ivshmem device: guests with the device bound to
 * uio_ivshmem, and host processes that join the doorbell server as QEMU does.
 *
 * A handle maps the device's shared memory, knows the peer's own ID, rings
 * other peers' doorbells and waits for its own interrupts, telling which
 * vectors fired. On top of it: a directory where peers publish themselves under
 * a role and find each other, and channels (messages or byte streams) between
 * two peers that survive a hostile peer.
 *
 * Conventions: every function returns 0 or a negative errno value and never
 * aborts or exits; output pointers come last; the comment of each function
 * says who owns what it hands out. A handle and its channels are for one
 * thread at a time.
 *
 * Errors: the codes are errno values with their usual libc meaning, and
 * ivshm_strerror() gives libc's text for each. A code says what kind of thing
 * went wrong (-ETIMEDOUT: the deadline passed; -EPROTO: a peer, the server or
 * the driver broke its protocol); the function's comment lists what each code
 * means for that call, and the log function (ivshm_set_log_fn(), or
 * IVSHM_DEBUG=1 in the environment) receives one line naming the check that
 * refused and the values it saw, for every refusal, -EINVAL included. A call
 * that succeeds logs nothing.
 *
 * Versions: IVSHM_VERSION_MAJOR/MINOR/MICRO are the version of this header;
 * ivshm_version() and ivshm_check_version() tell the library's at run time.
 * The shared library only grows within a major version (symbol versions
 * LIBIVSHM_1, _1.1, _1.2, ...). Structures a program passes in or gets back
 * end in reserved space: new fields take it over in later minor versions
 * (inputs must leave it zero, outputs come back with it zeroed), so a program
 * built against this header keeps working with every later 1.x library.
 */
#ifndef IVSHM_H
#define IVSHM_H

#include <stddef.h>
#include <stdint.h>

/* The driver's ABI and the device limits, and IVSHM_ROLE_MAX; installed beside this header. */
#include "ivshm-role.h"
#include "uio_ivshmem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. */
#define IVSHM_VERSION_MAJOR 1
#define IVSHM_VERSION_MINOR 2
#define IVSHM_VERSION_MICRO 0
/* True when this header is version @major.@minor or later of the same major. */
#define IVSHM_CHECK_VERSION(major, minor) \
	(IVSHM_VERSION_MAJOR == (major) && IVSHM_VERSION_MINOR >= (minor))

/*
 * ivshm_version - the running library's version.
 * @major, @minor, @micro: each may be NULL.
 */
void ivshm_version(unsigned int *major, unsigned int *minor, unsigned int *micro);

/*
 * ivshm_check_version - whether the running library provides version
 * @major.@minor (the same major, this minor or a later one), e.g.
 * ivshm_check_version(IVSHM_VERSION_MAJOR, IVSHM_VERSION_MINOR) at start-up.
 * Returns: 0, or -ENOTSUP (another major, or an older minor).
 */
int ivshm_check_version(unsigned int major, unsigned int minor);

struct ivshm_dev;

enum ivshm_mode {
	IVSHM_MODE_PLAIN = 0,	 /* ivshmem-plain: shared memory, no interrupts */
	IVSHM_MODE_DOORBELL = 1, /* ivshmem-doorbell: MSI-X vectors and a peer ID */
};

/* Highest peer ID a doorbell can address (IDs are 16 bits on the device). */
#define IVSHM_MAX_PEER_ID IVSHMEM_MAX_PEER_ID
/* Vectors a device can have; ivshm_wait() masks are 64 bits. */
#define IVSHM_MAX_VECTORS UIO_IVSHMEM_MAX_VECTORS

/*
 * ivshm_open - open an ivshmem device in a guest and map its shared memory.
 * @device: NULL or "" for the first uio_ivshmem device (lowest uioN),
 *          "/dev/uioN" or "uioN", a PCI address ("0000:00:03.0" or "00:03.0"),
 *          or any path that resolves to /dev/uioN (the udev names
 *          /dev/ivshm/by-pci/ADDR and /dev/ivshm/by-name/NAME).
 * @flags:  0 (no flag applies to guest devices yet).
 * @devp:   receives the new handle; the caller owns it and frees it with
 *          ivshm_close(). Untouched on error.
 *
 * The device's UIO name, ABI version, map names and sizes are checked in sysfs
 * before anything is mapped. Only interrupts that arrive after the open are
 * reported by ivshm_wait().
 *
 * Returns: 0;
 *   -ENODEV   no ivshmem UIO device, or the named one does not exist;
 *   -ENXIO    the named device exists but is not bound to uio_ivshmem;
 *   -EPROTO   the driver's ABI major version is not libivshm's;
 *   -EBADMSG  the driver's sysfs attributes, maps or counter page are malformed;
 *   -EINVAL   a bad argument; or the errno of a failed open()/mmap() (-EACCES, ...).
 */
int ivshm_open(const char *device, unsigned int flags, struct ivshm_dev **devp);

/* Flags of ivshm_open_server(). */
#define IVSHM_OPEN_UNSEALED (1u << 0)	/* accept memory whose size is not sealed */

/*
 * ivshm_open_server - join a doorbell server from a host process, as QEMU's
 * ivshmem-doorbell device does: the same API then reaches the guests (and
 * other host peers) on that server.
 * @socket:  the server's socket, e.g. "/run/ivshm/ivshmd.sock"
 * @vectors: the server's vector count (its -n, QEMU's vectors=N), or 0 for
 *           whatever the server has. A count that differs is refused at once.
 * @flags:   0, or IVSHM_OPEN_UNSEALED: by default memory whose size another
 *           process could change (not sealed with F_SEAL_SHRINK, as ivshmd's -M
 *           files are not) is refused, because a shrink would kill this process
 *           with SIGBUS at its next access.
 * @timeout_ms: how long the setup may take
 * @devp:    receives the new handle; the caller owns it (ivshm_close()).
 *
 * The handle has a peer ID, the shared memory and doorbells; its fd
 * (ivshm_get_fd()) is an epoll fd. It watches the server connection: if the
 * server goes away (stopped, not restarted through its supervisor, which
 * keeps the connection), the fd polls readable and every call that needs the
 * server's world returns -ENOLINK: peers that join later get other memory, so
 * this handle no longer reaches everyone.
 *
 * Returns: 0;
 *   -EINVAL     a bad argument, or @vectors differs from the server's (the log
 *               says "the server has N vectors, you asked for M");
 *   -ETIMEDOUT  the setup did not complete in @timeout_ms;
 *   -ECONNRESET the server hung up during the setup;
 *   -EPROTO     the server broke the protocol;
 *   -EPERM      the memory is not sealed against shrinking (see @flags);
 *   or the errno of socket()/connect()/mmap() (-ENOENT, -ECONNREFUSED, -EACCES, ...).
 */
int ivshm_open_server(const char *socket, unsigned int vectors, unsigned int flags,
		      int timeout_ms, struct ivshm_dev **devp);

/*
 * ivshm_open_host - ivshm_open_server(@socket, @vectors, 0, @timeout_ms, @devp);
 * kept for programs written against libivshm 1.1.
 */
int ivshm_open_host(const char *socket, unsigned int vectors, int timeout_ms,
		    struct ivshm_dev **devp);

/* ivshm_close - leave the directory, unmap and close; accepts NULL. The buffer becomes invalid. */
void ivshm_close(struct ivshm_dev *dev);

/*
 * ivshm_get_shared_buffer - the shared memory (BAR2), mapped write-back.
 * @addr: receives the start; valid until ivshm_close(). Other peers write
 *        it concurrently: treat its content as hostile input.
 * @size: receives its size in bytes (a power of two).
 * Returns: 0 or -EINVAL.
 */
int ivshm_get_shared_buffer(const struct ivshm_dev *dev, void **addr, size_t *size);

/*
 * ivshm_get_peer_id - this peer's ID (0..IVSHM_MAX_PEER_ID), assigned by the
 * doorbell server; it changes when the VM restarts.
 * Returns: 0, -ENOTSUP (ivshmem-plain: no ID), or -EINVAL.
 */
int ivshm_get_peer_id(const struct ivshm_dev *dev, unsigned int *id);

/* ivshm_get_vectors - number of MSI-X vectors in use (0 for plain). Returns: 0 or -EINVAL. */
int ivshm_get_vectors(const struct ivshm_dev *dev, unsigned int *nr);

/* ivshm_get_mode - plain or doorbell. Returns: 0 or -EINVAL. */
int ivshm_get_mode(const struct ivshm_dev *dev, enum ivshm_mode *mode);

/*
 * ivshm_get_path - what the handle was opened on: the character device
 * ("/dev/uio0") of a guest handle, the server's socket of a host handle.
 * @path: receives a string owned by @dev, valid until ivshm_close().
 * Returns: 0 or -EINVAL.
 */
int ivshm_get_path(const struct ivshm_dev *dev, const char **path);

/* ivshm_get_uio_path - ivshm_get_path(), under its libivshm 1.0 name. */
int ivshm_get_uio_path(const struct ivshm_dev *dev, const char **path);

/*
 * ivshm_get_pci_address - the PCI address, e.g. "0000:00:03.0".
 * @addr: receives a string owned by @dev, valid until ivshm_close().
 * Returns: 0, -ENOENT (a host handle, or sysfs did not tell it), or -EINVAL.
 */
int ivshm_get_pci_address(const struct ivshm_dev *dev, const char **addr);

/*
 * What this region allows, before anything is tried: derived from the size
 * of the shared memory alone, the same for every peer on it.
 */
struct ivshm_limits {
	uint64_t size;			/* bytes of shared memory */
	uint32_t max_peers;		/* directory slots: peers that can publish at once */
	uint32_t max_chans;		/* channel ends a peer can have open */
	uint64_t arena_size;		/* bytes of each peer's arena */
	uint32_t user_area;		/* bytes of each peer's user page */
	uint32_t max_ring;		/* the largest send ring one channel can have */
	uint32_t max_msg;		/* the largest packet on a channel with that ring */
	uint32_t default_ring;		/* the ring of a channel opened with ring_size 0 */
	uint32_t default_max_msg;	/* the largest packet on such a channel */
	uint32_t reserved[9];		/* zero */
};

/*
 * ivshm_get_limits - this region's limits.
 * @lim: receives them.
 * Returns: 0, -EMSGSIZE (the memory is too small for the directory: below
 * 1 MiB; only the first fields are filled then: size), or -EINVAL.
 */
int ivshm_get_limits(const struct ivshm_dev *dev, struct ivshm_limits *lim);

/*
 * ivshm_get_counter - interrupts counted by the driver on @vector since the
 * device was bound (not since the open).
 * Returns: 0, -EINVAL (vector >= vector count), or -ENOTSUP for plain.
 */
int ivshm_get_counter(const struct ivshm_dev *dev, unsigned int vector, uint64_t *count);

/*
 * ivshm_trigger - ring interrupt @vector of peer @peer (may be this peer).
 *
 * A release barrier comes first: every store to the shared buffer made before
 * the call is visible to the peer before its interrupt can fire. A doorbell to
 * an absent peer or a vector the peer lacks is dropped silently by the device,
 * and so is one to a host peer whose doorbell is already full (2^64 - 2
 * pending). It never blocks, whatever another host peer does to the shared
 * eventfds.
 *
 * Returns: 0, -ENOTSUP for plain, -ENOLINK (host handle: the server went
 * away), or -EINVAL (peer > IVSHM_MAX_PEER_ID, vector >= IVSHM_MAX_VECTORS).
 */
int ivshm_trigger(struct ivshm_dev *dev, unsigned int peer, unsigned int vector);

/*
 * ivshm_wait - wait up to @timeout_ms for interrupts of this peer.
 * @timeout_ms: 0 only checks; negative is -EINVAL (every wait has a deadline).
 * @fired:      if not NULL, receives the bitmask of vectors (bit v = vector v)
 *              that fired since the previous ivshm_wait()/ivshm_ack() (or the open).
 * @coalesced:  if not NULL, receives how many interrupts arrived beyond one per
 *              fired vector, i.e. events merged into this wake-up. None is lost:
 *              the driver counts every interrupt it receives.
 *
 * After a successful return, stores the peer made before ringing are visible.
 * Returns: 0 (at least one vector fired), -ETIMEDOUT, -ENOTSUP for plain,
 * -ENODEV (the device was unbound), -ENOLINK (host handle: the server went
 * away), -EINVAL, or the errno of a failed poll()/read().
 */
int ivshm_wait(struct ivshm_dev *dev, int timeout_ms, uint64_t *fired, uint64_t *coalesced);

/*
 * ivshm_get_fd - a file descriptor that polls readable (POLLIN/EPOLLIN) when an
 * interrupt arrives (and, for a host handle, when the server goes away); call
 * ivshm_ack() or ivshm_poll() then. Owned by @dev: do not close or read it.
 * Returns: 0, -ENOTSUP for plain, or -EINVAL.
 */
int ivshm_get_fd(const struct ivshm_dev *dev, int *fd);

/*
 * ivshm_ack - consume pending interrupts without blocking, for poll/epoll users.
 * @fired, @coalesced: as for ivshm_wait().
 * Returns: 0, -EAGAIN when no vector fired (a readable fd may still yield
 * nothing new if ivshm_wait()/ivshm_ack() already reported the event),
 * -ENOTSUP for plain, -ENODEV, -ENOLINK, or -EINVAL.
 */
int ivshm_ack(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced);

/*
 * ivshm_next_timeout - how long an event loop may sleep on the device fd
 * before it must call into libivshm again (ivshm_poll(), ivshm_heartbeat()):
 * the next heartbeat this peer owes, or the next look at a channel's peer.
 * @ms: receives the milliseconds, -1 when nothing is due (not published).
 * Returns: 0 or -EINVAL.
 */
int ivshm_next_timeout(struct ivshm_dev *dev, int *ms);

/*
 * Rendezvous: the peer directory in the shared memory.
 *
 * libivshm lays the shared memory out (contracts/ivshm-shm.h): a header, a
 * directory of slots, and one arena per slot. A peer publishes itself under a
 * role ("shm-server", "sensor-0", ...) with the vector it wants to be rung on
 * and one word for the application; others find it by role or ID. A peer
 * claims a free slot (atomically: two peers never get the same one), then it
 * alone writes the slot and its arena; everything read from another peer is
 * copied and checked first. There is one slot per 256 KiB of shared memory
 * (at least 1 MiB, -EMSGSIZE below; at most 64 slots): ivshm_get_limits().
 * One process per device publishes: they share the device's peer ID.
 *
 * Liveness. A clean exit (ivshm_unpublish(), ivshm_close()) shows at once as
 * IVSHM_PEER_GONE. A published peer bumps its heartbeat every 250 ms from any
 * libivshm call that waits, polls or beats, and from channel calls that go on
 * at once, opens and accepts included, when it is due (a peer that calls none
 * of them for longer must call ivshm_heartbeat()). It shows as IVSHM_PEER_DEAD once its
 * heartbeat stood still for a second, and at once when the doorbell server
 * says its peer ID is gone. With ivshmd (which publishes who is connected and
 * ticks a clock in the shared memory by default) this is known at the first
 * look; with QEMU's own server a reader must watch the heartbeat, so the
 * first look at a peer waits for it to move (ivshm_find_peer(),
 * ivshm_chan_open()), and ivshm_get_peer()/ivshm_list_peers(), which never
 * wait, may call a peer seen for the first time live.
 *
 * A peer that stops calling into libivshm for a second can be declared dead
 * and lose its slot to a newcomer: from then on its channels and
 * ivshm_heartbeat() return -ENOTCONN, and it must publish again.
 *
 * Guests under QEMU TCG need maxcpus >= 2: QEMU before 8.1 drops the atomics
 * and fences of single-CPU TCG guests.
 */

enum ivshm_peer_state {
	IVSHM_PEER_LIVE = 1,	/* published, owner running */
	IVSHM_PEER_GONE = 2,	/* owner left cleanly */
	IVSHM_PEER_DEAD = 3,	/* published, but its owner stopped (heartbeat or server) */
};

/* A checked copy of a peer's publication; the caller owns it. */
struct ivshm_peer {
	unsigned int id;		/* peer ID, ring it with ivshm_trigger(id, vector) */
	unsigned int vector;		/* the vector it asked to be rung on */
	enum ivshm_peer_state state;
	uint32_t generation;		/* grows with every publication of this slot */
	uint64_t epoch;			/* random per process that published */
	uint64_t user;			/* the application's word */
	char role[IVSHM_ROLE_MAX];	/* NUL-terminated, printable ASCII, no blank */
	uint32_t reserved[8];		/* zero */
};

/*
 * ivshm_publish - publish this peer under @role, to be rung on @vector, with
 * the application word @user; again to change them (the generation grows).
 * @role: 1..23 printable ASCII characters without blanks; copied.
 * With every slot held, it watches the holders for up to 1.5 s: one may turn
 * out dead (at once with ivshmd's tick).
 * Returns: 0;
 *   -EINVAL   a bad role, or @vector is not one of the device's vectors;
 *   -ENOTSUP  no peer ID (ivshmem-plain);
 *   -EMSGSIZE the memory is too small for the directory (below 1 MiB);
 *   -ENOSPC   every slot is held by a live peer;
 *   -EUCLEAN  the memory holds a foreign or corrupted layout;
 *   -EPROTONOSUPPORT  the memory uses a newer libivshm layout (another major);
 *   -ENOLINK  host handle: the server went away.
 */
int ivshm_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user);

/*
 * ivshm_unpublish - leave the directory (state GONE); this peer's channels
 * end (their peers drain, then get -EPIPE; calls here get -ENOTCONN).
 * Returns: 0, -ENOENT (not published), -EINVAL.
 */
int ivshm_unpublish(struct ivshm_dev *dev);

/*
 * ivshm_find_peer - a live peer other than this one published under @role,
 * waiting up to @timeout_ms for one to appear (0: look once). A peer it
 * returns has shown a sign of life within the last second (see Liveness).
 * @peer: receives a copy of the first one found (lowest slot).
 * Returns: 0;
 *   -EINVAL    a role ivshm_publish() would refuse, or a bad argument;
 *   -ENOENT    @timeout_ms 0 and no live peer has that role;
 *   -ETIMEDOUT none appeared in @timeout_ms;
 *   -EMSGSIZE, -EUCLEAN, -EPROTONOSUPPORT as for ivshm_publish().
 */
int ivshm_find_peer(struct ivshm_dev *dev, const char *role, int timeout_ms,
		    struct ivshm_peer *peer);

/*
 * ivshm_get_peer - the publication of peer @id (in any state); never waits.
 * Returns: 0, -ENOENT (nothing published under @id), -EAGAIN (being
 * rewritten: try again), -EUCLEAN (its slot is corrupt), -EINVAL, -EMSGSIZE.
 */
int ivshm_get_peer(struct ivshm_dev *dev, unsigned int id, struct ivshm_peer *peer);

/*
 * ivshm_list_peers - every readable publication, in slot order, this peer's too.
 * @peers: room for @max entries, filled with copies; @n receives how many exist.
 * Returns: 0, -ENOSPC (*@n > @max; the first @max are filled), -EINVAL, -EMSGSIZE.
 */
int ivshm_list_peers(struct ivshm_dev *dev, struct ivshm_peer *peers, unsigned int max,
		     unsigned int *n);

/*
 * ivshm_get_user_area - the user page of peer @id's arena: 4 KiB that the
 * library leaves to the application (this peer's own, or another's). Only the
 * owner writes it, unless the applications agree otherwise; what another
 * peer's page holds is hostile input. This peer's own page is usable before
 * ivshm_publish(), so data can be in place before others find the peer.
 * Valid until ivshm_close() (another peer's: until it leaves).
 * Returns: 0, -ENOENT (nothing published under @id), -ENOTSUP (own page of a
 * device without peer ID), -ENOSPC, -EINVAL, -EMSGSIZE, -EUCLEAN.
 */
int ivshm_get_user_area(struct ivshm_dev *dev, unsigned int id, void **addr, size_t *size);

/*
 * ivshm_heartbeat - tell readers this peer is alive; only needed by a
 * published peer that calls no waiting or polling libivshm function for a
 * second or more.
 * Returns: 0, -ENOENT (not published), -ENOTCONN (this peer looked dead and
 * a newcomer took its slot: publish again), -ENOLINK, -EINVAL.
 */
int ivshm_heartbeat(struct ivshm_dev *dev);

/*
 * Channels: messages and byte streams between two peers.
 *
 * A channel joins two published peers on a port (a number the applications
 * choose). Each end owns one single-producer ring in its own arena: it writes
 * its ring and its indices; it only reads the peer's. Indices are free-running
 * 32-bit counts, each on its own cache line; everything read from the peer is
 * loaded once and checked: an index that runs backwards or past the ring, a
 * record longer than the peer's maximum, or a peer that rewrites a channel it
 * published breaks the channel for good (-EPROTO, and the log says which
 * check). A doorbell goes out only when the other end sleeps.
 *
 * Packet channels carry whole messages of at most the sender's max_msg;
 * stream channels carry bytes and move what fits. Every call with a timeout
 * waits at most that long (0: do not wait, -EAGAIN when it would) in the
 * channel's wait mode: interrupt (sleep until the peer rings), poll (spin, no
 * doorbell ever) or hybrid (spin, then sleep; the spin adapts to the peer's
 * pace). While waiting a channel takes the device's interrupts (ivshm_wait()
 * would not see them).
 *
 * Closing: the peer of a closed end reads what was sent, then gets -EPIPE. A
 * closed end's memory is not reused while the peer's end still names it, so
 * closing and at once opening a new channel to the same peer never disturbs a
 * peer still reading the old one.
 *
 * Batches: ivshm_chan_send_batch()/ivshm_chan_recv_batch() move many small
 * messages with one index store and at most one doorbell; between
 * ivshm_chan_batch_begin() and ivshm_chan_batch_end() every call does the same
 * (zero-copy with ivshm_chan_reserve()/ivshm_chan_commit() and
 * ivshm_chan_peek()/ivshm_chan_release()).
 *
 * Event loops: put the device fd (ivshm_get_fd()) in your poll/epoll set, and
 * when it is readable, or ivshm_next_timeout() passed, call ivshm_poll(): it
 * says which channels are ready, without the program looking at each. A
 * non-blocking call (timeout 0) that returns -EAGAIN in interrupt or hybrid
 * mode asks the peer to ring, so the fd wakes the loop when it can go on.
 *
 * Errors of channel calls:
 *   -EAGAIN      timeout 0 and nothing to do;
 *   -ETIMEDOUT   the timeout passed;
 *   -EPIPE       the peer closed, and everything it sent was received;
 *   -ECONNRESET  the peer restarted: its end is another incarnation now;
 *   -EHOSTDOWN   the peer died (heartbeat, or the server says it left);
 *   -EPROTO      the peer broke the protocol; the channel is unusable;
 *   -EPROTOTYPE  the two ends disagree on the channel type;
 *   -EMSGSIZE    a message above the maximum, or a buffer too small for one;
 *   -ENOTCONN    this peer is not published, or lost its slot;
 *   -ENOLINK     host handle: the server went away;
 *   -EINVAL      a bad argument, or a call the channel's type does not have
 *                (the log says which).
 */
struct ivshm_chan;

enum ivshm_chan_type {
	IVSHM_CHAN_PACKET = 1,	/* whole messages */
	IVSHM_CHAN_STREAM = 2,	/* bytes */
};

enum ivshm_wait_mode {
	IVSHM_WAIT_INTERRUPT = 0,	/* sleep until the peer rings: no CPU while idle */
	IVSHM_WAIT_POLL = 1,		/* spin on the peer's index: lowest latency, one CPU busy */
	IVSHM_WAIT_HYBRID = 2,		/* spin spin_us (adapting), then sleep */
};

/*
 * Options of a channel end; zero-initialize and set what you need. The
 * defaults (a field left 0): a packet channel; a 256 KiB send ring, which
 * carries a 64 KiB message and of which two fit each peer's arena in
 * ivshmd's default 64 MiB region (in a smaller region, the largest power of
 * two of which two fit, at least 4 KiB); the largest message the ring can
 * carry (ring_size / 2 - 8 bytes); interrupt mode; a 50 us hybrid spin;
 * vector 0. ivshm_get_limits() tells the default ring, the largest ring and
 * the largest message this region allows.
 */
struct ivshm_chan_opts {
	enum ivshm_chan_type type;	/* both ends must agree; 0: packet */
	uint32_t ring_size;		/* this end's send ring: a power of two, 4 KiB or more */
	uint32_t max_msg;		/* packet: largest message this end sends */
	enum ivshm_wait_mode wait;
	unsigned int spin_us;		/* hybrid: the shortest spin */
	unsigned int vector;		/* the vector the peer rings for this channel */
	uint32_t flags;			/* IVSHM_CHAN_NONBLOCK */
	uint32_t reserved[9];		/* zero */
};

/*
 * Flags of struct ivshm_chan_opts. IVSHM_CHAN_NONBLOCK: ivshm_chan_open()
 * returns at once, with -EINPROGRESS and the channel in *chp when the peer
 * has not answered yet, as connect(2) does on a non-blocking socket; the
 * channel connects by itself: ivshm_poll() reports it IVSHM_CHAN_OUT once it
 * is connected (IVSHM_CHAN_ERR if it cannot be: the next call says why), and
 * until then its calls return -EAGAIN. The timeout is the caller's: close the
 * channel to give up.
 */
#define IVSHM_CHAN_NONBLOCK (1u << 0)

struct ivshm_chan_info {
	unsigned int peer;		/* the other end's peer ID */
	uint32_t port;
	enum ivshm_chan_type type;
	uint32_t tx_ring, rx_ring;	/* ring bytes: this end's, the peer's */
	uint32_t max_send, max_recv;	/* packet: largest message each way */
	uint32_t reserved[9];		/* zero */
};

struct ivshm_chan_stats {
	uint64_t sent, received;	/* messages, or calls that moved bytes */
	uint64_t bytes_sent, bytes_received;
	uint64_t doorbells;		/* doorbells this end rang */
	uint64_t sleeps;		/* times this end slept for the peer */
	uint64_t publishes;		/* index stores the peer could see (a batch is one) */
	uint64_t reserved[9];		/* zero */
};

/*
 * ivshm_chan_open - a channel to peer @peer on @port, once the peer opens or
 * accepts the same port towards this peer (up to @timeout_ms).
 * @opts: NULL for a packet channel with the defaults; copied.
 * @chp:  receives the channel; the caller owns it and frees it with
 *        ivshm_chan_close() before ivshm_close() of @dev.
 * Returns: 0;
 *   -EINPROGRESS  IVSHM_CHAN_NONBLOCK and the peer has not answered yet: *@chp
 *                 is the channel, connecting;
 *   -ETIMEDOUT    the peer did not open or accept in time;
 *   -EHOSTDOWN    the peer is dead, or died while we waited (within a second);
 *   -EHOSTUNREACH no peer with ID @peer is connected to the server (known at
 *                 once with ivshmd, a host handle, or QEMU's server and a host
 *                 handle; otherwise this waits for a publication);
 *   -EPROTOTYPE, -EPROTO, -ENOTCONN, -ENOLINK, -EINVAL (a bad option: the log
 *   says which), -ENOSPC (no room in this peer's arena or channel table).
 */
int ivshm_chan_open(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		    const struct ivshm_chan_opts *opts, int timeout_ms, struct ivshm_chan **chp);

/*
 * ivshm_chan_accept - the next channel any live peer opens towards this peer
 * on @port (up to @timeout_ms); ivshm_chan_get_info() tells which peer.
 * Returns: as ivshm_chan_open() (-ETIMEDOUT: nobody opened one).
 */
int ivshm_chan_accept(struct ivshm_dev *dev, uint32_t port, const struct ivshm_chan_opts *opts,
		      int timeout_ms, struct ivshm_chan **chp);

/* ivshm_chan_close - close this end (the peer drains, then gets -EPIPE); accepts NULL. */
void ivshm_chan_close(struct ivshm_chan *ch);

/*
 * ivshm_chan_send - send the @len bytes at @msg as one message (packet).
 * Returns: 0, -EMSGSIZE (@len above this end's max_msg), or a channel error.
 */
int ivshm_chan_send(struct ivshm_chan *ch, const void *msg, size_t len, int timeout_ms);

/*
 * ivshm_chan_recv - receive one message (packet) into @buf of @size bytes.
 * @len: receives its length; on -EMSGSIZE the length it needs (the message
 *       stays queued).
 * Returns: 0, -EMSGSIZE, or a channel error.
 */
int ivshm_chan_recv(struct ivshm_chan *ch, void *buf, size_t size, size_t *len, int timeout_ms);

/*
 * ivshm_chan_write - write up to @len bytes (stream): what fits, once at least
 * one byte does. @done receives the count. Returns: 0 or a channel error.
 */
int ivshm_chan_write(struct ivshm_chan *ch, const void *buf, size_t len, size_t *done,
		     int timeout_ms);

/*
 * ivshm_chan_read - read up to @size bytes (stream), once at least one byte is
 * there. @done receives the count. Returns: 0 or a channel error.
 */
int ivshm_chan_read(struct ivshm_chan *ch, void *buf, size_t size, size_t *done,
		    int timeout_ms);

/*
 * ivshm_chan_reserve - room for one message of up to @len bytes, in place in
 * the ring (packet): fill *@buf, then ivshm_chan_commit(). No other send on
 * @ch in between. *@buf is valid until the commit.
 * Returns: as ivshm_chan_send(), and -EBUSY when a reservation is pending.
 */
int ivshm_chan_reserve(struct ivshm_chan *ch, size_t len, void **buf, int timeout_ms);

/*
 * ivshm_chan_commit - send the first @len bytes of the reservation (0 drops it).
 * Returns: 0, -EINVAL (nothing reserved, or @len above the reservation), or
 * the channel's error if it broke meanwhile.
 */
int ivshm_chan_commit(struct ivshm_chan *ch, size_t len);

/*
 * ivshm_chan_peek - the next message (packet) or the bytes that are there
 * (stream, up to the ring's end), in place in the peer's ring, once there is
 * one (up to @timeout_ms). The peer cannot take it back, but it can scribble
 * on it: copy what must not change under you before you check it.
 * @msg: receives its start, valid until ivshm_chan_release();
 * @len: receives its length.
 * Returns: as ivshm_chan_recv(), and -EBUSY when a peeked message is not
 * released yet.
 */
int ivshm_chan_peek(struct ivshm_chan *ch, const void **msg, size_t *len, int timeout_ms);

/*
 * ivshm_chan_release - consume what ivshm_chan_peek() returned: the whole
 * message (packet: @len must be its length), or its first @len bytes (stream).
 * Returns: 0, -EINVAL (nothing peeked, or @len does not fit).
 */
int ivshm_chan_release(struct ivshm_chan *ch, size_t len);

/* One message of a batch. */
struct ivshm_msg {
	void *buf;		/* send: the message; receive: where it goes */
	size_t size;		/* receive: bytes @buf holds */
	size_t len;		/* send: the message's length; receive: the length it had */
};

/*
 * ivshm_chan_send_batch - send up to @n messages (packet) with one index
 * store and at most one doorbell: as many as fit once the first one does (up
 * to @timeout_ms for it). @sent receives how many went; a message above
 * max_msg ends the batch before it.
 * Returns: 0 (*@sent >= 1), -EMSGSIZE (the first message is above max_msg),
 * or a channel error (nothing went).
 */
int ivshm_chan_send_batch(struct ivshm_chan *ch, const struct ivshm_msg *msgs, unsigned int n,
			  unsigned int *sent, int timeout_ms);

/*
 * ivshm_chan_recv_batch - receive up to @n messages (packet) with one index
 * store and at most one doorbell: the ones that are there once one is (up to
 * @timeout_ms for it). @received receives how many; each received message's
 * len says its length. A message too big for its buffer ends the batch and
 * stays queued (its len says what it needs).
 * Returns: 0 (*@received >= 1), -EMSGSIZE (the first message needs
 * msgs[0].len bytes and stays queued), or a channel error (nothing received).
 */
int ivshm_chan_recv_batch(struct ivshm_chan *ch, struct ivshm_msg *msgs, unsigned int n,
			  unsigned int *received, int timeout_ms);

/*
 * ivshm_chan_batch_begin - from now on, sends, commits, receives and releases
 * on @ch store their index privately; the peer sees them all at
 * ivshm_chan_batch_end() (or before any wait, which publishes first so two
 * ends never wait for each other). Returns: 0 or -EINVAL.
 */
int ivshm_chan_batch_begin(struct ivshm_chan *ch);

/*
 * ivshm_chan_batch_end - publish what the batch produced and consumed: one
 * store per index, at most one doorbell each way. Returns: 0, -EINVAL, or the
 * channel's error.
 */
int ivshm_chan_batch_end(struct ivshm_chan *ch);

/* Readiness of a channel, for ivshm_poll(). */
#define IVSHM_CHAN_IN  (1u << 0)	/* a message or bytes to read, or the end (-EPIPE, ...) */
#define IVSHM_CHAN_OUT (1u << 1)	/* room for a message of max_msg (packet) or a quarter ring */
#define IVSHM_CHAN_ERR (1u << 2)	/* the channel is broken: the next call says how */
#define IVSHM_CHAN_ACCEPT (1u << 3)	/* a peer asks for a channel on a listened port */

struct ivshm_chan_event {
	struct ivshm_chan *ch;
	void *data;		/* as given to ivshm_chan_set_events() */
	uint32_t events;	/* IVSHM_CHAN_IN, _OUT, _ERR */
	uint32_t reserved;	/* zero */
};

/*
 * ivshm_chan_set_events - what ivshm_poll() should report for @ch: @events
 * (IVSHM_CHAN_IN and/or IVSHM_CHAN_OUT; 0: nothing; errors are always
 * reported) and the application's @data pointer, handed back in each event.
 * Returns: 0 or -EINVAL.
 */
int ivshm_chan_set_events(struct ivshm_chan *ch, uint32_t events, void *data);

/*
 * ivshm_poll - the channels of @dev that are ready for what they asked
 * (ivshm_chan_set_events()), and the listened ports a peer asks a channel on
 * (ivshm_listen()), without waiting: it consumes the device's interrupts,
 * beats this peer's heartbeat, connects the channels opened with
 * IVSHM_CHAN_NONBLOCK whose peer answered, and asks the peer of every channel
 * that is not ready to ring when it will be. Call it when the device fd is
 * readable or ivshm_next_timeout() passed.
 * @evs: room for @max events; @n receives how many were filled.
 * Returns: 0, -ENOLINK, -ENODEV, or -EINVAL.
 */
int ivshm_poll(struct ivshm_dev *dev, struct ivshm_chan_event *evs, unsigned int max,
	       unsigned int *n);

/*
 * ivshm_listen - have ivshm_poll() report, with an event whose ch is NULL,
 * @data as given here and events IVSHM_CHAN_ACCEPT, when a peer asks for a
 * channel to this peer on @port: call ivshm_chan_accept() with timeout 0
 * then. A port listened again takes the new @data.
 * Returns: 0, -ENOSPC (64 ports already), -EINVAL.
 */
int ivshm_listen(struct ivshm_dev *dev, uint32_t port, void *data);

/* ivshm_unlisten - stop reporting @port. Returns: 0, -ENOENT (not listened), -EINVAL. */
int ivshm_unlisten(struct ivshm_dev *dev, uint32_t port);

/* ivshm_chan_set_wait - change the wait mode (and the hybrid spin). Returns: 0, -EINVAL. */
int ivshm_chan_set_wait(struct ivshm_chan *ch, enum ivshm_wait_mode mode, unsigned int spin_us);

/* ivshm_chan_get_info, ivshm_chan_get_stats - copies. Return: 0, -EINVAL. */
int ivshm_chan_get_info(const struct ivshm_chan *ch, struct ivshm_chan_info *info);
int ivshm_chan_get_stats(const struct ivshm_chan *ch, struct ivshm_chan_stats *stats);

/*
 * ivshm_log_fn - receives one line explaining why libivshm refused a device,
 * a peer, an argument or a channel (which check failed, with the values it saw).
 * @data:     as given to ivshm_set_log_fn()
 * @priority: syslog priority (LOG_DEBUG for refusals of arguments and of
 *            peers that are not there yet, LOG_WARNING for conditions that
 *            need attention, LOG_ERR for corruption and broken protocols)
 * @msg:      the line, without newline; owned by libivshm, valid during the call
 */
typedef void (*ivshm_log_fn)(void *data, int priority, const char *msg);

/*
 * ivshm_set_log_fn - route libivshm's explanations to @fn (process-wide).
 * @fn NULL restores the default: nothing, or lines "libivshm: ..." on stderr
 * when the environment has IVSHM_DEBUG set. @data is passed through; the
 * caller keeps ownership.
 */
void ivshm_set_log_fn(ivshm_log_fn fn, void *data);

/*
 * ivshm_strerror - libc's text for an error returned by libivshm (negative
 * errno; a positive value is accepted too), thread-safe. The string is static.
 */
const char *ivshm_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* IVSHM_H */
