// SPDX-License-Identifier: LGPL-2.1-or-later
/* Device discovery and validation against a fake sysfs tree. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "internal.h"

#define PCI0 "0000:00:03.0"
#define PCI1 "0000:00:04.0"

static void add(struct fake_sysfs *fs, const struct fake_uio *u)
{
	assert_int_equal(fake_sysfs_add_uio(fs, u), 0);
}

static int discover(struct fake_sysfs *fs, const char *spec)
{
	struct ivshm_devinfo info;

	return ivshm__discover(fs->sys, spec, &info);
}

static void no_uio_class(void **state)
{
	assert_int_equal(discover(*state, NULL), -ENODEV);
	assert_int_equal(discover(*state, ""), -ENODEV);
}

static void only_foreign_device(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.name = "uio_pci_generic";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -ENODEV);
	assert_int_equal(discover(*state, "/dev/uio0"), -ENXIO);
	assert_int_equal(discover(*state, PCI0), -ENXIO);
}

static void doorbell_device(void **state)
{
	struct ivshm_devinfo info;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.peer_id = "65535";
	u.vectors = "64";
	add(*state, &u);
	assert_int_equal(ivshm__discover(((struct fake_sysfs *)*state)->sys, NULL, &info), 0);
	assert_int_equal(info.uio_index, 0);
	assert_int_equal(info.mode, IVSHM_MODE_DOORBELL);
	assert_int_equal(info.nr_vectors, 64);
	assert_int_equal(info.peer_id, 65535);
	assert_string_equal(info.pci_addr, PCI0);
	assert_int_equal(info.map_size[UIO_IVSHMEM_MAP_SHMEM], 4096);
}

static void plain_device(void **state)
{
	struct ivshm_devinfo info;
	struct fake_uio u;

	fake_uio_plain(&u, 3, PCI1);
	add(*state, &u);
	assert_int_equal(ivshm__discover(((struct fake_sysfs *)*state)->sys, "uio3", &info), 0);
	assert_int_equal(info.mode, IVSHM_MODE_PLAIN);
	assert_int_equal(info.nr_vectors, 0);
	assert_int_equal(info.peer_id, -1);
}

static void wrong_version(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.version = "2";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EPROTO);
}

static void newer_minor_is_accepted(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.version = "2.7";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), 0);
}

static void other_major_or_bad_version_is_refused(void **state)
{
	static const char *const bad[] = { "1", "1.0", "3.0", "2", "2.", ".0", "2.x", "02.0x" };
	struct fake_uio u;
	size_t i;

	fake_uio_doorbell(&u, 0, PCI0);
	add(*state, &u);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fake_sysfs_write(*state, "class/uio/uio0/version", bad[i]), 0);
		assert_int_equal(discover(*state, "uio0"), -EPROTO);
	}
}

struct logged {
	int calls;
	char last[256];
};

static void keep_line(void *data, int priority, const char *msg)
{
	struct logged *l = data;

	(void)priority;
	l->calls++;
	snprintf(l->last, sizeof(l->last), "%s", msg);
}

static void log_names_the_failed_check(void **state)
{
	struct logged l = { 0 };
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_name[1] = "shm";
	add(*state, &u);
	ivshm_set_log_fn(keep_line, &l);
	assert_int_equal(discover(*state, "uio0"), -EBADMSG);
	ivshm_set_log_fn(NULL, NULL);
	assert_int_equal(l.calls, 1);
	assert_string_equal(l.last, "uio0: map1 is named 'shm', not 'shmem'");
	assert_int_equal(discover(*state, "uio0"), -EBADMSG);
	assert_int_equal(l.calls, 1);
}

static void missing_version(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.version = NULL;
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void missing_counters_map(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_name[2] = u.map_size[2] = u.map_offset[2] = NULL;
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void maps_swapped(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_name[0] = "shmem";
	u.map_name[1] = "regs";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void map_size_not_page_rounded(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_size[0] = "0x100";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void map_size_garbage(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_size[1] = "lots";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void regs_offset_leaves_too_little(void **state)
{
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_offset[0] = "0xf80";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void regs_offset_within_page(void **state)
{
	struct ivshm_devinfo info;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.map_offset[0] = "0x800";
	u.map_offset[2] = NULL;
	add(*state, &u);
	assert_int_equal(ivshm__discover(((struct fake_sysfs *)*state)->sys, NULL, &info), 0);
	assert_int_equal(info.map_offset[0], 0x800);
	assert_int_equal(info.map_offset[2], 0);
}

static void inconsistent_mode(void **state)
{
	struct fake_sysfs *fs = *state;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.vectors = "0";
	add(fs, &u);
	assert_int_equal(discover(fs, NULL), -EBADMSG);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_vectors", "4"), 0);
	assert_int_equal(discover(fs, NULL), 0);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_peer_id", "-1"),
			 0);
	assert_int_equal(discover(fs, NULL), -EBADMSG);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_peer_id",
					  "65536"), 0);
	assert_int_equal(discover(fs, NULL), -EBADMSG);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_peer_id", "7"),
			 0);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_vectors", "65"),
			 0);
	assert_int_equal(discover(fs, NULL), -EBADMSG);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_vectors", "4"), 0);
	assert_int_equal(fake_sysfs_write(fs, "devices/pci0000:00/" PCI0 "/ivshmem_mode", "intx"),
			 0);
	assert_int_equal(discover(fs, NULL), -EBADMSG);
}

static void plain_with_peer_id(void **state)
{
	struct fake_uio u;

	fake_uio_plain(&u, 0, PCI0);
	u.peer_id = "3";
	add(*state, &u);
	assert_int_equal(discover(*state, NULL), -EBADMSG);
}

static void first_is_lowest_ivshmem(void **state)
{
	struct ivshm_devinfo info;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, "0000:00:02.0");
	u.name = "uio_hv_generic";
	add(*state, &u);
	fake_uio_doorbell(&u, 10, PCI0);
	add(*state, &u);
	fake_uio_plain(&u, 2, PCI1);
	add(*state, &u);
	assert_int_equal(ivshm__discover(((struct fake_sysfs *)*state)->sys, NULL, &info), 0);
	assert_int_equal(info.uio_index, 2);
	assert_string_equal(info.pci_addr, PCI1);
	assert_int_equal(ivshm__discover(((struct fake_sysfs *)*state)->sys, PCI0, &info), 0);
	assert_int_equal(info.uio_index, 10);
}

static void by_name_and_address(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_devinfo info;
	struct fake_uio u;

	fake_uio_doorbell(&u, 1, PCI0);
	add(fs, &u);
	assert_int_equal(ivshm__discover(fs->sys, "/dev/uio1", &info), 0);
	assert_int_equal(info.uio_index, 1);
	assert_int_equal(ivshm__discover(fs->sys, "uio1", &info), 0);
	assert_int_equal(ivshm__discover(fs->sys, PCI0, &info), 0);
	assert_int_equal(ivshm__discover(fs->sys, "00:03.0", &info), 0);
	assert_int_equal(info.uio_index, 1);
	assert_int_equal(discover(fs, "/dev/uio7"), -ENODEV);
	assert_int_equal(discover(fs, "0000:00:09.0"), -ENODEV);
}

static void unbound_pci_device(void **state)
{
	assert_int_equal(fake_sysfs_add_pci(*state, PCI1), 0);
	assert_int_equal(discover(*state, PCI1), -ENXIO);
}

static void bad_specs(void **state)
{
	static const char *const specs[] = {
		"/dev/uio01", "/dev/uio", "/dev/uio-1", "/dev/sda", "uio1x", "uio0x1", "00:03",
		"0000:00:03.8", "0000:0g:03.0", "zz:03.0", "../../etc", "0000:00:03.0/",
	};
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		assert_int_equal(discover(*state, specs[i]), -EINVAL);
}

static void null_arguments(void **state)
{
	struct ivshm_devinfo info;

	assert_int_equal(ivshm__discover(NULL, NULL, &info), -EINVAL);
	assert_int_equal(ivshm__discover(((struct fake_sysfs *)*state)->sys, NULL, NULL), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fake_sysfs_setup, fake_sysfs_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(no_uio_class),
		T(only_foreign_device),
		T(doorbell_device),
		T(plain_device),
		T(wrong_version),
		T(newer_minor_is_accepted),
		T(other_major_or_bad_version_is_refused),
		T(log_names_the_failed_check),
		T(missing_version),
		T(missing_counters_map),
		T(maps_swapped),
		T(map_size_not_page_rounded),
		T(map_size_garbage),
		T(regs_offset_leaves_too_little),
		T(regs_offset_within_page),
		T(inconsistent_mode),
		T(plain_with_peer_id),
		T(first_is_lowest_ivshmem),
		T(by_name_and_address),
		T(unbound_pci_device),
		T(bad_specs),
		T(null_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
