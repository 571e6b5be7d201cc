// SPDX-License-Identifier: GPL-2.0
/*
 * fsck.c - fsck.chunkfs: check and repair a chunkfs filesystem one chunk at
 * a time, with the fsck(8) conventions for options and exit codes.
 *
 *   fsck.chunkfs [-n|-y|-p|-a] [-f] [-C fd] [-j jobs] [--chunk N[,M...]]
 *                [--json] [-V] DEVICE-or-FILE
 *
 * The checker itself is fs/check*.c (fs/check.h); this is its front end:
 * it opens and locks the image, picks the chunks, runs cfs_check_super and
 * then cfs_check_chunk on each chosen chunk (on -j threads), and reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../fs/check.h"
#include "../fs/chunkfs.h"
#include "../fs/user/user.h"

#define PROG "fsck.chunkfs"
#define CFS_TOOLS_VERSION "1.0"

/* fsck(8) exit codes */
#define FSCK_OK 0
#define FSCK_NONDESTRUCT 1    /* errors corrected */
#define FSCK_UNCORRECTED 4    /* errors left uncorrected */
#define FSCK_ERROR 8          /* operational error */
#define FSCK_USAGE 16         /* usage or syntax error */
#define FSCK_CANCELED 32      /* cancelled by user request */

#define MAX_JOBS 1024
#define BAR_WIDTH 40

static volatile sig_atomic_t cancelled;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-n|-y|-p|-a] [-f] [-C fd] [-j jobs]\n"
		"       [--chunk N[,M...]] [--json] [-V] device-or-file\n"
		"  -n        check only, open read-only, change nothing\n"
		"  -y        repair every problem found\n"
		"  -p, -a    preen: repair only the safe problems\n"
		"  -f        check every chunk, not only those not marked clean\n"
		"  --data    also read every data block of the chunks checked and\n"
		"            compare it with its checksum (format v2, datasum): each\n"
		"            damaged file is reported with the damaged byte ranges\n"
		"  -C fd     show progress on file descriptor fd (0: stdout)\n"
		"  -j jobs   check up to jobs chunks in parallel (default 1)\n"
		"  --no-peers  do not go on to the peer chunks a cross pass names\n"
		"  --chunk N[,M...]  check exactly these chunks\n"
		"  --json    print a machine-readable report on stdout\n"
		"  -V        print the version and exit\n"
		"  --help    print this help and exit\n"
		"Exit status: 0 clean, 1 errors corrected, 4 errors left uncorrected,\n"
		"8 operational error, 16 usage error, 32 cancelled.\n");
}

static void __attribute__((format(printf, 1, 2))) errx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 1, 2))) warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fprintf(stderr, "Try '" PROG " --help' for more information.\n");
	exit(FSCK_USAGE);
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		errx("out of memory");
		exit(FSCK_ERROR);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p) {
		errx("out of memory");
		exit(FSCK_ERROR);
	}
	return p;
}

