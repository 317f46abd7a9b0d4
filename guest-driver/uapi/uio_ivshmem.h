/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The ABI between the uio_ivshmem kernel module and userspace (libivshm).
 *
 * Included by the module and by userspace; keep it free of anything but
 * <linux/types.h>. Bump UIO_IVSHMEM_ABI_VERSION on any incompatible change:
 * libivshm refuses devices whose UIO "version" string differs.
 */
#ifndef _UAPI_UIO_IVSHMEM_H
#define _UAPI_UIO_IVSHMEM_H

#include <linux/types.h>

/* /sys/class/uio/uioN/name and .../version */
#define UIO_IVSHMEM_NAME        "uio_ivshmem"
#define UIO_IVSHMEM_ABI_VERSION "1"

/*
 * UIO map indices; map N is mmapped at offset N * page size.
 * maps/mapN/name carries the string so userspace can check it.
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

/* QEMU keeps the low 8 bits of the vector; we serve at most this many. */
#define UIO_IVSHMEM_MAX_VECTORS 64

#define UIO_IVSHMEM_COUNTERS_MAGIC 0x43535649u	/* "IVSC" little-endian */

/*
 * The counters page. The driver is its only writer: the interrupt handler of
 * vector v increments count[v] (a naturally aligned 64-bit store) before it
 * signals the UIO event, so a reader woken by the UIO event sees the new count.
 * nr_vectors is the number of MSI-X vectors in use (0 for ivshmem-plain).
 */
struct uio_ivshmem_counters {
	__u32 magic;
	__u32 nr_vectors;
	__u64 count[UIO_IVSHMEM_MAX_VECTORS];
};

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
