// SPDX-License-Identifier: GPL-2.0
/*
 * scrub.c - "chunkfs scrub MOUNT [--chunk N[,M...]] [--repair] [--json]":
 * check (and repair) chunks of a mounted chunkfs online, one at a time,
 * through CHUNKFS_IOC_SCRUB, while the filesystem stays in use.  Exit
 * codes like fsck(8): 0 nothing found, 1 problems found and all fixed,
 * 4 problems left, 8 an operational error, 32 interrupted (ORed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "chunkfs.h"
#include "../fs/check.h"

#define EX_FIXED 1
#define EX_LEFT 4
#define EX_ERROR 8
#define EX_CANCEL 32
#define BAR_WIDTH 40

static void scrub_usage(FILE *f)
{
	fprintf(f, "Usage: %s scrub MOUNT [--chunk N[,M...]] [--repair] "
		"[--no-data] [--json]\n"
		"Check the chunks of the chunkfs mounted on MOUNT (any file or "
		"directory of it)\nwhile it stays in use: every chunk, or those "
		"of --chunk.  --repair fixes what\nthe check finds (root "
		"only).  Every data block is read and compared with its\n"
		"checksum too (format v2, datasum): each damaged file is "
		"listed with its damaged\nbytes; --no-data checks the metadata "
		"only.  A progress bar is shown on a terminal.\n"
		"Exit status: 0 clean, 1 problems fixed, 4 problems left, 8 "
		"error, 32 interrupted.\n", tool_prog);
}

/* "3,7,12" into a list of chunk numbers; -1 on a bad list. */
static int parse_chunks(const char *s, u32 **list, size_t *n)
{
	char *copy = strdup(s), *tok, *save = NULL;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long long v;
		char *end;
		u32 *nl;

		if (*tok < '0' || *tok > '9')
			goto bad;
		errno = 0;
		v = strtoull(tok, &end, 10);
		if (errno || *end || v >= CHUNKFS_NO_CHUNK)
			goto bad;
		nl = realloc(*list, (*n + 1) * sizeof(**list));
		if (!nl)
			goto bad;
		*list = nl;
		(*list)[(*n)++] = (u32)v;
	}
	free(copy);
	return *n ? 0 : -1;
bad:
	free(copy);
	return -1;
}

struct bar {
	int fd;       /* -1: none */
	int drawn;
};

static void bar_draw(struct bar *b, size_t done, size_t total)
{
	char buf[BAR_WIDTH + 64], *p = buf;
	size_t fill = total ? done * BAR_WIDTH / total : BAR_WIDTH, i;
	ssize_t w;

	if (b->fd < 0)
		return;
	if (b->fd == STDOUT_FILENO)
		fflush(stdout);
	*p++ = '\r';
	*p++ = '[';
	for (i = 0; i < BAR_WIDTH; i++)
		*p++ = i < fill ? '=' : (i == fill ? '>' : ' ');
	p += sprintf(p, "] %zu/%zu chunks", done, total);
	w = write(b->fd, buf, (size_t)(p - buf));
	(void)w;
	b->drawn = 1;
}

static void bar_clear(struct bar *b)
{
	char buf[BAR_WIDTH + 64];
	ssize_t w;

	if (b->fd < 0 || !b->drawn)
		return;
	buf[0] = '\r';
	memset(buf + 1, ' ', BAR_WIDTH + 30);
	buf[BAR_WIDTH + 31] = '\r';
	w = write(b->fd, buf, BAR_WIDTH + 32);
	(void)w;
	b->drawn = 0;
}

/* One problem of a scrub, from its CHUNKFS_E_PROBLEM event. */
struct prob {
	u32 chunk, code;
	u64 ino, blk;
	int fixed;
	char detail[96];
	char path[sizeof(((struct chunkfs_event *)0)->path)]; /* "" */
};

struct result {
	u32 chunk;
	int err;      /* errno of the ioctl, 0 */
	struct chunkfs_scrub s;
	struct prob *p;   /* the problems it reported */
	size_t np;
	u32 unlisted;     /* problems found but not in the events (lost) */
};

