// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening, doorbells and waits against a fake device: dev/uioN is a regular
 * file, so the test plays the driver by writing the counter page, and reads
 * back what the library wrote to the doorbell register.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake-sysfs.h"
#include "internal.h"

#define PCI0 "0000:00:03.0"

static long page;

static int setup(void **state)
{
	page = sysconf(_SC_PAGESIZE);
	return fake_sysfs_setup(state);
}

static struct ivshm_dev *open_doorbell(struct fake_sysfs *fs)
{
	struct ivshm_dev *dev = NULL;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 4), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), 0);
	assert_non_null(dev);
	return dev;
}

static void set_counter(struct fake_sysfs *fs, unsigned int v, uint64_t count)
{
	off_t off = 2 * page + offsetof(struct uio_ivshmem_counters, count) + v * sizeof(count);

	assert_int_equal(fake_dev_write(fs, 0, off, &count, sizeof(count)), 0);
}

static void accessors(void **state)
{
	struct ivshm_dev *dev = open_doorbell(*state);
	enum ivshm_mode mode;
	unsigned int id, nr;
	const char *s;
	size_t size;
	void *buf;

	assert_int_equal(ivshm_get_shared_buffer(dev, &buf, &size), 0);
	assert_int_equal(size, page);
	assert_int_equal(ivshm_get_peer_id(dev, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(ivshm_get_vectors(dev, &nr), 0);
	assert_int_equal(nr, 4);
	assert_int_equal(ivshm_get_mode(dev, &mode), 0);
	assert_int_equal(mode, IVSHM_MODE_DOORBELL);
	assert_int_equal(ivshm_get_pci_address(dev, &s), 0);
	assert_string_equal(s, PCI0);
	assert_int_equal(ivshm_get_uio_path(dev, &s), 0);
	assert_non_null(strstr(s, "/dev/uio0"));
	assert_int_equal(ivshm_get_shared_buffer(NULL, &buf, &size), -EINVAL);
	assert_int_equal(ivshm_get_peer_id(dev, NULL), -EINVAL);
	ivshm_close(dev);
}

static void shared_buffer_is_the_shmem_map(void **state)
{
	struct ivshm_dev *dev = open_doorbell(*state);
	char back[16] = "";
	size_t size;
	void *buf;

	assert_int_equal(ivshm_get_shared_buffer(dev, &buf, &size), 0);
	memcpy(buf, "shared", 7);
	assert_int_equal(fake_dev_read(*state, 0, page, back, 7), 0);
	assert_string_equal(back, "shared");
	ivshm_close(dev);
}

static void trigger_writes_doorbell(void **state)
{
	struct ivshm_dev *dev = open_doorbell(*state);
	uint32_t reg = 0;

	assert_int_equal(ivshm_trigger(dev, 5, 3), 0);
	assert_int_equal(fake_dev_read(*state, 0, IVSHMEM_REG_DOORBELL, &reg, sizeof(reg)), 0);
	assert_int_equal(reg, 0x00050003);
	assert_int_equal(ivshm_trigger(dev, IVSHM_MAX_PEER_ID, IVSHM_MAX_VECTORS - 1), 0);
	assert_int_equal(fake_dev_read(*state, 0, IVSHMEM_REG_DOORBELL, &reg, sizeof(reg)), 0);
	assert_int_equal(reg, 0xffff003f);
	assert_int_equal(ivshm_trigger(dev, IVSHM_MAX_PEER_ID + 1, 0), -EINVAL);
	assert_int_equal(ivshm_trigger(dev, 1, IVSHM_MAX_VECTORS), -EINVAL);
	assert_int_equal(ivshm_trigger(NULL, 1, 0), -EINVAL);
	ivshm_close(dev);
}

static void wait_reports_fired_vectors(void **state)
{
	struct ivshm_dev *dev = open_doorbell(*state);
	uint64_t fired = 0, coalesced = 99, count;

	assert_int_equal(ivshm_wait(dev, 0, &fired, &coalesced), -ETIMEDOUT);
	set_counter(*state, 3, 1);
	assert_int_equal(ivshm_wait(dev, 1000, &fired, &coalesced), 0);
	assert_int_equal(fired, 1u << 3);
	assert_int_equal(coalesced, 0);
	assert_int_equal(ivshm_get_counter(dev, 3, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(ivshm_wait(dev, 0, &fired, &coalesced), -ETIMEDOUT);

	set_counter(*state, 0, 2);
	set_counter(*state, 3, 4);
	assert_int_equal(ivshm_ack(dev, &fired, &coalesced), 0);
	assert_int_equal(fired, (1u << 0) | (1u << 3));
	assert_int_equal(coalesced, 1 + 2);
	assert_int_equal(ivshm_ack(dev, &fired, &coalesced), -EAGAIN);
	assert_int_equal(ivshm_get_counter(dev, 4, &count), -EINVAL);
	ivshm_close(dev);
}

static void wait_counts_merged_interrupts(void **state)
{
	struct ivshm_dev *dev = open_doorbell(*state);
	uint64_t fired = 0, coalesced = 0;

	set_counter(*state, 2, 3);
	assert_int_equal(ivshm_wait(dev, 1000, &fired, &coalesced), 0);
	assert_int_equal(fired, 1u << 2);
	assert_int_equal(coalesced, 2);
	ivshm_close(dev);
}

static void counts_before_the_open_are_not_reported(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	uint64_t fired = 0, coalesced = 0;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 4), 0);
	set_counter(fs, 0, 41);
	set_counter(fs, 1, 7);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), 0);
	assert_int_equal(ivshm_wait(dev, 0, &fired, &coalesced), -ETIMEDOUT);
	set_counter(fs, 1, 8);
	assert_int_equal(ivshm_wait(dev, 1000, &fired, &coalesced), 0);
	assert_int_equal(fired, 1u << 1);
	assert_int_equal(coalesced, 0);
	ivshm_close(dev);
}

