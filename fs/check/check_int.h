/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check_int.h - what the checker's passes share.  One struct ck per chunk
 * being checked; its memory is bounded by that chunk (a bit per block, a
 * small record per inode, its links), never by the filesystem.
 *
 * Order of the passes for chunk K:
 *   1 check_hdr.c    header copies and geometry
 *   2 check_inode.c  inodes, their trees and extents; blocks owned once
 *   3 check_dir.c    directory entries: names, hashes, targets, types
 *   4 check_nlink.c  connectivity and link counts; orphans collected
 *   5 check_index.c  the link index against the links the inodes hold
 *   6 check_alloc.c  allocation maps and free counts recomputed
 *  6c check_csum.c   the checksum region (format v2, DATASUM)
 *   7 check_nlink.c  orphans reattached to lost+found.K
 *   8 check_cross.c  the cross pass: both ends of every link of K agree
 *  (2b, 2c check_heal.c: forward links written again from the index;
 *   lost inodes brought back from what other chunks know of them;
 *   3b, 9 check_pptr.c: parent pointers and the name backup, format v2:
 *   names given back from parent pointers after pass 3; the records made
 *   to say what the entries say, and their backup, last)
 */
#ifndef CFS_CHECK_INT_H
#define CFS_CHECK_INT_H

#include "../internal.h"
#include "../check.h"

/* Problem codes (stable; docs/PROBLEMS.md) */
#define PR_SB_PRIMARY 0x0001
#define PR_SB_COPY 0x0002
#define PR_SB_REBUILT 0x0003
#define PR_HDR_PRIMARY 0x0101
#define PR_HDR_COPY 0x0102
#define PR_HDR_REBUILT 0x0103
#define PR_HDR_GEN 0x0104
#define PR_GTAB_BLOCK 0x0105
#define PR_CSUM_BLOCK 0x0106
#define PR_ITABLE_BLOCK 0x0201
#define PR_INODE_BAD 0x0202
#define PR_TREE_NODE 0x0203
#define PR_EXTENT_BAD 0x0204
#define PR_BLOCK_DUP 0x0205
#define PR_INODE_BLOCKS 0x0206
#define PR_XATTR_BAD 0x0207
#define PR_CONT_BAD 0x0208
#define PR_DIRENT_INO 0x0301
#define PR_DIRENT_NAME 0x0302
#define PR_DIRENT_TYPE 0x0303
#define PR_DIRENT_HASH 0x0304
#define PR_DIR_ITEM 0x0305
#define PR_DIRENT_DUP 0x0306
#define PR_DIR_PARENT 0x0307
#define PR_DIR_MULTI 0x0308
#define PR_DIR_FWD_BAD 0x0309
#define PR_NLINK 0x0401
#define PR_ORPHAN 0x0402
#define PR_ORPHAN_EMPTY 0x0403
#define PR_DIR_NLINK 0x0404
#define PR_LOST_FOUND 0x0405
#define PR_ROOT_GONE 0x0406
#define PR_LF_GONE 0x0407
#define PR_BBMAP 0x0501
#define PR_IBMAP 0x0502
#define PR_FREE_COUNTS 0x0503
#define PR_BITMAP_BLOCK 0x0504
#define PR_INDEX_WRONG 0x0601
#define PR_INDEX_BAD 0x0602
#define PR_FWD_BROKEN 0x0701
#define PR_CONT_ORPHAN 0x0702
#define PR_PEER_INDEX 0x0703
#define PR_CONT_NLINK 0x0704
#define PR_PEER_CHECK 0x0705
#define PR_BACK_FIXED 0x0706
#define PR_FIX_FAILED CFS_PROBLEM_FIX_FAILED
#define PR_COPY_BAD CFS_PROBLEM_COPY_BAD
#define PR_PPTR_NAME 0x0a01
#define PR_PPTR_WRONG 0x0a02
#define PR_PPTR_TREE 0x0a03
#define PR_NBAK 0x0a04
#define PR_NBAK_HELD 0x0a05
#define PR_FWD_RESTORED 0x0a06
#define PR_RESURRECTED 0x0a07
#define PR_LOST_FILE 0x0a08
#define PR_LOST_DATA 0x0a09
#define PR_DIR_PART_LOST 0x0a0a
#define PR_CONT_REMADE 0x0a0b
#define PR_LOST_XATTR 0x0a0c

enum { CI_FREE, CI_INUSE, CI_CLEARED, CI_UNKNOWN };

struct ck_restore {           /* a name restored from a parent pointer */
	u32 target, part;     /* the inode, the directory part (locals) */
	u8 namelen;
	char name[CFS_NAME_MAX];
};

