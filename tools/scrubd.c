// SPDX-License-Identifier: GPL-2.0
/*
 * scrubd.c - chunkfs-scrubd, the background scrub service.
 *
 *   chunkfs-scrubd [-f] [-v] [-c FILE] [-o KEY=VALUE]... [MOUNT...]
 *   chunkfs-scrubd --once [-v] [-c FILE] [-o KEY=VALUE]... [MOUNT...]
 *   chunkfs-scrubd --pause | --resume | --status [-c FILE] [-o KEY=VALUE]...
 *
 * Every `interval` seconds, one round: for each mounted chunkfs (all of
 * them from /proc/self/mounts, or the mount points of the config's
 * `mounts` or the command line), read the health of every chunk
 * (CHUNKFS_IOC_HEALTH) and scrub up to `chunks` of them (CHUNKFS_IOC_SCRUB,
 * with CHUNKFS_SCRUB_REPAIR unless repair=no): suspect chunks first, then
 * damaged (or left repairing), then dirty ones, then the least recently
 * verified, ties broken by the saved cursor ("next chunk").
 *
 * The budget, after each scrub that held its chunk for d seconds and read
 * b metadata blocks: sleep max(d * (100 / cpu_share - 1), b / io_rate - d).
 * Before each scrub, yield to foreground I/O: the bytes the filesystem's
 * FUSE daemon moved (rchar + wchar of /proc/PID/io; for a mount without
 * such a daemon, the sectors of the backing block device) over the last
 * fg_window seconds, during which this program did not scrub, must stay
 * under fg_threshold bytes per second; otherwise wait and measure again, at
 * most fg_max_wait seconds.
 *
 * State (paused, and per filesystem the next chunk of the cursor) lives in
 * a small text file, keyed by the filesystem UUID read from the
 * superblock of the mount's source (the image or device chunkfs-fuse names
 * in /proc/self/mounts), or by the mount point when the source cannot be
 * read.  It is written (tmp + rename, under an flock of FILE.lock) after
 * every scrub, merging with what other writers (a --once run) saved.
 * --pause / --resume signal the running daemon (SIGUSR1 / SIGUSR2, pid from
 * the pidfile, which the daemon holds locked); with no daemon running they
 * edit the state file.  SIGTERM / SIGINT: the current scrub (one ioctl,
 * one chunk) finishes, any wait is abandoned, the state is written, exit 0.
 * SIGHUP: the config file is read again.
 *
 * Signals are blocked and taken synchronously by sigtimedwait() in every
 * wait, so there are no asynchronous handlers.  No file of a mount is kept
 * open between scrubs (it would keep the filesystem from being unmounted).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../fs/chunkfs_ioctl.h"

#define PROG "chunkfs-scrubd"
#ifndef SCRUBD_VERSION
#define SCRUBD_VERSION "1.0"
#endif
#ifndef SCRUBD_CONF
#define SCRUBD_CONF "/etc/chunkfs/scrubd.conf"
#endif
#define MAX_MOUNTS 64
#define KEY_LEN 80

/* chunk states, as in fs/format.h (CFS_CHUNK_*) */
#define ST_CLEAN 1
#define ST_DIRTY 2
#define ST_SUSPECT 3
#define ST_DAMAGED 4
#define ST_REPAIRING 5

/* ------------------------------------------------------------------ */
/* logging */

static int log_syslog;
static int log_verbose;

static void say(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio >= LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fputs(PROG ": ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		fflush(stderr);
	}
	va_end(ap);
}

