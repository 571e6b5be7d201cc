// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - "chunkfs status MOUNT-or-IMAGE [--json]": the health of every
 * chunk, as a table (state, last clean check, errors found and fixed,
 * fill) and a compact chunk map, one cell per chunk showing its fill level
 * and health, coloured on a terminal.  A mount (or an image that is
 * mounted) is asked through CHUNKFS_IOC_HEALTH; an image that is not
 * mounted is mounted read-only through the library and asked with
 * cfs_health (the same structures).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "chunkfs.h"

#define MAP_COLS 64
#define LABEL_MAX 64   /* cfs_geom.label */
/* fill glyphs, emptiest first; health letters replace them */
static const char fill_glyphs[] = ".:-=+*#@";

struct status {
	const char *source;
	char mountdir[PATH_MAX];
	char uuid[40], label[LABEL_MAX + 1]; /* uuid "" if unknown */
	int mounted;
	struct chunkfs_health h;      /* header fields */
	struct chunkfs_chunk_health *c;
	u32 n;
};

static void status_usage(FILE *f)
{
	fprintf(f, "Usage: %s status MOUNT-or-IMAGE [-x] [--json] "
		"[--color=WHEN]\n"
		"       %s status --prometheus MOUNT-or-IMAGE...\n"
		"Show the health of every chunk: a table and a chunk map.  "
		"MOUNT is any file or\ndirectory of a mounted chunkfs; an "
		"IMAGE that is mounted is asked through its\nmount, one that "
		"is not is opened read-only.  --color: auto (default: on a\n"
		"terminal, unless NO_COLOR is set), always or never.\n"
		"-x: as zpool status -x: one line when every chunk is "
		"healthy; otherwise the\nfilesystem (UUID, label) and only "
		"the chunks that are not.\n"
		"--prometheus: metrics in the Prometheus text format, for "
		"node_exporter's\ntextfile collector (chunks per state, errors "
		"found and fixed, scrub times).\n",
		tool_prog, tool_prog);
}

static const char *state_color(u32 state);
static void fmt_time(s64 t, char *buf, size_t size);

/* Unhealthy: suspect, damaged, being repaired; and dirty on an image that
 * is not mounted (it was not unmounted cleanly: a check is due).  Dirty
 * on a mount is the normal state of a chunk being written. */
static int unhealthy(const struct status *st,
		     const struct chunkfs_chunk_health *c)
{
	return c->state != CFS_CHUNK_CLEAN &&
	       !(c->state == CFS_CHUNK_DIRTY && st->mounted);
}

/* The filesystem's UUID and label, from the superblock of dev (the image,
 * or the device a mount names); left "" when it cannot be read. */
static void read_ident(struct status *st, const char *dev)
{
	struct cfs_bdev *d = NULL;
	struct cfs_super sb;
	char err[256];
	u64 blk;
	size_t i;

	if (cfs_user_open(dev, CFS_OPEN_RDONLY | CFS_OPEN_NOLOCK, &d, err,
			  sizeof(err)) < 0)
		return;
	if (!cfs_read_super(d, &sb, &blk)) {
		uuid_unparse(sb.g.uuid, st->uuid);
		memcpy(st->label, sb.g.label, LABEL_MAX);
		st->label[LABEL_MAX] = 0;
		for (i = 0; st->label[i]; i++)
			if ((unsigned char)st->label[i] < 0x20)
				st->label[i] = '?';
	}
	cfs_user_close(d);
}

/* The source (fsname) of the chunkfs mounted on dir, from the mount
 * table: an image, a loop device over one, or a block device. */