struct ck_ino {
	u8 state;
	u8 ft;           /* CFS_FT_* */
	u8 cont;         /* a continuation */
	u8 orphan;       /* pass 4: to be reattached */
	u8 has_fwd;      /* an origin with forward links */
	u8 xbad;         /* cross pass: a continuation could not be read */
	u8 pad[2];
	u32 xsub;        /* cross pass: subdirectories in continuations */
	u32 refs;        /* entries naming it (pass 3) */
	u32 subdirs;     /* dirs: subdirectory entries in this part */
	u32 entry_part;  /* dirs: local inode of the part holding its entry */
	u64 local_blocks; /* blocks in this chunk (data + nodes + xattr root) */
	u64 data_blocks;  /* data blocks in this chunk */
};

/* A link found in this chunk's inodes (pass 2): the expected index. */
struct ck_link {
	u32 peer;
	u32 local;
	struct cfs_link l;
};

struct ck {
	struct cfs_fs *fs;
	struct cfs_chunk *ch;
	u32 k;
	u32 mode;
	cfs_report_fn fn;
	void *ctx;
	struct cfs_check_result *res;
	u32 nblocks, ninodes;
	u8 *used;             /* blocks referenced (bitmap) */
	struct ck_ino *ino;
	struct ck_link *links;
	u32 nlinks, caplinks;
	int hdr_rebuilt;      /* both header copies were bad */
	int index_rebuild;    /* pass 5 decided to rebuild the link index */
	int index_root_ok;    /* the index root block is usable */
	int pptr_rebuild;     /* the parent pointer tree is rebuilt (its
			       * blocks are not marked in use by pass 6) */
	int nbak_rebuild;     /* the name backup held here is rebuilt */
	int inodes_lost;      /* inodes of the chunk were lost (an inode
			       * table block, the headers): pass 2c */
	struct ck_restore *restores; /* names to give back (pass 3b decides,
				      * pass 6b writes: after the maps) */
	u32 nrestores, caprestores;
	u32 nexp;             /* links that belong in the index (sorted) */
	u32 max_gen;
	u32 cur;              /* inode being walked */
	int dup_seen;
	int halted;           /* preen met a problem that needs a decision */
	char detail[128];
	char *path;           /* ck_path's buffer (CK_PATH_MAX) */
};
#define CK_PATH_MAX 1024

/* Report a problem; returns 1 if the mode allows fixing it. */
int ck_problem(struct ck *c, u32 code, u64 ino, u64 blk, const char *detail);
/* ... naming the file by the path given (a lost file's, known only from
 * the name backup), not the one parent pointers give now. */
int ck_problem_path(struct ck *c, u32 code, u64 ino, u64 blk,
		    const char *detail, const char *path);
/* The path of inode ino for a report (NULL if none is known). */
const char *ck_path(struct ck *c, u64 ino);
void ck_fix_failed(struct ck *c, u64 ino, int err);
/* Report a problem no repair can fix here (never counted as fixed). */
void ck_unfixable(struct ck *c, u32 code, u64 ino, const char *detail);
int ck_fixing(const struct ck *c);    /* any repair allowed at all */
u64 ck_ino(const struct ck *c, u32 local);
int ck_add_link(struct ck *c, u32 peer, u32 local, const struct cfs_link *l);
void ck_mark(struct ck *c, u32 blk);
void ck_mark_meta(struct ck *c);
int ck_test(const struct ck *c, u32 blk);
void ck_fmt(char *buf, u32 size, const char *s, u64 a, u64 b);
/* Ask the caller (fsck) to check chunk p next. */
void ck_recheck(struct ck *c, u32 p);

int check_hdr(struct ck *c);
int check_inodes(struct ck *c);
int check_dirs(struct ck *c);
int check_nlink(struct ck *c);
int check_index(struct ck *c);
int check_alloc(struct ck *c);
int check_csum(struct ck *c);
int check_index_rebuild(struct ck *c);
int check_reattach(struct ck *c);
int check_cross(struct ck *c);
int check_pptr_restore(struct ck *c);
int check_heal_links(struct ck *c);
int check_resurrect(struct ck *c);
int check_pptr_sync(struct ck *c);
int check_pptr_apply(struct ck *c);
int ck_reattach(struct ck *c, struct cfs_inode *ip, const char *prefix,
		u64 a, u64 b);
int ck_make_dir(struct ck *c, u32 local, u32 mode, u32 parent, u32 gen,
		u32 uid, u32 gid, const u32 *back);

/* Itable access without the inode cache (for raw passes). */
int ck_itable(struct ck *c, u32 blk, struct cfs_buf **b);
u32 ck_ipb(const struct ck *c);

#endif
