// SPDX-License-Identifier: GPL-2.0
/*
 * age.c - "chunkfs age MOUNT [--seed S] [--fill PCT] [--rounds N]": an
 * aging workload through ordinary system calls on a mounted filesystem
 * (any filesystem, so the same run can be compared with ext4).
 *
 * Everything happens under MOUNT/age.S.  First it fills the filesystem to
 * PCT percent used (statvfs) with a realistic mix: many small files, few
 * large ones, nested directories, hard links.  Then, each round, it
 * deletes a share of the names, renames some files into other
 * directories, lets some files grow, and fills up again: free space ends
 * up scattered over the chunks, which is what makes files continue into
 * other chunks.  It keeps its own model of what exists and reports it at
 * the end (files, names, directories, bytes), so a test can compare it
 * with `chunkfs stat`.  Deterministic for a seed (the filesystem's own
 * answers, such as ENOSPC, aside).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "chunkfs.h"

struct age_ino {           /* a file's inode: size and number of names */
	uint64_t size;
	uint32_t names;
};

struct age_name {
	char *path;            /* relative to the top directory's parent */
	uint32_t ino;          /* index in inos */
};

struct age {
	const char *mnt;
	int mfd;               /* the mount point, for *at() calls */
	uint64_t rng;
	double fill;
	unsigned long rename_pct, link_pml; /* per round; per mille of new */
	uint64_t max_large;
	char **dirs;
	size_t ndirs, capdirs;
	struct age_name *names;
	size_t nnames, capnames;
	struct age_ino *inos;
	size_t ninos, capinos;
	uint64_t counter;
	uint64_t live_files, bytes;
	uint64_t created, deleted, renamed, appended, linked, mkdirs;
	uint64_t written, enospc;
	char *buf;
	int quiet;
};

#define AGE_BUF (1u << 20)

static uint64_t rnd(struct age *a)     /* xorshift64* */
{
	a->rng ^= a->rng >> 12;
	a->rng ^= a->rng << 25;
	a->rng ^= a->rng >> 27;
	return a->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct age *a, uint64_t n)
{
	return n ? rnd(a) % n : 0;
}

/* About uniform in log scale over [lo, hi) (lo a power of two): a power
 * of two, then a point in [2^k, 2^(k+1)). */
static uint64_t logu(struct age *a, uint64_t lo, uint64_t hi)
{
	unsigned k0 = 63 - (unsigned)__builtin_clzll(lo);
	unsigned k1 = 63 - (unsigned)__builtin_clzll(hi - 1);
	unsigned k = k0 + (unsigned)below(a, k1 - k0 + 1);
	uint64_t v = (1ULL << k) + below(a, 1ULL << k);

	return v < lo ? lo : v >= hi ? hi - 1 : v;
}

/* The size mix (by count) of /usr on Debian 12 (154,799 files): 74.6%
 * 0-8 KiB, 20.3% 8-64 KiB, 4.7% 64 KiB-1 MiB, 0.3% 1-16 MiB, 0.06%
 * 16 MiB up to max_large. */
static uint64_t file_size(struct age *a)
{
	uint64_t p = below(a, 10000);

	if (p < 7460)
		return below(a, 8192);
	if (p < 9490)
		return logu(a, 8192, 65536);
	if (p < 9960)
		return logu(a, 65536, 1 << 20);
	if (p < 9994 || a->max_large <= (16u << 20))
		return logu(a, 1 << 20, 16u << 20);
	return logu(a, 16u << 20, a->max_large);
}

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 256;
	v = realloc(v, *cap * size);
	if (!v) {
		tool_err("out of memory");
		exit(1);
	}
	return v;
}

static double used_pct(struct age *a)
{
	struct statvfs s;

	if (fstatvfs(a->mfd, &s) < 0 || !s.f_blocks)
		return 100.0;
	return 100.0 * (double)(s.f_blocks - s.f_bfree) / (double)s.f_blocks;
}

static void add_name(struct age *a, char *path, uint32_t ino)
{
	a->names = grow(a->names, &a->capnames, a->nnames, sizeof(*a->names));
	a->names[a->nnames].path = path;
	a->names[a->nnames].ino = ino;
	a->nnames++;
	a->inos[ino].names++;
}

/* Appends n bytes to fd; returns 0, 1 on ENOSPC, -1 on another error.
 * *done gets the bytes written. */
