/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libivshm: userspace access to QEMU ivshmem devices bound to uio_ivshmem.
 *
 * A handle maps the device's shared memory, knows the guest's own peer ID,
 * rings other peers' doorbells and waits for its own interrupts, telling
 * which MSI-X vectors fired (from the driver's per-vector counter page).
 *
 * Conventions: every function returns 0 or a negative errno value and never
 * aborts or exits; output pointers come last; ivshm_strerror() turns an error
 * into a message and ivshm_set_log_fn() (or IVSHM_DEBUG=1 in the environment)
 * says which check failed. A handle is not thread-safe: use it from one thread
 * at a time. Errors with a libivshm-specific meaning:
 *   -ENODEV     no ivshmem UIO device found, or the named one does not exist;
 *               from ivshm_wait()/ivshm_ack(): the device was unbound while open
 *   -ENXIO      the named device exists but is not bound to uio_ivshmem
 *   -EPROTO     the driver's ABI major version differs from libivshm's
 *   -EBADMSG    the driver's sysfs attributes, maps or counter page are malformed
 *   -ENOTSUP    the device has no interrupts (ivshmem-plain)
 *   -ETIMEDOUT  ivshm_wait() saw no interrupt before the timeout
 *   -EAGAIN     ivshm_ack() found nothing new
 *   -EINVAL     a bad argument (NULL handle, vector or peer out of range, ...)
 * and from the peer directory (below):
 *   -EUCLEAN          the shared memory holds a foreign or corrupted libivshm
 *                     structure (ivshm_set_log_fn() says which field)
 *   -EPROTONOSUPPORT  the shared memory uses a newer libivshm layout
 *   -EMSGSIZE         the shared memory is too small for the directory
 *   -EADDRINUSE       another live peer holds this peer's directory slot
 */
#ifndef IVSHM_H
#define IVSHM_H

#include <stddef.h>
#include <stdint.h>

/* The driver's ABI and the device limits; installed beside this header. */
#include "uio_ivshmem.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ivshm_dev;

enum ivshm_mode {
	IVSHM_MODE_PLAIN = 0,	 /* ivshmem-plain: shared memory, no interrupts */
	IVSHM_MODE_DOORBELL = 1, /* ivshmem-doorbell: MSI-X vectors and a peer ID */
};

/* Highest peer ID a doorbell can address (IDs are 16 bits on the device). */
#define IVSHM_MAX_PEER_ID IVSHMEM_MAX_PEER_ID
/* Vectors a uio_ivshmem device can count; ivshm_wait() masks are 64 bits. */
#define IVSHM_MAX_VECTORS UIO_IVSHMEM_MAX_VECTORS

/*
 * ivshm_open - open an ivshmem device and map its shared memory.
 * @device: NULL or "" for the first uio_ivshmem device (lowest uioN),
 *          "/dev/uioN" or "uioN", a PCI address ("0000:00:03.0" or "00:03.0"),
 *          or any path that resolves to /dev/uioN (the udev names
 *          /dev/ivshm/by-pci/ADDR and /dev/ivshm/by-name/NAME).
 * @flags:  must be 0.
 * @devp:   receives the new handle; the caller owns it and frees it with
 *          ivshm_close(). Untouched on error.
 *
 * The device's UIO name, ABI version, map names and sizes are checked in sysfs
 * before anything is mapped. Only interrupts that arrive after the open are
 * reported by ivshm_wait().
 *
 * Returns: 0, or -ENODEV, -ENXIO, -EPROTO, -EBADMSG, -EINVAL, or the errno of a
 * failed open()/mmap() (e.g. -EACCES).
 */
int ivshm_open(const char *device, unsigned int flags, struct ivshm_dev **devp);

/*
 * ivshm_open_host - join a doorbell server from a host process, as QEMU's
 * ivshmem-doorbell device does: the same API then reaches the guests (and
 * other host peers) on that server.
 * @socket:  the server's socket, e.g. "/run/ivshm/ivshmd.sock"
 * @vectors: the server's vector count (its -n), as QEMU's vectors=N
 * @timeout_ms: how long the setup may take
 * @devp:    receives the new handle; the caller owns it (ivshm_close()).
 * The handle has a peer ID, the shared memory and doorbells; its fd
 * (ivshm_get_fd()) is an epoll fd. If the server goes away the handle keeps
 * working with the peers it knows.
 * Returns: 0, -EINVAL, -ETIMEDOUT, -ECONNRESET (the server hung up), -EPROTO
 * (it broke the protocol), or the errno of socket()/connect()/mmap().
 */
int ivshm_open_host(const char *socket, unsigned int vectors, int timeout_ms,
		    struct ivshm_dev **devp);

/* ivshm_close - unmap and close; accepts NULL. The buffer becomes invalid. */
void ivshm_close(struct ivshm_dev *dev);

/*
 * ivshm_get_shared_buffer - the shared memory (BAR2), mapped write-back.
 * @addr: receives the start; valid until ivshm_close(). Other guests write
 *        it concurrently: treat its content as hostile input.
 * @size: receives its size in bytes (a power of two).
 * Returns: 0 or -EINVAL.
 */
int ivshm_get_shared_buffer(const struct ivshm_dev *dev, void **addr, size_t *size);

/*
 * ivshm_get_peer_id - this guest's peer ID (0..IVSHM_MAX_PEER_ID), assigned
 * by the doorbell server; it changes when the VM restarts.
 * Returns: 0, -ENOTSUP for ivshmem-plain, or -EINVAL.
 */
int ivshm_get_peer_id(const struct ivshm_dev *dev, unsigned int *id);

/* ivshm_get_vectors - number of MSI-X vectors in use (0 for plain). Returns: 0 or -EINVAL. */
int ivshm_get_vectors(const struct ivshm_dev *dev, unsigned int *nr);

/* ivshm_get_mode - plain or doorbell. Returns: 0 or -EINVAL. */
int ivshm_get_mode(const struct ivshm_dev *dev, enum ivshm_mode *mode);

/*
 * ivshm_get_uio_path - the character device, e.g. "/dev/uio0" (for a host
 * handle: the server's socket).
 * @path: receives a string owned by @dev, valid until ivshm_close().
 * Returns: 0 or -EINVAL.
 */
int ivshm_get_uio_path(const struct ivshm_dev *dev, const char **path);

/*
 * ivshm_get_pci_address - the PCI address, e.g. "0000:00:03.0".
 * @addr: receives a string owned by @dev, valid until ivshm_close().
 * Returns: 0, -ENOENT when sysfs did not tell it, or -EINVAL.
 */
int ivshm_get_pci_address(const struct ivshm_dev *dev, const char **addr);

/*
 * ivshm_get_counter - interrupts counted by the driver on @vector since the
 * device was bound (not since the open).
 * Returns: 0, -EINVAL (vector >= vector count), or -ENOTSUP for plain.
 */
int ivshm_get_counter(const struct ivshm_dev *dev, unsigned int vector, uint64_t *count);

/*
 * ivshm_trigger - ring interrupt @vector of peer @peer (may be this guest).
 *
 * A release barrier comes first: every store to the shared buffer made before
 * the call is visible to the peer before its interrupt can fire. A doorbell to
 * an absent peer or a vector the peer lacks is dropped silently by the device.
 *
 * Returns: 0, -ENOTSUP for plain, or -EINVAL (peer > IVSHM_MAX_PEER_ID,
 * vector >= IVSHM_MAX_VECTORS).
 */
int ivshm_trigger(struct ivshm_dev *dev, unsigned int peer, unsigned int vector);

/*
 * ivshm_wait - wait up to @timeout_ms for interrupts of this guest.
 * @timeout_ms: 0 only checks; negative is -EINVAL (every wait has a deadline).
 * @fired:      if not NULL, receives the bitmask of vectors (bit v = vector v)
 *              that fired since the previous ivshm_wait()/ivshm_ack() (or the open).
 * @coalesced:  if not NULL, receives how many interrupts arrived beyond one per
 *              fired vector, i.e. events merged into this wake-up. None is lost:
 *              the driver counts every interrupt it receives.
 *
 * After a successful return, stores the peer made before ringing are visible.
 * Returns: 0 (at least one vector fired), -ETIMEDOUT, -ENOTSUP for plain,
 * -ENODEV if the device was unbound, -EINVAL, or the errno of a failed
 * poll()/read().
 */
int ivshm_wait(struct ivshm_dev *dev, int timeout_ms, uint64_t *fired, uint64_t *coalesced);

/*
 * ivshm_get_fd - a file descriptor that polls readable (POLLIN/EPOLLIN) when an
 * interrupt arrives; call ivshm_ack() then. Owned by @dev: do not close or read it.
 * Returns: 0, -ENOTSUP for plain, or -EINVAL.
 */
int ivshm_get_fd(const struct ivshm_dev *dev, int *fd);

/*
 * ivshm_ack - consume pending interrupts without blocking, for poll/epoll users.
 * @fired, @coalesced: as for ivshm_wait().
 * Returns: 0, -EAGAIN when no vector fired (a readable fd may still yield
 * nothing new if ivshm_wait()/ivshm_ack() already reported the event),
 * -ENOTSUP for plain, or -EINVAL.
 */
int ivshm_ack(struct ivshm_dev *dev, uint64_t *fired, uint64_t *coalesced);

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
 * (at least 1 MiB, -EMSGSIZE below; at most 64 slots). One process per device
 * publishes: they share the device's peer ID.
 *
 * A clean exit (ivshm_unpublish(), ivshm_close()) shows at once as
 * IVSHM_PEER_GONE. A peer that dies shows as IVSHM_PEER_DEAD once its
 * heartbeat, bumped every 250 ms by any libivshm call that waits, stood still
 * for 1 s as seen by the reader (the first look at a peer cannot tell), or at
 * once when the doorbell server publishes who is connected (ivshmd
 * --publish-peers). A peer that calls nothing in libivshm for longer than that
 * should call ivshm_heartbeat(). Guests under QEMU TCG need maxcpus >= 2:
 * QEMU before 8.1 drops the atomics and fences of single-CPU TCG guests.
 */
#define IVSHM_ROLE_MAX 24u	/* bytes of a role, NUL included */

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
};

