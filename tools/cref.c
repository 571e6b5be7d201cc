// SPDX-License-Identifier: GPL-2.0
/*
 * cref.c - "chunkfs cref IMAGE --chunk-size S [--json]": reads an ext2,
 * ext3 or ext4 image with libext2fs and estimates how many cross-chunk
 * links the same files and directories would need in chunkfs with chunks
 * of S bytes.  The image is cut into S-byte regions by byte offset:
 *
 *   a regular file needs (regions holding its data blocks) - 1 links;
 *   a directory needs (regions holding the inodes its entries name, and
 *   its own inode) - 1 links: its home part lives with its inode, and
 *   every other region where a named inode lives needs a continuation
 *   (entries live with their inodes, invariant 4).
 *
 * A link touches two regions, its home (the file's first data block, the
 * directory's inode) and the other one; the busiest region's count gives a
 * worst case for one chunk's cross pass at one seek per link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "chunkfs.h"

struct regset {          /* the distinct regions of one object */
	uint32_t *v;
	size_t n, cap;
};

static void regset_add(struct regset *s, uint32_t r)
{
	if (s->n && s->v[s->n - 1] == r)
		return;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 16;
		uint32_t *nv = realloc(s->v, nc * sizeof(*nv));

		if (!nv) {
			tool_err("out of memory");
			exit(1);
		}
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = r;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts and removes duplicates, keeping v[0] (the home) in front. */
static size_t regset_distinct(struct regset *s)
{
	size_t i, n = 1;

	if (s->n <= 1)
		return s->n;
	qsort(s->v + 1, s->n - 1, sizeof(uint32_t), cmp_u32);
	for (i = 1; i < s->n; i++)
		if (s->v[i] != s->v[0] && (n == 1 || s->v[i] != s->v[n - 1]))
			s->v[n++] = s->v[i];
	s->n = n;
	return n;
}

struct tally {           /* files, or directories */
	uint64_t n, linked, links, max;
	ext2_ino_t max_ino;
};

struct cref {
	ext2_filsys fs;
	uint64_t blocks_per_region;   /* S / block size */
	uint32_t nregions;
	uint64_t *region_links;       /* links touching each region */
	struct regset rs;
	struct tally file, dir;
	uint64_t data_blocks;
	int errors;
};

static uint32_t region_of_block(const struct cref *c, blk64_t b)
{
	uint64_t r = b / c->blocks_per_region;

	return r < c->nregions ? (uint32_t)r : c->nregions - 1;
}

/* The region of the inode table block that holds inode ino. */
static uint32_t region_of_inode(const struct cref *c, ext2_ino_t ino)
{
	ext2_filsys fs = c->fs;
	dgrp_t g = (ino - 1) / fs->super->s_inodes_per_group;
	uint64_t idx = (ino - 1) % fs->super->s_inodes_per_group;
	blk64_t b = ext2fs_inode_table_loc(fs, g) +
		    idx * EXT2_INODE_SIZE(fs->super) / fs->blocksize;

	return region_of_block(c, b);
}

/* Counts the links of inode ino, whose regions are in c->rs (home first),
 * into t; e is the error from reading it. */
static void account(struct cref *c, struct tally *t, ext2_ino_t ino,
		    errcode_t e)
{
	size_t n, i;

	if (e) {
		tool_err("inode %u: %s", ino, error_message(e));
		c->errors++;
		return;
	}
	n = regset_distinct(&c->rs);
	if (n <= 1)
		return;
	for (i = 1; i < n; i++) {
		c->region_links[c->rs.v[0]]++;
		c->region_links[c->rs.v[i]]++;
	}
	t->linked++;
	t->links += n - 1;
	if (n - 1 > t->max) {
		t->max = n - 1;
		t->max_ino = ino;
	}
}

static int file_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt,
		      blk64_t ref_blk, int ref_offset, void *priv)
{
	struct cref *c = priv;

	(void)fs;
	(void)ref_blk;
	(void)ref_offset;
	if (blockcnt < 0)
		return 0;
	c->data_blocks++;
	regset_add(&c->rs, region_of_block(c, *blocknr));
	return 0;
}