static const char *state_name(u32 s)
{
	switch (s) {
	case ST_CLEAN: return "clean";
	case ST_DIRTY: return "dirty";
	case ST_SUSPECT: return "suspect";
	case ST_DAMAGED: return "damaged";
	case ST_REPAIRING: return "repairing";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------------ */
/* configuration */

struct conf {
	double interval;      /* seconds between the starts of rounds */
	unsigned chunks;      /* chunks per filesystem per round */
	double io_rate;       /* metadata blocks per second; 0: no limit */
	double cpu_share;     /* percent of one CPU, 1..100 */
	int repair;
	char *mounts[MAX_MOUNTS];
	unsigned nmounts;     /* 0: every chunkfs mount */
	char state[PATH_MAX];
	char pidfile[PATH_MAX];
	double fg_threshold;  /* foreground bytes per second; 0: never yield */
	double fg_window;     /* seconds of measurement */
	double fg_max_wait;   /* seconds; 0: wait as long as it takes */
	double retry;         /* seconds before a chunk left bad is retried */
};

static void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->interval = 600;
	c->chunks = 4;
	c->io_rate = 2048;
	c->cpu_share = 10;
	c->repair = 1;
	snprintf(c->state, sizeof(c->state), "%s",
		 "/var/lib/chunkfs-scrubd/state");
	snprintf(c->pidfile, sizeof(c->pidfile), "%s",
		 "/run/chunkfs-scrubd/chunkfs-scrubd.pid");
	c->fg_threshold = 4 << 20;
	c->fg_window = 1;
	c->fg_max_wait = 600;
	c->retry = 3600;
}

static void conf_free_mounts(struct conf *c)
{
	unsigned i;

	for (i = 0; i < c->nmounts; i++)
		free(c->mounts[i]);
	c->nmounts = 0;
}

static void conf_free(struct conf *c)
{
	conf_free_mounts(c);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* The number at the start of v (finite, >= lo), *end after it and any
 * blanks.  Returns 0 or -1. */
static int lead_number(const char *v, double lo, double *x, char **end)
{
	errno = 0;
	*x = strtod(v, end);
	if (*end == v || errno || !isfinite(*x) || *x < lo)
		return -1;
	while (isspace((unsigned char)**end))
		(*end)++;
	return 0;
}

/* "90", "90s", "1.5m", "250ms", "2h", "1d" -> seconds */
static int parse_duration(const char *v, double *out)
{
	char *end;
	double x;

	if (lead_number(v, 0, &x, &end))
		return -1;
	if (!*end || !strcmp(end, "s") || !strcmp(end, "sec"))
		;
	else if (!strcmp(end, "ms"))
		x /= 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		x *= 60;
	else if (!strcmp(end, "h"))
		x *= 3600;
	else if (!strcmp(end, "d"))
		x *= 86400;
	else
		return -1;
	if (x > 1e9)
		return -1;
	*out = x;
	return 0;
}

/* "4M", "512K", "1G", "100000" -> bytes (powers of 1024) */
static int parse_size(const char *v, double *out)
{
	char *end;
	double x;

	if (lead_number(v, 0, &x, &end))
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': x *= 1024; end++; break;
	case 'M': x *= 1024 * 1024; end++; break;
	case 'G': x *= 1024.0 * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (!strcmp(end, "/s"))
		end += 2;
	if (*end || x > 1e15)
		return -1;
	*out = x;
	return 0;
}

static int parse_number(const char *v, double lo, double hi, double *out)
{
	char *end;
	double x;

	if (lead_number(v, -1e300, &x, &end))
		return -1;
	if (*end == '%')
		end++;
	if (*end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
		 !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* Sets one key.  Returns 0, or -1 with a message in err. */
static int conf_set(struct conf *c, const char *key, const char *val,
		    char *err, size_t errsz)
{
	double x;
	int b;

	if (!strcmp(key, "interval")) {
		if (parse_duration(val, &x) || x < 0.01)
			goto bad;
		c->interval = x;
	} else if (!strcmp(key, "chunks")) {
		if (parse_number(val, 1, 1 << 20, &x) || x != (double)(unsigned)x)
			goto bad;
		c->chunks = (unsigned)x;
	} else if (!strcmp(key, "io_rate")) {
		if (parse_number(val, 0, 1e9, &x))
			goto bad;
		c->io_rate = x;
	} else if (!strcmp(key, "cpu_share")) {
		if (parse_number(val, 0.1, 100, &x))
			goto bad;
		c->cpu_share = x;
	} else if (!strcmp(key, "repair")) {
		if (parse_bool(val, &b))
			goto bad;
		c->repair = b;
	} else if (!strcmp(key, "mounts")) {
		char *copy = strdup(val), *tok, *save = NULL;

		if (!copy) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		conf_free_mounts(c);
		for (tok = strtok_r(copy, " \t,", &save); tok;
		     tok = strtok_r(NULL, " \t,", &save)) {
			if (c->nmounts == MAX_MOUNTS || tok[0] != '/') {
				snprintf(err, errsz, "mounts: %s",
					 tok[0] != '/' ? "each mount point must "
					 "be an absolute path" :
					 "too many mount points (at most 64)");
				free(copy);
				conf_free_mounts(c);
				return -1;
			}
			c->mounts[c->nmounts] = strdup(tok);
			if (!c->mounts[c->nmounts]) {
				free(copy);
				snprintf(err, errsz, "out of memory");
				return -1;
			}
			c->nmounts++;
		}
		free(copy);
	} else if (!strcmp(key, "state") || !strcmp(key, "pidfile")) {
		char *dst = !strcmp(key, "state") ? c->state : c->pidfile;

		if (val[0] != '/' || strlen(val) >= PATH_MAX - 16) {
			snprintf(err, errsz, "%s: want an absolute path, got "
				 "'%s'", key, val);
			return -1;
		}
		snprintf(dst, PATH_MAX, "%s", val);
	} else if (!strcmp(key, "fg_threshold")) {
		if (parse_size(val, &x))
			goto bad;
		c->fg_threshold = x;
	} else if (!strcmp(key, "fg_window")) {
		if (parse_duration(val, &x) || x < 0.01 || x > 3600)
			goto bad;
		c->fg_window = x;
	} else if (!strcmp(key, "fg_max_wait")) {
		if (parse_duration(val, &x))
			goto bad;
		c->fg_max_wait = x;
	} else if (!strcmp(key, "retry")) {
		if (parse_duration(val, &x))
			goto bad;
		c->retry = x;
	} else {
		snprintf(err, errsz, "unknown key '%s' (known: interval, "
			 "chunks, io_rate, cpu_share, repair, mounts, state, "
			 "pidfile, fg_threshold, fg_window, fg_max_wait, "
			 "retry)", key);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errsz, "%s: bad value '%s' (see chunkfs-scrubd(8))",
		 key, val);
	return -1;
}

/* "key = value" (or "key value"); returns 0 or -1 with err. */
static int conf_line(struct conf *c, char *line, char *err, size_t errsz)
{
	char *p, *key, *val;

	p = strchr(line, '#');
	if (p)
		*p = 0;
	p = trim(line);
	if (!*p)
		return 0;
	key = p;
	while (*p && *p != '=' && !isspace((unsigned char)*p))
		p++;
	if (!*p) {
		snprintf(err, errsz, "'%s': want KEY = VALUE", key);
		return -1;
	}
	if (*p == '=') {
		*p++ = 0;
	} else {
		*p++ = 0;
		p = trim(p);
		if (*p == '=')
			p++;
	}
	val = trim(p);
	if (!*val && strcmp(key, "mounts")) {
		snprintf(err, errsz, "%s: no value", key);
		return -1;
	}
	return conf_set(c, key, val, err, errsz);
}

/* Reads FILE into c (on top of what c holds).  A missing file is fine
 * when it is the default one (missing_ok).  Returns 0, or -1 after
 * printing a message naming the file and line. */
static int conf_load(struct conf *c, const char *path, int missing_ok)
{
	char line[4096], err[512];
	FILE *f = fopen(path, "r");
	unsigned n = 0;

	if (!f) {
		if (errno == ENOENT && missing_ok) {
			say(LOG_DEBUG, "no config file %s: defaults", path);
			return 0;
		}
		say(LOG_ERR, "cannot read the config file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			say(LOG_ERR, "%s:%u: line too long", path, n);
			fclose(f);
			return -1;
		}
		if (conf_line(c, line, err, sizeof(err))) {
			say(LOG_ERR, "%s:%u: %s", path, n, err);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static void conf_print(const struct conf *c, FILE *f)
{
	unsigned i;

	fprintf(f, "interval = %gs\nchunks = %u\nio_rate = %g\n"
		"cpu_share = %g\nrepair = %s\nmounts =", c->interval,
		c->chunks, c->io_rate, c->cpu_share, c->repair ? "yes" : "no");
	for (i = 0; i < c->nmounts; i++)
		fprintf(f, " %s", c->mounts[i]);
	fprintf(f, "\nstate = %s\npidfile = %s\nfg_threshold = %.0f\n"
		"fg_window = %gs\nfg_max_wait = %gs\nretry = %gs\n", c->state,
		c->pidfile, c->fg_threshold, c->fg_window, c->fg_max_wait,
		c->retry);
}

/* ------------------------------------------------------------------ */
/* the state file */

struct fsent {
	char key[KEY_LEN];    /* "uuid:..." or "mount:/escaped/path" */
	u32 next;             /* cursor: next chunk in order */
	u32 nchunks;
	u64 scrubbed, repaired;
	s64 time;             /* of the last scrub, seconds since the epoch */
	char mount[PATH_MAX];
	int dirty;            /* changed here since the last save */
};

struct state {
	int paused, paused_dirty;
	struct fsent *e;
	unsigned n, cap;
};

static void state_free(struct state *st)
{
	free(st->e);
	memset(st, 0, sizeof(*st));
}

static struct fsent *state_find(struct state *st, const char *key)
{
	unsigned i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->e[i].key, key))
			return &st->e[i];
	return NULL;
}

static struct fsent *state_get(struct state *st, const char *key)
{
	struct fsent *e = state_find(st, key);

	if (e)
		return e;
	if (st->n == st->cap) {
		unsigned cap = st->cap ? st->cap * 2 : 8;
		struct fsent *ne = realloc(st->e, cap * sizeof(*ne));

		if (!ne)
			return NULL;
		st->e = ne;
		st->cap = cap;
	}
	e = &st->e[st->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

/* Parses the text of a state file.  Bad lines are reported and skipped:
 * a damaged state file costs progress, never the service. */
static void state_parse(struct state *st, FILE *f, const char *path)
{
	char line[PATH_MAX + 256];
	unsigned n = 0;

	while (fgets(line, sizeof(line), f)) {
		char key[KEY_LEN], *p = trim(line), *m;
		unsigned next, nch;
		unsigned long long sc, rp;
		long long t;
		int v, used = 0;
		struct fsent *e;

		n++;
		if (!*p || *p == '#')
			continue;
		if (sscanf(p, "version %d", &v) == 1) {
			if (v != 1)
				say(LOG_WARNING, "%s:%u: state version %d, "
				    "expected 1; reading it anyway", path, n,
				    v);
			continue;
		}
		if (sscanf(p, "paused %d", &v) == 1 && (v == 0 || v == 1)) {
			st->paused = v;
			continue;
		}
		if (sscanf(p, "fs %79s next=%u nchunks=%u scrubbed=%llu "
			   "repaired=%llu time=%lld %n", key, &next, &nch, &sc,
			   &rp, &t, &used) == 6 && used > 0 &&
		    !strncmp(p + used, "mount=", 6)) {
			m = p + used + 6;
			e = state_get(st, key);
			if (!e)
				return;
			e->next = next;
			e->nchunks = nch;
			e->scrubbed = sc;
			e->repaired = rp;
			e->time = t;
			snprintf(e->mount, sizeof(e->mount), "%s", m);
			e->dirty = 0;
			continue;
		}
		say(LOG_WARNING, "%s:%u: unreadable line ignored: %.80s", path,
		    n, p);
	}
}

static int state_write_file(const struct state *st, const char *path)
{
	char tmp[PATH_MAX + 32];
	unsigned i;
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	fprintf(f, "# chunkfs-scrubd state: paused, and per filesystem the "
		"next chunk to scrub\n# (see chunkfs-scrubd(8)); rewritten "
		"by chunkfs-scrubd\nversion 1\npaused %d\n", st->paused);
	for (i = 0; i < st->n; i++) {
		const struct fsent *e = &st->e[i];

		fprintf(f, "fs %s next=%u nchunks=%u scrubbed=%llu "
			"repaired=%llu time=%lld mount=%s\n", e->key, e->next,
			e->nchunks, (unsigned long long)e->scrubbed,
			(unsigned long long)e->repaired, (long long)e->time,
			e->mount);
	}
	if (fflush(f) || fsync(fd) || ferror(f)) {
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f)) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int mkdir_parents(const char *path)
{
	char d[PATH_MAX];
	char *p;

	snprintf(d, sizeof(d), "%s", path);
	p = strrchr(d, '/');
	if (!p || p == d)
		return 0;
	*p = 0;
	for (p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(d, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(d, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

/* Merges memory and file under the lock: entries changed here since the
 * last save (and `paused` if changed here) win, everything else is taken
 * from the file (another writer's progress).  With write, the merged
 * state is written back.  Returns 0 or -1 (message logged). */
static int state_sync(struct state *st, const char *path, int write)
{
	char lk[PATH_MAX + 8];
	struct state f = { 0 };
	FILE *in;
	unsigned i;
	int lfd, r = 0;

	if (write && mkdir_parents(path)) {
		say(LOG_ERR, "cannot create the directory of %s: %s", path,
		    strerror(errno));
		return -1;
	}
	snprintf(lk, sizeof(lk), "%s.lock", path);
	lfd = open(lk, (write ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC,
		   0644);
	if (lfd >= 0 && flock(lfd, write ? LOCK_EX : LOCK_SH)) {
		close(lfd);
		lfd = -1;
	}
	if (lfd < 0 && write) {
		say(LOG_ERR, "cannot lock %s: %s", lk, strerror(errno));
		return -1;
	}
	in = fopen(path, "r");
	if (in) {
		state_parse(&f, in, path);
		fclose(in);
	} else if (errno != ENOENT) {
		say(LOG_WARNING, "cannot read the state file %s: %s", path,
		    strerror(errno));
	}
	if (!st->paused_dirty)
		st->paused = f.paused;
	for (i = 0; i < f.n; i++) {
		struct fsent *e = state_find(st, f.e[i].key);

		if (e && e->dirty)
			continue;
		if (!e)
			e = state_get(st, f.e[i].key);
		if (!e) {
			r = -1;
			break;
		}
		*e = f.e[i];
	}
	state_free(&f);
	if (write && !r) {
		if (state_write_file(st, path)) {
			say(LOG_ERR, "cannot write the state file %s: %s",
			    path, strerror(errno));
			r = -1;
		} else {
			st->paused_dirty = 0;
			for (i = 0; i < st->n; i++)
				st->e[i].dirty = 0;
		}
	}
	if (lfd >= 0)
		close(lfd);
	return r;
}

/* ------------------------------------------------------------------ */
/* choosing the chunks of a round */

struct cand {
	u32 chunk;
	int rank;
	s64 t;
	u32 dist;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return 0;
}

/* Rank of a chunk: 0 suspect, 1 damaged or left repairing, 2 dirty,
 * 3 the rest.  A chunk of rank 0-2 that this daemon scrubbed less than
 * `retry` seconds ago (ours[k], 0: never) drops to rank 3: it is not
 * scrubbed over and over while it stays bad or busy. */
static int chunk_rank(u32 state, s64 ours, s64 now, double retry)
{
	int r;

	switch (state) {
	case ST_SUSPECT: r = 0; break;
	case ST_DAMAGED: case ST_REPAIRING: r = 1; break;
	case ST_DIRTY: r = 2; break;
	default: r = 3; break;
	}
	if (r < 3 && ours && (double)(now - ours) < retry)
		r = 3;
	return r;
}

/* Picks up to want chunks of h[0..n) (h[i].chunk == i), best first, into
 * out (and their ranks into rank_out).  Within rank 3 the least recently
 * verified (the later of verified_time and this daemon's own last scrub,
 * which also counts check-only scrubs) come first, ties in cursor order
 * from `next`.  Returns how many were picked, or -1 (no memory). */
static int pick_chunks(const struct chunkfs_chunk_health *h, u32 n, u32 next,
		       const s64 *ours, s64 now, double retry, u32 want,
		       u32 *out, int *rank_out)
{
	struct cand *c;
	u32 i, m = 0;

	if (!n || !want)
		return 0;
	c = malloc((size_t)n * sizeof(*c));
	if (!c)
		return -1;
	if (next >= n)
		next = 0;
	for (i = 0; i < n; i++) {
		s64 own = ours ? ours[i] : 0;

		c[i].chunk = h[i].chunk;
		c[i].rank = chunk_rank(h[i].state, own, now, retry);
		c[i].t = h[i].verified_time;
		if (c[i].rank == 3 && own > c[i].t)
			c[i].t = own;
		c[i].dist = (h[i].chunk + n - next) % n;
	}
	qsort(c, n, sizeof(*c), cand_cmp);
	for (i = 0; i < n && m < want; i++) {
		out[m] = c[i].chunk;
		if (rank_out)
			rank_out[m] = c[i].rank;
		m++;
	}
	free(c);
	return (int)m;
}

/* Seconds to sleep after a scrub that held its chunk for d seconds and
 * read blocks metadata blocks. */
static double budget_sleep(const struct conf *c, double d, double blocks)
{
	double s = 0, io;

	if (c->cpu_share < 100)
		s = d * (100.0 / c->cpu_share - 1);
	if (c->io_rate > 0) {
		io = blocks / c->io_rate - d;
		if (io > s)
			s = io;
	}
	return s > 0 ? s : 0;
}

/* ------------------------------------------------------------------ */
/* time and signals */

static sigset_t sigs;
static volatile int want_stop, want_reload;
static int paused;
static int pause_changed;

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void take_signal(int sig)
{
	switch (sig) {
	case SIGTERM: case SIGINT:
		if (!want_stop)
			say(LOG_INFO, "%s: stopping", strsignal(sig));
		want_stop = 1;
		break;
	case SIGHUP:
		want_reload = 1;
		break;
	case SIGUSR1:
		if (!paused)
			pause_changed = 1;
		paused = 1;
		break;
	case SIGUSR2:
		if (paused)
			pause_changed = 1;
		paused = 0;
		break;
	default:
		break;
	}
}

/* Waits secs seconds (forever if secs < 0), taking signals.  Returns 0
 * when the time is up, 1 as soon as a signal asks for something (stop,
 * pause or resume, reload). */
static int nap(double secs)
{
	double end = now_mono() + secs;

	for (;;) {
		struct timespec ts;
		siginfo_t si;
		double left = end - now_mono();
		int sig;

		if (want_stop || pause_changed || want_reload)
			return 1;
		if (secs >= 0 && left <= 0)
			return 0;
		if (secs < 0)
			left = 3600;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&sigs, &si, &ts);
		if (sig > 0)
			take_signal(sig);
	}
}

/* Takes the signals that are pending, without waiting. */
static void poll_signals(void)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int sig;

	while ((sig = sigtimedwait(&sigs, &si, &zero)) > 0)
		take_signal(sig);
}

/* ------------------------------------------------------------------ */
/* mounts */

struct mnt {
	char dir[PATH_MAX];
	char src[PATH_MAX];
};

/* /proc/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
}

static int is_chunkfs_type(const char *t)
{
	return !strcmp(t, "fuse.chunkfs") || !strcmp(t, "fuseblk.chunkfs") ||
	       !strcmp(t, "chunkfs");
}

/* The chunkfs mounts of /proc/self/mounts (the last of a stacked mount
 * point wins).  Returns how many, at most max, or -1. */
static int list_mounts(struct mnt *m, int max)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[3 * PATH_MAX];
	int n = 0;

	if (!f) {
		say(LOG_ERR, "cannot read /proc/self/mounts: %s",
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *src, *dir, *type;
		int i;

		src = strtok_r(line, " ", &save);
		dir = strtok_r(NULL, " ", &save);
		type = strtok_r(NULL, " ", &save);
		if (!src || !dir || !type || !is_chunkfs_type(type))
			continue;
		unescape(src);
		unescape(dir);
		for (i = 0; i < n; i++)
			if (!strcmp(m[i].dir, dir))
				break;
		if (i == n) {
			if (n == max)
				continue;
			n++;
		}
		snprintf(m[i].dir, sizeof(m[i].dir), "%s", dir);
		snprintf(m[i].src, sizeof(m[i].src), "%s", src);
	}
	fclose(f);
	return n;
}

/* The key of a filesystem: its UUID from the superblock (block 0 of the
 * source: struct cfs_bhdr, magic at byte 4, uuid at 8), or its mount
 * point when the source cannot be read. */
static void fs_key(const struct mnt *m, char *key, size_t sz)
{
	unsigned char b[24];
	int fd = open(m->src, O_RDONLY | O_CLOEXEC);
	ssize_t r = -1;

	if (fd >= 0) {
		r = pread(fd, b, sizeof(b), 0);
		close(fd);
	}
	if (r == (ssize_t)sizeof(b) && b[4] == 'C' && b[5] == 'F' &&
	    b[6] == 'S' && b[7] == 'S') {
		const unsigned char *u = b + 8;

		snprintf(key, sz, "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
			 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
		return;
	} else {
		size_t o = (size_t)snprintf(key, sz, "mount:");
		const char *p;

		for (p = m->dir; *p && o + 5 < sz; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\n' ||
			    *p == '\\' || *p == '=')
				o += (size_t)snprintf(key + o, sz - o, "\\%03o",
						      (unsigned char)*p);
			else
				key[o++] = *p;
		}
		key[o] = 0;
	}
}

/* ------------------------------------------------------------------ */
/* foreground activity */

/* The pid of the process serving the image src (holds it open), a
 * chunkfs-fuse if there are several; 0 if none. */
static pid_t find_server(const char *src)
{
	char real[PATH_MAX], p[PATH_MAX + 64], l[PATH_MAX];
	DIR *proc, *fds;
	struct dirent *de, *fe;
	pid_t best = 0;

	if (!realpath(src, real))
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while ((de = readdir(proc))) {
		pid_t pid;
		int held = 0;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
		fds = opendir(p);
		if (!fds)
			continue;
		while (!held && (fe = readdir(fds))) {
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "/proc/%d/fd/%s", (int)pid,
				 fe->d_name);
			n = readlink(p, l, sizeof(l) - 1);
			if (n <= 0)
				continue;
			l[n] = 0;
			held = !strcmp(l, real);
		}
		closedir(fds);
		if (held) {
			char comm[64] = "";
			FILE *f;

			snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
			f = fopen(p, "r");
			if (f) {
				if (!fgets(comm, sizeof(comm), f))
					comm[0] = 0;
				fclose(f);
			}
			if (!best || !strncmp(comm, "chunkfs-fuse", 12))
				best = pid;
			if (!strncmp(comm, "chunkfs-fuse", 12))
				break;
		}
	}
	closedir(proc);
	return best;
}

/* rchar + wchar of a process, or -1. */
static double proc_io_bytes(pid_t pid)
{
	char p[64], line[128];
	unsigned long long v, sum = 0;
	int got = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/io", (int)pid);
	f = fopen(p, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "rchar: %llu", &v) == 1 ||
		    sscanf(line, "wchar: %llu", &v) == 1) {
			sum += v;
			got++;
		}
	}
	fclose(f);
	return got == 2 ? (double)sum : -1;
}

/* Sectors read + written (x 512) of a block device, or -1. */
static double dev_io_bytes(dev_t dev)
{
	char p[96];
	unsigned long long f[8] = { 0 };
	FILE *fp;
	int n;

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/stat", major(dev),
		 minor(dev));
	fp = fopen(p, "r");
	if (!fp)
		return -1;
	n = fscanf(fp, "%llu %llu %llu %llu %llu %llu %llu %llu", &f[0],
		   &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]);
	fclose(fp);
	if (n != 8)
		return -1;
	return (double)(f[2] + f[6]) * 512.0;
}

/* ------------------------------------------------------------------ */
/* one filesystem */

struct fsrun {
	struct mnt m;
	char key[KEY_LEN];
	u32 nchunks;
	s64 *ours;            /* per chunk: time of this daemon's last scrub */
	pid_t server;         /* the FUSE daemon, 0 if unknown */
	dev_t bdev;           /* backing block device, 0 if unknown */
	int io_source;        /* 0 not looked for, 1 server, 2 bdev, 3 none */
	int said_none;        /* "no way to measure" logged once */
	int ioctl_warned, missing_warned, announced;
	double mark_t, mark_bytes; /* foreground measurement */
	int seen;             /* in the current list of mounts */
};

static struct fsrun *runs;
static unsigned nruns;

static void runs_free(void)
{
	unsigned i;

	for (i = 0; i < nruns; i++)
		free(runs[i].ours);
	free(runs);
	runs = NULL;
	nruns = 0;
}

static struct fsrun *run_get(const struct mnt *m, const char *key)
{
	struct fsrun *r;
	unsigned i;

	for (i = 0; i < nruns; i++)
		if (!strcmp(runs[i].m.dir, m->dir) &&
		    !strcmp(runs[i].key, key))
			return &runs[i];
	r = realloc(runs, (nruns + 1) * sizeof(*r));
	if (!r)
		return NULL;
	runs = r;
	r = &runs[nruns++];
	memset(r, 0, sizeof(*r));
	r->m = *m;
	snprintf(r->key, sizeof(r->key), "%s", key);
	return r;
}

/* Foreground bytes moved so far (monotonic counter), or -1. */
static double fg_bytes(struct fsrun *r)
{
	struct stat st;
	double b;

	if (r->io_source == 1) {
		b = proc_io_bytes(r->server);
		if (b >= 0)
			return b;
		r->io_source = 0; /* the daemon changed: look again */
	}
	if (r->io_source == 3)
		r->io_source = 0; /* none last time (unmounted?): look again */
	if (r->io_source == 0) {
		r->server = find_server(r->m.src);
		if (r->server && proc_io_bytes(r->server) >= 0) {
			r->io_source = 1;
			say(LOG_DEBUG, "%s: foreground measured at the FUSE "
			    "daemon, pid %d", r->m.dir, (int)r->server);
			return proc_io_bytes(r->server);
		}
		r->io_source = 3;
		if (!stat(r->m.src, &st)) {
			r->bdev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
			if (dev_io_bytes(r->bdev) >= 0)
				r->io_source = 2;
		}
		if (r->io_source == 3 && !r->said_none++)
			say(LOG_INFO, "%s: no way to measure foreground I/O "
			    "(no FUSE daemon found, no block device): not "
			    "yielding to it", r->m.dir);
		else if (r->io_source == 2)
			say(LOG_DEBUG, "%s: foreground measured at block "
			    "device %u:%u", r->m.dir, major(r->bdev),
			    minor(r->bdev));
	}
	if (r->io_source == 2)
		return dev_io_bytes(r->bdev);
	return -1;
}

/* Waits until the foreground moved at most fg_threshold bytes per second
 * over a window of fg_window seconds in which we did not scrub (the window
 * may have begun at the end of the previous scrub).  Returns 0 to go on,
 * 1 when a signal interrupted the wait. */
static int wait_quiet(const struct conf *c, struct fsrun *r)
{
	double start = now_mono(), t, b, rate;
	int busy_said = 0;

	if (c->fg_threshold <= 0)
		return 0;
	for (;;) {
		t = now_mono();
		if (r->mark_t <= 0 || t - r->mark_t > 2 * c->fg_window ||
		    r->mark_bytes < 0) {
			r->mark_t = t;
			r->mark_bytes = fg_bytes(r);
			if (r->mark_bytes < 0)
				return 0;
		}
		if (t < r->mark_t + c->fg_window &&
		    nap(r->mark_t + c->fg_window - t))
			return 1;
		t = now_mono();
		b = fg_bytes(r);
		if (b < 0)
			return 0;
		rate = (b - r->mark_bytes) / (t - r->mark_t);
		r->mark_t = t;
		r->mark_bytes = b;
		if (rate <= c->fg_threshold) {
			if (busy_said)
				say(LOG_INFO, "%s: foreground quiet again "
				    "after %.0f s", r->m.dir,
				    now_mono() - start);
			return 0;
		}
		if (c->fg_max_wait > 0 && t - start >= c->fg_max_wait) {
			say(LOG_INFO, "%s: foreground busy for %.0f s: "
			    "scrubbing one chunk anyway", r->m.dir,
			    t - start);
			return 0;
		}
		if (!busy_said)
			say(LOG_INFO, "%s: yielding to foreground I/O "
			    "(%.0f KiB/s > %.0f KiB/s)", r->m.dir,
			    rate / 1024, c->fg_threshold / 1024);
		else
			say(LOG_DEBUG, "%s: foreground still busy (%.0f "
			    "KiB/s)", r->m.dir, rate / 1024);
		busy_said = 1;
	}
}

/* Health of every chunk into *out (malloc'd), count into *n.  Returns 0,
 * or an errno value. */
static int read_health(int fd, struct chunkfs_chunk_health **out, u32 *n,
		       u32 *flags)
{
	struct chunkfs_health *h = malloc(sizeof(*h));
	struct chunkfs_chunk_health *all = NULL;
	u32 first = 0, total = 0;
	int err = 0;

	if (!h)
		return ENOMEM;
	for (;;) {
		memset(h, 0, sizeof(*h));
		h->first = first;
		if (ioctl(fd, CHUNKFS_IOC_HEALTH, h) < 0) {
			err = errno;
			break;
		}
		if (!all) {
			total = h->nchunks;
			if (!total || total > (1u << 24)) {
				err = EIO;
				break;
			}
			all = calloc(total, sizeof(*all));
			if (!all) {
				err = ENOMEM;
				break;
			}
			*flags = h->flags;
		}
		if (h->nchunks != total || !h->count ||
		    first + h->count > total) {
			err = EAGAIN; /* changed under us */
			break;
		}
		memcpy(&all[first], h->c, h->count * sizeof(h->c[0]));
		first += h->count;
		if (first >= total)
			break;
	}
	free(h);
	if (err) {
		free(all);
		return err;
	}
	for (first = 0; first < total; first++)
		all[first].chunk = first;
	*out = all;
	*n = total;
	return 0;
}

struct totals {
	unsigned scrubbed, problems, unfixed, failed;
};

/* One round on one filesystem.  Returns 0, or 1 when interrupted by a
 * signal. */
static int scrub_fs(const struct conf *c, struct state *st, struct fsrun *r,
		    struct totals *tot)
{
	struct chunkfs_chunk_health *h = NULL;
	u32 n = 0, flags = 0, *pick = NULL, i;
	int *ranks = NULL, np, fd, err, intr = 0;
	struct fsent *e;
	s64 now = (s64)time(NULL);

	fd = open(r->m.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		say(LOG_WARNING, "%s: cannot open: %s", r->m.dir,
		    strerror(errno));
		tot->failed++;
		return 0;
	}
	err = read_health(fd, &h, &n, &flags);
	close(fd);
	if (err) {
		if (!r->ioctl_warned)
			say(LOG_WARNING, "%s: health query failed: %s%s",
			    r->m.dir, strerror(err), err == ENOTTY ?
			    " (a chunkfs without the health ioctls?)" : "");
		r->ioctl_warned = 1;
		tot->failed++;
		return 0;
	}
	r->ioctl_warned = 0;
	if (r->nchunks != n) {
		s64 *o = calloc(n, sizeof(*o));

		if (!o) {
			free(h);
			say(LOG_ERR, "out of memory");
			tot->failed++;
			return 0;
		}
		free(r->ours);
		r->ours = o;
		r->nchunks = n;
	}
	e = state_get(st, r->key);
	if (!e) {
		free(h);
		say(LOG_ERR, "out of memory");
		tot->failed++;
		return 0;
	}
	if (e->next >= n)
		e->next = 0;
	if (!r->announced) {
		if (e->nchunks)
			say(LOG_INFO, "%s: %u chunks (%s): resuming at chunk "
			    "%u (saved progress: %llu scrubbed)", r->m.dir, n,
			    r->key, e->next, (unsigned long long)e->scrubbed);
		else
			say(LOG_INFO, "%s: %u chunks (%s): starting at chunk "
			    "%u", r->m.dir, n, r->key, e->next);
		r->announced = 1;
	}
	if (e->nchunks != n || strcmp(e->mount, r->m.dir)) {
		e->nchunks = n;
		snprintf(e->mount, sizeof(e->mount), "%s", r->m.dir);
		e->dirty = 1;
	}
	pick = calloc(c->chunks, sizeof(*pick));
	ranks = calloc(c->chunks, sizeof(*ranks));
	np = pick && ranks ? pick_chunks(h, n, e->next, r->ours, now,
					 c->retry, c->chunks, pick, ranks) : -1;
	if (np < 0) {
		say(LOG_ERR, "out of memory");
		tot->failed++;
		np = 0;
	}
	for (i = 0; i < (u32)np; i++) {
		struct chunkfs_scrub s;
		u32 k = pick[i], before = h[k].state;
		double d, t0, pause_s;
		int repair = c->repair && !(flags & CHUNKFS_HEALTH_RDONLY);

		poll_signals();
		if (want_stop || pause_changed || paused ||
		    wait_quiet(c, r)) {
			intr = 1;
			break;
		}
		fd = open(r->m.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			say(LOG_WARNING, "%s: cannot open: %s", r->m.dir,
			    strerror(errno));
			tot->failed++;
			break;
		}
		{
			/* unmounted while we waited: a plain directory now
			 * (FUSE's magic, or the kernel module's) */
			struct statfs sf;

			if (fstatfs(fd, &sf) == 0 &&
			    (unsigned long)sf.f_type != 0x65735546UL &&
			    (unsigned long)sf.f_type != 0x53534643UL) {
				say(LOG_INFO, "%s: unmounted meanwhile; "
				    "skipped", r->m.dir);
				close(fd);
				break;
			}
		}
		memset(&s, 0, sizeof(s));
		s.chunk = k;
		/* the data too: a chunk counts as verified (health's
		 * verified_time) only when its data was read */
		s.flags = (repair ? CHUNKFS_SCRUB_REPAIR : 0) |
			  CHUNKFS_SCRUB_DATA;
		t0 = now_mono();
		err = ioctl(fd, CHUNKFS_IOC_SCRUB, &s) < 0 ? errno : 0;
		close(fd);
		r->mark_t = 0; /* measure the foreground from here on */
		r->ours[k] = (s64)time(NULL);
		if (err == EBUSY) {
			say(LOG_INFO, "%s: chunk %u: another scrub is running "
			    "on this filesystem; skipped", r->m.dir, k);
			continue;
		}
		if (err) {
			say(LOG_WARNING, "%s: chunk %u (%s): scrub failed: %s",
			    r->m.dir, k, state_name(before), strerror(err));
			tot->failed++;
			if (err == EPERM || err == ENOTTY || err == ENOENT ||
			    err == ENOTCONN)
				break;
			continue;
		}
		d = (double)s.duration_ns / 1e9;
		tot->scrubbed++;
		e->scrubbed++;
		e->time = r->ours[k];
		e->dirty = 1;
		/* the cursor moves past a chunk scrubbed in its turn, and
		 * past the next one when it was scrubbed out of turn */
		if (ranks[i] == 3 || k == e->next)
			e->next = (k + 1) % n;
		if (!s.found) {
			say(LOG_INFO, "%s: chunk %u (%s): clean (%.1f ms, %llu "
			    "blocks)", r->m.dir, k, state_name(before), d * 1e3,
			    (unsigned long long)s.blocks_read);
		} else if (!repair) {
			tot->problems++;
			say(LOG_WARNING, "%s: chunk %u (%s): %u problems found, "
			    "not repaired (check only; state %s)", r->m.dir, k,
			    state_name(before), s.found, state_name(s.state));
		} else if (s.fixed == s.found) {
			e->repaired++;
			say(LOG_NOTICE, "%s: chunk %u (%s): repaired: %u "
			    "problems found, %u fixed (state %s, %.1f ms, %llu "
			    "blocks)", r->m.dir, k, state_name(before), s.found,
			    s.fixed, state_name(s.state), d * 1e3,
			    (unsigned long long)s.blocks_read);
		} else {
			tot->unfixed++;
			say(LOG_ERR, "%s: chunk %u (%s): could not be repaired: "
			    "%u problems found, %u fixed (state %s)", r->m.dir,
			    k, state_name(before), s.found, s.fixed,
			    state_name(s.state));
		}
		state_sync(st, c->state, 1);
		e = state_get(st, r->key); /* the table may have moved */
		if (!e)
			break;
		pause_s = budget_sleep(c, d, (double)s.blocks_read);
		say(LOG_DEBUG, "%s: budget: sleeping %.3f s (held %.3f s, "
		    "ioctl %.3f s)", r->m.dir, pause_s, d, now_mono() - t0);
		if (pause_s > 0 && nap(pause_s)) {
			intr = 1;
			break;
		}
	}
	free(pick);
	free(ranks);
	free(h);
	return intr;
}

/* The mounts of this round: the configured ones (that are chunkfs
 * mounts now), or all.  Returns how many, or -1. */
static int round_mounts(const struct conf *c, struct mnt **out)
{
	static unsigned char missing[MAX_MOUNTS]; /* said so already */
	struct mnt *all = calloc(MAX_MOUNTS * 4, sizeof(*all)), *sel;
	int n, m = 0, j;
	unsigned i;

	if (!all)
		return -1;
	n = list_mounts(all, MAX_MOUNTS * 4);
	if (n < 0) {
		free(all);
		return -1;
	}
	if (!c->nmounts) {
		*out = all;
		return n;
	}
	sel = calloc(c->nmounts, sizeof(*sel));
	if (!sel) {
		free(all);
		return -1;
	}
	for (i = 0; i < c->nmounts; i++) {
		char real[PATH_MAX];
		const char *want = c->mounts[i];

		if (realpath(want, real))
			want = real;
		for (j = 0; j < n; j++)
			if (!strcmp(all[j].dir, want))
				break;
		if (j < n) {
			if (missing[i])
				say(LOG_INFO, "%s: a mounted chunkfs again; "
				    "scrubbing it", c->mounts[i]);
			missing[i] = 0;
			sel[m++] = all[j];
			continue;
		}
		/* said once, not every round while it stays unmounted */
		if (!missing[i])
			say(LOG_WARNING, "%s: not a mounted chunkfs; skipped "
			    "until it is", c->mounts[i]);
		missing[i] = 1;
	}
	free(all);
	*out = sel;
	return m;
}

/* One round over the mounts.  Returns 0, or 1 when interrupted. */
static int do_round(const struct conf *c, struct state *st,
		    struct totals *tot, int *nfs)
{
	struct mnt *ms = NULL;
	int n, i, intr = 0;

	state_sync(st, c->state, 0);
	if (st->paused && !paused) {
		/* paused through the file (no daemon was running then) */
		say(LOG_INFO, "paused (the state file %s says so)", c->state);
		paused = 1;
	}
	if (paused)
		return 1;
	n = round_mounts(c, &ms);
	*nfs = n > 0 ? n : 0;
	if (n < 0) {
		tot->failed++;
		return 0;
	}
	if (!n)
		say(LOG_DEBUG, "no chunkfs mounted");
	for (i = 0; i < n && !intr; i++) {
		char key[KEY_LEN];
		struct fsrun *r;

		fs_key(&ms[i], key, sizeof(key));
		r = run_get(&ms[i], key);
		if (!r) {
			say(LOG_ERR, "out of memory");
			break;
		}
		snprintf(r->m.src, sizeof(r->m.src), "%s", ms[i].src);
		intr = scrub_fs(c, st, r, tot);
	}
	free(ms);
	state_sync(st, c->state, 1);
	return intr;
}

/* ------------------------------------------------------------------ */
/* pidfile and control */

static int pid_fd = -1;

/* The pid of the running daemon (holds the pidfile locked), or 0. */
static pid_t running_pid(const char *pidfile)
{
	char buf[32];
	int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	long pid;

	if (fd < 0)
		return 0;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		close(fd); /* not locked: stale */
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid < INT_MAX ? (pid_t)pid : 0;
}

static int take_pidfile(const char *pidfile)
{
	char buf[32];
	int fd, n;

	if (mkdir_parents(pidfile)) {
		say(LOG_ERR, "cannot create the directory of %s: %s", pidfile,
		    strerror(errno));
		return -1;
	}
	fd = open(pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		say(LOG_ERR, "cannot open the pidfile %s: %s", pidfile,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		pid_t p = running_pid(pidfile);

		say(LOG_ERR, "another chunkfs-scrubd is running (pid %d, "
		    "pidfile %s)", (int)p, pidfile);
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n) {
		say(LOG_ERR, "cannot write the pidfile %s: %s", pidfile,
		    strerror(errno));
		close(fd);
		return -1;
	}
	pid_fd = fd;
	return 0;
}

static void drop_pidfile(const char *pidfile)
{
	if (pid_fd >= 0) {
		unlink(pidfile);
		close(pid_fd);
		pid_fd = -1;
	}
}

/* --pause / --resume.  Returns the exit status. */
static int control(const struct conf *c, int pause)
{
	pid_t pid = running_pid(c->pidfile);
	struct state st = { 0 };
	int i;

	if (pid) {
		if (kill(pid, pause ? SIGUSR1 : SIGUSR2)) {
			fprintf(stderr, PROG ": cannot signal pid %d: %s\n",
				(int)pid, strerror(errno));
			return 1;
		}
		/* the daemon writes the state file when it took it */
		for (i = 0; i < 300; i++) {
			state_sync(&st, c->state, 0);
			if (st.paused == pause) {
				printf("chunkfs-scrubd (pid %d) %s\n",
				       (int)pid, pause ? "paused" : "resumed");
				state_free(&st);
				return 0;
			}
			usleep(100000);
		}
		state_free(&st);
		fprintf(stderr, PROG ": pid %d was signalled but has not "
			"confirmed within 30 s (%s unchanged)\n", (int)pid,
			c->state);
		return 1;
	}
	if (state_sync(&st, c->state, 0) == 0) {
		st.paused = pause;
		st.paused_dirty = 1;
		if (state_sync(&st, c->state, 1) == 0) {
			printf("chunkfs-scrubd is not running; %s in %s\n",
			       pause ? "paused" : "resumed", c->state);
			state_free(&st);
			return 0;
		}
	}
	state_free(&st);
	return 1;
}

static int status(const struct conf *c)
{
	pid_t pid = running_pid(c->pidfile);
	struct state st = { 0 };
	unsigned i;

	state_sync(&st, c->state, 0);
	if (pid)
		printf("running: pid %d\n", (int)pid);
	else
		printf("running: no\n");
	printf("paused: %s\nstate file: %s\n", st.paused ? "yes" : "no",
	       c->state);
	for (i = 0; i < st.n; i++) {
		struct fsent *e = &st.e[i];
		char when[64] = "never";
		time_t t = (time_t)e->time;
		struct tm tm;

		if (e->time && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s %s: next chunk %u of %u, %llu scrubbed, %llu "
		       "repaired, last %s\n", e->mount, e->key, e->next,
		       e->nchunks, (unsigned long long)e->scrubbed,
		       (unsigned long long)e->repaired, when);
	}
	state_free(&st);
	return 0;
}

/* ------------------------------------------------------------------ */
/* main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-f] [-v] [-c FILE] [-o KEY=VALUE]... "
		"[MOUNT...]\n"
		"       " PROG " --once [-v] [-c FILE] [-o KEY=VALUE]... "
		"[MOUNT...]\n"
		"       " PROG " --pause | --resume | --status [-c FILE] "
		"[-o KEY=VALUE]...\n"
		"       " PROG " --print-config [-c FILE] [-o KEY=VALUE]...\n"
		"       " PROG " -h | --help | -V | --version\n");
}

static void help(void)
{
	usage(stdout);
	printf("\nScrubs mounted chunkfs filesystems in the background, a few "
	       "chunks at a time:\nsuspect chunks first, then the least "
	       "recently verified, within an I/O and\nCPU budget, yielding "
	       "to foreground I/O.  MOUNT...: only these mount points\n"
	       "(default: the config's `mounts`, else every chunkfs "
	       "mount).\n\n"
	       "  -f, --foreground   stay in the foreground, log to stderr\n"
	       "  -v, --verbose      log every decision (debug)\n"
	       "  -c, --config FILE  config file (default " SCRUBD_CONF ")\n"
	       "  -o KEY=VALUE       set a config key (after the file)\n"
	       "      --once         one round, in the foreground, then exit "
	       "(1 if problems\n"
	       "                     remain or a scrub failed)\n"
	       "      --pause        pause the running daemon (kept across "
	       "restarts)\n"
	       "      --resume       resume it\n"
	       "      --status       paused or not, progress per filesystem\n"
	       "      --print-config the configuration in effect\n"
	       "\nSee chunkfs-scrubd(8).\n");
}

/* Detaches; the parent exits when the child has its pidfile (or failed:
 * its message comes through the pipe). */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		char buf[512];
		ssize_t n, tot = 0;
		int ok = 0;

		close(p[1]);
		while ((n = read(p[0], buf + tot,
				 sizeof(buf) - 1 - (size_t)tot)) > 0)
			tot += n;
		buf[tot > 0 ? tot : 0] = 0;
		if (tot > 0 && buf[0] == '+')
			ok = 1;
		else if (tot > 0)
			fprintf(stderr, PROG ": %s\n", buf);
		else
			fprintf(stderr, PROG ": the daemon died while "
				"starting\n");
		_exit(ok ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	pid = fork(); /* not a session leader: never gets a tty */
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/"))
		return -1;
	umask(022);
	*ready_fd = p[1];
	return 0;
}

static void stdio_to_null(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

struct opts {
	const char *conf;
	int conf_given;
	int fg, once, mode; /* mode: 0 daemon, 'p' pause, 'r' resume, 's'
			     * status, 'c' print config */
	char **sets;
	int nsets;
};

/* Builds the configuration: defaults, file, -o, MOUNT arguments.
 * Returns 0 or -1 (message printed). */
static int build_conf(struct conf *c, const struct opts *o, int nargs,
		      char **args)
{
	char err[512];
	int i;

	conf_defaults(c);
	if (conf_load(c, o->conf, !o->conf_given)) {
		conf_free(c);
		return -1;
	}
	for (i = 0; i < o->nsets; i++) {
		char *kv = strdup(o->sets[i]), *eq;

		if (!kv) {
			conf_free(c);
			return -1;
		}
		eq = strchr(kv, '=');
		if (!eq) {
			say(LOG_ERR, "-o %s: want KEY=VALUE", o->sets[i]);
			free(kv);
			conf_free(c);
			return -1;
		}
		*eq = 0;
		if (conf_set(c, trim(kv), trim(eq + 1), err, sizeof(err))) {
			say(LOG_ERR, "-o %s: %s", o->sets[i], err);
			free(kv);
			conf_free(c);
			return -1;
		}
		free(kv);
	}
	if (nargs > 0) {
		conf_free_mounts(c);
		for (i = 0; i < nargs && i < MAX_MOUNTS; i++) {
			char real[PATH_MAX];

			if (!realpath(args[i], real)) {
				say(LOG_ERR, "%s: %s", args[i],
				    strerror(errno));
				conf_free(c);
				return -1;
			}
			c->mounts[c->nmounts] = strdup(real);
			if (!c->mounts[c->nmounts]) {
				conf_free(c);
				return -1;
			}
			c->nmounts++;
		}
		if (nargs > MAX_MOUNTS) {
			say(LOG_ERR, "too many mount points (at most %d)",
			    MAX_MOUNTS);
			conf_free(c);
			return -1;
		}
	}
	return 0;
}

#ifndef SCRUBD_NO_MAIN
int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'O' },
		{ "pause", no_argument, NULL, 'P' },
		{ "resume", no_argument, NULL, 'R' },
		{ "status", no_argument, NULL, 'S' },
		{ "print-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { .conf = SCRUBD_CONF };
	struct conf conf;
	struct state st = { 0 };
	struct totals tot = { 0 };
	int ch, ready_fd = -1, rc = 0, nfs = 0;
	double next_round;

	o.sets = calloc((size_t)argc + 1, sizeof(char *));
	if (!o.sets) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	while ((ch = getopt_long(argc, argv, "fvc:o:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'f': o.fg = 1; break;
		case 'v': log_verbose = 1; break;
		case 'c': o.conf = optarg; o.conf_given = 1; break;
		case 'o': o.sets[o.nsets++] = optarg; break;
		case 'O': o.once = 1; o.fg = 1; break;
		case 'P': o.mode = 'p'; break;
		case 'R': o.mode = 'r'; break;
		case 'S': o.mode = 's'; break;
		case 'C': o.mode = 'c'; break;
		case 'h': help(); free(o.sets); return 0;
		case 'V':
			printf(PROG " " SCRUBD_VERSION "\n");
			free(o.sets);
			return 0;
		default:
			usage(stderr);
			free(o.sets);
			return 2;
		}
	}
	if (o.mode && (o.once || optind < argc)) {
		fprintf(stderr, PROG ": --pause, --resume, --status and "
			"--print-config take no mount point and no --once\n");
		usage(stderr);
		free(o.sets);
		return 2;
	}
	if (build_conf(&conf, &o, argc - optind, argv + optind)) {
		free(o.sets);
		return 2;
	}
	free(o.sets);
	switch (o.mode) {
	case 'p': rc = control(&conf, 1); goto out_conf;
	case 'r': rc = control(&conf, 0); goto out_conf;
	case 's': rc = status(&conf); goto out_conf;
	case 'c': conf_print(&conf, stdout); goto out_conf;
	default: break;
	}
	if (geteuid() != 0)
		say(LOG_WARNING, "not running as root: scrubbing needs root "
		    "(CHUNKFS_IOC_SCRUB answers EPERM)");

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.once) {
		state_sync(&st, conf.state, 0);
		if (st.paused) {
			say(LOG_INFO, "paused (chunkfs-scrubd --resume): "
			    "nothing done");
			goto out_state;
		}
		do_round(&conf, &st, &tot, &nfs);
		if (!nfs && conf.nmounts)
			tot.failed++;
		say(LOG_INFO, "round done: %u chunks scrubbed on %d "
		    "filesystems, %u left with problems, %u failures",
		    tot.scrubbed, nfs, tot.problems + tot.unfixed, tot.failed);
		rc = tot.problems || tot.unfixed || tot.failed ? 1 : 0;
		goto out_state;
	}

	if (!o.fg) {
		if (daemonize(&ready_fd)) {
			say(LOG_ERR, "cannot detach: %s", strerror(errno));
			rc = 1;
			goto out_state;
		}
		openlog(PROG, LOG_PID, LOG_DAEMON);
		log_syslog = 1;
	}
	if (take_pidfile(conf.pidfile)) {
		if (ready_fd >= 0) {
			char m[PATH_MAX + 64];
			int n = snprintf(m, sizeof(m), "cannot take the pidfile "
					 "%s (another chunkfs-scrubd running?)",
					 conf.pidfile);

			if (write(ready_fd, m, (size_t)n) < 0)
				rc = 1;
			close(ready_fd);
		}
		rc = 1;
		goto out_state;
	}
	if (state_sync(&st, conf.state, 1)) {
		if (ready_fd >= 0) {
			char m[PATH_MAX + 64];
			int n = snprintf(m, sizeof(m), "cannot write the state "
					 "file %s", conf.state);

			if (write(ready_fd, m, (size_t)n) < 0)
				rc = 1;
			close(ready_fd);
		}
		rc = 1;
		goto out_pid;
	}
	if (ready_fd >= 0) {
		if (write(ready_fd, "+", 1) < 0)
			rc = 0;
		close(ready_fd);
		stdio_to_null();
	}
	paused = st.paused;
	say(LOG_INFO, "started (pid %d): every %g s %u chunks per "
	    "filesystem, io_rate %g blocks/s, cpu_share %g%%, repair %s, "
	    "fg_threshold %.0f B/s, state %s%s", (int)getpid(), conf.interval,
	    conf.chunks, conf.io_rate, conf.cpu_share,
	    conf.repair ? "yes" : "no", conf.fg_threshold, conf.state,
	    paused ? "; paused (chunkfs-scrubd --resume)" : "");

	next_round = now_mono();
	while (!want_stop) {
		if (want_reload) {
			struct conf nc;

			want_reload = 0;
			if (build_conf(&nc, &o, argc - optind,
				       argv + optind) == 0) {
				if (strcmp(nc.state, conf.state) ||
				    strcmp(nc.pidfile, conf.pidfile))
					say(LOG_WARNING, "reload: state and "
					    "pidfile changes need a restart");
				snprintf(nc.state, sizeof(nc.state), "%s",
					 conf.state);
				snprintf(nc.pidfile, sizeof(nc.pidfile), "%s",
					 conf.pidfile);
				conf_free(&conf);
				conf = nc;
				say(LOG_INFO, "configuration reloaded");
			} else {
				say(LOG_ERR, "reload failed: keeping the "
				    "configuration in effect");
			}
		}
		if (pause_changed) {
			pause_changed = 0;
			st.paused = paused;
			st.paused_dirty = 1;
			state_sync(&st, conf.state, 1);
			say(LOG_INFO, paused ? "paused" : "resumed");
			if (!paused)
				next_round = now_mono(); /* a round at once */
			continue;
		}
		if (paused) {
			nap(-1);
			continue;
		}
		if (now_mono() < next_round) {
			nap(next_round - now_mono());
			continue;
		}
		next_round = now_mono() + conf.interval;
		memset(&tot, 0, sizeof(tot));
		if (do_round(&conf, &st, &tot, &nfs) == 0)
			say(LOG_DEBUG, "round done: %u chunks scrubbed on %d "
			    "filesystems", tot.scrubbed, nfs);
		poll_signals();
	}
	st.paused = paused;
	st.paused_dirty = 1;
	if (state_sync(&st, conf.state, 1) == 0)
		say(LOG_INFO, "state saved to %s; exiting", conf.state);
	else
		rc = 1;
out_pid:
	drop_pidfile(conf.pidfile);
out_state:
	state_free(&st);
	runs_free();
out_conf:
	conf_free(&conf);
	return rc;
}
#endif