/*
 * ivshm_publish - publish this peer under @role, to be rung on @vector, with
 * the application word @user; again to change them (the generation grows).
 * @role: 1..23 printable ASCII characters without blanks; copied.
 * Returns: 0, -ENOTSUP (no peer ID: ivshmem-plain), -EINVAL, -EMSGSIZE,
 * -ENOSPC (every slot is held by a live peer; some may turn out dead after a
 * second), -EUCLEAN or -EPROTONOSUPPORT (a foreign or newer layout).
 */
int ivshm_publish(struct ivshm_dev *dev, const char *role, unsigned int vector, uint64_t user);

/* ivshm_unpublish - leave the directory (state GONE). Returns: 0, -ENOENT (not published), -EINVAL. */
int ivshm_unpublish(struct ivshm_dev *dev);

/*
 * ivshm_find_peer - wait up to @timeout_ms (0: look once) for a live peer
 * other than this one published under @role.
 * @peer: receives a copy of the first one found (lowest slot).
 * Returns: 0, -ETIMEDOUT, -EINVAL, -EMSGSIZE, -EUCLEAN, -EPROTONOSUPPORT.
 */
int ivshm_find_peer(struct ivshm_dev *dev, const char *role, int timeout_ms,
		    struct ivshm_peer *peer);