static int mount_source(const char *dir, char *src, size_t size)
{
	char line[3 * PATH_MAX];
	FILE *f = fopen("/proc/self/mounts", "re");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = strtok(line, " "), *m = strtok(NULL, " "),
		     *t = strtok(NULL, " ");

		if (!s || !m || !t || strcmp(m, dir) ||
		    (strcmp(t, "fuse.chunkfs") && strcmp(t, "fuseblk.chunkfs") &&
		     strcmp(t, "chunkfs")))
			continue;
		if (strlen(s) < size) {
			strcpy(src, s); /* (octal escapes: not for devices) */
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static void print_short(const struct status *st, int color)
{
	u32 counts[6] = { 0 }, bad = 0, i;
	char tbuf[64];

	for (i = 0; i < st->n; i++) {
		if (!unhealthy(st, &st->c[i]))
			continue;
		bad++;
		counts[st->c[i].state < 6 ? st->c[i].state : 0]++;
	}
	if (!bad) {
		printf("%s: all %u chunks healthy\n", st->mounted ?
		       st->mountdir : st->source, st->n);
		return;
	}
	printf("%s: %u of %u chunk%s not healthy", st->mounted ?
	       st->mountdir : st->source, bad, st->n, st->n == 1 ? "" : "s");
	printf(" (%u suspect, %u damaged, %u repairing, %u dirty)\n",
	       counts[CFS_CHUNK_SUSPECT], counts[CFS_CHUNK_DAMAGED],
	       counts[CFS_CHUNK_REPAIRING], counts[CFS_CHUNK_DIRTY]);
	printf("  UUID: %s  label: %s%s%s\n", st->uuid[0] ? st->uuid :
	       "(unknown)", st->label[0] ? "'" : "",
	       st->label[0] ? st->label : "(none)", st->label[0] ? "'" : "");
	printf(" Chunk  State      Verified             Found  Fixed\n");
	for (i = 0; i < st->n; i++) {
		const struct chunkfs_chunk_health *c = &st->c[i];

		if (!unhealthy(st, c))
			continue;
		fmt_time(c->verified_time, tbuf, sizeof(tbuf));
		printf("%6u  %s%-9s%s  %-19s %6llu %6llu\n", c->chunk,
		       color ? state_color(c->state) : "",
		       tool_chunk_state(c->state), color ? "\033[0m" : "",
		       tbuf, (unsigned long long)c->errors_found,
		       (unsigned long long)c->errors_fixed);
	}
	if (st->mounted)
		printf("  action: chunkfs scrub %s --repair --chunk ...  "
		       "(the chunks above)\n", st->mountdir);
	else
		printf("  action: fsck.chunkfs -y %s\n", st->source);
}

/* Prometheus text format (node_exporter's textfile collector).  Errors
 * are counters by kind (the chunk headers' counts): found and fixed (by
 * checks, scrubs and reads), corrected (format v2: bad copies of metadata
 * healed from the good copy, nothing wrong any more) and data (format v2:
 * data blocks that failed their checksum). */
static void prom_labels(const struct status *st, char *buf, size_t size)
{
	char lab[2 * LABEL_MAX + 1], *o = lab;
	const char *p;

	for (p = st->label; *p && o < lab + sizeof(lab) - 2; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o = 0;
	snprintf(buf, size, "uuid=\"%s\",label=\"%s\",mountpoint=\"%s\"",
		 st->uuid, lab, st->mounted ? st->mountdir : "");
}

static void print_prom_head(void)
{
	printf("# HELP chunkfs_chunks Chunks of the filesystem in each state.\n"
	       "# TYPE chunkfs_chunks gauge\n"
	       "# HELP chunkfs_errors_total Errors in the filesystem's "
	       "chunks, by kind: found (by checks, scrubs and reads), fixed "
	       "(repaired), corrected (a bad copy healed from the good one), "
	       "data (a data block that failed its checksum).\n"
	       "# TYPE chunkfs_errors_total counter\n"
	       "# HELP chunkfs_chunk_errors_total The same for one chunk "
	       "(only chunks with errors).\n"
	       "# TYPE chunkfs_chunk_errors_total counter\n"
	       "# HELP chunkfs_last_scrub_timestamp_seconds When a chunk was "
	       "last verified (checked clean), the newest.\n"
	       "# TYPE chunkfs_last_scrub_timestamp_seconds gauge\n"
	       "# HELP chunkfs_oldest_verified_timestamp_seconds When the "
	       "chunk verified longest ago was (0: one never was).\n"
	       "# TYPE chunkfs_oldest_verified_timestamp_seconds gauge\n"
	       "# HELP chunkfs_blocks Blocks of the filesystem's chunks, by "
	       "use.\n"
	       "# TYPE chunkfs_blocks gauge\n");
}

static void print_prom(const struct status *st)
{
	static const u32 states[] = { CFS_CHUNK_CLEAN, CFS_CHUNK_DIRTY,
		CFS_CHUNK_SUSPECT, CFS_CHUNK_DAMAGED, CFS_CHUNK_REPAIRING };
	u64 found = 0, fixed = 0, corrected = 0, data = 0, blocks = 0;
	u64 freeb = 0;
	s64 newest = 0, oldest = -1;
	u32 counts[6] = { 0 }, i;
	char l[3 * PATH_MAX];

	prom_labels(st, l, sizeof(l));
	for (i = 0; i < st->n; i++) {
		const struct chunkfs_chunk_health *c = &st->c[i];

		counts[c->state < 6 ? c->state : 0]++;
		found += c->errors_found;
		fixed += c->errors_fixed;
		corrected += c->errors_corrected;
		data += c->data_errors;
		blocks += c->nblocks;
		freeb += c->free_blocks;
		if (c->verified_time > newest)
			newest = c->verified_time;
		if (oldest < 0 || c->verified_time < oldest)
			oldest = c->verified_time;
	}
	for (i = 0; i < CFS_ARRAY_SIZE(states); i++)
		printf("chunkfs_chunks{%s,state=\"%s\"} %u\n", l,
		       tool_chunk_state(states[i]), counts[states[i]]);
	printf("chunkfs_errors_total{%s,kind=\"found\"} %llu\n", l,
	       (unsigned long long)found);
	printf("chunkfs_errors_total{%s,kind=\"fixed\"} %llu\n", l,
	       (unsigned long long)fixed);
	printf("chunkfs_errors_total{%s,kind=\"corrected\"} %llu\n", l,
	       (unsigned long long)corrected);
	printf("chunkfs_errors_total{%s,kind=\"data\"} %llu\n", l,
	       (unsigned long long)data);
	for (i = 0; i < st->n; i++) {
		const struct chunkfs_chunk_health *c = &st->c[i];

		if (c->errors_corrected)
			printf("chunkfs_chunk_errors_total{%s,chunk=\"%u\","
			       "kind=\"corrected\"} %llu\n", l, c->chunk,
			       (unsigned long long)c->errors_corrected);
		if (c->data_errors)
			printf("chunkfs_chunk_errors_total{%s,chunk=\"%u\","
			       "kind=\"data\"} %llu\n", l, c->chunk,
			       (unsigned long long)c->data_errors);
		if (!c->errors_found && !c->errors_fixed)
			continue;
		printf("chunkfs_chunk_errors_total{%s,chunk=\"%u\",kind=\"found\"} "
		       "%llu\n", l, c->chunk,
		       (unsigned long long)c->errors_found);
		printf("chunkfs_chunk_errors_total{%s,chunk=\"%u\",kind=\"fixed\"} "
		       "%llu\n", l, c->chunk,
		       (unsigned long long)c->errors_fixed);
	}
	printf("chunkfs_last_scrub_timestamp_seconds{%s} %lld\n", l,
	       (long long)newest);
	printf("chunkfs_oldest_verified_timestamp_seconds{%s} %lld\n", l,
	       (long long)(oldest < 0 ? 0 : oldest));
	printf("chunkfs_blocks{%s,use=\"total\"} %llu\n", l,
	       (unsigned long long)blocks);
	printf("chunkfs_blocks{%s,use=\"free\"} %llu\n", l,
	       (unsigned long long)freeb);
}

static u32 used_pct(const struct chunkfs_chunk_health *c)
{
	if (!c->nblocks)
		return 0;
	return (u32)((u64)(c->nblocks - c->free_blocks) * 100 / c->nblocks);
}

static char cell_char(const struct chunkfs_chunk_health *c)
{
	size_t ng = sizeof(fill_glyphs) - 1, lvl;

	switch (c->state) {
	case CFS_CHUNK_SUSPECT: return 'S';
	case CFS_CHUNK_DAMAGED: return 'X';
	case CFS_CHUNK_REPAIRING: return 'R';
	default: break;
	}
	if (!c->nblocks)
		return '?';
	lvl = (size_t)((u64)(c->nblocks - c->free_blocks) * ng / c->nblocks);
	if (lvl >= ng)
		lvl = ng - 1;
	return fill_glyphs[lvl];
}

static const char *state_color(u32 state)
{
	switch (state) {
	case CFS_CHUNK_CLEAN: return "\033[32m";      /* green */
	case CFS_CHUNK_DIRTY: return "\033[36m";      /* cyan */
	case CFS_CHUNK_SUSPECT: return "\033[1;33m";  /* bold yellow */
	case CFS_CHUNK_DAMAGED: return "\033[1;31m";  /* bold red */
	case CFS_CHUNK_REPAIRING: return "\033[1;35m"; /* bold magenta */
	default: return "";
	}
}

static void fmt_time(s64 t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !localtime_r(&tt, &tm) ||
	    !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "never");
}

static void print_text(const struct status *st, int color)
{
	u32 counts[6] = { 0 }, i;
	u64 blocks = 0, freeb = 0;
	char tbuf[64];

	for (i = 0; i < st->n; i++) {
		counts[st->c[i].state < 6 ? st->c[i].state : 0]++;
		blocks += st->c[i].nblocks;
		freeb += st->c[i].free_blocks;
	}
	if (st->mounted)
		printf("Mount:          %s%s\n", st->mountdir,
		       (st->h.flags & CHUNKFS_HEALTH_RDONLY) ?
		       " (read-only)" : "");
	else
		printf("Image:          %s (not mounted)\n", st->source);
	printf("Chunks:         %u, block size %u\n", st->n,
	       st->h.block_size);
	printf("Mount count:    %llu\n", (unsigned long long)st->h.mount_gen);
	if (st->mounted)
		printf("errors=:        %s\n",
		       tool_errors_policy(st->h.errors_policy));
	printf("States:         %u clean, %u dirty, %u suspect, %u damaged, "
	       "%u repairing\n", counts[CFS_CHUNK_CLEAN],
	       counts[CFS_CHUNK_DIRTY], counts[CFS_CHUNK_SUSPECT],
	       counts[CFS_CHUNK_DAMAGED], counts[CFS_CHUNK_REPAIRING]);
	printf("Used:           %llu of %llu blocks (%u%%)\n\n",
	       (unsigned long long)(blocks - freeb),
	       (unsigned long long)blocks,
	       blocks ? (u32)((blocks - freeb) * 100 / blocks) : 0);

	printf(" Chunk  State      Verified             Gen  Found  Fixed  "
	       "Healed  Data  Used  Blocks used/total  Inodes used/total\n");
	for (i = 0; i < st->n; i++) {
		const struct chunkfs_chunk_health *c = &st->c[i];
		const char *state = tool_chunk_state(c->state);

		fmt_time(c->verified_time, tbuf, sizeof(tbuf));
		printf("%6u  %s%-9s%s  %-19s %4llu %6llu %6llu %7llu %5llu  "
		       "%3u%%  %8u/%-8u  %8u/%-8u\n", c->chunk,
		       color ? state_color(c->state) : "", state,
		       color ? "\033[0m" : "", tbuf,
		       (unsigned long long)c->verified_gen,
		       (unsigned long long)c->errors_found,
		       (unsigned long long)c->errors_fixed,
		       (unsigned long long)c->errors_corrected,
		       (unsigned long long)c->data_errors, used_pct(c),
		       c->nblocks - c->free_blocks, c->nblocks,
		       c->ninodes - c->free_inodes, c->ninodes);
	}

	printf("\nChunk map (one cell per chunk; fill %s emptiest to fullest; "
	       "S suspect, X damaged, R repairing%s):\n",
	       fill_glyphs, color ? "; green clean, cyan dirty" : "");
	for (i = 0; i < st->n; i++) {
		const struct chunkfs_chunk_health *c = &st->c[i];

		if (i % MAP_COLS == 0)
			printf("%s%6u ", i ? "\n" : "", i);
		if (color)
			printf("%s%c\033[0m", state_color(c->state),
			       cell_char(c));
		else
			putchar(cell_char(c));
	}
	printf("\n");
}

static void print_json(const struct status *st)
{
	u32 i;

	printf("{\"source\": ");
	json_str(stdout, st->source);
	printf(", \"mounted\": %s, \"mount_point\": ",
	       st->mounted ? "true" : "false");
	if (st->mounted)
		json_str(stdout, st->mountdir);
	else
		printf("null");
	printf(", \"read_only\": %s, \"nchunks\": %u, \"block_size\": %u, "
	       "\"mount_gen\": %llu, \"errors_policy\": ",
	       (st->h.flags & CHUNKFS_HEALTH_RDONLY) ? "true" : "false",
	       st->n, st->h.block_size, (unsigned long long)st->h.mount_gen);
	if (st->mounted)
		json_str(stdout, tool_errors_policy(st->h.errors_policy));
	else
		printf("null");
	printf(", \"chunks\": [");
	for (i = 0; i < st->n; i++) {
		const struct chunkfs_chunk_health *c = &st->c[i];

		printf("%s\n  {\"chunk\": %u, \"state\": \"%s\", "
		       "\"verified_gen\": %llu, \"verified_time\": %lld, "
		       "\"errors_found\": %llu, \"errors_fixed\": %llu, "
		       "\"errors_corrected\": %llu, \"data_errors\": %llu, "
		       "\"blocks\": %u, \"free_blocks\": %u, \"inodes\": %u, "
		       "\"free_inodes\": %u, \"used_pct\": %u}",
		       i ? "," : "", c->chunk, tool_chunk_state(c->state),
		       (unsigned long long)c->verified_gen,
		       (long long)c->verified_time,
		       (unsigned long long)c->errors_found,
		       (unsigned long long)c->errors_fixed,
		       (unsigned long long)c->errors_corrected,
		       (unsigned long long)c->data_errors, c->nblocks,
		       c->free_blocks, c->ninodes, c->free_inodes,
		       used_pct(c));
	}
	printf("%s]}\n", st->n ? "\n" : "");
}

/* From a mount: fd from tool_mount_find. */
static int from_mount(struct status *st, int fd)
{
	int n = tool_health_all(fd, &st->h, &st->c);

	close(fd);
	if (n < 0)
		return -1;
	st->n = (u32)n;
	st->mounted = 1;
	return 0;
}

/* From an image that is not mounted: read-only through the library. */
static int from_image(struct status *st, const char *image)
{
	struct chunkfs_health *h = malloc(sizeof(*h));
	struct tool_fs t;
	int r, ret = -1;

	if (!h) {
		tool_err("out of memory");
		return -1;
	}
	if (tool_open(&t, image, TOOL_RDONLY)) {
		free(h);
		return -1;
	}
	memset(h, 0, sizeof(*h));
	r = cfs_health(t.fs, h);
	if (r < 0)
		goto out;
	st->h = *h;
	st->c = calloc(h->nchunks ? h->nchunks : 1, sizeof(*st->c));
	if (!st->c) {
		r = -ENOMEM;
		goto out;
	}
	while (h->count) {
		memcpy(st->c + st->n, h->c, h->count * sizeof(h->c[0]));
		st->n += h->count;
		if (st->n >= h->nchunks)
			break;
		memset(h, 0, sizeof(*h));
		h->first = st->n;
		r = cfs_health(t.fs, h);
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	if (r < 0)
		tool_err("%s: reading the health of the chunks: %s", image,
			 tool_strerror(r));
	if (tool_close(&t))
		ret = -1;
	free(h);
	return ret;
}

/* The health of what path names (a mount, a file on one, an image that
 * is mounted or not) into st; with ident, its UUID and label too. */
static int status_of(struct status *st, const char *path, int ident)
{
	char src[PATH_MAX];
	int r, fd;

	st->source = path;
	fd = tool_mount_find(path, st->mountdir, sizeof(st->mountdir), &st->h);
	if (fd >= 0)
		r = from_mount(st, fd);
	else if (fd == -ENODEV)
		r = from_image(st, path);
	else
		r = -1;
	if (r) {
		free(st->c);
		st->c = NULL;
		return 1;
	}
	if (ident) {
		if (!st->mounted)
			read_ident(st, path);
		else if (mount_source(st->mountdir, src, sizeof(src)))
			read_ident(st, src);
	}
	return 0;
}

int cmd_status(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "color", optional_argument, NULL, 'C' },
		{ "colour", optional_argument, NULL, 'C' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, color = -1, opt, r, shortf = 0, prom = 0, ret = 0, i;
	const char *nc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jxh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'x':
			shortf = 1;
			break;
		case 'P':
			prom = 1;
			break;
		case 'C':
			if (!optarg || !strcmp(optarg, "always")) {
				color = 1;
			} else if (!strcmp(optarg, "never")) {
				color = 0;
			} else if (!strcmp(optarg, "auto")) {
				color = -1;
			} else {
				tool_err("status: bad --color '%s' (auto, "
					 "always or never)", optarg);
				return 1;
			}
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return 1;
		}
	}
	if (optind >= argc || (optind + 1 != argc && !prom)) {
		tool_err(optind >= argc ? "status: no mount point or image "
			 "given" : "status: one mount point or image only");
		status_usage(stderr);
		return 1;
	}
	if (json + shortf + prom > 1) {
		tool_err("status: one of --json, -x and --prometheus");
		return 1;
	}
	if (color < 0) {
		nc = getenv("NO_COLOR");
		color = isatty(STDOUT_FILENO) && !(nc && *nc);
	}
	if (prom)
		print_prom_head();
	for (i = optind; i < argc; i++) {
		struct status st;

		memset(&st, 0, sizeof(st));
		r = status_of(&st, argv[i], shortf || prom);
		if (r) {
			ret = 1;
			continue;
		}
		if (json)
			print_json(&st);
		else if (shortf)
			print_short(&st, color);
		else if (prom)
			print_prom(&st);
		else
			print_text(&st, color);
		free(st.c);
	}
	return ret;
}
