/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ABI between the uio_ivshmem kernel module and userspace (libivshm), and
 * the limits of QEMU's ivshmem device that every side shares.
 *
 * Included by the module (as uapi/uio_ivshmem.h), libivshm, ivshmd and the
 * tests; keep it free of anything but <linux/types.h>.
 *
 * Versioning: the UIO "version" string is "MAJOR.MINOR". A minor release only
 * adds (a flag bit, a header field after the known ones, a sysfs attribute,
 * a map after the known ones) and never changes what an older reader relies
 * on; a reader built for MAJOR.MINOR accepts MAJOR.N for every N and ignores
 * what it does not know. Anything else bumps MAJOR, and readers refuse it.
 */
#ifndef _UAPI_UIO_IVSHMEM_H
#define _UAPI_UIO_IVSHMEM_H

#include <linux/types.h>

/* /sys/class/uio/uioN/name and .../version */
#define UIO_IVSHMEM_NAME        "uio_ivshmem"
#define UIO_IVSHMEM_ABI_MAJOR   2
#define UIO_IVSHMEM_ABI_MINOR   0
#define UIO_IVSHMEM_ABI_VERSION "2.0"	/* "MAJOR.MINOR" of the two above */

/*
 * UIO map indices; map N is mmapped at offset N * page size, from its start
 * and at most its size (EINVAL otherwise). maps/mapN/name carries the string
 * so userspace can check it.
 *   regs      uncached, one page; BAR0 starts maps/map0/offset bytes into the
 *             map (0: the driver binds only a BAR0 that starts a page, and
 *             reserves the rest of that page so no other device's registers
 *             are ever in it). MAP_SHARED only (EINVAL), read-only opens too.
 *   shmem     requested write-back; the guest firmware's MTRRs still decide
 *             (SeaBIOS makes 0xc0000000-4G uncached, so a BAR placed there is
 *             uncached whatever the driver asks). MAP_SHARED only (EINVAL),
 *             read-only opens too.
 *   counters  one page; PROT_WRITE fails with EACCES and mprotect() cannot add
 *             it. Its maps/map2/addr reads 0: it is kernel memory.
 *
 * When the device goes (unbind, rmmod, hot-unplug), regs and shmem mappings
 * are revoked: every later access to them raises SIGBUS, so an old mapping
 * never reaches what is later placed at those addresses, and a new mmap() of
 * the old file fails with EINVAL. A counters mapping stays readable, its
 * counts frozen: the page belongs to the mapping, not to the device.
 */
enum uio_ivshmem_map {
	UIO_IVSHMEM_MAP_REGS = 0,	/* BAR0, uncached, one page */
	UIO_IVSHMEM_MAP_SHMEM = 1,	/* BAR2, write-back */
	UIO_IVSHMEM_MAP_COUNTERS = 2,	/* struct uio_ivshmem_counters, read-only */
};
#define UIO_IVSHMEM_MAP_REGS_NAME     "regs"
#define UIO_IVSHMEM_MAP_SHMEM_NAME    "shmem"
#define UIO_IVSHMEM_MAP_COUNTERS_NAME "counters"

/* BAR0 registers (QEMU docs/specs/ivshmem-spec.rst), 32-bit each. */
#define IVSHMEM_REG_INTRMASK   0x00	/* revision 0 only */
#define IVSHMEM_REG_INTRSTATUS 0x04	/* revision 0 only */
#define IVSHMEM_REG_IVPOSITION 0x08	/* own peer ID, read-only */
#define IVSHMEM_REG_DOORBELL   0x0c	/* write (peer << 16) | vector */
#define IVSHMEM_REGS_SIZE      0x100

/*
 * Device limits. QEMU rejects peer IDs above 16 bits and keeps the low 8 bits
 * of a doorbell's vector; uio_ivshmem, libivshm and ivshmd serve at most 64
 * vectors (a wait reports them as one 64-bit mask).
 */
#define IVSHMEM_MAX_PEER_ID     65535
#define UIO_IVSHMEM_MAX_VECTORS 64

#define UIO_IVSHMEM_COUNTERS_MAGIC 0x43535649u	/* "IVSC" little-endian */

/*
 * The counters page. The driver is its only writer: the interrupt handler of
 * vector v increments count[v] (a naturally aligned 64-bit store), then a write
 * barrier, then signals the UIO event, so a reader woken by the UIO event that
 * loads count[v] with acquire semantics sees the new count. Counts start at 0
 * each time the device is bound and count interrupts, not doorbells: QEMU
 * merges doorbells that arrive before it delivers the interrupt.
 * nr_vectors is the number of MSI-X vectors in use (0 for ivshmem-plain).
 *
 * /dev/uioN of ivshmem-plain has no interrupt: read() and write() fail with
 * EIO and poll() reports POLLERR at once. The same EIO (with POLLERR|POLLHUP)
 * means the device was unbound under an open file, and a read() or poll()
 * blocked at that moment returns so; ivshmem_mode tells the two apart (it is
 * gone once the device is unbound). write() (irqcontrol) fails with ENOSYS on
 * doorbell devices: there is nothing to re-enable.
 */
struct uio_ivshmem_counters {
	__u32 magic;		/* UIO_IVSHMEM_COUNTERS_MAGIC */
	__u16 hdr_size;		/* offset of count[0]: 16 in 2.0, larger when a minor adds fields */
	__u16 count_size;	/* bytes per counter: 8 */
	__u32 flags;		/* UIO_IVSHMEM_COUNTERS_F_*; readers ignore unknown bits */
	__u32 nr_vectors;	/* counters in use; hdr_size + nr_vectors * count_size <= page */
	__u64 count[UIO_IVSHMEM_MAX_VECTORS];	/* at hdr_size in 2.0 */
};

/*
 * Counter width: counts are 64-bit and naturally aligned. With this flag (set
 * by 64-bit kernels) each count changes by one 64-bit store: a 64-bit reader
 * never sees a torn value, and a 32-bit reader loads the high half, the low
 * half, the high half again, and retries while the high half changed.
 * Without it (32-bit kernels) the driver stores the two halves one after the
 * other, and a reader may see a torn value when the low half wraps, once every
 * 2^32 interrupts of a vector; no reader protocol prevents that.
 */
#define UIO_IVSHMEM_COUNTERS_F_ATOMIC64 (1u << 0)

/*
 * sysfs attributes of the PCI device, i.e. /sys/class/uio/uioN/device/<attr>:
 *   ivshmem_mode     "doorbell" (MSI-X, interrupts) or "plain" (no interrupts)
 *   ivshmem_vectors  number of MSI-X vectors in use (0 for plain)
 *   ivshmem_peer_id  own peer ID 0..65535, or -1 for plain (IVPosition is
 *                    meaningless without a server)
 */
#define UIO_IVSHMEM_ATTR_MODE    "ivshmem_mode"
#define UIO_IVSHMEM_ATTR_VECTORS "ivshmem_vectors"
#define UIO_IVSHMEM_ATTR_PEER_ID "ivshmem_peer_id"

#endif /* _UAPI_UIO_IVSHMEM_H */