/*
 * ivshm_get_peer - the publication of peer @id (in any state).
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
 * published peer that calls no waiting libivshm function for a second or more.
 * Returns: 0, -ENOENT (not published), -EINVAL.
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
 * published breaks the channel for good (-EPROTO, and ivshm_set_log_fn() says
 * which check). A doorbell goes out only when the other end sleeps.
 *
 * Packet channels carry whole messages of at most the sender's max_msg;
 * stream channels carry bytes and move what fits. Every call with a timeout
 * waits at most that long (0: do not wait, -EAGAIN when it would) in the
 * channel's wait mode: interrupt (sleep until the peer rings), poll (spin, no
 * doorbell ever) or hybrid (spin spin_us, then sleep). While waiting a
 * channel takes the device's interrupts (ivshm_wait() would not see them).
 *
 * Event loops: a non-blocking call that returns -EAGAIN in interrupt or
 * hybrid mode asks the peer to ring; the device fd (ivshm_get_fd()) then
 * polls readable when it does: call ivshm_ack() and the channel calls again.
 *
 * Errors of channel calls: -EAGAIN, -ETIMEDOUT, -EPIPE (the peer closed and
 * everything it sent was received), -ECONNRESET (the peer restarted: its end
 * is another incarnation now), -EHOSTDOWN (the peer died: heartbeat or
 * server), -EPROTO (the peer broke the protocol; the channel is unusable),
 * -EPROTOTYPE (the two ends disagree on the channel type), -EMSGSIZE,
 * -ENOTCONN (this peer is not published), -ENOSPC (no room in this peer's
 * arena or channel table), -EINVAL.
 */
struct ivshm_chan;

enum ivshm_chan_type {
	IVSHM_CHAN_PACKET = 1,	/* whole messages */
	IVSHM_CHAN_STREAM = 2,	/* bytes */
};

enum ivshm_wait_mode {
	IVSHM_WAIT_INTERRUPT = 0,	/* sleep until the peer rings: no CPU while idle */
	IVSHM_WAIT_POLL = 1,		/* spin on the peer's index: lowest latency, one CPU busy */
	IVSHM_WAIT_HYBRID = 2,		/* spin spin_us, then sleep */
};

struct ivshm_chan_opts {
	enum ivshm_chan_type type;	/* both ends must agree */
	uint32_t ring_size;		/* this end's send ring: a power of two, 4 KiB or more;
					 * 0: 16 KiB */
	uint32_t max_msg;		/* packet: largest message this end sends; 0: the most
					 * the ring allows, ring_size / 2 - 8 */
	enum ivshm_wait_mode wait;
	unsigned int spin_us;		/* hybrid: 0 means 50 */
	unsigned int vector;		/* the vector the peer rings for this channel */
};

