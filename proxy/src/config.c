// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "frame.h"
#include "number.h"

void config_init(struct proxy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->wait = IVSHM_WAIT_INTERRUPT;
	c->spin_us = 50;
	c->conn_buffer = 128 * 1024;
	c->max_conns = 1024;
	c->connect_timeout_ms = 10000;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A name or role word: printable, no blank, within @max characters. */
static int word_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

static int set_copy(char *dst, size_t size, const char *v, const char *what, char *err,
		    size_t errlen)
{
	if (strlen(v) >= size)
		return bad(err, errlen, "%s: longer than %zu characters", what, size - 1);
	strcpy(dst, v);
	return 0;
}

static int set_num(const char *key, const char *v, uint64_t min, uint64_t max, int size,
		   uint64_t *out, char *err, size_t errlen)
{
	int rc = size ? ivshm_num_parse_size(v, out) : ivshm_num_parse(v, IVSHM_NUM_DEC, min, max, out);

	if (rc || *out < min || *out > max)
		return bad(err, errlen, "%s: '%s' is not %s from %llu to %llu", key, v,
			   size ? "a size" : "a number", (unsigned long long)min,
			   (unsigned long long)max);
	return 0;
}

static int set_name(struct proxy_config *c, const char *v, char *err, size_t errlen)
{
	if (!frame_service_ok(v, strlen(v)) || strlen(v) > CONFIG_NAME_MAX)
		return bad(err, errlen, "name: '%s' is not 1 to %zu of A-Z a-z 0-9 . _ -", v,
			   CONFIG_NAME_MAX);
	strcpy(c->name, v);
	snprintf(c->role, sizeof(c->role), "%s%s", IVSHM_PROXY_ROLE_PREFIX, v);
	return 0;
}

static int set_wait(struct proxy_config *c, const char *v, char *err, size_t errlen)
{
	if (!strcmp(v, "interrupt"))
		c->wait = IVSHM_WAIT_INTERRUPT;
	else if (!strcmp(v, "hybrid"))
		c->wait = IVSHM_WAIT_HYBRID;
	else if (!strcmp(v, "poll"))
		c->wait = IVSHM_WAIT_POLL;
	else
		return bad(err, errlen, "wait: '%s' is not interrupt, hybrid or poll", v);
	return 0;
}

/* Split @v at blanks into at most @max words (modifies @v). Returns the count, or -1 for more. */
static int split(char *v, char **words, int max)
{
	int n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

static int set_allow(struct export_cfg *e, char *list, char *err, size_t errlen)
{
	char *save = NULL, *r;

	if (!strcmp(list, "*")) {
		e->allow_any = 1;
		return 0;
	}
	for (r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
		void *more;

		if (!word_ok(r, IVSHM_ROLE_MAX - 1))
			return bad(err, errlen, "export %s: allow: '%s' is not a role", e->service, r);
		more = realloc(e->allow, (e->n_allow + 1) * sizeof(*e->allow));
		if (!more)
			return -ENOMEM;
		e->allow = more;
		strcpy(e->allow[e->n_allow++], r);
	}
	return e->n_allow ? 0 : bad(err, errlen, "export %s: an empty allow list", e->service);
}

/* export SERVICE TARGET allow ROLE[,ROLE...]|* */
static int add_export(struct proxy_config *c, char *v, char *err, size_t errlen)
{
	struct export_cfg e = { 0 }, *more;
	const char *why;
	char *w[4];
	int n = split(v, w, 4), rc;

	if (n != 4 || strcmp(w[2], "allow"))
		return bad(err, errlen, "export: SERVICE TARGET allow ROLE[,ROLE...] (or allow *)");
	if (!frame_service_ok(w[0], strlen(w[0])))
		return bad(err, errlen, "export: '%s' is not a service name (1 to %u of A-Z a-z 0-9 . _ -)",
			   w[0], IVSHM_PROXY_SERVICE_MAX);
	strcpy(e.service, w[0]);
	if (addr_parse(w[1], &e.target, &why))
		return bad(err, errlen, "export %s: '%s': %s", e.service, w[1], why);
	rc = set_allow(&e, w[3], err, errlen);
	if (rc)
		goto fail;
	more = realloc(c->exports, (c->n_exports + 1) * sizeof(*more));
	rc = -ENOMEM;
	if (!more)
		goto fail;
	c->exports = more;
	c->exports[c->n_exports++] = e;
	return 0;
fail:
	free(e.allow);
	return rc;
}

/* import SERVICE@ROLE LISTEN */
static int add_import(struct proxy_config *c, char *v, char *err, size_t errlen)
{
	struct import_cfg i = { 0 }, *more;
	const char *why;
	char *w[2], *at;
	int n = split(v, w, 2);

	if (n != 2 || !(at = strchr(w[0], '@')))
		return bad(err, errlen, "import: SERVICE@ROLE LISTEN, e.g. web@proxy-vm2 tcp:127.0.0.1:8080");
	*at = '\0';
	if (!frame_service_ok(w[0], strlen(w[0])))
		return bad(err, errlen, "import: '%s' is not a service name", w[0]);
	if (!word_ok(at + 1, IVSHM_ROLE_MAX - 1))
		return bad(err, errlen, "import %s: '%s' is not a role", w[0], at + 1);
	strcpy(i.service, w[0]);
	strcpy(i.role, at + 1);
	if (addr_parse(w[1], &i.listen, &why))
		return bad(err, errlen, "import %s: '%s': %s", i.service, w[1], why);
	more = realloc(c->imports, (c->n_imports + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	c->imports = more;
	c->imports[c->n_imports++] = i;
	return 0;
}

const char *const config_keys[] = {
	"name", "device", "server", "vectors", "vector", "wait", "spin-us", "control",
	"conn-buffer", "max-conns", "ring", "connect-timeout", "export", "import", NULL,
};

int config_set(struct proxy_config *c, const char *key, const char *value, char *err,
	       size_t errlen)
{
	char v[512];
	uint64_t n;
	int rc;

	if (strlen(value) >= sizeof(v))
		return bad(err, errlen, "%s: the value is too long", key);
	strcpy(v, value);
	if (!strcmp(key, "name"))
		return set_name(c, v, err, errlen);
	if (!strcmp(key, "device"))
		return set_copy(c->device, sizeof(c->device), v, key, err, errlen);
	if (!strcmp(key, "server"))
		return set_copy(c->server, sizeof(c->server), v, key, err, errlen);
	if (!strcmp(key, "control"))
		return set_copy(c->control, sizeof(c->control), v, key, err, errlen);
	if (!strcmp(key, "wait"))
		return set_wait(c, v, err, errlen);
	if (!strcmp(key, "export"))
		return add_export(c, v, err, errlen);
	if (!strcmp(key, "import"))
		return add_import(c, v, err, errlen);
	if (!strcmp(key, "vectors")) {
		rc = set_num(key, v, 0, IVSHM_MAX_VECTORS, 0, &n, err, errlen);
		c->vectors = (unsigned int)n;
	} else if (!strcmp(key, "vector")) {
		rc = set_num(key, v, 0, IVSHM_MAX_VECTORS - 1, 0, &n, err, errlen);
		c->vector = (unsigned int)n;
	} else if (!strcmp(key, "spin-us")) {
		rc = set_num(key, v, 1, 1000000, 0, &n, err, errlen);
		c->spin_us = (unsigned int)n;
	} else if (!strcmp(key, "conn-buffer")) {
		rc = set_num(key, v, IVSHM_PROXY_BUF_MIN, IVSHM_PROXY_BUF_MAX, 1, &n, err, errlen);
		c->conn_buffer = (uint32_t)n;
	} else if (!strcmp(key, "max-conns")) {
		rc = set_num(key, v, 1, IVSHM_PROXY_CONNS_MAX, 0, &n, err, errlen);
		c->max_conns = (uint32_t)n;
	} else if (!strcmp(key, "ring")) {
		rc = set_num(key, v, 0, 1u << 30, 1, &n, err, errlen);
		if (!rc && n && (n < 4096 || (n & (n - 1))))
			rc = bad(err, errlen, "ring: a power of two, 4K or more (0: the default)");
		c->ring = (uint32_t)n;
	} else if (!strcmp(key, "connect-timeout")) {
		rc = set_num(key, v, 1, 3600000, 0, &n, err, errlen);
		c->connect_timeout_ms = (unsigned int)n;
	} else {
		rc = bad(err, errlen, "unknown setting '%s'", key);
	}
	return rc;
}

int config_load(struct proxy_config *c, const char *path, char *err, size_t errlen)
{
	char line[600], msg[400];
	unsigned int nr = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *end, *hash;

		nr++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = bad(err, errlen, "%s:%u: line too long", path, nr);
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (end = line + strlen(line); end > line && (end[-1] == '\n' || end[-1] == ' ' ||
							      end[-1] == '\t' || end[-1] == '\r');)
			*--end = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			;
		if (!*k)
			continue;
		end = k + strcspn(k, " \t");
		if (*end)
			*end++ = '\0';
		while (*end == ' ' || *end == '\t')
			end++;
		rc = config_set(c, k, end, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", path, nr, msg);
			break;
		}
	}
	fclose(f);
	return rc;
}

int config_finish(struct proxy_config *c, char *err, size_t errlen)
{
	unsigned int i, j;

	if (!c->name[0])
		return bad(err, errlen, "no name: this proxy publishes as proxy-NAME");
	if (c->server[0] && c->device[0])
		return bad(err, errlen, "device (a guest's) and server (a host peer's): one of them");
	if (!c->control[0])
		snprintf(c->control, sizeof(c->control), "/run/ivshm/%s.ctl", c->role);
	for (i = 0; i < c->n_exports; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(c->exports[i].service, c->exports[j].service))
				return bad(err, errlen, "export %s: exported twice", c->exports[i].service);
	/* The same address twice is a mistake; TCP port 0 is a new port each time. */
	for (i = 0; i < c->n_imports; i++)
		for (j = 0; j < i && !addr_any_port(&c->imports[i].listen); j++)
			if (c->imports[i].listen.len == c->imports[j].listen.len &&
			    !memcmp(&c->imports[i].listen.sa, &c->imports[j].listen.sa,
				    c->imports[i].listen.len))
				return bad(err, errlen, "import %s: %s is already import %s's",
					   c->imports[i].service, c->imports[i].listen.text,
					   c->imports[j].service);
	return 0;
}

void config_print(const struct proxy_config *c, FILE *f)
{
	static const char *const waits[] = { "interrupt", "poll", "hybrid" };
	unsigned int i, j;

	fprintf(f, "name %s\n", c->name);
	if (c->server[0])
		fprintf(f, "server %s\nvectors %u\n", c->server, c->vectors);
	else
		fprintf(f, "device %s\n", c->device[0] ? c->device : "(the first uio_ivshmem device)");
	fprintf(f, "vector %u\nwait %s\nspin-us %u\ncontrol %s\n", c->vector, waits[c->wait],
		c->spin_us, c->control);
	fprintf(f, "conn-buffer %u\nmax-conns %u\nring %u\nconnect-timeout %u\n", c->conn_buffer,
		c->max_conns, c->ring, c->connect_timeout_ms);
	for (i = 0; i < c->n_exports; i++) {
		const struct export_cfg *e = &c->exports[i];

		fprintf(f, "export %s %s allow ", e->service, e->target.text);
		if (e->allow_any)
			fputs("*", f);
		for (j = 0; j < e->n_allow; j++)
			fprintf(f, "%s%s", j ? "," : "", e->allow[j]);
		fputc('\n', f);
	}
	for (i = 0; i < c->n_imports; i++)
		fprintf(f, "import %s@%s %s\n", c->imports[i].service, c->imports[i].role,
			c->imports[i].listen.text);
}

int config_allowed(const struct export_cfg *e, const char *role)
{
	unsigned int i;

	if (e->allow_any)
		return 1;
	for (i = 0; i < e->n_allow; i++)
		if (!strcmp(e->allow[i], role))
			return 1;
	return 0;
}

void config_free(struct proxy_config *c)
{
	unsigned int i;

	for (i = 0; i < c->n_exports; i++)
		free(c->exports[i].allow);
	free(c->exports);
	free(c->imports);
	c->exports = NULL;
	c->imports = NULL;
	c->n_exports = c->n_imports = 0;
}
