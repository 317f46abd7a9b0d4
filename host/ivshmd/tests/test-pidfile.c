// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ivshmd's path references (pathref.c) and pidfile (pidfile.c), in a private
 * directory: a file is removed only while it is still the one ivshmd made,
 * through the directory it was made in; a pidfile is never followed through
 * a symlink, and the lock, not the file, says a server runs: a write lock,
 * which nobody else's read lock or flock() can fake; a pidfile another user
 * planted, linked or may write, or one in a directory others can write, is
 * refused.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pathref.h"
#include "pidfile.h"
#include "unit.h"

struct fixture {
	char dir[64];
	char path[128];		/* dir/f */
	int fds_before;
};

static int setup(void **state)
{
	static struct fixture f;

	f.fds_before = open_fds();
	snprintf(f.dir, sizeof(f.dir), "/tmp/ivshm-unit-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.path, sizeof(f.path), "%s/f", f.dir);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	return open_fds() == f->fds_before ? 0 : -1;
}

static void make_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void read_file(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void pathref_bad_paths(void **state)
{
	struct ivshmd_pathref p;
	char *longpath = malloc(PATH_MAX + 1);

	(void)state;
	assert_int_equal(ivshmd_pathref_init(&p, ""), -ENAMETOOLONG);
	assert_int_equal(p.dirfd, -1);
	memset(longpath, 'a', PATH_MAX);
	longpath[PATH_MAX] = '\0';
	assert_int_equal(ivshmd_pathref_init(&p, longpath), -ENAMETOOLONG);
	free(longpath);
	assert_int_equal(ivshmd_pathref_init(&p, "/nonexistent-ivshm-dir/x"), -ENOENT);
	assert_null(p.path);
	/* A released or failed reference can be released again. */
	ivshmd_pathref_release(&p);
}

/* Unclaimed, a path is left alone; claimed, it goes, unless something replaced it. */
static void pathref_claims(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pathref p;
	char other[160];

	make_file(f->path, "x");
	assert_int_equal(ivshmd_pathref_init(&p, f->path), 0);
	assert_string_equal(p.base, "f");
	assert_string_equal(p.path, f->path);
	ivshmd_pathref_release(&p);
	assert_true(exists(f->path));

	assert_int_equal(ivshmd_pathref_init(&p, f->path), 0);
	assert_int_equal(ivshmd_pathref_claim(&p), 0);
	ivshmd_pathref_release(&p);
	assert_false(exists(f->path));

	make_file(f->path, "ours");
	assert_int_equal(ivshmd_pathref_init(&p, f->path), 0);
	assert_int_equal(ivshmd_pathref_claim(&p), 0);
	snprintf(other, sizeof(other), "%s/g", f->dir);
	make_file(other, "theirs");
	assert_int_equal(rename(other, f->path), 0);
	ivshmd_pathref_release(&p);
	assert_true(exists(f->path));

	assert_int_equal(ivshmd_pathref_init(&p, other), 0);
	assert_int_equal(ivshmd_pathref_claim(&p), -ENOENT);
	ivshmd_pathref_release(&p);
}

/* The directory fd keeps a relative path removable after a chdir, as after daemonizing. */
static void pathref_survives_chdir(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pathref p;
	char cwd[PATH_MAX], rel[160];

	snprintf(rel, sizeof(rel), "%s/rel", f->dir);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	make_file("rel", "x");
	assert_int_equal(ivshmd_pathref_init(&p, "rel"), 0);
	assert_int_equal(ivshmd_pathref_claim(&p), 0);
	assert_int_equal(chdir("/"), 0);
	ivshmd_pathref_release(&p);
	assert_int_equal(chdir(cwd), 0);
	assert_false(exists(rel));
}

/* The pid written and nothing else, mode 0644. */
static void assert_ours(const char *path)
{
	char buf[32], want[32];
	struct stat st;

	read_file(path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(buf, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_nlink, 1);
}

static void pidfile_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf, second;
	char buf[32], want[32];

	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	assert_ours(f->path);
	read_file(f->path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(buf, want);
	/* A second server (another open file description) finds it locked and leaves it. */
	assert_int_equal(ivshmd_pidfile_create(&second, f->path), -EBUSY);
	assert_int_equal(second.fd, -1);
	assert_true(exists(f->path));
	ivshmd_pidfile_remove(&second);
	assert_true(exists(f->path));
	ivshmd_pidfile_remove(&pf);
	assert_false(exists(f->path));
	ivshmd_pidfile_remove(&pf);
}

/* A pidfile left by a crash is not locked: it is taken over and rewritten. */
static void stale_pidfile(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;
	char buf[32], want[32];

	make_file(f->path, "999999999 and a much longer leftover line\n");
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	read_file(f->path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(buf, want);
	ivshmd_pidfile_remove(&pf);
	assert_false(exists(f->path));
}

static void pidfile_never_through_a_symlink(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;
	char target[160], buf[32];

	snprintf(target, sizeof(target), "%s/target", f->dir);
	make_file(target, "precious");
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -ELOOP);
	read_file(target, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
	assert_true(exists(f->path));
}

/* Replaced while running (another server's pidfile moved in): not ours to remove. */
static void pidfile_replaced(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;
	char other[160];

	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	snprintf(other, sizeof(other), "%s/other", f->dir);
	make_file(other, "1\n");
	assert_int_equal(rename(other, f->path), 0);
	ivshmd_pidfile_remove(&pf);
	assert_true(exists(f->path));
}

static void pidfile_in_a_missing_directory(void **state)
{
	struct ivshmd_pidfile pf;

	(void)state;
	assert_int_equal(ivshmd_pidfile_create(&pf, "/nonexistent-ivshm-dir/pid"), -ENOENT);
	ivshmd_pidfile_remove(&pf);
}

/* Planted by another user, it could be rewritten later with a PID others would kill. */
static void pidfile_of_another_user(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;
	char buf[32];

	make_file(f->path, "1\n");
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	read_file(f->path, buf, sizeof(buf));
	assert_string_equal(buf, "1\n");
	ivshmd_pidfile_remove(&pf);
}

/* A hard link to another file: writing the pid would overwrite that file. */
static void pidfile_with_two_links(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;
	char target[160], buf[32];

	snprintf(target, sizeof(target), "%s/target", f->dir);
	make_file(target, "precious");
	assert_int_equal(link(target, f->path), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	read_file(target, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
}

static void pidfile_writable_by_others(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;

	make_file(f->path, "1\n");
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	assert_int_equal(chmod(f->path, 0620), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	assert_ours(f->path);
	ivshmd_pidfile_remove(&pf);
}

/*
 * Anyone who can read the pidfile can flock() it or take a read lock: that
 * must not pass for a running server and keep ivshmd from starting.
 */
static void pidfile_readers_locks_are_no_server(void **state)
{
	struct fixture *f = *state;
	struct flock rd = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	struct ivshmd_pidfile pf;
	struct stat held, now;
	int reader;

	make_file(f->path, "1\n");
	reader = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(reader >= 0);
	assert_int_equal(flock(reader, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	assert_ours(f->path);
	ivshmd_pidfile_remove(&pf);
	close(reader);

	make_file(f->path, "1\n");
	reader = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(reader >= 0);
	assert_int_equal(fcntl(reader, F_OFD_SETLK, &rd), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	assert_ours(f->path);
	/* A fresh file took the name; the reader keeps the old one. */
	assert_int_equal(fstat(reader, &held), 0);
	assert_int_equal(stat(f->path, &now), 0);
	assert_true(held.st_ino != now.st_ino);
	ivshmd_pidfile_remove(&pf);
	assert_false(exists(f->path));
	close(reader);
}

/* In a directory others can write, the pidfile could be swapped under us. */
static void pidfile_in_a_directory_others_write(void **state)
{
	struct fixture *f = *state;
	struct ivshmd_pidfile pf;

	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	assert_false(exists(f->path));
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	/* Sticky, as /tmp: others cannot rename or remove our file. */
	assert_int_equal(chmod(f->dir, 01777), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), 0);
	ivshmd_pidfile_remove(&pf);
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(ivshmd_pidfile_create(&pf, f->path), -EPERM);
	assert_int_equal(chown(f->dir, 0, 0), 0);
	assert_int_equal(chmod(f->dir, 0700), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(pathref_bad_paths),
		T(pathref_claims),
		T(pathref_survives_chdir),
		T(pidfile_lifecycle),
		T(stale_pidfile),
		T(pidfile_never_through_a_symlink),
		T(pidfile_replaced),
		T(pidfile_in_a_missing_directory),
		T(pidfile_of_another_user),
		T(pidfile_with_two_links),
		T(pidfile_writable_by_others),
		T(pidfile_readers_locks_are_no_server),
		T(pidfile_in_a_directory_others_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