/* The newest event's seq (the stream is read from there after a scrub). */
static u64 events_last(int fd)
{
	static struct chunkfs_events ev;

	memset(&ev, 0, sizeof(ev));
	ev.after = ~0ULL;
	return ioctl(fd, CHUNKFS_IOC_EVENTS, &ev) < 0 ? ~0ULL : ev.last;
}

/* "chunk K: NAME[ block B][ [DETAIL]] -- fixed|not fixed" (fs/scrub.c) */
static void parse_problem(const struct chunkfs_event *e, struct prob *p)
{
	const char *m = e->msg, *q;

	memset(p, 0, sizeof(*p));
	p->chunk = e->chunk;
	p->code = e->problem;
	p->ino = e->ino;
	memcpy(p->path, e->path, sizeof(p->path));
	p->path[sizeof(p->path) - 1] = 0;
	q = strstr(m, " -- ");
	p->fixed = q && !strcmp(q, " -- fixed");
	if ((q = strstr(m, ": ")))
		m = q + 2;
	m += strcspn(m, " ["); /* the name */
	if (!strncmp(m, " block ", 7)) {
		p->blk = strtoull(m + 7, (char **)&q, 10);
		m = q;
	}
	if (!strncmp(m, " [", 2) && (q = strstr(m, "] -- "))) {
		size_t n = (size_t)(q - m - 2);

		if (n >= sizeof(p->detail))
			n = sizeof(p->detail) - 1;
		memcpy(p->detail, m + 2, n);
		p->detail[n] = 0;
	}
}

/* The problems of the scrub just done: its events after `before`. */
static void collect_problems(int fd, u64 before, struct result *r)
{
	static struct chunkfs_events ev;
	u64 after = before;
	u32 i;

	if (before == ~0ULL)
		return;
	do {
		memset(&ev, 0, sizeof(ev));
		ev.after = after;
		if (ioctl(fd, CHUNKFS_IOC_EVENTS, &ev) < 0)
			break;
		for (i = 0; i < ev.count; i++) {
			struct prob *np;

			after = ev.e[i].seq;
			if (ev.e[i].code != CHUNKFS_E_PROBLEM)
				continue;
			np = realloc(r->p, (r->np + 1) * sizeof(*np));
			if (!np)
				return;
			r->p = np;
			parse_problem(&ev.e[i], &r->p[r->np++]);
		}
	} while (ev.count);
	if (r->s.found > r->np)
		r->unlisted = r->s.found - (u32)r->np;
}

static void print_problems(const struct result *r)
{
	char line[512];
	size_t i;

	for (i = 0; i < r->np; i++) {
		const struct prob *p = &r->p[i];

		cfs_problem_line(line, sizeof(line), 0, p->chunk, p->ino,
				 p->blk, p->code, p->detail, p->fixed,
				 p->path[0] ? p->path : NULL);
		printf("%s\n", line);
	}
	if (r->unlisted)
		printf("chunk %u: %u more problem%s not listed (see chunkfs "
		       "events, or fsck.chunkfs -n --chunk %u offline)\n",
		       r->chunk, r->unlisted, r->unlisted == 1 ? "" : "s",
		       r->chunk);
}

