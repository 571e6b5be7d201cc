/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check.h - the checker: one chunk at a time, the same code for fsck, the
 * online scrub and the tests.  docs/PROBLEMS.md lists the problem codes.
 */
#ifndef CFS_CHECK_H
#define CFS_CHECK_H

#include "chunkfs.h"

/* Repair policy of a problem (e2fsck's habit). */
#define CFS_FIX_PREEN 1   /* safe: fixed in preen mode (-p) and with -y */
#define CFS_FIX_ASK 2     /* fixed only with -y (loses or moves data) */

struct cfs_problem_desc {
	u32 code;
	const char *name;     /* short stable identifier */
	const char *desc;     /* one line */
	u32 policy;           /* CFS_FIX_* */
	u32 blast;            /* CFS_BLAST_*: what it costs the file it names
			       * (fsck's blast radius), 0 if nothing */
};
/* What a problem's repair costs the file it names: the blast radius. */
#define CFS_BLAST_LOST 1      /* the file is lost (its inode) */
#define CFS_BLAST_CONTENT 2   /* part of its content is lost or changed */
#define CFS_BLAST_NAMES 3     /* a directory: entries lost */
#define CFS_BLAST_ATTRS 4     /* extended attributes lost */
#define CFS_BLAST_RECREATED 5 /* a directory recreated (defaults for what
			       * was not known) */
#define CFS_BLAST_MOVED 6     /* moved to lost+found */
const char *cfs_blast_name(u32 blast);
/* NULL for an unknown code. */
const struct cfs_problem_desc *cfs_problem(u32 code);
/* The whole table (for docs and the fsck front end). */
const struct cfs_problem_desc *cfs_problem_table(u32 *n);

/* The report of a repair that failed (the problem before it stays). */
#define CFS_PROBLEM_FIX_FAILED 0x0801
/* A bad copy of a block healed from the good one (counted as corrected). */
#define CFS_PROBLEM_COPY_BAD 0x0901
/* File data that does not match its checksum (DATASUM; CFS_CHECK_DATA, the
 * scrub's CHUNKFS_SCRUB_DATA): reported with the file, the byte range
 * (detail "bytes A-B") and the first bad block; never fixed (no copy of
 * data), counted in data_bad, not in found: the chunk's metadata is not
 * at fault. */
#define CFS_PROBLEM_DATA_SUM 0x0b01

/* Modes */
#define CFS_CHECK_NOFIX 0     /* -n: report only, write nothing */
#define CFS_CHECK_PREEN 1     /* -p/-a: fix CFS_FIX_PREEN problems only */
#define CFS_CHECK_FIXALL 2    /* -y: fix everything */
#define CFS_CHECK_DATA 0x100  /* flag: also read and verify every data
			       * block of the chunk (fsck --data) */

struct cfs_problem_report {
	u32 code;
	u32 chunk;
	u64 ino;              /* 0 if none */
	u64 blk;              /* absolute block, 0 if none */
	int fixed;
	const char *detail;   /* a short extra text (valid during the call) */
	const char *path;     /* the file's path (format v2: from parent
			       * pointers; a continuation's is its file's),
			       * NULL if unknown; valid during the call */
};
typedef void (*cfs_report_fn)(void *ctx, const struct cfs_problem_report *r);

struct cfs_check_result {
	u32 found;            /* problems found */
	u32 fixed;            /* of which fixed */
	u32 corrected;        /* bad copies of blocks (format v2) found and,
			       * unless read-only, rewritten from the good
			       * copy: reported (CFS_PROBLEM_COPY_BAD), not
			       * counted in found */
	u32 inodes, dirs, files, conts;
	u64 blocks_used;
	u64 metadata_blocks_read;
	u32 peers;            /* peer chunks visited by the cross pass */
	u32 lost_found;       /* inodes moved to lost+found */
	u64 data_blocks_read; /* CFS_CHECK_DATA: data blocks verified */
	u32 data_bad;         /* ... of which do not match their checksum
			       * (each range reported as
			       * CFS_PROBLEM_DATA_SUM) */
	int fatal;            /* the chunk could not be checked at all */
	int halted;           /* preen stopped at a problem that needs a
			       * decision (CFS_FIX_ASK): nothing after it was
			       * checked or repaired */
	/* peer chunks holding a broken forward link into this chunk, which
	 * only their own check can cut (fsck checks them next) */
	u32 nrecheck;
	u32 recheck[32];
};

/* Mount an image for checking: tolerates damage (no root directory check;
 * chunk states are not changed by mounting).  Use CFS_MOUNT_RDONLY for -n. */
int cfs_mount_check(struct cfs_bdev *dev, u32 flags, struct cfs_fs **out,
		    const char **why);
u32 cfs_nchunks(struct cfs_fs *fs);
/* State of a chunk as recorded on disk (CFS_CHUNK_*). */
u32 cfs_chunk_state(struct cfs_fs *fs, u32 chunk);

/* Check (and, per mode, repair) one chunk, including its cross pass.
 * Returns 0 when the check ran (see res for what it found), or a negative
 * errno when it could not run.  A chunk found clean (or repaired clean) gets
 * state CLEAN and its verified generation and time updated (unless
 * NOFIX). */
int cfs_check_chunk(struct cfs_fs *fs, u32 chunk, u32 mode, cfs_report_fn fn,
		    void *ctx, struct cfs_check_result *res);

/* The superblock: cfs_mount_check read whichever copy was good (or
 * rebuilt it from a chunk header); this reports a bad copy and, per mode,
 * rewrites both.  Returns like cfs_check_chunk. */
int cfs_check_super(struct cfs_fs *fs, u32 mode, cfs_report_fn fn, void *ctx,
		    struct cfs_check_result *res);

#endif
