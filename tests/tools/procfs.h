/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the load generators watch of ivshmd: its open fds and its memory. */
#ifndef IVSHMD_BENCH_PROCFS_H
#define IVSHMD_BENCH_PROCFS_H

/* Open file descriptors of process @pid, or -1. */
long proc_fds(int pid);

/* The kB value of line @key ("VmRSS", "VmHWM") of /proc/@pid/status, or -1. */
long proc_status_kib(int pid, const char *key);

#endif