static void json_report(const char *mnt, int repair,
			const struct result *res, size_t n, u64 found,
			u64 fixed, int code)
{
	size_t i, j;

	printf("{\"mount\": ");
	json_str(stdout, mnt);
	printf(", \"repair\": %s, \"chunks_scrubbed\": %zu, "
	       "\"found\": %llu, \"fixed\": %llu, \"exit\": %d, \"chunks\": [",
	       repair ? "true" : "false", n, (unsigned long long)found,
	       (unsigned long long)fixed, code);
	for (i = 0; i < n; i++) {
		const struct result *r = &res[i];

		printf("%s\n  {\"chunk\": %u, ", i ? "," : "", r->chunk);
		if (r->err) {
			printf("\"error\": ");
			json_str(stdout, strerror(r->err));
			printf("}");
			continue;
		}
		printf("\"found\": %u, \"fixed\": %u, \"state\": \"%s\", "
		       "\"lost_found\": %u, \"duration_ns\": %llu, "
		       "\"blocks_read\": %llu, \"peers\": %u, "
		       "\"locked_ns\": %llu, \"passes\": %u, "
		       "\"under_lock\": %s, \"data_bad\": %u, "
		       "\"error\": null, \"problems\": [",
		       r->s.found, r->s.fixed, tool_chunk_state(r->s.state),
		       r->s.lost_found, (unsigned long long)r->s.duration_ns,
		       (unsigned long long)r->s.blocks_read, r->s.peers,
		       (unsigned long long)r->s.locked_ns, r->s.passes,
		       (r->s.flags & CHUNKFS_SCRUB_LOCKED) ? "true" : "false",
		       r->s.data_bad);
		for (j = 0; j < r->np; j++) {
			const struct prob *p = &r->p[j];
			const struct cfs_problem_desc *d = cfs_problem(p->code);

			printf("%s{\"chunk\": %u, \"code\": %u, \"name\": ",
			       j ? ", " : "", p->chunk, p->code);
			json_str(stdout, d ? d->name : "unknown");
			printf(", \"desc\": ");
			json_str(stdout, d ? d->desc : "unknown problem");
			printf(", \"ino\": %llu, \"block\": %llu, "
			       "\"fixed\": %s, \"detail\": ",
			       (unsigned long long)p->ino,
			       (unsigned long long)p->blk,
			       p->fixed ? "true" : "false");
			json_str(stdout, p->detail);
			printf(", \"path\": ");
			if (p->path[0])
				json_str(stdout, p->path);
			else
				printf("null");
			printf("}");
		}
		printf("], \"unlisted\": %u}", r->unlisted);
	}
	printf("%s]}\n", n ? "\n" : "");
}

