/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Devices over plain memory for the unit tests and the fuzzer: every handle
 * made here in one process shares the same doorbell fabric, so a doorbell to
 * peer N bumps the counter of the handle with ID N and wakes it if it waits,
 * and the test can count what was rung. A wait with nothing pending sleeps its
 * whole timeout, as a real device's does.
 *
 * mem_server_start() plays the doorbell server's part that libivshm reads
 * from the memory: the server page (who is connected, the vector count) and
 * its tick, so liveness is known at the first look, as with ivshmd.
 */
#ifndef MEM_DEV_H
#define MEM_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* A doorbell handle for peer @id over @mem (@size bytes), @vectors vectors. */
struct ivshm_dev *mem_dev_open(void *mem, size_t size, int id, unsigned int vectors);

/* Doorbells rung towards peer @id since the start, on any vector. */
uint64_t mem_dev_rung(int id);

/* Wake-ups peer @id's waits returned early for (a doorbell), since the start. */
uint64_t mem_dev_woken(int id);

/*
 * Publish a server page in @mem and tick it every @tick_ms from a thread,
 * marking every open mem device connected (and a closed one gone). One at a
 * time; mem_server_stop() withdraws the page.
 */
int mem_server_start(void *mem, unsigned int tick_ms);
void mem_server_stop(void);

/* Mark peer @id connected or not in the server page (a peer killed with its VM). */
void mem_server_set(int id, bool live);

/* Stop or restart the tick without withdrawing the page (a server killed -9). */
void mem_server_freeze(bool frozen);

#endif /* MEM_DEV_H */
