// SPDX-License-Identifier: GPL-2.0
/*
 * stat.c - "chunkfs stat [--json] IMAGE [PATH...]": walks the whole tree of
 * an unmounted image (read-only) and reports files, directories,
 * continuations, cross-chunk links and per-chunk usage.  "chunkfs stat
 * MOUNT" (a directory of a mount): the mount's journal activity, its
 * transactions written in place (issue 16) among them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "chunkfs.h"

/* ---- a set of inode numbers (hard links are counted once) ---- */
struct inoset {
	u64 *v;
	size_t n, cap;  /* cap is a power of two; 0 marks an empty slot */
};

static int inoset_add(struct inoset *s, u64 ino)  /* 1 if new */
{
	size_t i, mask;

	if (ino == 0)
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		struct inoset ns = { NULL, 0, s->cap ? s->cap * 2 : 1024 };

		ns.v = calloc(ns.cap, sizeof(u64));
		if (!ns.v) {
			tool_err("out of memory");
			exit(1);
		}
		for (i = 0; i < s->cap; i++)
			if (s->v[i])
				inoset_add(&ns, s->v[i]);
		free(s->v);
		*s = ns;
	}
	mask = s->cap - 1;
	for (i = (size_t)((ino * 0x9e3779b97f4a7c15ULL) >> 20) & mask;;
	     i = (i + 1) & mask) {
		if (s->v[i] == ino)
			return 0;
		if (!s->v[i]) {
			s->v[i] = ino;
			s->n++;
			return 1;
		}
	}
}

/* ---- readdir collection ---- */
struct dent {
	char *name;
	u32 len;
	u64 ino;
};

struct dlist {
	struct dent *v;
	size_t n, cap;
	u64 cookie;
	int got;
};

/* Runs with the fs lock held: no cfs_* calls in here. */
static int collect(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		   u64 next_cookie)
{
	struct dlist *d = ctx;

	(void)type;
	d->cookie = next_cookie;
	d->got++;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		struct dent *nv = realloc(d->v, nc * sizeof(*nv));

		if (!nv)
			goto oom;
		d->v = nv;
		d->cap = nc;
	}
	d->v[d->n].name = malloc(len + 1);
	if (!d->v[d->n].name)
		goto oom;
	memcpy(d->v[d->n].name, name, len);
	d->v[d->n].name[len] = 0;
	d->v[d->n].len = len;
	d->v[d->n].ino = ino;
	d->n++;
	return 0;
oom:
	fprintf(stderr, "%s: out of memory\n", tool_prog);
	exit(1);
}

struct report {
	struct cfs_fs *fs;
	struct inoset seen;
	u64 files, regular, symlinks, others, dirs, bytes;
	u64 files_with_conts, dirs_with_conts, conts, cont_tree_blocks;
	u64 max_file_conts, max_dir_conts;
	u64 over_bound;        /* files with more than 10/GiB + 2 */
	struct over_file {     /* the first 32 of them */
		char *path;
		u64 size;
		u32 conts;
	} over[32];
	u32 *fconts;           /* continuations of each regular file */
	size_t nf, capf;
	char *max_file_path, *max_dir_path;
	u64 entries;
	int errors;
};

static void free_dlist(struct dlist *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
}

