/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The deployment defaults that C programs compile in. contracts/deployment.env
 * is where the deployment is written down, for make and the scripts; this
 * header carries the same values for C, and tests/003-deployment.bats fails
 * when the two differ (and when a program's --help shows another default).
 */
#ifndef IVSHM_DEPLOYMENT_H
#define IVSHM_DEPLOYMENT_H

/* deployment.env's IVSHM_SOCKET: ivshmd's -S, and where host peers connect by default. */
#define IVSHM_DEFAULT_SOCKET "/run/ivshm/ivshmd.sock"

#endif /* IVSHM_DEPLOYMENT_H */