/* Write the counter page header fields the way a newer or a broken driver would. */
static void set_counter_hdr(struct fake_sysfs *fs, uint16_t hdr_size, uint16_t count_size)
{
	off_t off = 2 * page + offsetof(struct uio_ivshmem_counters, hdr_size);
	uint16_t v[2] = { hdr_size, count_size };

	assert_int_equal(fake_dev_write(fs, 0, off, v, sizeof(v)), 0);
}

static void newer_minor_counter_header_is_followed(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	uint64_t count = 5, got = 0;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	u.version = "2.1";
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 4), 0);
	set_counter_hdr(fs, 32, 8);
	/* Vector 1's counter sits at the grown header's offset, not at count[1]. */
	assert_int_equal(fake_dev_write(fs, 0, 2 * page + 32 + 8, &count, sizeof(count)), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), 0);
	assert_int_equal(ivshm_get_counter(dev, 1, &got), 0);
	assert_int_equal(got, 5);
	ivshm_close(dev);
}

static void malformed_counter_header_is_refused(void **state)
{
	static const uint16_t bad[][2] = { { 8, 8 }, { 20, 8 }, { 16, 4 }, { 4096, 8 } };
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	struct fake_uio u;
	size_t i;

	fake_uio_doorbell(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 4), 0);
		set_counter_hdr(fs, bad[i][0], bad[i][1]);
		assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), -EBADMSG);
		assert_null(dev);
	}
}