int cmd_scrub(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "chunk", required_argument, NULL, 'c' },
		{ "repair", no_argument, NULL, 'y' },
		{ "no-data", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct chunkfs_health h;
	struct result *res = NULL;
	struct bar bar = { -1, 0 };
	u32 *list = NULL;
	size_t nlist = 0, i, done = 0, failed = 0, ntried = 0;
	u64 found = 0, fixed = 0;
	int repair = 0, json = 0, opt, fd, code = 0, data = 1;
	const char *mnt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:yjh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'D':
			data = 0;
			break;
		case 'c':
			if (parse_chunks(optarg, &list, &nlist)) {
				tool_err("scrub: bad chunk list '%s' (numbers "
					 "separated by commas)", optarg);
				free(list);
				return EX_ERROR;
			}
			break;
		case 'y':
			repair = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			scrub_usage(stdout);
			free(list);
			return 0;
		default:
			scrub_usage(stderr);
			free(list);
			return EX_ERROR;
		}
	}
	if (optind + 1 != argc) {
		tool_err(optind >= argc ? "scrub: no mount point given" :
			 "scrub: one mount point only");
		scrub_usage(stderr);
		free(list);
		return EX_ERROR;
	}
	mnt = argv[optind];
	fd = tool_mount_open(mnt, &h, 0);
	if (fd < 0) {
		free(list);
		return EX_ERROR;
	}
	if (repair && (h.flags & CHUNKFS_HEALTH_RDONLY)) {
		tool_err("scrub: %s is mounted read-only; cannot repair", mnt);
		goto err;
	}
	if (!nlist) {
		nlist = h.nchunks;
		list = calloc(nlist ? nlist : 1, sizeof(*list));
		if (!list) {
			tool_err("out of memory");
			goto err;
		}
		for (i = 0; i < nlist; i++)
			list[i] = (u32)i;
	}
	for (i = 0; i < nlist; i++) {
		if (list[i] >= h.nchunks) {
			tool_err("scrub: chunk %u out of range (%s has %u "
				 "chunk%s)", list[i], mnt, h.nchunks,
				 h.nchunks == 1 ? "" : "s");
			goto err;
		}
	}
	res = calloc(nlist, sizeof(*res));
	if (!res) {
		tool_err("out of memory");
		goto err;
	}
	tool_catch_stop();
	bar.fd = json ? STDERR_FILENO : STDOUT_FILENO;
	if (!isatty(bar.fd))
		bar.fd = -1;

	for (i = 0; i < nlist && !tool_stop; i++) {
		struct result *r = &res[i];
		u64 before;

		bar_draw(&bar, done, nlist);
		r->chunk = list[i];
		r->s.chunk = list[i];
		r->s.flags = (repair ? CHUNKFS_SCRUB_REPAIR : 0) |
			     (data ? CHUNKFS_SCRUB_DATA : 0);
		before = events_last(fd);
		while (ioctl(fd, CHUNKFS_IOC_SCRUB, &r->s) < 0) {
			r->err = errno;
			if (r->err != EINTR || tool_stop)
				break;
			r->err = 0;
		}
		if (r->err) {
			code |= EX_ERROR;
			failed++;
			bar_clear(&bar);
			tool_err("scrub: chunk %u: %s%s", r->chunk,
				 strerror(r->err), r->err == EPERM ?
				 " (scrubbing needs root)" : "");
			if (r->err == EPERM || r->err == ENOTTY ||
			    r->err == EROFS) {
				ntried = i + 1;
				break; /* the same for every chunk */
			}
			ntried = i + 1;
			continue;
		}
		ntried = i + 1;
		done++;
		if (r->s.found)
			collect_problems(fd, before, r);
		found += r->s.found;
		fixed += r->s.fixed;
		if (r->s.found > r->s.fixed ||
		    r->s.state == CFS_CHUNK_DAMAGED)
			code |= EX_LEFT;
		else if (r->s.fixed)
			code |= EX_FIXED;
		if (!json && (r->s.found || nlist == 1)) {
			bar_clear(&bar);
			print_problems(r);
			printf("chunk %u: %u problem%s found, %u fixed; now "
			       "%s (%.1f ms)\n", r->chunk, r->s.found,
			       r->s.found == 1 ? "" : "s", r->s.fixed,
			       tool_chunk_state(r->s.state),
			       (double)r->s.duration_ns / 1e6);
			if (r->s.lost_found)
				printf("chunk %u: %u inode%s moved to "
				       "/lost+found/chunk-%u\n", r->chunk,
				       r->s.lost_found,
				       r->s.lost_found == 1 ? "" : "s",
				       r->chunk);
		}
	}
	if (done)
		bar_draw(&bar, done, nlist);
	if (bar.fd >= 0 && bar.drawn) {
		ssize_t w = write(bar.fd, "\n", 1);

		(void)w;
	}
	if (tool_stop)
		code |= EX_CANCEL;
	if (json) {
		json_report(mnt, repair, res, ntried, found, fixed, code);
	} else if (done || !failed) {
		/* only what was done: a scrub refused (not root) or failed
		 * for every chunk said why above, and scrubbed nothing */
		printf("%s: %zu of %zu chunk%s scrubbed%s: %llu problem%s "
		       "found, %llu fixed%s\n", mnt, done, nlist,
		       nlist == 1 ? "" : "s", repair ? " with repair" : "",
		       (unsigned long long)found, found == 1 ? "" : "s",
		       (unsigned long long)fixed,
		       (code & EX_LEFT) ? (repair ? "; problems left" :
				"; run with --repair to fix them") : "");
		if (failed)
			printf("%s: %zu chunk%s could not be scrubbed (see "
			       "above)\n", mnt, failed, failed == 1 ? "" : "s");
	}
	if (!json && tool_stop)
		printf("%s: interrupted\n", mnt);
	for (i = 0; res && i < nlist; i++)
		free(res[i].p);
	free(res);
	free(list);
	close(fd);
	return code;
err:
	free(res);
	free(list);
	close(fd);
	return EX_ERROR;
}