static int fill_fd(struct age *a, int fd, uint64_t n, uint64_t *done)
{
	*done = 0;
	while (*done < n) {
		size_t len = n - *done < AGE_BUF ? (size_t)(n - *done) : AGE_BUF;
		ssize_t w = write(fd, a->buf, len);

		if (w < 0)
			return errno == ENOSPC ? 1 : -1;
		*done += (uint64_t)w;
		a->written += (uint64_t)w;
	}
	return 0;
}

static char *path_in(struct age *a, const char *dir, char kind)
{
	char *p;

	if (asprintf(&p, "%s/%c%llu", dir, kind,
		     (unsigned long long)a->counter++) < 0) {
		tool_err("out of memory");
		exit(1);
	}
	return p;
}

/* One new object; returns 0, 1 when the filesystem is full, -1 on error. */
static int create_one(struct age *a)
{
	const char *dir = a->dirs[below(a, a->ndirs)];
	uint64_t p = below(a, 1000), size, done;
	char *path;
	int fd, r;

	if (p < 30 || a->ndirs < 4) {          /* a directory */
		if (strlen(dir) > 200)
			dir = a->dirs[0];
		path = path_in(a, dir, 'd');
		if (mkdirat(a->mfd, path, 0755) < 0) {
			r = errno == ENOSPC ? 1 : -1;
			if (r < 0)
				tool_err("mkdir %s/%s: %m", a->mnt, path);
			free(path);
			return r;
		}
		a->dirs = grow(a->dirs, &a->capdirs, a->ndirs, sizeof(char *));
		a->dirs[a->ndirs++] = path;
		a->mkdirs++;
		return 0;
	}
	if (p < 30 + a->link_pml && a->nnames) { /* a hard link */
		struct age_name *n = &a->names[below(a, a->nnames)];

		path = path_in(a, dir, 'h');
		if (linkat(a->mfd, n->path, a->mfd, path, 0) < 0) {
			r = errno == ENOSPC ? 1 : -1;
			if (r < 0)
				tool_err("link %s/%s: %m", a->mnt, path);
			free(path);
			return r;
		}
		add_name(a, path, n->ino);
		a->linked++;
		return 0;
	}
	size = file_size(a);
	path = path_in(a, dir, 'f');
	fd = openat(a->mfd, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		r = errno == ENOSPC ? 1 : -1;
		if (r < 0)
			tool_err("create %s/%s: %m", a->mnt, path);
		free(path);
		return r;
	}
	a->inos = grow(a->inos, &a->capinos, a->ninos, sizeof(*a->inos));
	a->inos[a->ninos].size = 0;
	a->inos[a->ninos].names = 0;
	add_name(a, path, (uint32_t)a->ninos);
	a->ninos++;
	a->live_files++;
	a->created++;
	r = fill_fd(a, fd, size, &done);
	a->inos[a->ninos - 1].size = done;
	a->bytes += done;
	if (r < 0)
		tool_err("write %s/%s: %m", a->mnt, path);
	if (close(fd) < 0 && r == 0) {
		r = errno == ENOSPC ? 1 : -1;
		if (r < 0)
			tool_err("close %s/%s: %m", a->mnt, path);
	}
	return r;
}

/* Fills up to the target; returns 0 (reached or full) or -1.  statvfs
 * is asked before every file once within 1% of the target, else every 16
 * files or 16 MiB. */
static int fill_up(struct age *a)
{
	uint64_t files = 0, mark = 0;
	double u = used_pct(a);

	for (;;) {
		int r;

		if (u + 1.0 >= a->fill || files >= 16 ||
		    a->written - mark >= (16u << 20)) {
			u = used_pct(a);
			files = 0;
			mark = a->written;
			if (u >= a->fill)
				return 0;
		}
		r = create_one(a);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->enospc++;
			return 0;
		}
		files++;
	}
}

/* Removes name i (swapped with the last). */
static int remove_name(struct age *a, size_t i)
{
	struct age_name *n = &a->names[i];
	struct age_ino *in = &a->inos[n->ino];

	if (unlinkat(a->mfd, n->path, 0) < 0) {
		tool_err("unlink %s/%s: %m", a->mnt, n->path);
		return -1;
	}
	if (!--in->names) {
		a->live_files--;
		a->bytes -= in->size;
	}
	a->deleted++;
	free(n->path);
	*n = a->names[--a->nnames];
	return 0;
}