static void wait_rejects_bad_arguments(void **state)
{
	struct ivshm_dev *dev = open_doorbell(*state);
	int fd = -1;

	assert_int_equal(ivshm_wait(dev, -1, NULL, NULL), -EINVAL);
	assert_int_equal(ivshm_wait(NULL, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ivshm_ack(NULL, NULL, NULL), -EINVAL);
	assert_int_equal(ivshm_get_fd(dev, &fd), 0);
	assert_true(fd >= 0);
	ivshm_close(dev);
}

static void plain_has_no_interrupts(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	struct fake_uio u;
	unsigned int id;
	uint64_t count;
	int fd;

	fake_uio_plain(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 0), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), 0);
	assert_int_equal(ivshm_wait(dev, 100, NULL, NULL), -ENOTSUP);
	assert_int_equal(ivshm_ack(dev, NULL, NULL), -ENOTSUP);
	assert_int_equal(ivshm_trigger(dev, 0, 0), -ENOTSUP);
	assert_int_equal(ivshm_get_peer_id(dev, &id), -ENOTSUP);
	assert_int_equal(ivshm_get_fd(dev, &fd), -ENOTSUP);
	assert_int_equal(ivshm_get_counter(dev, 0, &count), -ENOTSUP);
	assert_string_equal(ivshm_strerror(-ENOTSUP), "Operation not supported");
	ivshm_close(dev);
}

static void bad_counter_page(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(fake_dev_create(fs, 0, 0xdeadbeef, 4), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), -EBADMSG);
	assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 3), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), -EBADMSG);
	assert_null(dev);
}

static void stable_name_is_followed(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	char link[PATH_MAX + 32], dir[PATH_MAX + 16];
	const char *path;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(fake_dev_create(fs, 0, UIO_IVSHMEM_COUNTERS_MAGIC, 4), 0);
	snprintf(dir, sizeof(dir), "%s/ivshm", fs->dev);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(link, sizeof(link), "%s/by-name-sensors", dir);
	assert_int_equal(symlink("../uio0", link), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, link, &dev), 0);
	assert_int_equal(ivshm_get_uio_path(dev, &path), 0);
	assert_non_null(strstr(path, "/uio0"));
	ivshm_close(dev);
	/* A dangling name, and a link to something that is not a uio device. */
	snprintf(link, sizeof(link), "%s/gone", dir);
	assert_int_equal(symlink("../uio9", link), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, link, &dev), -ENODEV);
	snprintf(link, sizeof(link), "%s/other", dir);
	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, link, &dev), -EINVAL);
}

static void missing_dev_node(void **state)
{
	struct fake_sysfs *fs = *state;
	struct ivshm_dev *dev = NULL;
	struct fake_uio u;

	fake_uio_doorbell(&u, 0, PCI0);
	assert_int_equal(fake_sysfs_add_uio(fs, &u), 0);
	assert_int_equal(ivshm__open_root(fs->sys, fs->dev, NULL, &dev), -ENODEV);
	assert_null(dev);
}

static void public_entry_points(void **state)
{
	struct ivshm_dev *dev = NULL;

	(void)state;
	assert_int_equal(ivshm_open(NULL, 1, &dev), -EINVAL);
	assert_int_equal(ivshm_open(NULL, 0, NULL), -EINVAL);
	assert_int_equal(ivshm_open("not a device", 0, &dev), -EINVAL);
	assert_null(dev);
	ivshm_close(NULL);
	/* libc's texts, 0 included; the detail goes to the log function. */
	assert_string_equal(ivshm_strerror(0), "Success");
	assert_string_equal(ivshm_strerror(-ENODEV), "No such device");
	assert_string_equal(ivshm_strerror(ENOENT), "No such file or directory");
	assert_string_equal(ivshm_strerror(-100000), "Unknown error");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, fake_sysfs_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(accessors),
		T(shared_buffer_is_the_shmem_map),
		T(trigger_writes_doorbell),
		T(wait_reports_fired_vectors),
		T(wait_counts_merged_interrupts),
		T(counts_before_the_open_are_not_reported),
		T(newer_minor_counter_header_is_followed),
		T(malformed_counter_header_is_refused),
		T(wait_rejects_bad_arguments),
		T(plain_has_no_interrupts),
		T(bad_counter_page),
		T(stable_name_is_followed),
		T(missing_dev_node),
		T(public_entry_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