static const char *cfs_strerror(long e)
{
	return strerror((int)(e < 0 ? -e : e));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *state_name(u32 s)
{
	switch (s) {
	case CFS_CHUNK_CLEAN:
		return "clean";
	case CFS_CHUNK_DIRTY:
		return "dirty";
	case CFS_CHUNK_SUSPECT:
		return "suspect";
	case CFS_CHUNK_DAMAGED:
		return "damaged";
	case CFS_CHUNK_REPAIRING:
		return "repairing";
	default:
		return "unknown";
	}
}

static const char *plural(unsigned long long n, const char *one,
			  const char *many)
{
	return n == 1 ? one : many;
}

/* ---- what was found: one record per problem, one unit per chunk ---- */
struct problem {
	u32 code;
	u32 chunk;            /* the chunk the problem is in */
	u64 ino, blk;
	int fixed;
	char *detail;         /* NULL if none */
	char *path;           /* the file's path (parent pointers), or NULL */
};

struct unit {
	u32 chunk;            /* the chunk, or the superblock for the first */
	int is_super;
	u32 state_before;
	struct problem *p;
	size_t np, cap;
	size_t ncopies;       /* of p: bad copies healed (CFS_PROBLEM_COPY_BAD),
			       * counted apart from problems */
	struct cfs_check_result res;
	int err;              /* negative errno if the check could not run */
	int ran;              /* finished (its report can be printed) */
	int recheck_of;       /* -1, or the chunk whose check asked for it */
	double time_s;
};

static void report_cb(void *ctx, const struct cfs_problem_report *r)
{
	struct unit *u = ctx;
	struct problem *p;

	/* A repair that failed undoes the "fixed" of the problem reported
	 * just before it (the checker's counts do the same). */
	if (r->code == CFS_PROBLEM_FIX_FAILED && u->np && u->p[u->np - 1].fixed)
		u->p[u->np - 1].fixed = 0;

	if (u->np == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 8;
		u->p = realloc(u->p, u->cap * sizeof(*u->p));
		if (!u->p) {
			errx("out of memory");
			exit(FSCK_ERROR);
		}
	}
	p = &u->p[u->np++];
	p->code = r->code;
	p->chunk = u->is_super ? 0 : r->chunk;
	p->ino = r->ino;
	p->blk = r->blk;
	p->fixed = r->fixed != 0;
	p->detail = r->detail && r->detail[0] ? xstrdup(r->detail) : NULL;
	p->path = r->path && r->path[0] ? xstrdup(r->path) : NULL;
	if (r->code == CFS_PROBLEM_COPY_BAD)
		u->ncopies++;
}

/* Problems of a unit: the checker's counts (never fewer found than it
 * reported; bad copies are not problems). */
static u32 unit_found(const struct unit *u)
{
	u32 np = (u32)(u->np - u->ncopies);

	return u->res.found > np ? u->res.found : np;
}

/* Bad copies found: healed, or (read-only) still to heal. */
static u32 unit_copies(const struct unit *u)
{
	return u->res.corrected > u->ncopies ? u->res.corrected :
	       (u32)u->ncopies;
}

/* ... of which healed (rewritten from the good copy). */
static u32 unit_healed(const struct unit *u)
{
	size_t i;
	u32 n = 0;

	for (i = 0; i < u->np; i++)
		n += u->p[i].code == CFS_PROBLEM_COPY_BAD && u->p[i].fixed;
	return n;
}

static u32 unit_fixed(const struct unit *u)
{
	return u->res.fixed < unit_found(u) ? u->res.fixed : unit_found(u);
}

/* The check of a unit stopped before the end (the chunk is not fully
 * checked: its errors count as uncorrected). */
static int unit_incomplete(const struct unit *u)
{
	return u->err < 0 || u->res.fatal;
}

/* ... because of an operational error (I/O, memory), not of damage. */
static int unit_op_error(const struct unit *u)
{
	return u->err < 0 && u->err != -CFS_EUCLEAN;
}

/* ---- the run ---- */
struct run {
	const char *device;
	struct cfs_fs *fs;
	u32 mode;
	int data;             /* --data: CFS_CHECK_DATA */
	int json;
	u32 copies;           /* bad block copies found (the totals) */
	struct cfs_journal_stats journal; /* the mount's replay */
	int jobs;
	u32 nchunks;
	struct unit **units;  /* units[0] is the superblock; more are added
			       * at the end for the peers a check names */
	size_t nunits, cap;
	/* work queue and output, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* a unit was added or finished */
	size_t next;          /* next unit to hand out */
	int running;          /* units being checked */
	u8 *queued;           /* per chunk: waiting in the queue */
	u8 *times;            /* per chunk: times put in the queue */
	size_t printed;       /* units printed so far (text mode, in order) */
	size_t done;          /* chunks finished (for the progress bar) */
	size_t nchunks_todo;
	/* progress */
	int prog_fd;          /* -1: none */
	int prog_on_stdout;
	int bar_drawn;
	size_t bar_value;     /* the count last drawn */
};

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void bar_draw(struct run *R)
{
	char buf[BAR_WIDTH + 128], *b = buf;
	size_t total = R->nchunks_todo, fill, i;

	if (R->prog_fd < 0 || (R->bar_drawn && R->bar_value == R->done))
		return;
	if (R->prog_on_stdout)
		fflush(stdout);
	fill = total ? R->done * BAR_WIDTH / total : BAR_WIDTH;
	*b++ = '\r';
	*b++ = '[';
	for (i = 0; i < BAR_WIDTH; i++)
		*b++ = i < fill ? '=' : (i == fill ? '>' : ' ');
	b += sprintf(b, "] %zu/%zu chunks", R->done, total);
	write_all(R->prog_fd, buf, (size_t)(b - buf));
	R->bar_drawn = 1;
	R->bar_value = R->done;
}

/* Wipe the bar before printing text on the same stream. */
static void bar_clear(struct run *R)
{
	char buf[BAR_WIDTH + 128];
	size_t n = BAR_WIDTH + 40;

	if (R->prog_fd < 0 || !R->prog_on_stdout || !R->bar_drawn)
		return;
	buf[0] = '\r';
	memset(buf + 1, ' ', n);
	buf[n + 1] = '\r';
	write_all(R->prog_fd, buf, n + 2);
	R->bar_drawn = 0;
}

static void bar_finish(struct run *R)
{
	if (R->prog_fd < 0)
		return;
	bar_draw(R);
	write_all(R->prog_fd, "\n", 1);
	R->bar_drawn = 0;
}

static void print_problem(const struct unit *u, const struct problem *p)
{
	char line[1024];

	cfs_problem_line(line, sizeof(line), u->is_super, p->chunk, p->ino,
			 p->blk, p->code, p->detail, p->fixed, p->path);
	printf("%s\n", line);
}

/* Preen (boot time, fsck -A) prints only the chunks with something to
 * say, as e2fsck -p does: a filesystem of 512 clean chunks is one line. */
static int quiet_clean;

static void print_unit(const struct unit *u)
{
	u32 found = unit_found(u), fixed = unit_fixed(u);
	size_t i;

	if (quiet_clean && !u->is_super && !found && !unit_incomplete(u) &&
	    u->recheck_of < 0)
		return;

	for (i = 0; i < u->np; i++)
		print_problem(u, &u->p[i]);
	if (u->is_super) {
		if (unit_incomplete(u))
			printf("superblock: check stopped: %s\n",
			       u->err < 0 ? cfs_strerror(u->err) :
			       "too damaged");
		if (found || unit_incomplete(u))
			printf("superblock: %u %s, %u fixed\n", found,
			       plural(found, "problem", "problems"), fixed);
		return;
	}
	if (u->recheck_of >= 0)
		printf("chunk %u: checked for chunk %d, into which it holds a "
		       "broken forward link\n", u->chunk, u->recheck_of);
	if (unit_incomplete(u))
		printf("chunk %u: check stopped before the end: %s\n", u->chunk,
		       u->err < 0 ? cfs_strerror(u->err) : "too damaged");
	else if (u->res.halted)
		printf("chunk %u: preen stopped at the problem above, which "
		       "needs a decision; nothing after it was checked or "
		       "repaired\n", u->chunk);
	printf("chunk %u: checked in %.3f s, %u %s, %u fixed", u->chunk,
	       u->time_s, found, plural(found, "problem", "problems"), fixed);
	if (unit_copies(u))
		printf(", %u bad block %s (%u healed)", unit_copies(u),
		       plural(unit_copies(u), "copy", "copies"),
		       unit_healed(u));
	printf("\n");
}

/* Print, in order, every finished unit not printed yet (under R->lock). */
static void flush_output(struct run *R)
{
	int any = 0;

	if (R->json)
		return;
	while (R->printed < R->nunits && R->units[R->printed]->ran) {
		if (!any)
			bar_clear(R);
		any = 1;
		print_unit(R->units[R->printed]);
		R->printed++;
	}
	if (any)
		fflush(stdout);
}

/* Put a chunk in the queue (under R->lock once the workers run). */
static void queue_chunk(struct run *R, u32 chunk, int recheck_of)
{
	struct unit *u;

	if (R->nunits == R->cap) {
		R->cap = R->cap ? R->cap * 2 : 64;
		R->units = realloc(R->units, R->cap * sizeof(*R->units));
		if (!R->units) {
			errx("out of memory");
			exit(FSCK_ERROR);
		}
	}
	u = xmalloc(sizeof(*u));
	u->chunk = chunk;
	u->is_super = chunk == (u32)-1;
	u->recheck_of = recheck_of;
	if (!u->is_super) {
		u->state_before = cfs_chunk_state(R->fs, chunk);
		R->queued[chunk] = 1;
		if (R->times[chunk] < 255)
			R->times[chunk]++;
		R->nchunks_todo++;
	}
	R->units[R->nunits++] = u;
}

/* The check of u named peer chunks holding broken forward links into
 * its chunk, which only their own check can cut: check them next, unless
 * one is waiting in the queue already.  One already checked is checked
 * again when this run repairs (a few times at most: no endless loop);
 * with -n nothing changed, so its first report stands. */
#define MAX_RECHECKS 4
static int no_peers;  /* --no-peers: only the chunks asked for */

static void queue_peers(struct run *R, const struct unit *u)
{
	u32 i, n = u->res.nrecheck, p;

	if (no_peers)
		return;
	if (n > CFS_ARRAY_SIZE(u->res.recheck))
		n = CFS_ARRAY_SIZE(u->res.recheck);
	for (i = 0; i < n; i++) {
		p = u->res.recheck[i];
		if (p >= R->nchunks || p == u->chunk || R->queued[p])
			continue;
		if (R->times[p] && (R->mode == CFS_CHECK_NOFIX ||
				    R->times[p] >= MAX_RECHECKS))
			continue;
		queue_chunk(R, p, (int)u->chunk);
	}
}

static void check_unit(struct run *R, struct unit *u, struct cfs_fs *fs)
{
	double t0 = now_s();

	memset(&u->res, 0, sizeof(u->res));
	if (u->is_super)
		u->err = cfs_check_super(R->fs, R->mode, report_cb, u, &u->res);
	else
		u->err = cfs_check_chunk(fs, u->chunk, R->mode |
					 (R->data ? CFS_CHECK_DATA : 0),
					 report_cb, u, &u->res);
	if (u->err > 0)
		u->err = 0;
	u->time_s = now_s() - t0;
}

/* A worker checks with its own read-only instance of the image when the
 * run writes nothing (-n): instances share nothing, so the chunks are
 * checked truly in parallel.  Repairs use the one writable instance, whose
 * lock makes them one chunk at a time. */
struct worker_ctx {
	struct run *R;
	struct cfs_bdev *dev;
	struct cfs_fs *fs;
};

static void *worker(void *arg)
{
	struct worker_ctx *W = arg;
	struct run *R = W->R;
	struct cfs_fs *fs = W->fs ? W->fs : R->fs;

	pthread_mutex_lock(&R->lock);
	for (;;) {
		struct unit *u;

		/* An empty queue may still grow while others run. */
		while (!cancelled && R->next >= R->nunits && R->running)
			pthread_cond_wait(&R->cond, &R->lock);
		if (cancelled || R->next >= R->nunits)
			break;
		u = R->units[R->next++];
		R->queued[u->chunk] = 0;
		R->running++;
		pthread_mutex_unlock(&R->lock);

		check_unit(R, u, fs);

		pthread_mutex_lock(&R->lock);
		R->running--;
		u->ran = 1;
		R->done++;
		queue_peers(R, u);
		flush_output(R);
		bar_draw(R);
		pthread_cond_broadcast(&R->cond);
	}
	pthread_cond_broadcast(&R->cond);
	pthread_mutex_unlock(&R->lock);
	return NULL;
}

/* ---- the blast radius: the files a repair cost something ---- */
struct blast {
	u64 ino;
	char *path;           /* NULL: no path known */
	u32 costs;            /* 1 << CFS_BLAST_* */
};
static struct blast *blast;
static size_t nblast;

static int cmp_blast(const void *a, const void *b)
{
	const struct blast *x = a, *y = b;

	if (!x->path != !y->path)
		return x->path ? -1 : 1;
	if (x->path) {
		int c = strcmp(x->path, y->path);

		if (c)
			return c;
	}
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Every file a problem names whose repair costs it something (inode,
 * content, names, attributes lost; recreated; moved to lost+found), once,
 * with every cost; the path is the one parent pointers gave when the
 * problem was found, or (none then, or moved) the one they give now. */
static void blast_collect(const struct run *R)
{
	size_t k, i, j;

	for (k = 0; k < R->nunits; k++) {
		const struct unit *u = R->units[k];

		if (!u->ran)
			continue;
		for (i = 0; i < u->np; i++) {
			const struct problem *p = &u->p[i];
			const struct cfs_problem_desc *d = cfs_problem(p->code);

			if (!d || !d->blast || !p->ino)
				continue;
			for (j = 0; j < nblast && blast[j].ino != p->ino; j++)
				;
			if (j == nblast) {
				if (!(nblast & (nblast + 1))) {
					blast = realloc(blast, (nblast + 1) * 2 *
							sizeof(*blast));
					if (!blast) {
						errx("out of memory");
						exit(FSCK_ERROR);
					}
				}
				blast[j].ino = p->ino;
				blast[j].path = NULL;
				blast[j].costs = 0;
				nblast++;
			}
			blast[j].costs |= 1u << d->blast;
			if (!blast[j].path && p->path)
				blast[j].path = xstrdup(p->path);
		}
	}
	for (j = 0; j < nblast; j++) {
		char buf[4096];

		if (blast[j].path &&
		    !(blast[j].costs & (1u << CFS_BLAST_MOVED)))
			continue;
		if (cfs_path(R->fs, blast[j].ino, buf, sizeof(buf)) > 0) {
			free(blast[j].path);
			blast[j].path = xstrdup(buf);
		}
	}
	if (nblast)
		qsort(blast, nblast, sizeof(*blast), cmp_blast);
}

static void blast_costs(u32 costs, char *buf, size_t size)
{
	size_t o = 0;
	u32 b;

	buf[0] = 0;
	for (b = 1; b < 32; b++)
		if ((costs & (1u << b)) && o + 16 < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s",
					      o ? "," : "", cfs_blast_name(b));
}

static void blast_print(int writes)
{
	size_t j;

	if (!nblast)
		return;
	printf("\nBlast radius: %zu file%s %s\n", nblast,
	       nblast == 1 ? "" : "s",
	       writes ? "lost or changed by the repair" :
	       "a repair would lose or change (-n: nothing was changed)");
	for (j = 0; j < nblast; j++) {
		char c[128];

		blast_costs(blast[j].costs, c, sizeof(c));
		printf("  %-12s %s (inode %llu)\n", c,
		       blast[j].path ? blast[j].path : "(no name known)",
		       (unsigned long long)blast[j].ino);
	}
}

/* ---- JSON ---- */
static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void json_problems(const struct unit *u)
{
	size_t i;
	int n = 0;

	printf("\"problems\":[");
	for (i = 0; i < u->np; i++) {
		const struct problem *p = &u->p[i];
		const struct cfs_problem_desc *d = cfs_problem(p->code);

		if (p->code == CFS_PROBLEM_COPY_BAD)
			continue;
		printf("%s{\"code\":%u,\"name\":", n++ ? "," : "", p->code);
		json_str(d ? d->name : "unknown");
		printf(",\"desc\":");
		json_str(d ? d->desc : "unknown problem");
		printf(",\"ino\":%llu,\"block\":%llu,\"fixed\":%s,\"detail\":",
		       (unsigned long long)p->ino, (unsigned long long)p->blk,
		       p->fixed ? "true" : "false");
		json_str(p->detail);
		printf(",\"path\":");
		json_str(p->path);
		if (!u->is_super)
			printf(",\"chunk\":%u", p->chunk);
		putchar('}');
	}
	/* bad copies of blocks (format v2): apart from problems */
	printf("],\"corrected\":%u,\"copies\":[", unit_copies(u));
	for (i = 0, n = 0; i < u->np; i++) {
		const struct problem *p = &u->p[i];

		if (p->code != CFS_PROBLEM_COPY_BAD)
			continue;
		printf("%s{\"block\":%llu,\"healed\":%s,\"detail\":",
		       n++ ? "," : "", (unsigned long long)p->blk,
		       p->fixed ? "true" : "false");
		json_str(p->detail);
		putchar('}');
	}
	putchar(']');
}

static const char *mode_name(u32 mode)
{
	return mode == CFS_CHECK_FIXALL ? "repair" :
	       mode == CFS_CHECK_PREEN ? "preen" : "check";
}

static void json_report(const struct run *R, u32 found, u32 fixed, int code,
			const char *error)
{
	size_t i;
	int first = 1;

	printf("{\"device\":");
	json_str(R->device);
	printf(",\"mode\":\"%s\"", mode_name(R->mode));
	printf(",\"journal\":{\"replayed_chunks\":%llu,\"replayed_blocks\":"
	       "%llu,\"replay_failed\":%llu}",
	       (unsigned long long)R->journal.replayed_chunks,
	       (unsigned long long)R->journal.replayed_blocks,
	       (unsigned long long)R->journal.replay_failed);
	if (error) {
		printf(",\"error\":");
		json_str(error);
	}
	if (R->nunits) {
		const struct unit *s = R->units[0];

		printf(",\"super\":{");
		json_problems(s);
		printf(",\"found\":%u,\"fixed\":%u,\"error\":", unit_found(s),
		       unit_fixed(s));
		json_str(s->err < 0 ? cfs_strerror(s->err) : NULL);
		putchar('}');
	}
	printf(",\"chunks\":[");
	for (i = 1; i < R->nunits; i++) {
		const struct unit *u = R->units[i];

		if (!u->ran)
			continue;
		printf("%s{\"chunk\":%u,\"state_before\":\"%s\",", first ? "" : ",",
		       u->chunk, state_name(u->state_before));
		if (u->recheck_of >= 0)
			printf("\"requested_by\":%d,", u->recheck_of);
		first = 0;
		json_problems(u);
		printf(",\"found\":%u,\"fixed\":%u,\"time_s\":%.6f,\"peers\":%u,"
		       "\"data_blocks_read\":%llu,\"data_bad\":%u,"
		       "\"fatal\":%s,\"halted\":%s,\"error\":", unit_found(u),
		       unit_fixed(u), u->time_s, u->res.peers,
		       (unsigned long long)u->res.data_blocks_read,
		       u->res.data_bad,
		       unit_incomplete(u) ? "true" : "false",
		       u->res.halted ? "true" : "false");
		json_str(u->err < 0 ? cfs_strerror(u->err) : NULL);
		putchar('}');
	}
	printf("],\"blast_radius\":[");
	for (i = 0; i < nblast; i++) {
		u32 b;
		int n = 0;

		printf("%s{\"ino\":%llu,\"path\":", i ? "," : "",
		       (unsigned long long)blast[i].ino);
		json_str(blast[i].path);
		printf(",\"costs\":[");
		for (b = 1; b < 32; b++)
			if (blast[i].costs & (1u << b)) {
				printf("%s", n++ ? "," : "");
				json_str(cfs_blast_name(b));
			}
		printf("]}");
	}
	printf("],\"found\":%u,\"fixed\":%u,\"corrected\":%u,\"cancelled\":%s,"
	       "\"exit\":%d}\n", found, fixed, R->copies,
	       cancelled ? "true" : "false", code);
	fflush(stdout);
}

/* ---- options ---- */
static void add_chunks(const char *arg, u32 **list, size_t *n, size_t *cap)
{
	const char *s = arg;

	while (*s) {
		char *end;
		unsigned long long v;

		if (*s < '0' || *s > '9')
			usage_err("invalid chunk list '%s' (expected numbers "
				  "separated by commas, like 3,5,12)", arg);
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno || v > 0xffffffffULL)
			usage_err("invalid chunk number in '%s'", arg);
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*list = realloc(*list, *cap * sizeof(**list));
			if (!*list) {
				errx("out of memory");
				exit(FSCK_ERROR);
			}
		}
		(*list)[(*n)++] = (u32)v;
		s = end;
		if (*s == ',') {
			s++;
			if (!*s)
				usage_err("invalid chunk list '%s' (trailing comma)",
					  arg);
		} else if (*s) {
			usage_err("invalid chunk list '%s' (expected numbers "
				  "separated by commas, like 3,5,12)", arg);
		}
	}
	if (s == arg)
		usage_err("empty chunk list");
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static long parse_num(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage_err("invalid %s '%s' (expected a number from %ld to %ld)",
			  opt, s, lo, hi);
	return v;
}

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

enum { OPT_CHUNK = 256, OPT_JSON, OPT_HELP, OPT_NO_PEERS, OPT_DATA };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "chunk", required_argument, NULL, OPT_CHUNK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "data", no_argument, NULL, OPT_DATA },
		{ "no-peers", no_argument, NULL, OPT_NO_PEERS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt_n = 0, opt_y = 0, opt_p = 0, force = 0, json = 0, jobs = 1;
	int data = 0;
	int prog_fd = -1, explicit_mode, nolock = 0, writes, opt, code, r;
	u32 *chunks = NULL, mode, nchunks, found = 0, fixed = 0, i;
	u32 copies = 0, healed = 0;
	size_t nch = 0, chcap = 0, k, nfirst;
	int fatal_chunks = 0, op_error = 0;
	const char *device, *why = NULL;
	struct cfs_bdev *dev = NULL;
	struct cfs_fs *fs = NULL;
	struct sigaction sa;
	pthread_t *th;
	struct run R;
	char err[512];
	double t0;

	while ((opt = getopt_long(argc, argv, "nypafC:j:Vh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'n':
			opt_n = 1;
			break;
		case 'y':
			opt_y = 1;
			break;
		case 'p':
		case 'a':
			opt_p = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'C':
			prog_fd = (int)parse_num("progress file descriptor (-C)",
						 optarg, 0, INT_MAX);
			break;
		case 'j':
			jobs = (int)parse_num("number of jobs (-j)", optarg, 1,
					      MAX_JOBS);
			break;
		case OPT_CHUNK:
			add_chunks(optarg, &chunks, &nch, &chcap);
			break;
		case OPT_NO_PEERS:
			no_peers = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_DATA:
			data = 1;
			break;
		case 'V':
			printf(PROG " " CFS_TOOLS_VERSION
			       " (chunkfs on-disk format %d)\n", CFS_VERSION);
			return FSCK_OK;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return FSCK_OK;
		default:
			fprintf(stderr, "Try '" PROG " --help' for more "
				"information.\n");
			return FSCK_USAGE;
		}
	}
	if (opt_n + opt_y + opt_p > 1)
		usage_err("only one of the options -n, -y and -p/-a may be given");
	if (optind >= argc)
		usage_err("no device or image file given");
	if (argc - optind > 1)
		usage_err("too many arguments ('%s')", argv[optind + 1]);
	device = argv[optind];
	explicit_mode = opt_n || opt_y || opt_p;
	/* No mode: check read-only (as -n); this version asks no questions. */
	mode = opt_y ? CFS_CHECK_FIXALL : opt_p ? CFS_CHECK_PREEN :
	       CFS_CHECK_NOFIX;
	writes = mode != CFS_CHECK_NOFIX;
	quiet_clean = mode == CFS_CHECK_PREEN;

	/* Progress: fd 0 means stdout (e2fsck -C 0); with --json the bar
	 * goes to stderr so that stdout stays valid JSON. */
	if (prog_fd == 0)
		prog_fd = json ? STDERR_FILENO : STDOUT_FILENO;
	if (prog_fd > 0 && fcntl(prog_fd, F_GETFD) < 0) {
		warnx("progress file descriptor %d is not open; no progress shown",
		      prog_fd);
		prog_fd = -1;
	}

	memset(&R, 0, sizeof(R));
	R.device = device;
	R.mode = mode;
	R.json = json;
	R.data = data;
	R.prog_fd = prog_fd;
	R.prog_on_stdout = prog_fd == STDOUT_FILENO;

	/* ---- open, refusing to write to a filesystem in use ---- */
	if (cfs_user_is_mounted(device)) {
		if (writes) {
			errx("%s is mounted or in use; will not repair it "
			     "(use -n to check read-only)", device);
			if (json)
				json_report(&R, 0, 0, FSCK_ERROR,
					    "mounted or in use");
			return FSCK_ERROR;
		}
		nolock = 1;
	}
	r = cfs_user_open(device, writes ? 0 : CFS_OPEN_RDONLY | (nolock ? CFS_OPEN_NOLOCK : 0),
			  &dev, err, sizeof(err));
	if (r == -EBUSY) {
		if (writes) {
			errx("%s is mounted or in use; will not repair it "
			     "(use -n to check read-only)", device);
			if (json)
				json_report(&R, 0, 0, FSCK_ERROR,
					    "mounted or in use");
			return FSCK_ERROR;
		}
		nolock = 1;
		r = cfs_user_open(device, CFS_OPEN_RDONLY | CFS_OPEN_NOLOCK,
				  &dev, err, sizeof(err));
	}
	if (r < 0) {
		errx("%s", err);
		if (json)
			json_report(&R, 0, 0, FSCK_ERROR, err);
		return FSCK_ERROR;
	}
	if (nolock)
		warnx("%s is mounted or in use; checking it read-only anyway: "
		      "the results may be inconsistent", device);

	r = cfs_mount_check(dev, writes ? 0 : CFS_MOUNT_RDONLY, &fs, &why);
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot open %s for checking: %s%s%s",
			 device, cfs_strerror(r), why ? ": " : "", why ? why : "");
		errx("%s", err);
		if (json)
			json_report(&R, 0, 0, FSCK_ERROR, err);
		cfs_user_close(dev);
		return FSCK_ERROR;
	}
	R.fs = fs;
	nchunks = cfs_nchunks(fs);
	cfs_journal_stats(fs, &R.journal);

	/* ---- which chunks ---- */
	if (nch) {
		qsort(chunks, nch, sizeof(*chunks), cmp_u32);
		for (k = 0; k < nch; k++) {
			if (chunks[k] >= nchunks) {
				errx("no chunk %u in %s: it has %u chunk%s "
				     "(0 to %u)", chunks[k], device, nchunks,
				     nchunks == 1 ? "" : "s",
				     nchunks ? nchunks - 1 : 0);
				cfs_unmount(fs);
				cfs_user_close(dev);
				free(chunks);
				return FSCK_USAGE;
			}
		}
	}
	R.nchunks = nchunks;
	R.queued = xmalloc(nchunks);
	R.times = xmalloc(nchunks);
	queue_chunk(&R, (u32)-1, -1);   /* the superblock */
	if (nch) {
		for (k = 0; k < nch; k++)
			if (!k || chunks[k] != chunks[k - 1])
				queue_chunk(&R, chunks[k], -1);
	} else {
		for (i = 0; i < nchunks; i++)
			if (force || cfs_chunk_state(fs, i) != CFS_CHUNK_CLEAN)
				queue_chunk(&R, i, -1);
	}
	free(chunks);
	nfirst = R.nchunks_todo;
	if ((size_t)jobs > R.nchunks_todo)
		jobs = R.nchunks_todo ? (int)R.nchunks_todo : 1;
	R.jobs = jobs;

	/* ---- signals: finish the chunk in progress, then stop ---- */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!json) {
		printf("Checking %s (%s%s): %zu of %u chunk%s%s\n", device,
		       mode_name(mode), writes ? "" : ", read-only",
		       R.nchunks_todo, nchunks, nchunks == 1 ? "" : "s",
		       nch ? " (as named)" : force ? " (all: -f)" :
		       " (those not marked clean)");
		if (R.journal.replayed_chunks || R.journal.replay_failed)
			printf("journal: the last commit replayed in %llu "
			       "chunk%s (%llu blocks)%s%s\n",
			       (unsigned long long)R.journal.replayed_chunks,
			       R.journal.replayed_chunks == 1 ? "" : "s",
			       (unsigned long long)R.journal.replayed_blocks,
			       writes ? "" : ", in memory only (-n)",
			       R.journal.replay_failed ?
			       "; some chunk journals could not be replayed"
			       " (their chunks are checked)" : "");
		fflush(stdout);
	}

	/* ---- the superblock first, alone ---- */
	t0 = now_s();
	check_unit(&R, R.units[0], R.fs);
	R.units[0]->ran = 1;
	R.next = 1;
	pthread_mutex_init(&R.lock, NULL);
	pthread_cond_init(&R.cond, NULL);
	pthread_mutex_lock(&R.lock);
	flush_output(&R);
	if (R.nchunks_todo)
		bar_draw(&R);
	pthread_mutex_unlock(&R.lock);

	/* ---- the chunks ---- */
	if (R.nchunks_todo && !cancelled) {
		struct worker_ctx *wc = xmalloc((size_t)jobs * sizeof(*wc));
		int nth;

		memset(wc, 0, (size_t)jobs * sizeof(*wc));
		for (r = 0; r < jobs; r++) {
			wc[r].R = &R;
			if (writes || jobs == 1)
				continue;
			if (cfs_user_open(device, CFS_OPEN_RDONLY | CFS_OPEN_NOLOCK,
					  &wc[r].dev, err, sizeof(err)) < 0) {
				wc[r].dev = NULL;
				continue;
			}
			if (cfs_mount_check(wc[r].dev, CFS_MOUNT_RDONLY, &wc[r].fs,
					    &why) < 0) {
				wc[r].fs = NULL;
				cfs_user_close(wc[r].dev);
				wc[r].dev = NULL;
			}
		}
		th = xmalloc((size_t)jobs * sizeof(*th));
		/* One job: check on this thread (no second malloc arena, no
		 * thread start-up). */
		for (r = 0; r < jobs && jobs > 1; r++) {
			int e = pthread_create(&th[r], NULL, worker, &wc[r]);

			if (e) {
				if (r == 0) {
					errx("cannot start a thread: %s",
					     strerror(e));
					worker(&wc[0]);
				}
				break;
			}
		}
		nth = r;
		if (jobs == 1)
			worker(&wc[0]);
		for (r = 0; r < nth; r++)
			pthread_join(th[r], NULL);
		for (r = 0; r < jobs; r++) {
			if (wc[r].fs)
				cfs_unmount(wc[r].fs);
			if (wc[r].dev)
				cfs_user_close(wc[r].dev);
		}
		free(wc);
		free(th);
	}
	pthread_mutex_lock(&R.lock);
	flush_output(&R);
	if (R.nchunks_todo)
		bar_finish(&R);
	pthread_mutex_unlock(&R.lock);

	/* ---- totals ---- */
	for (k = 0; k < R.nunits; k++) {
		struct unit *u = R.units[k];

		if (!u->ran)
			continue;
		found += unit_found(u);
		fixed += unit_fixed(u);
		copies += unit_copies(u);
		healed += unit_healed(u);
		if (unit_op_error(u))
			op_error = 1;
		if (unit_incomplete(u))
			fatal_chunks++;
	}
	blast_collect(&R);
	r = cfs_unmount(fs);
	if (r < 0) {
		errx("cannot write %s out after the check: %s", device,
		     cfs_strerror(r));
		op_error = 1;
	}
	cfs_user_close(dev);

	/* a bad copy not healed (-n) is damage left on the disk; a healed
	 * one a correction */
	code = FSCK_OK;
	if (found > fixed || fatal_chunks || copies > healed)
		code |= FSCK_UNCORRECTED;
	else if (fixed || healed)
		code |= FSCK_NONDESTRUCT;
	if (op_error)
		code |= FSCK_ERROR;
	if (cancelled)
		code |= FSCK_CANCELED;

	R.copies = copies;
	if (json) {
		json_report(&R, found, fixed, code, NULL);
	} else {
		size_t checked = R.done;

		if (cancelled)
			printf("%s: check cancelled after %zu of %zu chunk%s\n",
			       device, checked, R.nchunks_todo,
			       R.nchunks_todo == 1 ? "" : "s");
		if (!R.nchunks_todo && !nch)
			printf("%s: all %u chunk%s marked clean; nothing to "
			       "check (use -f to check them anyway)\n", device,
			       nchunks, nchunks == 1 ? "" : "s");
		if (fatal_chunks)
			printf("%s: %d check%s could not run to the end; see "
			       "the messages above\n", device, fatal_chunks,
			       fatal_chunks == 1 ? "" : "s");
		if (R.nchunks_todo > nfirst)
			printf("%s: %zu more chunk check%s asked for by the "
			       "cross pass\n", device, R.nchunks_todo - nfirst,
			       R.nchunks_todo - nfirst == 1 ? "" : "s");
		printf("%s: %zu chunk%s checked, %u problem%s found, %u fixed",
		       device, checked, checked == 1 ? "" : "s",
		       found, found == 1 ? "" : "s", fixed);
		if (copies)
			printf(", %u bad block cop%s (%u healed from the "
			       "good copy)", copies, copies == 1 ? "y" : "ies",
			       healed);
		printf(" (%.3f s)\n", now_s() - t0);
		blast_print(writes);
		if (fixed || healed)
			printf("\n***** FILE SYSTEM WAS MODIFIED *****\n");
		if (found > fixed || fatal_chunks) {
			if (mode == CFS_CHECK_PREEN)
				printf("%s: UNEXPECTED INCONSISTENCY; RUN fsck "
				       "MANUALLY (i.e., without -a or -p "
				       "options)\n", device);
			else if (mode == CFS_CHECK_FIXALL)
				printf("\n%s: ********** WARNING: Filesystem "
				       "still has errors **********\n", device);
			else if (!explicit_mode)
				printf("%s: nothing was fixed: without -n, -y "
				       "or -p the check is read-only; run with "
				       "-y to repair, or -p for the safe "
				       "repairs only\n", device);
			else
				printf("%s: nothing was fixed (-n); run with -y "
				       "to repair, or -p for the safe repairs "
				       "only\n", device);
		}
		fflush(stdout);
	}
	for (k = 0; k < R.nunits; k++) {
		for (i = 0; i < R.units[k]->np; i++) {
			free(R.units[k]->p[i].detail);
			free(R.units[k]->p[i].path);
		}
		free(R.units[k]->p);
		free(R.units[k]);
	}
	for (k = 0; k < nblast; k++)
		free(blast[k].path);
	free(blast);
	free(R.units);
	free(R.queued);
	free(R.times);
	pthread_cond_destroy(&R.cond);
	pthread_mutex_destroy(&R.lock);
	return code;
}