static int age_round(struct age *a, unsigned delete_pct)
{
	uint64_t k, n;

	n = a->nnames * delete_pct / 100;
	for (k = 0; k < n && a->nnames; k++)
		if (remove_name(a, below(a, a->nnames)) < 0)
			return -1;
	n = a->nnames * a->rename_pct / 100;  /* move elsewhere */
	for (k = 0; k < n; k++) {
		struct age_name *nm = &a->names[below(a, a->nnames)];
		char *to = path_in(a, a->dirs[below(a, a->ndirs)], 'r');

		if (renameat(a->mfd, nm->path, a->mfd, to) < 0) {
			tool_err("rename %s/%s: %m", a->mnt, nm->path);
			free(to);
			return -1;
		}
		free(nm->path);
		nm->path = to;
		a->renamed++;
	}
	n = a->nnames / 50;                    /* 2% grow */
	for (k = 0; k < n; k++) {
		struct age_name *nm = &a->names[below(a, a->nnames)];
		struct age_ino *in = &a->inos[nm->ino];
		uint64_t add = in->size / 2 + below(a, 65536) + 1, done;
		int fd = openat(a->mfd, nm->path, O_WRONLY | O_APPEND), r;

		if (fd < 0) {
			tool_err("open %s/%s: %m", a->mnt, nm->path);
			return -1;
		}
		r = fill_fd(a, fd, add, &done);
		in->size += done;
		a->bytes += done;
		a->appended++;
		if (close(fd) < 0 && !r)
			r = errno == ENOSPC ? 1 : -1;
		if (r < 0) {
			tool_err("append %s/%s: %m", a->mnt, nm->path);
			return -1;
		}
		if (r > 0) {
			a->enospc++;
			break;
		}
	}
	return fill_up(a);
}

static void age_usage(FILE *f)
{
	fprintf(f, "Usage: %s age MOUNT [--seed S] [--fill PCT] [--rounds N] "
		"[--delete PCT] [--rename PCT] [--hard-links PERMILLE] "
		"[--max-file SIZE] [--json] [--quiet]\n", tool_prog);
}