/* Keeps the largest count and its path. */
static void note_max(u64 *max, char **where, u64 n, const char *path)
{
	if (n <= *max)
		return;
	*max = n;
	free(*where);
	*where = strdup(path);
	if (!*where) {
		tool_err("out of memory");
		exit(1);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

/* The 99th percentile of the regular files' continuation counts. */
static u32 p99_conts(struct report *r)
{
	if (!r->nf)
		return 0;
	qsort(r->fconts, r->nf, sizeof(*r->fconts), cmp_u32);
	return r->fconts[(r->nf * 99 + 99) / 100 - 1];
}

/* JSON: how many regular files have each count of continuations (after
 * p99_conts sorted them), as [count, files] pairs; and the first files
 * over the bound. */
static void json_distribution(struct report *r)
{
	size_t i, j;
	u64 k;

	printf(",\n  \"continuations_per_file_histogram\": [");
	for (i = 0; i < r->nf; i = j) {
		for (j = i; j < r->nf && r->fconts[j] == r->fconts[i]; j++)
			;
		printf("%s[%u, %llu]", i ? ", " : "", r->fconts[i],
		       (unsigned long long)(j - i));
	}
	printf("],\n  \"files_over_continuation_bound_list\": [");
	for (k = 0; k < r->over_bound && k < sizeof(r->over) / sizeof(r->over[0]); k++) {
		printf("%s\n    {\"path\": ", k ? "," : "");
		json_str(stdout, r->over[k].path);
		printf(", \"size\": %llu, \"continuations\": %u}",
		       (unsigned long long)r->over[k].size, r->over[k].conts);
	}
	printf("%s]", k ? "\n  " : "");
}

static void free_over(struct report *r)
{
	u64 k;

	for (k = 0; k < r->over_bound && k < sizeof(r->over) / sizeof(r->over[0]); k++)
		free(r->over[k].path);
}

static void count_links(struct report *r, const struct cfs_attr *a,
			const char *path)
{
	struct cfs_ino_links l;
	int e;

	memset(&l, 0, sizeof(l));
	e = cfs_inode_links(r->fs, a->ino, &l);
	if (e < 0) {
		tool_err("inode %llu: cannot read its continuations: %s",
			 (unsigned long long)a->ino, tool_strerror(e));
		r->errors++;
		return;
	}
	r->conts += l.nconts;
	r->cont_tree_blocks += l.cont_tree_blocks;
	if (CFS_ISREG(a->mode)) {
		/* the bound of issue 16: 10 per GiB of the file, plus 2 */
		if ((u64)l.nconts > a->size * 10 / (1ULL << 30) + 2 &&
		    r->over_bound++ < sizeof(r->over) / sizeof(r->over[0])) {
			struct over_file *o = &r->over[r->over_bound - 1];

			o->path = strdup(path);
			if (!o->path) {
				tool_err("out of memory");
				exit(1);
			}
			o->size = a->size;
			o->conts = l.nconts;
		}
		if (r->nf == r->capf) {
			r->capf = r->capf ? r->capf * 2 : 1024;
			r->fconts = realloc(r->fconts,
					    r->capf * sizeof(*r->fconts));
			if (!r->fconts) {
				tool_err("out of memory");
				exit(1);
			}
		}
		r->fconts[r->nf++] = l.nconts;
	}
	if (l.nconts && CFS_ISREG(a->mode)) {
		r->files_with_conts++;
		note_max(&r->max_file_conts, &r->max_file_path, l.nconts, path);
	}
	if (l.nconts && CFS_ISDIR(a->mode)) {
		r->dirs_with_conts++;
		note_max(&r->max_dir_conts, &r->max_dir_path, l.nconts, path);
	}
}

static void walk(struct report *r, u64 dir, const char *path)
{
	struct dlist d;
	size_t i;
	int e;

	memset(&d, 0, sizeof(d));
	for (;;) {
		u64 before = d.cookie;
		size_t had = d.n;

		d.got = 0;
		e = cfs_readdir(r->fs, dir, d.cookie, collect, &d);
		if (e < 0) {
			tool_err("%s: readdir: %s", path, tool_strerror(e));
			r->errors++;
			break;
		}
		if (!d.got || (d.cookie == before && d.n == had))
			break;
	}
	for (i = 0; i < d.n; i++) {
		struct cfs_attr a;
		char *cpath;

		r->entries++;
		if (asprintf(&cpath, "%s%s%s", path,
			     path[strlen(path) - 1] == '/' ? "" : "/",
			     d.v[i].name) < 0) {
			tool_err("out of memory");
			exit(1);
		}
		/* by the entry's inode number, not by name: a lookup tries
		 * every chunk the directory continues in, and lost+found
		 * continues in all of them (one chunk-K directory each), so
		 * looking up its names cost nchunks squared (338 s for 16,384
		 * chunks) */
		e = cfs_getattr(r->fs, d.v[i].ino, &a);
		if (e < 0) {
			tool_err("%s: %s", cpath, tool_strerror(e));
			r->errors++;
			free(cpath);
			continue;
		}
		if (inoset_add(&r->seen, a.ino)) {
			if (CFS_ISDIR(a.mode)) {
				r->dirs++;
				count_links(r, &a, cpath);
				walk(r, a.ino, cpath);
			} else {
				r->files++;
				if (CFS_ISREG(a.mode)) {
					r->regular++;
					r->bytes += a.size;
					count_links(r, &a, cpath);
				} else if (CFS_ISLNK(a.mode)) {
					r->symlinks++;
				} else {
					r->others++;
				}
			}
		}
		free(cpath);
	}
	free_dlist(&d);
}

static double stat_pct(u64 a, u64 b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

struct path_report {
	const char *path;
	struct cfs_attr a;
	struct cfs_ino_links l;
};

static void stat_usage(FILE *f)
{
	fprintf(f, "Usage: %s stat [--json] IMAGE [PATH...]\n"
		"       %s stat [--json] MOUNT\n", tool_prog, tool_prog);
}

/* A mounted filesystem (fd from tool_mount_find): what its mount says,
 * the journal's activity with it (CHUNKFS_IOC_JOURNAL). */
static int stat_mount(int fd, const char *dir, const struct chunkfs_health *h,
		      int json)
{
	struct chunkfs_journal j;

	memset(&j, 0, sizeof(j));
	if (ioctl(fd, CHUNKFS_IOC_JOURNAL, &j) < 0) {
		tool_err("%s: reading the journal's activity: %s", dir,
			 strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	if (json) {
		printf("{\n  \"mount\": ");
		json_str(stdout, dir);
		printf(",\n  \"nchunks\": %u,\n  \"block_size\": %u,\n"
		       "  \"mount_gen\": %llu,\n  \"read_only\": %s,\n"
		       "  \"journal\": {\"commits\": %llu, \"splits\": %llu, "
		       "\"in_place\": %llu, \"flushes\": %llu, "
		       "\"blocks_written\": %llu, \"replayed_chunks\": %llu, "
		       "\"replayed_blocks\": %llu, \"replay_failed\": %llu}\n"
		       "}\n", h->nchunks, h->block_size,
		       (unsigned long long)h->mount_gen,
		       (h->flags & CHUNKFS_HEALTH_RDONLY) ? "true" : "false",
		       (unsigned long long)j.commits,
		       (unsigned long long)j.splits,
		       (unsigned long long)j.overflows,
		       (unsigned long long)j.flushes,
		       (unsigned long long)j.journal_writes,
		       (unsigned long long)j.replayed_chunks,
		       (unsigned long long)j.replayed_blocks,
		       (unsigned long long)j.replay_failed);
		return 0;
	}
	printf("Mount:            %s%s\n", dir,
	       (h->flags & CHUNKFS_HEALTH_RDONLY) ? " (read-only)" : "");
	printf("Chunks:           %u, block size %u, mount count %llu\n",
	       h->nchunks, h->block_size, (unsigned long long)h->mount_gen);
	printf("Journal commits:  %llu (%llu between the rounds of long "
	       "operations)\n", (unsigned long long)j.commits,
	       (unsigned long long)j.splits);
	printf("Written in place: %llu (transactions too big for their "
	       "journal; should be 0)\n", (unsigned long long)j.overflows);
	printf("Journal writes:   %llu blocks, %llu device flushes\n",
	       (unsigned long long)j.journal_writes,
	       (unsigned long long)j.flushes);
	printf("Replayed:         %llu chunks, %llu blocks, %llu failed "
	       "(at mount)\n", (unsigned long long)j.replayed_chunks,
	       (unsigned long long)j.replayed_blocks,
	       (unsigned long long)j.replay_failed);
	return 0;
}

int cmd_stat(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_fs t;
	struct report r;
	struct cfs_attr root;
	struct cfs_chunk_info *ci;
	struct path_report *pr = NULL;
	const struct cfs_geom *g;
	u64 links = 0, used_blocks = 0, total_blocks = 0, *lib, lib_total = 0;
	u64 ovh_bytes;
	int json = 0, opt, npaths, i, e, ret = 0;
	char uu[40];

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'h':
			stat_usage(stdout);
			return 0;
		default:
			stat_usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		tool_err("stat: no image given");
		stat_usage(stderr);
		return 1;
	}
	{
		struct chunkfs_health *h = malloc(sizeof(*h));
		char dir[PATH_MAX];
		int fd;

		if (!h) {
			tool_err("out of memory");
			return 1;
		}
		/* (an image that is mounted is refused, below: the tree
		 * walk needs it unmounted) */
		fd = tool_find_mount(argv[optind], dir, sizeof(dir)) ? -ENODEV :
		     tool_mount_find(argv[optind], dir, sizeof(dir), h);
		if (fd >= 0 && optind + 1 < argc) {
			close(fd);
			tool_err("stat: PATH arguments need an image that is "
				 "not mounted");
			fd = -EINVAL;
		} else if (fd >= 0) {
			ret = stat_mount(fd, dir, h, json);
		}
		free(h);
		if (fd != -ENODEV)
			return fd < 0 ? 1 : ret;
	}
	if (tool_open(&t, argv[optind], TOOL_RDONLY) < 0)
		return 1;
	g = cfs_geometry(t.fs);

	memset(&r, 0, sizeof(r));
	r.fs = t.fs;
	e = cfs_getattr(t.fs, CFS_ROOT_INO, &root);
	if (e < 0) {
		tool_err("%s: cannot read the root directory: %s", t.image,
			 tool_strerror(e));
		tool_close(&t);
		return 1;
	}
	inoset_add(&r.seen, CFS_ROOT_INO);
	r.dirs = 1;
	count_links(&r, &root, "/");
	walk(&r, CFS_ROOT_INO, "/");

	ci = calloc(g->nchunks ? g->nchunks : 1, sizeof(*ci));
	lib = calloc(g->nchunks ? g->nchunks : 1, sizeof(*lib));
	if (!ci || !lib) {
		tool_err("out of memory");
		exit(1);
	}
	for (i = 0; i < (int)g->nchunks; i++) {
		e = cfs_chunk_info(t.fs, (u32)i, &ci[i]);
		if (e < 0) {
			tool_err("chunk %d: %s", i, tool_strerror(e));
			r.errors++;
			ci[i].index = (u32)i;
			continue;
		}
		e = cfs_link_index_blocks(t.fs, (u32)i, &lib[i]);
		if (e < 0) {
			tool_err("chunk %d: link index: %s", i,
				 tool_strerror(e));
			r.errors++;
		}
		lib_total += lib[i];
		links += ci[i].links;
		used_blocks += ci[i].nblocks - ci[i].free_blocks;
		total_blocks += ci[i].nblocks;
	}

	/* The PATH arguments. */
	npaths = argc - optind - 1;
	if (npaths > 0) {
		pr = calloc((size_t)npaths, sizeof(*pr));
		if (!pr) {
			tool_err("out of memory");
			exit(1);
		}
	}
	for (i = 0; i < npaths; i++) {
		const char *p = argv[optind + 1 + i];

		pr[i].path = p;
		e = tool_resolve(t.fs, p, &pr[i].a);
		if (e < 0) {
			tool_err("%s: %s: %s", t.image, p, tool_strerror(e));
			ret = 1;
			continue;
		}
		if (CFS_ISREG(pr[i].a.mode) || CFS_ISDIR(pr[i].a.mode)) {
			int e2 = cfs_inode_links(t.fs, pr[i].a.ino, &pr[i].l);

			if (e2 < 0) {
				tool_err("%s: cannot read continuations: %s", p,
					 tool_strerror(e2));
				ret = 1;
			}
		}
		if (e == 1)
			cfs_forget(t.fs, pr[i].a.ino, 1);
	}
	if (ret) {
		free(pr);
		free(ci);
		free(lib);
		free(r.max_file_path);
		free(r.max_dir_path);
		free(r.seen.v);
		free(r.fconts);
		free_over(&r);
		tool_close(&t);
		return 1;
	}

	/* What links cost: the continuations' inodes and tree nodes, and
	 * the link index blocks beyond the root every chunk has from mkfs. */
	ovh_bytes = r.conts * CFS_INODE_SIZE +
		    (r.cont_tree_blocks + lib_total -
		     CFS_MIN(lib_total, (u64)g->nchunks)) * g->block_size;
	uuid_unparse(g->uuid, uu);
	if (json) {
		printf("{\n  \"image\": ");
		json_str(stdout, t.image);
		printf(",\n  \"uuid\": \"%s\",\n  \"label\": ", uu);
		json_str(stdout, g->label);
		printf(",\n  \"block_size\": %u,\n  \"chunk_size\": %llu,\n"
		       "  \"nchunks\": %u,\n  \"total_blocks\": %llu,\n"
		       "  \"used_blocks\": %llu,\n",
		       g->block_size,
		       (unsigned long long)g->chunk_blocks * g->block_size,
		       g->nchunks, (unsigned long long)g->total_blocks,
		       (unsigned long long)used_blocks);
		printf("  \"files\": %llu,\n  \"regular_files\": %llu,\n"
		       "  \"symlinks\": %llu,\n  \"other_files\": %llu,\n"
		       "  \"directories\": %llu,\n  \"bytes\": %llu,\n"
		       "  \"files_with_continuations\": %llu,\n"
		       "  \"directories_with_continuations\": %llu,\n"
		       "  \"continuations\": %llu,\n"
		       "  \"cross_chunk_links\": %llu,\n",
		       r.files, r.regular, r.symlinks, r.others, r.dirs,
		       r.bytes, r.files_with_conts, r.dirs_with_conts, r.conts,
		       links / 2);
		printf("  \"files_with_continuations_pct\": %.4f,\n"
		       "  \"max_continuations_per_file\": %llu,\n"
		       "  \"max_continuations_file\": ",
		       stat_pct(r.files_with_conts, r.regular),
		       (unsigned long long)r.max_file_conts);
		json_str(stdout, r.max_file_path ? r.max_file_path : "");
		printf(",\n  \"p99_continuations_per_file\": %u,\n"
		       "  \"files_over_continuation_bound\": %llu",
		       p99_conts(&r), (unsigned long long)r.over_bound);
		json_distribution(&r);
		printf(",\n  \"max_continuations_per_directory\": %llu,\n"
		       "  \"max_continuations_directory\": ",
		       (unsigned long long)r.max_dir_conts);
		json_str(stdout, r.max_dir_path ? r.max_dir_path : "");
		printf(",\n  \"continuation_inode_bytes\": %llu,\n"
		       "  \"continuation_tree_blocks\": %llu,\n"
		       "  \"link_index_blocks\": %llu,\n"
		       "  \"link_overhead_bytes\": %llu,\n"
		       "  \"link_overhead_pct\": %.4f,\n"
		       "  \"errors\": %d,\n  \"chunks\": [",
		       (unsigned long long)(r.conts * CFS_INODE_SIZE),
		       (unsigned long long)r.cont_tree_blocks,
		       (unsigned long long)lib_total,
		       (unsigned long long)ovh_bytes,
		       stat_pct(ovh_bytes, used_blocks * g->block_size),
		       r.errors);
		for (i = 0; i < (int)g->nchunks; i++)
			printf("%s\n    {\"index\": %u, \"state\": \"%s\", "
			       "\"blocks\": %u, \"free_blocks\": %u, "
			       "\"inodes\": %u, \"free_inodes\": %u, "
			       "\"links\": %u, \"link_index_blocks\": %llu, "
			       "\"verified_gen\": %llu, "
			       "\"verified_time\": %lld}",
			       i ? "," : "", ci[i].index,
			       tool_chunk_state(ci[i].state), ci[i].nblocks,
			       ci[i].free_blocks, ci[i].ninodes,
			       ci[i].free_inodes, ci[i].links,
			       (unsigned long long)lib[i],
			       (unsigned long long)ci[i].verified_gen,
			       (long long)ci[i].verified_time);
		printf("\n  ],\n  \"paths\": [");
		for (i = 0; i < npaths; i++) {
			u32 j, nc = pr[i].l.nconts < 64 ? pr[i].l.nconts : 64;

			printf("%s\n    {\"path\": ", i ? "," : "");
			json_str(stdout, pr[i].path);
			printf(", \"ino\": %llu, \"chunk\": %llu, \"local\": %u, "
			       "\"mode\": %u, \"size\": %llu, \"nlink\": %u, "
			       "\"continuations\": %u, \"continuation_blocks\": %llu, "
			       "\"continuation_chunks\": [",
			       (unsigned long long)pr[i].a.ino,
			       (unsigned long long)(pr[i].a.ino >> 32),
			       (unsigned)pr[i].a.ino, pr[i].a.mode,
			       (unsigned long long)pr[i].a.size, pr[i].a.nlink,
			       pr[i].l.nconts,
			       (unsigned long long)pr[i].l.cont_blocks);
			for (j = 0; j < nc; j++)
				printf("%s%u", j ? ", " : "", pr[i].l.chunks[j]);
			printf("]}");
		}
		printf("%s]\n}\n", npaths ? "\n  " : "");
	} else {
		printf("Image:            %s\n", t.image);
		printf("UUID:             %s\n", uu);
		printf("Label:            %s\n", g->label[0] ? g->label : "(none)");
		printf("Block size:       %u\n", g->block_size);
		printf("Chunk size:       %llu bytes (%u blocks), %u chunks\n",
		       (unsigned long long)g->chunk_blocks * g->block_size,
		       g->chunk_blocks, g->nchunks);
		printf("Blocks used:      %llu of %llu\n",
		       (unsigned long long)used_blocks,
		       (unsigned long long)total_blocks);
		printf("Files:            %llu (regular %llu, symlinks %llu, "
		       "other %llu)\n", r.files, r.regular, r.symlinks,
		       r.others);
		printf("Directories:      %llu\n", r.dirs);
		printf("Bytes:            %llu\n", r.bytes);
		printf("Files with continuations:       %llu (%.2f%% of "
		       "regular files)\n", r.files_with_conts,
		       stat_pct(r.files_with_conts, r.regular));
		printf("Most on one file:               %llu%s%s\n",
		       (unsigned long long)r.max_file_conts,
		       r.max_file_path ? " " : "",
		       r.max_file_path ? r.max_file_path : "");
		printf("Per file: 99th percentile:      %u; over 10/GiB + 2: "
		       "%llu\n", p99_conts(&r),
		       (unsigned long long)r.over_bound);
		printf("Directories with continuations: %llu\n",
		       r.dirs_with_conts);
		printf("Continuations:                  %llu\n", r.conts);
		printf("Cross-chunk links:              %llu\n", links / 2);
		printf("Continuation inodes:            %llu bytes, %llu tree "
		       "blocks\n",
		       (unsigned long long)(r.conts * CFS_INODE_SIZE),
		       (unsigned long long)r.cont_tree_blocks);
		printf("Link index blocks:              %llu\n",
		       (unsigned long long)lib_total);
		printf("Space for links:                %llu bytes (%.3f%% of "
		       "used)\n", (unsigned long long)ovh_bytes,
		       stat_pct(ovh_bytes, used_blocks * g->block_size));
		if (r.errors)
			printf("Errors while walking:           %d\n", r.errors);
		printf("\n%6s  %-9s  %17s  %17s  %7s  %11s\n", "Chunk",
		       "State", "Blocks used/total", "Inodes used/total",
		       "Links", "Index blocks");
		for (i = 0; i < (int)g->nchunks; i++) {
			char b[48], in[48];

			snprintf(b, sizeof(b), "%u/%u",
				 ci[i].nblocks - ci[i].free_blocks,
				 ci[i].nblocks);
			snprintf(in, sizeof(in), "%u/%u",
				 ci[i].ninodes - ci[i].free_inodes,
				 ci[i].ninodes);
			printf("%6u  %-9s  %17s  %17s  %7u  %11llu\n",
			       ci[i].index, tool_chunk_state(ci[i].state), b,
			       in, ci[i].links, (unsigned long long)lib[i]);
		}
		if (npaths)
			printf("\n");
		for (i = 0; i < npaths; i++) {
			u32 j, nc = pr[i].l.nconts < 64 ? pr[i].l.nconts : 64;

			printf("%s: inode %llu (%llu:%u), %u continuation%s",
			       pr[i].path, (unsigned long long)pr[i].a.ino,
			       (unsigned long long)(pr[i].a.ino >> 32),
			       (unsigned)pr[i].a.ino, pr[i].l.nconts,
			       pr[i].l.nconts == 1 ? "" : "s");
			if (nc) {
				printf(" in chunk%s", nc == 1 ? "" : "s");
				for (j = 0; j < nc; j++)
					printf(" %u", pr[i].l.chunks[j]);
				if (pr[i].l.nconts > nc)
					printf(" ...");
			}
			printf("\n");
		}
	}
	free(pr);
	free(ci);
	free(lib);
	free(r.seen.v);
	free(r.fconts);
	free_over(&r);
	free(r.max_file_path);
	free(r.max_dir_path);
	if (tool_close(&t) < 0)
		return 1;
	if (r.errors) {
		tool_err("%d error%s while walking %s", r.errors,
			 r.errors == 1 ? "" : "s", t.image);
		return 1;
	}
	return 0;
}