static int dir_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *d,
		     int offset, int blocksize, char *buf, void *priv)
{
	struct cref *c = priv;
	int len = ext2fs_dirent_name_len(d);

	(void)dir;
	(void)entry;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if (!d->inode || (len == 1 && d->name[0] == '.') ||
	    (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	if (d->inode > c->fs->super->s_inodes_count) {
		c->errors++;
		return 0;
	}
	regset_add(&c->rs, region_of_inode(c, d->inode));
	return 0;
}

static void do_file(struct cref *c, ext2_ino_t ino, struct ext2_inode *in)
{
	c->file.n++;
	c->rs.n = 0;
	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return;
	account(c, &c->file, ino,
		ext2fs_block_iterate3(c->fs, ino, BLOCK_FLAG_READ_ONLY |
				      BLOCK_FLAG_DATA_ONLY, NULL,
				      file_block, c));
}

static void do_dir(struct cref *c, ext2_ino_t ino, struct ext2_inode *in)
{
	c->dir.n++;
	c->rs.n = 0;
	regset_add(&c->rs, region_of_inode(c, ino));
	/* (the inline-data flag on an ordinary directory fails with
	 * EXT2_ET_DIR_CORRUPTED in e2fsprogs 1.47) */
	account(c, &c->dir, ino,
		ext2fs_dir_iterate2(c->fs, ino,
				    in->i_flags & EXT4_INLINE_DATA_FL ?
				    DIRENT_FLAG_INCLUDE_INLINE_DATA : 0,
				    NULL, dir_entry, c));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void cref_usage(FILE *f)
{
	fprintf(f, "Usage: %s cref IMAGE --chunk-size S [--seek-ms MS] "
		"[--json] [--quiet]\n", tool_prog);
}

int cmd_cref(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "chunk-size", required_argument, NULL, 'C' },
		{ "seek-ms", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long chunk = 0;
	double seek_ms = 8.0, t0, last, worst_s, all_s;
	int json = 0, quiet = 0, opt, progress;
	const char *image;
	struct cref c;
	ext2_inode_scan scan;
	ext2_ino_t ino;
	struct ext2_inode *in;
	int isize;
	uint64_t total, worst = 0, blocks;
	uint32_t worst_region = 0, r;
	errcode_t e;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "C:jqh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'C':
			if (cfs_parse_size(optarg, &chunk) < 0 || !chunk) {
				tool_err("cref: bad chunk size '%s'", optarg);
				return 1;
			}
			break;
		case 's':
			seek_ms = strtod(optarg, &end);
			if (*end || seek_ms < 0) {
				tool_err("cref: bad --seek-ms '%s'", optarg);
				return 1;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			cref_usage(stdout);
			return 0;
		default:
			cref_usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1 || !chunk) {
		tool_err(optind >= argc ? "cref: no image given" :
			 !chunk ? "cref: --chunk-size is required" :
			 "cref: one image only");
		cref_usage(stderr);
		return 1;
	}
	image = argv[optind];
	memset(&c, 0, sizeof(c));
	add_error_table(&et_ext2_error_table);
	e = ext2fs_open(image, EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &c.fs);
	if (e) {
		tool_err("%s: cannot open as ext2/ext3/ext4: %s", image,
			 error_message(e));
		return 1;
	}
	if (chunk % c.fs->blocksize) {
		tool_err("cref: chunk size %llu is not a multiple of the block "
			 "size %u", chunk, c.fs->blocksize);
		ext2fs_close_free(&c.fs);
		return 1;
	}
	c.blocks_per_region = chunk / c.fs->blocksize;
	blocks = ext2fs_blocks_count(c.fs->super);
	c.nregions = (uint32_t)((blocks + c.blocks_per_region - 1) /
				c.blocks_per_region);
	c.region_links = calloc(c.nregions, sizeof(*c.region_links));
	e = ext2fs_read_inode_bitmap(c.fs);
	if (!e)
		e = ext2fs_open_inode_scan(c.fs, 0, &scan);
	if (e || !c.region_links) {
		tool_err("%s: %s", image, e ? error_message(e) : "out of memory");
		free(c.region_links);
		ext2fs_close_free(&c.fs);
		return 1;
	}
	isize = EXT2_INODE_SIZE(c.fs->super);
	in = malloc((size_t)isize);
	if (!in) {
		tool_err("out of memory");
		exit(1);
	}
	progress = !quiet && isatty(2);
	t0 = last = now_s();
	for (;;) {
		e = ext2fs_get_next_inode_full(scan, &ino, in, isize);
		if (e == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE)
			continue;
		if (e) {
			tool_err("%s: scanning inodes: %s", image,
				 error_message(e));
			c.errors++;
			break;
		}
		if (!ino)
			break;
		if ((ino < EXT2_FIRST_INODE(c.fs->super) &&
		     ino != EXT2_ROOT_INO) ||
		    !ext2fs_test_inode_bitmap2(c.fs->inode_map, ino) ||
		    !in->i_links_count || in->i_dtime)
			continue;
		if (LINUX_S_ISREG(in->i_mode))
			do_file(&c, ino, in);
		else if (LINUX_S_ISDIR(in->i_mode))
			do_dir(&c, ino, in);
		if (!quiet && !(ino & 4095) && now_s() - last >= 1.0) {
			last = now_s();
			fprintf(stderr, "%scref: %u of %u inodes (%.0f%%), "
				"%.0f s%s", progress ? "\r" : "", ino,
				c.fs->super->s_inodes_count,
				pct(ino, c.fs->super->s_inodes_count),
				last - t0, progress ? "" : "\n");
		}
	}
	if (progress)
		fprintf(stderr, "\r%60s\r", "");
	ext2fs_close_inode_scan(scan);
	free(in);
	free(c.rs.v);

	total = c.file.links + c.dir.links;
	for (r = 0; r < c.nregions; r++)
		if (c.region_links[r] > worst) {
			worst = c.region_links[r];
			worst_region = r;
		}
	all_s = (double)total * seek_ms / 1000.0;
	worst_s = (double)worst * seek_ms / 1000.0;
	if (json) {
		printf("{\n  \"image\": ");
		json_str(stdout, image);
		printf(",\n  \"chunk_size\": %llu,\n  \"block_size\": %u,\n"
		       "  \"blocks\": %llu,\n  \"regions\": %u,\n"
		       "  \"regular_files\": %llu,\n  \"data_blocks\": %llu,\n"
		       "  \"directories\": %llu,\n"
		       "  \"cross_chunk_links\": %llu,\n"
		       "  \"file_links\": %llu,\n  \"directory_links\": %llu,\n"
		       "  \"files_with_links\": %llu,\n"
		       "  \"files_with_links_pct\": %.4f,\n"
		       "  \"directories_with_links\": %llu,\n"
		       "  \"directories_with_links_pct\": %.4f,\n"
		       "  \"max_links_per_file\": %llu,\n"
		       "  \"max_links_file_inode\": %u,\n"
		       "  \"max_links_per_directory\": %llu,\n"
		       "  \"max_links_directory_inode\": %u,\n"
		       "  \"max_links_per_chunk\": %llu,\n"
		       "  \"max_links_chunk\": %u,\n"
		       "  \"seek_ms\": %g,\n"
		       "  \"cross_pass_seconds_all\": %.3f,\n"
		       "  \"cross_pass_seconds_worst_chunk\": %.3f,\n"
		       "  \"errors\": %d\n}\n",
		       chunk, c.fs->blocksize, (unsigned long long)blocks,
		       c.nregions, (unsigned long long)c.file.n,
		       (unsigned long long)c.data_blocks,
		       (unsigned long long)c.dir.n, (unsigned long long)total,
		       (unsigned long long)c.file.links,
		       (unsigned long long)c.dir.links,
		       (unsigned long long)c.file.linked,
		       pct(c.file.linked, c.file.n),
		       (unsigned long long)c.dir.linked,
		       pct(c.dir.linked, c.dir.n),
		       (unsigned long long)c.file.max, c.file.max_ino,
		       (unsigned long long)c.dir.max, c.dir.max_ino,
		       (unsigned long long)worst, worst_region, seek_ms,
		       all_s, worst_s, c.errors);
	} else {
		printf("Image:              %s (%u-byte blocks, %llu blocks)\n",
		       image, c.fs->blocksize, (unsigned long long)blocks);
		printf("Chunk size:         %llu bytes: %u chunks\n", chunk,
		       c.nregions);
		printf("Regular files:      %llu, %llu with links (%.2f%%)\n",
		       (unsigned long long)c.file.n,
		       (unsigned long long)c.file.linked,
		       pct(c.file.linked, c.file.n));
		printf("Directories:        %llu, %llu with links (%.2f%%)\n",
		       (unsigned long long)c.dir.n,
		       (unsigned long long)c.dir.linked,
		       pct(c.dir.linked, c.dir.n));
		printf("Cross-chunk links:  %llu (files %llu, directories "
		       "%llu)\n", (unsigned long long)total,
		       (unsigned long long)c.file.links,
		       (unsigned long long)c.dir.links);
		printf("Most on one file:   %llu (inode %u)\n",
		       (unsigned long long)c.file.max, c.file.max_ino);
		printf("Most on one dir:    %llu (inode %u)\n",
		       (unsigned long long)c.dir.max, c.dir.max_ino);
		printf("Most on one chunk:  %llu (chunk %u)\n",
		       (unsigned long long)worst, worst_region);
		printf("Cross pass, worst case at %g ms a seek: %.2f s for "
		       "the busiest chunk, %.2f s for all chunks\n", seek_ms,
		       worst_s, all_s);
		if (c.errors)
			printf("Errors:             %d\n", c.errors);
	}
	free(c.region_links);
	ext2fs_close_free(&c.fs);
	return c.errors ? 1 : 0;
}
