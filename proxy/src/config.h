/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ivshm-proxy's configuration: one setting per line of the file
 * (/etc/ivshm/proxy.conf by default), KEY VALUE..., '#' starts a comment; the
 * same settings on the command line as --KEY 'VALUE...'. See config.c's table
 * for every key and proxy/README.md for examples.
 */
#ifndef PROXY_CONFIG_H
#define PROXY_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "ivshm.h"
#include "ivshm-proxy.h"

#define CONFIG_DEFAULT_FILE "/etc/ivshm/proxy.conf"
/* A name makes the role "proxy-NAME", which must fit IVSHM_ROLE_MAX. */
#define CONFIG_NAME_MAX (IVSHM_ROLE_MAX - 1 - (sizeof(IVSHM_PROXY_ROLE_PREFIX) - 1))

struct export_cfg {
	char service[IVSHM_PROXY_SERVICE_MAX + 1];
	struct proxy_addr target;
	int allow_any;
	unsigned int n_allow;
	char (*allow)[IVSHM_ROLE_MAX];	/* roles that may open it */
};

struct import_cfg {
	char service[IVSHM_PROXY_SERVICE_MAX + 1];
	char role[IVSHM_ROLE_MAX];	/* the exporting proxy's */
	struct proxy_addr listen;
};

struct proxy_config {
	char name[CONFIG_NAME_MAX + 1];
	char role[IVSHM_ROLE_MAX];	/* IVSHM_PROXY_ROLE_PREFIX name */
	char device[256];		/* guest: "" for the first uio_ivshmem device */
	char server[108];		/* host: the doorbell server's socket; "" in a guest */
	unsigned int vectors;		/* host: 0 for the server's count */
	unsigned int vector;		/* the vector this proxy is rung on */
	enum ivshm_wait_mode wait;
	unsigned int spin_us;
	char control[108];		/* the control socket */
	uint32_t conn_buffer;		/* buf_alloc of each connection */
	uint32_t max_conns;		/* per peer and direction */
	uint32_t ring;			/* channel ring bytes, 0: the region's default */
	unsigned int connect_timeout_ms;
	unsigned int n_exports, n_imports;
	struct export_cfg *exports;
	struct import_cfg *imports;
};

/* Defaults in @c (no name, no services). */
void config_init(struct proxy_config *c);

/* Every key, for the command line's options: NULL-terminated. */
extern const char *const config_keys[];

/*
 * Apply one setting. Returns 0, or -EINVAL with the reason in @err
 * (@errlen bytes), or -ENOMEM.
 */
int config_set(struct proxy_config *c, const char *key, const char *value, char *err,
	       size_t errlen);

/* Apply every line of the file @path; errors name the file and line. Returns 0, -EINVAL, -errno. */
int config_load(struct proxy_config *c, const char *path, char *err, size_t errlen);

/*
 * What needs every setting at once: a name, exports with an allow list, no
 * service exported twice, no address listened on twice. Returns 0 or -EINVAL.
 */
int config_finish(struct proxy_config *c, char *err, size_t errlen);

/* The whole configuration as config lines (what `check` prints). */
void config_print(const struct proxy_config *c, FILE *f);

/* Whether @role may open export @e. */
int config_allowed(const struct export_cfg *e, const char *role);

void config_free(struct proxy_config *c);

#endif