struct ivshm_chan_info {
	unsigned int peer;		/* the other end's peer ID */
	uint32_t port;
	enum ivshm_chan_type type;
	uint32_t tx_ring, rx_ring;	/* ring bytes: this end's, the peer's */
	uint32_t max_send, max_recv;	/* packet: largest message each way */
};

struct ivshm_chan_stats {
	uint64_t sent, received;	/* messages, or calls that moved bytes */
	uint64_t bytes_sent, bytes_received;
	uint64_t doorbells;		/* doorbells this end rang */
	uint64_t sleeps;		/* times this end slept for the peer */
};

/*
 * ivshm_chan_open - a channel to peer @peer on @port, once the peer opens or
 * accepts the same port towards this peer (up to @timeout_ms).
 * @opts: NULL for a packet channel with the defaults; copied.
 * @chp:  receives the channel; the caller owns it and frees it with
 *        ivshm_chan_close() before ivshm_close() of @dev.
 * Returns: 0, -ETIMEDOUT, -EPROTOTYPE, -ENOTCONN, -ENOSPC, -EPROTO, -EINVAL.
 */
int ivshm_chan_open(struct ivshm_dev *dev, unsigned int peer, uint32_t port,
		    const struct ivshm_chan_opts *opts, int timeout_ms, struct ivshm_chan **chp);

/*
 * ivshm_chan_accept - the next channel any live peer opens towards this peer
 * on @port (up to @timeout_ms); ivshm_chan_get_info() tells which peer.
 * Returns: as ivshm_chan_open().
 */
int ivshm_chan_accept(struct ivshm_dev *dev, uint32_t port, const struct ivshm_chan_opts *opts,
		      int timeout_ms, struct ivshm_chan **chp);

/* ivshm_chan_close - close this end (the peer drains, then gets -EPIPE); accepts NULL. */
void ivshm_chan_close(struct ivshm_chan *ch);

/*
 * ivshm_chan_send - send the @len bytes at @msg as one message (packet).
 * Returns: 0, -EMSGSIZE (@len above this end's max_msg), -EAGAIN,
 * -ETIMEDOUT, -EPIPE, -ECONNRESET, -EHOSTDOWN, -EPROTO, -EINVAL.
 */
int ivshm_chan_send(struct ivshm_chan *ch, const void *msg, size_t len, int timeout_ms);

/*
 * ivshm_chan_recv - receive one message (packet) into @buf of @size bytes.
 * @len: receives its length; on -EMSGSIZE the length it needs (the message
 *       stays queued).
 * Returns: 0, -EMSGSIZE, -EAGAIN, -ETIMEDOUT, -EPIPE, -ECONNRESET,
 * -EHOSTDOWN, -EPROTO, -EINVAL.
 */
int ivshm_chan_recv(struct ivshm_chan *ch, void *buf, size_t size, size_t *len, int timeout_ms);

/*
 * ivshm_chan_write - write up to @len bytes (stream): what fits, once at least
 * one byte does. @done receives the count. Returns: as ivshm_chan_send().
 */
int ivshm_chan_write(struct ivshm_chan *ch, const void *buf, size_t len, size_t *done,
		     int timeout_ms);

/*
 * ivshm_chan_read - read up to @size bytes (stream), once at least one byte is
 * there. @done receives the count. Returns: as ivshm_chan_recv().
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

/* ivshm_chan_commit - send the first @len bytes of the reservation. Returns: 0, -EINVAL. */
int ivshm_chan_commit(struct ivshm_chan *ch, size_t len);

/* ivshm_chan_set_wait - change the wait mode (and the hybrid spin). Returns: 0, -EINVAL. */
int ivshm_chan_set_wait(struct ivshm_chan *ch, enum ivshm_wait_mode mode, unsigned int spin_us);

/* ivshm_chan_get_info, ivshm_chan_get_stats - copies. Return: 0, -EINVAL. */
int ivshm_chan_get_info(const struct ivshm_chan *ch, struct ivshm_chan_info *info);
int ivshm_chan_get_stats(const struct ivshm_chan *ch, struct ivshm_chan_stats *stats);

/*
 * ivshm_log_fn - receives one line explaining why libivshm refused a device,
 * a peer or a channel (which check failed, with the values it saw).
 * @data:     as given to ivshm_set_log_fn()
 * @priority: syslog priority (LOG_DEBUG for refusals, LOG_ERR for corruption)
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
 * ivshm_strerror - a message for an error returned by libivshm (negative
 * errno; a positive value is accepted too). The string is static.
 */
const char *ivshm_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* IVSHM_H */