int cmd_age(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "fill", required_argument, NULL, 'f' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "delete", required_argument, NULL, 'd' },
		{ "rename", required_argument, NULL, 'R' },
		{ "hard-links", required_argument, NULL, 'L' },
		{ "max-file", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct age a;
	unsigned long long seed = 1, maxf = 0;
	unsigned long rounds = 4, del = 30, i;
	int json = 0, opt, ret = 0;
	struct statvfs sv;
	struct timespec t0, t1;
	char *end, *top;
	double secs;

	memset(&a, 0, sizeof(a));
	a.fill = 80;
	a.rename_pct = 5;
	a.link_pml = 30;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:f:r:d:R:L:m:jqh", lopts,
				  NULL)) != -1) {
		errno = 0;
		switch (opt) {
		case 's':
			seed = strtoull(optarg, &end, 0);
			break;
		case 'f':
			a.fill = strtod(optarg, &end);
			if (a.fill <= 0 || a.fill > 100)
				errno = ERANGE;
			break;
		case 'r':
			rounds = strtoul(optarg, &end, 0);
			break;
		case 'R':
			a.rename_pct = strtoul(optarg, &end, 0);
			if (a.rename_pct > 100)
				errno = ERANGE;
			break;
		case 'L':
			a.link_pml = strtoul(optarg, &end, 0);
			if (a.link_pml > 500)
				errno = ERANGE;
			break;
		case 'd':
			del = strtoul(optarg, &end, 0);
			if (del > 100)
				errno = ERANGE;
			break;
		case 'm':
			end = "";
			if (cfs_parse_size(optarg, &maxf) < 0 ||
			    maxf < (1u << 20))
				errno = ERANGE;
			break;
		case 'j':
			json = 1;
			continue;
		case 'q':
			a.quiet = 1;
			continue;
		case 'h':
			age_usage(stdout);
			return 0;
		default:
			age_usage(stderr);
			return 1;
		}
		if (errno || *end) {
			const struct option *o = lopts;
			const char *range =
				opt == 'f' ? " (a percentage above 0, at most "
					     "100)" :
				opt == 'R' || opt == 'd' ? " (a percentage, 0 "
							   "to 100)" :
				opt == 'L' ? " (per mille, 0 to 500)" :
				opt == 'm' ? " (a size of at least 1M)" :
				" (a number)";

			while (o->name && o->val != opt)
				o++;
			tool_err("age: bad value '%s' for --%s%s", optarg,
				 o->name ? o->name : "?", range);
			return 1;
		}
	}
	if (optind != argc - 1) {
		tool_err(optind >= argc ? "age: no mount point given" :
			 "age: one mount point only");
		age_usage(stderr);
		return 1;
	}
	a.mnt = argv[optind];
	a.mfd = open(a.mnt, O_RDONLY | O_DIRECTORY);
	if (a.mfd < 0 || fstatvfs(a.mfd, &sv) < 0) {
		tool_err("%s: %m", a.mnt);
		return 1;
	}
	/* large files: 16 MiB up to 1/32 of the filesystem (at most 1 GiB) */
	a.max_large = maxf ? maxf :
		CFS_MIN((uint64_t)sv.f_blocks * sv.f_frsize / 32, 1ULL << 30);
	a.rng = seed * 0x9e3779b97f4a7c15ULL + 0x1234567;
	if (!a.rng)
		a.rng = 1;
	a.buf = malloc(AGE_BUF);
	if (!a.buf) {
		tool_err("out of memory");
		return 1;
	}
	for (i = 0; i < AGE_BUF; i++)
		a.buf[i] = (char)(rnd(&a) >> 56);
	if (asprintf(&top, "age.%llu", seed) < 0)
		return 1;
	if (mkdirat(a.mfd, top, 0755) < 0) {
		tool_err("mkdir %s/%s: %m", a.mnt, top);
		free(top);
		free(a.buf);
		return 1;
	}
	a.dirs = grow(a.dirs, &a.capdirs, 0, sizeof(char *));
	a.dirs[a.ndirs++] = top;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (fill_up(&a) < 0)
		ret = 1;
	if (!a.quiet)
		fprintf(stderr, "age: filled to %.1f%% (%llu files, %llu "
			"directories)\n", used_pct(&a),
			(unsigned long long)a.live_files,
			(unsigned long long)a.ndirs);
	for (i = 1; i <= rounds && !ret; i++) {
		if (age_round(&a, (unsigned)del) < 0)
			ret = 1;
		if (!a.quiet)
			fprintf(stderr, "age: round %lu of %lu: %.1f%% used, "
				"%llu files\n", i, rounds, used_pct(&a),
				(unsigned long long)a.live_files);
	}
	if (fsync(a.mfd) < 0 && !ret) {
		tool_err("fsync %s: %m", a.mnt);
		ret = 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	{
		const struct { const char *key; unsigned long long v; } f[] = {
			{ "files", a.live_files }, { "names", a.nnames },
			{ "directories", a.ndirs }, { "bytes", a.bytes },
			{ "created", a.created }, { "deleted", a.deleted },
			{ "renamed", a.renamed }, { "appended", a.appended },
			{ "hard_links_made", a.linked },
			{ "written_bytes", a.written }, { "enospc", a.enospc },
		};
		size_t k;

		if (json) {
			printf("{\n  \"mount\": ");
			json_str(stdout, a.mnt);
			printf(",\n  \"top\": ");
			json_str(stdout, top);
			printf(",\n  \"seed\": %llu,\n  \"fill_target_pct\": %g,"
			       "\n  \"rounds\": %lu,\n  \"delete_pct\": %lu,\n"
			       "  \"used_pct\": %.2f,\n", seed, a.fill, rounds,
			       del, used_pct(&a));
		} else {
			printf("Mount point:     %s (everything under %s)\n",
			       a.mnt, top);
			printf("Used:            %.1f%% (target %g%%), seed %llu, "
			       "%lu rounds deleting %lu%%\n", used_pct(&a),
			       a.fill, seed, rounds, del);
		}
		for (k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			printf(json ? "  \"%s\": %llu,\n" : "%-16s %llu\n",
			       f[k].key, f[k].v);
		if (json)
			printf("  \"seconds\": %.2f,\n  \"ok\": %s\n}\n", secs,
			       ret ? "false" : "true");
		else
			printf("%-16s %.1f\n", "seconds", secs);
	}
	for (i = 0; i < a.nnames; i++)
		free(a.names[i].path);
	for (i = 0; i < a.ndirs; i++)
		free(a.dirs[i]);
	free(a.names);
	free(a.dirs);
	free(a.inos);
	free(a.buf);
	close(a.mfd);
	return ret;
}
