/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one limit both libivshm's public API (ivshm.h) and its shared-memory
 * layout (ivshm-shm.h) state: the bytes of a peer's role. Installed beside
 * ivshm.h.
 */
#ifndef IVSHM_ROLE_H
#define IVSHM_ROLE_H

/* Bytes of a role, NUL included: 1..23 printable ASCII characters without blanks. */
#define IVSHM_ROLE_MAX 24u

#endif /* IVSHM_ROLE_H */
