/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h - what the fs/ modules share with each other.  Not for front
 * ends: they use chunkfs.h.
 *
 * Locking: one mutex per mounted filesystem (fs->lock) is held by every API
 * entry point for the whole operation; internal functions assume it is held.
 */
#ifndef CFS_INTERNAL_H
#define CFS_INTERNAL_H

#include "chunkfs.h"

/* ---- the bottom layer, fs/io/: buffer cache (buf.c), block verifier
 * (verify.c), chunk health and header I/O (health.c), events (events.c).
 * It calls nothing above it. ---- */
struct cfs_buf {
	u64 blkno;            /* absolute */
	u64 blkno2;           /* absolute block of its second copy (DUP), or 0 */
	u32 chunk;            /* CFS_NO_CHUNK for the superblock */
	u32 refs;
	int dirty;
	u8 *data;             /* the block; allocated with the struct */
	struct cfs_buf *hnext;
	struct cfs_buf *lprev, *lnext; /* LRU of unreferenced buffers */
};

struct cfs_chunk {
	u32 index;
	u64 start;            /* absolute block of local block 0 */
	struct cfs_chunk_hdr hdr;  /* in-memory copy; written at sync */
	int hdr_dirty;
	int marked_dirty;     /* header with state DIRTY is on disk */
	u8 hdr_bad;           /* at mount: 1 primary header bad, 2 copy bad */
	u8 hdr_stale;         /* both good, 1 the first / 2 the second older */
	u8 replayed;          /* its journal was replayed by this mount */
	u32 bb_hint;          /* next local block to try */
	u32 ib_hint;          /* next local inode to try */
	/* journal (journal.c) */
	u32 ndirty;           /* dirty buffers of this chunk */
	u32 jcap;             /* images its journal transaction holds */
	u8 changed;           /* changed since the last commit */
	u8 *pfree;            /* blocks freed since the last commit (bitmap,
			       * allocated on first use): not for file data */
	u32 npfree;           /* blocks in pfree */
	u8 *pnew;             /* DATASUM: data blocks no committed written
			       * extent maps (allocated, or unwritten made
			       * written, since the last commit): written in
			       * place, not copied (bitmap, on first use) */
	u8 *pzero;            /* DATASUM: blocks a committed written extent
			       * maps, made unwritten since (dsum_zeroed) */
	u8 keep_state;        /* the checker set the state: the next commit
			       * does not turn CLEAN into DIRTY */
	u8 repair_pending;    /* errors=repair: to be scrubbed */
	u64 cgen;             /* fs->cseq of the last commit it took part
			       * in: its blocks on disk are unchanged since
			       * any commit numbered cgen or later */
	u32 *gtab_gen;        /* METAGEN: the header block's gens of the
			       * generation table blocks (hdr.gtab_blocks) */
};

/* A reference to a metadata block (FORMAT.md 16.2): its first copy, its
 * second (0: none) and the gen32 the referrer expects (compared only with
 * METAGEN).  Local block numbers of the reference's chunk. */
struct cfs_bref {
	u32 blk, blk2, gen;
};

struct cfs_inode {
	u64 ino;
	struct cfs_chunk *ch;
	u32 local;
	u64 nlookup;          /* front-end references (cfs_forget) */
	u32 refs;             /* internal pins */
	int orphan;           /* on its chunk's orphan list (link 0, in use) */
	u32 cont_hint;        /* 1 + the chunk file data last continued in
				 * (0: none; a hint only, file.c) */
	struct cfs_dinode d;
	struct cfs_inode *hnext;
};

struct cfs_fs {
	struct cfs_bdev *dev;
	struct host_mutex *lock;
	struct cfs_super sb;
	struct cfs_geom *g;   /* &sb.g */
	u32 bs;
	u32 bshift;
	int rdonly;
	u32 nchunks;
	/* format v2 features (FORMAT.md 16) */
	int metagen;          /* generations in references */
	int dup;              /* second copies */
	int pptr;             /* parent pointers and the name backup */
	int datasum;          /* data checksums (FORMAT.md 16.6, file.c) */
	int xcont;            /* xattr continuations (FORMAT.md 10.3.2) */
	int dirovf;           /* directory overflow items (dir.c) */
	u64 hash_mask;        /* of the directory hashes (dir_hash) */
	u32 iroot_size;       /* inline root bytes: 144, or 128 with METAGEN */
	u64 gen;              /* METAGEN: generation of what is modified now
			       * (the group of the next commit) */
	int verify_copies;    /* read both copies of every block (checker) */
	int no_heal;          /* a check that only reports (-n, a check-only
			       * scrub): bad copies are found, not rewritten */
	int gen_used;         /* a block was modified in generation gen */
	u8 *copybuf;          /* one block: a second copy read or written */
	u64 ncorrected;       /* bad copies found and (unless read-only)
			       * rewritten from the good one */
	/* the checker's report of a healed copy (set while it runs) */
	void (*on_heal)(void *ctx, u32 chunk, u32 local, const char *why);
	void *on_heal_ctx;
	/* The chunk table, loaded lazily: chunks[i] is NULL until chunk i is
	 * first used (chunk_get() reads and verifies its two header copies
	 * then).  So a mount costs 8 bytes of table per chunk (an untouched
	 * calloc, i.e. not even resident until used) plus one struct
	 * cfs_chunk per chunk actually used, not a header read per chunk. */
	struct cfs_chunk **chunks;
	u64 wgen;
	/* buffer cache */
	struct cfs_buf **bhash;
	u32 bhash_mask;
	u64 nbufs, maxbufs, ndirty;
	u64 nreads;           /* metadata blocks read from the device */
	struct cfs_buf lru;   /* sentinel: lnext = oldest */
	struct cfs_buf *bfree; /* destroyed buffers kept for reuse (hnext) */
	u32 nfree;
	/* inode cache */
	struct cfs_inode **ihash;
	u32 ihash_mask;
	int checking;         /* mounted by the checker: no suspect marking */
	u8 sb_bad;            /* at mount: 1 primary bad, 2 copy bad, 4 rebuilt,
			       * 8 primary stale, 16 copy stale (both good,
			       * one older) */
	u8 *zero;             /* a block of zeroes */
	u8 *scratch;          /* one block for read-modify-write, under lock */
	u8 *dbuf;             /* two blocks: file data verified or merged
			       * (file.c, datasum.c), under lock */
	u8 *hdrbuf;           /* one block for chunk_load(), under lock */
	struct dsum_job *dsj; /* DATASUM: hashing beside the file I/O, and
			       * its DSUM_WIN sums (datasum.c), under lock */
	/* journal (journal.c) */
	int journal;          /* metadata goes through the chunk journals */
	int sync_mode;        /* -o sync: commit after every changing op */
	int noacl;            /* POSIX ACLs off (acl.c) */
	int op_writes;        /* the operation under way changes something
			       * (not only an access time): with sync_mode,
			       * it commits at its end */
	int jbig;             /* a chunk's changes fill half its journal */
	int nospc_retry;      /* this operation committed to get back pending
			       * free blocks: a copy on write that finds its
			       * chunk full now continues in another chunk
			       * (file.c alloc_hole) */
	u64 npfree;           /* blocks pending free (chunk->pfree) */
	struct cfs_chunk *meta_making; /* file data is moved out of this chunk
				* to make room for metadata (file.c) */
	u8 *jmap;             /* the superblock's journal map (bs - 512) */
	struct cfs_journal_stats jstat;
	/* health events (events.c) */
	/* events: two rings, so that routine news (a chunk scrubbed clean)
	 * never pushes out errors, warnings and repairs (events.c) */
	struct chunkfs_event *ev;  /* rings: CFS_EVENT_RINGS x CFS_EVENT_RING */
	u64 ev_n[2];              /* events ever put in each ring */
	u64 ev_seq;               /* seq of the newest event */
	void (*ev_hook)(void *ctx, const struct chunkfs_event *e);
	/* The path of an inode for an event (set by the layer above: parent
	 * pointers), called with fs->lock held when events are read. */
	int (*ev_path)(struct cfs_fs *fs, u64 ino, char *out, u32 size);
	void *ev_ctx;
	u32 errors_policy;        /* CHUNKFS_ERRORS_* */
	u32 free_warn;            /* percent; 0: no threshold events */
	int free_low;
	int ro_pending;             /* errors=remount-ro: chunk ro_pending - 1
				   * turned suspect; read-only at the end of
				   * the operation */
	int repair_pending;
	int checking_offline;     /* mounted by fsck: no events */
	/* chunks whose orphan list is still to be looked at (inode.c) */
	u32 *orphan_q;
	u32 norphan_q, orphan_cap;
	int orphans_on;           /* chunk loads queue their orphan lists */
	/* remount (cfs_remount) */
	int rw_journal;           /* read-write, metadata goes through the
				   * journals (not the checker, not a bulk
				   * load) */
	int ro_replayed;          /* mounted read-only: the journals were
				   * replayed into the cache only */
	/* the online scrub (scrub.c) */
	u64 cseq;                 /* commits started (journal.c) */
	u32 frozen;               /* chunk + 1 whose repair is being computed:
				   * operations on its inodes wait; 0 none */
	u32 frozen_peer[8];       /* more chunks frozen with it (+1; 0 none):
				   * the peers its repair writes */
	struct host_mutex *freeze_lock; /* held by that repair */
	struct cfs_shadow *shadow; /* a scrub's private instance: its device */
	u64 *inval;               /* inodes a repair changed (cfs_inval_take) */
	u32 ninval, inval_cap;
	int inval_lost;
	u8 *inval_ent;            /* names a repair removed: records of u64
				   * parent, u8 length, the name */
	u32 ninval_ent, inval_ent_cap; /* bytes used, allocated */
};

#define CFS_LOCAL(ino) ((u32)(ino))
#define CFS_CHUNK_OF(ino) ((u32)((ino) >> 32))
#define CFS_MKINO(c, l) (((u64)(c) << 32) | (u32)(l))
#define CFS_PAYLOAD(fs) ((fs)->bs - (u32)sizeof(struct cfs_bhdr))

static inline u64 cfs_abs(const struct cfs_chunk *ch, u32 local)
{
	return ch->start + local;
}

/* A verifier beyond the block header's (a B+tree node's structure, ...):
 * 0 or -CFS_EUCLEAN with *why set.  No side effects. */
typedef int (*cfs_verify_fn)(struct cfs_fs *fs, const u8 *data,
			     const void *arg, const char **why);
/* Read a metadata block by reference: its first copy, verified (header,
 * generation, vfn); if that fails, its second copy, whose content is used
 * and written over the bad one with the next commit (a corrected error).
 * When both fail the chunk is marked suspect and -CFS_EUCLEAN (or -EIO)
 * returned. */
int buf_read_ref(struct cfs_fs *fs, struct cfs_chunk *ch,
		 const struct cfs_bref *r, u32 magic, cfs_verify_fn vfn,
		 const void *varg, struct cfs_buf **out);
/* A positional block (bitmap, inode table, checksum region, generation
 * table; any block of a v1 chunk): the reference is derived from the
 * chunk's layout and generation table. */
int buf_read(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local, u32 magic,
	     struct cfs_buf **out);
int buf_pos_ref(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		struct cfs_bref *r);
int buf_is_pos(const struct cfs_chunk *ch, u32 local);
/* A zeroed buffer with its header filled in, not read from disk: at the
 * reference's homes (buf_new: a positional block's). */
int buf_new_ref(struct cfs_fs *fs, struct cfs_chunk *ch,
		const struct cfs_bref *r, u32 magic, struct cfs_buf **out);
int buf_new(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local, u32 magic,
	    struct cfs_buf **out);
/* The block is modified.  METAGEN: its generation becomes fs->gen; returns
 * 1 when that is new (the first change since the last commit), so that
 * the referrer records it (buf_dirty does it itself for positional
 * blocks); else 0. */
int buf_dirty(struct cfs_fs *fs, struct cfs_buf *b);
u32 buf_gen32(const struct cfs_buf *b);
/* To be written as it is with the next commit (a healed copy). */
void buf_mark_heal(struct cfs_fs *fs, struct cfs_buf *b);
/* The local block of the second copy of positional block `local` (DUP). */
u32 chunk_mirror(const struct cfs_chunk *ch, u32 local);
/* Past the data area: the mirror region (DUP) or the header copy. */
u32 chunk_data_end(const struct cfs_chunk *ch);
/* Write a sealed image to its home and, when blkno2 is set, to its second
 * copy's (blkno and crc patched there). */
int buf_write_copies(struct cfs_fs *fs, const u8 *img, u64 blkno, u64 blkno2);

void buf_put(struct cfs_fs *fs, struct cfs_buf *b);
void buf_forget(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local);
int buf_flush_all(struct cfs_fs *fs);
u32 buf_held(const struct cfs_fs *fs);
void buf_drop_all(struct cfs_fs *fs);
int buf_cache_init(struct cfs_fs *fs, u64 maxbytes);
/* Verify a raw block in memory; returns 0 or -CFS_EUCLEAN; *why says what. */
int buf_verify(struct cfs_fs *fs, const u8 *data, u64 blkno, u32 chunk,
	       u32 magic, const char **why);
void buf_seal(struct cfs_fs *fs, u8 *data);   /* set crc (v1: and wgen) */
void buf_init_hdr(const struct cfs_geom *g, u8 *data, u64 blkno, u32 chunk,
		  u32 magic);

/* ---- journal (journal.c) ---- */
/* Commit everything (see journal.c); final: mark the chunks this mount
 * dirtied CLEAN (unmount). */
int journal_commit(struct cfs_fs *fs, int final);
int journal_wants_commit(struct cfs_fs *fs);
/* A commit between rounds of a long operation, when a chunk's changes
 * fill half its journal (the filesystem is whole there). */
int journal_split(struct cfs_fs *fs);
int journal_replay(struct cfs_fs *fs, struct cfs_chunk *ch, int named,
		   int inmem);
int journal_in_map(struct cfs_fs *fs, u32 k);
void journal_map_clear(struct cfs_fs *fs);
u32 journal_capacity(const struct cfs_fs *fs, const struct cfs_chunk *ch);
void buf_clean(struct cfs_fs *fs, struct cfs_buf *b);
/* Every dirty buffer clean: what the disk holds now (a read-only mount's
 * replayed blocks, once the replay was written in place). */
void buf_clean_all(struct cfs_fs *fs);
int buf_install(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		u32 local2, const u8 *img);

/* ---- the shadow device of the online scrub (shadow.c) ---- */
struct cfs_shadow;
struct shadow_block {
	u64 blk;
	u32 crc;              /* of the content observed */
	u32 hcrc;             /* a chunk header's: shadow_hdr_crc */
	u32 pcrc;             /* shadow_payload_crc of what was observed */
	int link;             /* a link index node: lcrc, shadow_link_crc */
	u32 lcrc;
	int header;           /* it was a chunk header */
	int observed;         /* read (or replayed) by the private instance */
	int written;          /* written by it (data: the content) */
	const u8 *data;
	const u32 *slot_crc;  /* inode table block: the inodes it read */
};
/* k: the chunk the private instance checks */
struct cfs_shadow *shadow_new(struct cfs_bdev *base, u32 bs, u32 bshift,
			      u32 k, int metagen);
struct cfs_bdev *shadow_dev(struct cfs_shadow *s);
void shadow_capture(struct cfs_shadow *s); /* from now on writes are kept */
void shadow_free(struct cfs_shadow *s);
u32 shadow_hdr_crc(const u8 *blk);
u32 shadow_payload_crc(const u8 *blk, u32 bs, u8 *tmp, int gen);
u32 shadow_link_crc(const u8 *blk, u32 bs, u32 k);
u32 shadow_inode_crc(const struct cfs_dinode *di);
/* The private instance read inode `slot` of inode table block blk. */
void shadow_note_inode(struct cfs_shadow *s, u64 blk, u32 slot,
		       const struct cfs_dinode *di);
/* The next block (*pos starts at 0); 0 at the end. */
int shadow_each(struct cfs_shadow *s, u64 *pos, struct shadow_block *out);
/* Wait while chunk k's repair is being computed (scrub.c); the caller
 * holds fs->lock, which may be dropped and taken again meanwhile. */
void scrub_wait_unfrozen(struct cfs_fs *fs, u64 ino_a, u64 ino_b);

/* ---- events (io/events.c, io/health.c), scrub (scrub.c), the checker
 * (check/) ---- */
int events_init(struct cfs_fs *fs);
void fs_event(struct cfs_fs *fs, u32 severity, u32 code, u32 chunk, u64 ino,
	      const char *msg);
/* The same, with the checker's problem code (CHUNKFS_E_PROBLEM). */
void fs_event_problem(struct cfs_fs *fs, u32 severity, u32 chunk, u64 ino,
		      u32 problem, const char *msg, const char *path);
void events_free_check(struct cfs_fs *fs); /* journal.c */
/* errors=remount-ro after a suspect chunk: commit what there is, then
 * read-only (scrub.c; at the end of an operation, under the lock). */
void errors_apply(struct cfs_fs *fs);
int raw_write(struct cfs_fs *fs, u64 blkno, u8 *data); /* io/health.c */
struct cfs_check_result;
struct cfs_problem_report;
int check_chunk_locked(struct cfs_fs *fs, u32 chunk, u32 mode,
		       void (*fn)(void *ctx,
				  const struct cfs_problem_report *r),
		       void *ctx, struct cfs_check_result *res);
void buf_drop(struct cfs_fs *fs, struct cfs_buf *b); /* unreferenced */
void chunk_reread_hdr(struct cfs_fs *fs, struct cfs_chunk *ch);
void inode_reload(struct cfs_fs *fs, struct cfs_inode *ip);

/* ---- chunks, superblock, allocation (super.c, alloc.c) ---- */
int chunk_mark_dirty(struct cfs_fs *fs, struct cfs_chunk *ch);
void chunk_mark_suspect(struct cfs_fs *fs, struct cfs_chunk *ch, const char *why);
int chunk_write_hdr(struct cfs_fs *fs, struct cfs_chunk *ch);
void chunk_hdr_image(struct cfs_fs *fs, struct cfs_chunk *ch, u8 *blk);
void chunk_hdr_load(struct cfs_fs *fs, struct cfs_chunk *ch, const u8 *blk);
int chunk_hdr_write(struct cfs_fs *fs, struct cfs_chunk *ch, u8 *blk);
int super_write(struct cfs_fs *fs);
u32 chunk_dir_name(char *name, u32 k); /* "chunk-K"; name holds 24 */
int fs_sync_locked(struct cfs_fs *fs);
/* Chunk `index`, its header read on first use; NULL if the index is out
 * of range or memory ran out.  Under fs->lock (or before the fs is
 * shared). */
struct cfs_chunk *chunk_load(struct cfs_fs *fs, u32 index);
static inline struct cfs_chunk *chunk_get(struct cfs_fs *fs, u32 index)
{
	if (index >= fs->nchunks)
		return NULL;
	return fs->chunks[index] ? fs->chunks[index] : chunk_load(fs, index);
}
/* Allocate up to want contiguous blocks (at least 1) near goal; *got gets
 * the count.  Leaves `keep` blocks free in the chunk. */
int alloc_blocks(struct cfs_fs *fs, struct cfs_chunk *ch, u32 goal, u32 want,
		 u32 keep, int data, u32 *first, u32 *got);
int free_blocks(struct cfs_fs *fs, struct cfs_chunk *ch, u32 first, u32 n);
int alloc_meta_block(struct cfs_fs *fs, struct cfs_chunk *ch, u32 *out);
/* A tree node's blocks: with DUP a pair half a data area apart (*blk2 0
 * without DUP); freed together. */
int alloc_meta_pair(struct cfs_fs *fs, struct cfs_chunk *ch, u32 *blk,
		    u32 *blk2);
void free_meta_pair(struct cfs_fs *fs, struct cfs_chunk *ch, u32 blk,
		    u32 blk2);
int alloc_inode_nr(struct cfs_fs *fs, struct cfs_chunk *ch, u32 *out);
int free_inode_nr(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local);
/* Blocks kept free in every chunk for metadata (tree nodes). */
u32 chunk_meta_reserve(const struct cfs_chunk *ch);
u32 chunk_inode_reserve(const struct cfs_chunk *ch);
/* Room to continue file data in ch (alloc.c): more than a quarter of its
 * metadata reserve (at least CFS_CONT_MIN) free above that reserve. */
#define CFS_CONT_MIN 8
/* neither DAMAGED nor SUSPECT: new data and metadata may go there */
int chunk_usable(const struct cfs_chunk *ch);
int chunk_cont_room(const struct cfs_chunk *ch);
/* Placement: the chunk with the most free blocks, excluding `except`;
 * need_inode 1: with free inodes above the reserve, 2: with any free inode. */
struct cfs_chunk *chunk_most_free(struct cfs_fs *fs, struct cfs_chunk *except,
				  int need_inode);
int chunk_has_room(const struct cfs_chunk *ch);
/* Placement: the chunk with the fewest free blocks that has need blocks
 * above twice its metadata reserve and a free inode above the reserve, or
 * NULL. */
struct cfs_chunk *chunk_best_fit(struct cfs_fs *fs, u64 need);

/* ---- inodes (inode.c) ---- */
int inode_get(struct cfs_fs *fs, u64 ino, struct cfs_inode **out);
void inode_put(struct cfs_fs *fs, struct cfs_inode *ip);
/* A copy of inode (ch, local) as its table holds it, not cached (what is
 * read for a report): 0, -ENOENT (free, or no such number) or the read's
 * error. */
int inode_peek(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
	       struct cfs_dinode *d);
int inode_write(struct cfs_fs *fs, struct cfs_inode *ip); /* into its buffer */
int inode_alloc(struct cfs_fs *fs, struct cfs_chunk *ch, u32 mode,
		struct cfs_inode **out);
int inode_free(struct cfs_fs *fs, struct cfs_inode *ip); /* blocks + number */
void inode_to_attr(struct cfs_fs *fs, const struct cfs_inode *ip,
		   struct cfs_attr *a);
void inode_touch(struct cfs_inode *ip, int a, int m, int c);
u32 mode_to_ft(u32 mode);
int inode_evict_if_unused(struct cfs_fs *fs, struct cfs_inode *ip);
/* Orphans: a chunk just loaded is queued; orphans_process frees what the
 * queued chunks' orphan lists name (left by a crash). */
void orphans_queue(struct cfs_fs *fs, u32 chunk);
void orphans_process(struct cfs_fs *fs);
struct cfs_inode *inode_cached(struct cfs_fs *fs, u64 ino);

/* ---- B+tree (btree.c) ---- */
struct cfs_tree {
	struct cfs_fs *fs;
	struct cfs_chunk *ch;
	u32 type;             /* CFS_TREE_* */
	u32 owner;            /* local inode (0 for the link index) */
	u8 *iroot;            /* inline root, or NULL */
	u32 iroot_size;
	u32 root_blk;         /* block root when iroot == NULL */
	u32 root_blk2;        /* its second copy (DUP) */
	u32 *root_gen;        /* METAGEN: where the block root's gen32 is kept
			       * (inode tail or chunk header); NULL: none */
	struct cfs_inode *ip; /* written back when the inline root changes */
};
void bt_init_node(u8 *node, u32 size);
void tree_of_inode(struct cfs_fs *fs, struct cfs_inode *ip, u32 type,
		   struct cfs_tree *t);
int bt_lookup(struct cfs_tree *t, u64 key, void *val, u32 max, u32 *len);
int bt_find_le(struct cfs_tree *t, u64 key, u64 *kout, void *val, u32 max,
	       u32 *len);
int bt_find_ge(struct cfs_tree *t, u64 key, u64 *kout, void *val, u32 max,
	       u32 *len);
int bt_insert(struct cfs_tree *t, u64 key, const void *val, u32 len);
int bt_update(struct cfs_tree *t, u64 key, const void *val, u32 len);
int bt_delete(struct cfs_tree *t, u64 key);
int bt_destroy(struct cfs_tree *t);    /* free all blocks below the root */
/* The root reads and verifies (0), or the error. */
int bt_root_read(struct cfs_tree *t);
/* levels of the tree (1: the root is a leaf); BT_MAXDEPTH when its root
 * cannot be read */
u32 bt_height(struct cfs_tree *t);
/* A new empty root block (and its copy): its reference in *r. */
int bt_root_new(struct cfs_fs *fs, struct cfs_chunk *ch, u32 type, u32 owner,
		struct cfs_bref *r);
u32 bt_max_item(const struct cfs_tree *t);
int bt_count_blocks(struct cfs_tree *t, u64 *n);
struct bt_walk_ops {
	int (*node)(void *ctx, u32 blk, u32 blk2); /* < 0: cut this node */
	int (*item)(void *ctx, u64 key, const u8 *val, u32 len); /* 1: delete */
	void (*bad)(void *ctx, u32 blk, const char *why);
	void (*node_dropped)(void *ctx, u32 blk, u32 blk2); /* an emptied
							     * node was cut */
};
int bt_walk(struct cfs_tree *t, const struct bt_walk_ops *ops, void *ctx,
	    int fix);

/* One leaf held for changes in place (bt_leaf_get .. bt_leaf_put): a few
 * changes to keys close together for one descent of the tree, without a
 * copy of the values.  Each change that the leaf cannot take in place (a
 * key outside the range the leaf may hold, no room, a leaf that would be
 * left empty) returns BT_LEAF_NO and changes nothing: the caller puts the
 * leaf and uses the tree functions (bt_insert ...) instead. */
#define BT_MAXDEPTH 12
#define BT_LEAF_NO 1
struct bt_node {
	u8 *p;
	u32 size;
	struct cfs_buf *b;    /* NULL: the inline root */
	u32 blk;              /* block, or 0 for an inline root */
	u32 blk2;             /* its second copy (DUP), or 0 */
	struct bt_node *parent; /* the node whose kptr names it; NULL for
				 * the root (and where nothing is modified) */
};
struct bt_leaf {
	struct cfs_tree *t;
	int depth, dirty;
	int lo_set, hi_set;   /* the keys it may hold: lo <= key < hi */
	u64 lo, hi;
	u64 skey;             /* the last key searched (when spos_ok): */
	int spos, sfound, spos_ok; /* its place, found or not */
	struct bt_node path[BT_MAXDEPTH];
};
/* The leaf that holds (or would hold) key: 0, or an error (nothing held). */
int bt_leaf_get(struct cfs_tree *t, u64 key, struct bt_leaf *l);
/* Key's value in the leaf (changes written through *val stay in the leaf:
 * bt_leaf_mark): 0, -CFS_ENOENT, or BT_LEAF_NO (not a key of this leaf). */
int bt_leaf_find(struct bt_leaf *l, u64 key, u8 **val, u32 *len);
/* A new item of len bytes (for the caller to fill through *val). */
int bt_leaf_insert(struct bt_leaf *l, u64 key, u32 len, u8 **val);
/* Item key to len bytes, keeping its first bytes; *val: where it is now. */
int bt_leaf_resize(struct bt_leaf *l, u64 key, u32 len, u8 **val);
int bt_leaf_delete(struct bt_leaf *l, u64 key);
/* Item okey under the key nkey (absent), its value kept. */
int bt_leaf_rekey(struct bt_leaf *l, u64 okey, u64 nkey);
void bt_leaf_mark(struct bt_leaf *l);  /* a value was changed in place */
/* The end of the changes: the leaf is dirtied if changed, then released. */
int bt_leaf_put(struct bt_leaf *l);

/* ---- links (link.c) ---- */
void link_tree(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_tree *t);
int link_add(struct cfs_fs *fs, struct cfs_chunk *ch, u32 peer, u32 local,
	     const struct cfs_link *l);
int link_del(struct cfs_fs *fs, struct cfs_chunk *ch, u32 peer, u32 local);
/* Make (or find) the continuation of origin `ip` in chunk `to`. */
/* A new continuation inode of ip in chunk to with its back link, written
 * (the caller adds the index entries and the forward link); discarded
 * (freed) if they cannot be made. */
int cont_alloc(struct cfs_fs *fs, struct cfs_inode *ip, struct cfs_chunk *to,
	       u32 mode, u16 flags, struct cfs_inode **out);
void cont_discard(struct cfs_fs *fs, struct cfs_inode *c);
int cont_get(struct cfs_fs *fs, struct cfs_inode *ip, struct cfs_chunk *to,
	     int create, struct cfs_inode **out);
int cont_remove(struct cfs_fs *fs, struct cfs_inode *origin,
		struct cfs_inode *cont);

/* ---- data checksums (datasum.c; FORMAT.md 16.6) ---- */
/* A file's data is checksummed (DATASUM, and the file has not opted out). */
int dsum_file(const struct cfs_fs *fs, const struct cfs_inode *ip);
/* The checksum of one whole data block. */
u32 dsum_block(const struct cfs_fs *fs, const u8 *data);
void dsum_blocks(const struct cfs_fs *fs, const u8 *data, u64 n, u32 *out);
/* The checksums of n whole blocks at data into out[0..n-1], computed
 * beside the caller's work: by a helper thread (host_job) where the host
 * has one and n is large enough to be worth it, else at once by the
 * caller.  dsum_many_start() returns at once, dsum_many_wait() when out
 * is filled (data and out stay untouched by the caller until then);
 * dsum_many() splits the work between the helper and the caller. */
#define DSUM_WIN 256          /* blocks per window of fs->dsj's sums */
struct dsum_job {
	struct host_job *hj;  /* NULL: the caller hashes */
	const u8 *data;
	u32 n, bs;
	u32 *out;
	u32 sums[DSUM_WIN];   /* fs->dsj's (file.c), under lock */
};
struct dsum_job *dsum_job_new(void);  /* NULL when out of memory */
void dsum_job_free(struct dsum_job *j);
void dsum_many_start(const struct cfs_fs *fs, struct dsum_job *j,
		     const u8 *data, u32 n, u32 *out);
void dsum_many_wait(struct dsum_job *j);
void dsum_many(const struct cfs_fs *fs, struct dsum_job *j, const u8 *data,
	       u32 n, u32 *out);
/* fs->dsj, made on first use: NULL only when out of memory */
struct dsum_job *dsum_fs_job(struct cfs_fs *fs);
/* A cursor over a chunk's checksum region: the region block last used
 * stays referenced until dsum_done. */
struct dsum_cur {
	struct cfs_chunk *ch;
	u32 cblk;
	struct cfs_buf *b;
};
int dsum_get(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
	     u32 local, u32 *sum);
int dsum_set(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
	     u32 local, u32 sum);
void dsum_done(struct cfs_fs *fs, struct dsum_cur *cur);
/* Verify data block `local` of ch (its content in data): 0, -CFS_EIO on a
 * mismatch (reported: event, the chunk's data_errors), or the error of
 * reading its checksum.  ino/off: the file and byte offset it holds. */
int dsum_verify(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
		u32 local, const u8 *data, u64 ino, u64 off);
/* As dsum_verify, with the block's checksum `got` already computed. */
int dsum_verify_sum(struct cfs_fs *fs, struct dsum_cur *cur,
		    struct cfs_chunk *ch, u32 local, u32 got, u64 ino,
		    u64 off);
/* A data mismatch found: counted in the chunk (data_errors), an event
 * CHUNKFS_E_DATA naming the file and the byte range (not while the
 * checker runs: it reports problems itself). */
void dsum_report(struct cfs_fs *fs, struct cfs_chunk *ch, u64 ino, u64 off,
		 u64 len);
/* The name of a file for a report: its path where it can be found, else
 * "inode N".  The one place where paths are to come (parent pointers). */
void dsum_name(struct cfs_fs *fs, u64 ino, char *buf, u32 size);
/* Blocks [first, first+n) of ch are mapped by no committed written extent
 * (pnew); dsum_fresh tests one. */
void dsum_fresh_mark(struct cfs_fs *fs, struct cfs_chunk *ch, u32 first,
		     u32 n);
int dsum_fresh(const struct cfs_chunk *ch, u32 local);
/* Written block `local` of ch, which a committed written extent maps,
 * was made unwritten in place (ZERO_RANGE) since the last commit (pzero):
 * a write into it is copied, not written in place. */
int dsum_zeroed_mark(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local);
int dsum_zeroed(const struct cfs_chunk *ch, u32 local);

/* Reading all the data an inode maps in its chunk and comparing every
 * block with its checksum (the checker's data pass, the scrub's): each
 * run of bad blocks goes to fn with the file (the origin for a
 * continuation), the byte range and the first bad block (absolute). */
struct dsum_batch;
struct dsum_check {
	u8 *buf;              /* bufsize bytes, whole blocks */
	u64 bufsize;
	/* made by dsum_check_inode, freed by dsum_check_done: the windows
	 * the caller and the helper read and hash together, and the sums */
	struct dsum_batch *batch;
	u32 *sums;
	struct dsum_job *job;
	void (*fn)(void *ctx, u32 chunk, u64 ino, u64 off, u64 len, u64 blk);
	void *ctx;
	u64 nread, nbad;      /* blocks verified, of which bad */
};
int dsum_check_inode(struct cfs_fs *fs, struct cfs_chunk *ch,
		     struct cfs_inode *ip, struct dsum_check *dc);
void dsum_check_done(struct dsum_check *dc);

/* ---- files (file.c) ---- */
int file_truncate(struct cfs_fs *fs, struct cfs_inode *ip, u64 size);
int file_free_all(struct cfs_fs *fs, struct cfs_inode *ip);
/* Before metadata that must live in chunk ch (xattrs, a directory
 * continuation for a link or a rename, a forward link): when ch has less
 * than half its metadata reserve plus `need` blocks free, move data of
 * its files to other chunks (issue 16; file.c). */
int file_make_meta_room(struct cfs_fs *fs, struct cfs_chunk *ch, u32 need);
s64 file_write(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, u64 len,
	       const void *buf);
/* A verified read planned under the lock and done without it (cfs_read,
 * DESIGN.md "Data checksums"): where the bytes are and what their blocks'
 * checksums were when planned.  Done, every block is hashed and compared;
 * any difference (a block changed or moved since, or damaged) and the
 * read is done again under the lock, which reports real damage. */
#define RPLAN_SEGS 32
#define RPLAN_BLKS 256
struct rplan {
	u32 nseg, nsum;
	u64 bytes;            /* the read's result: bytes from off */
	struct {
		u64 at;       /* offset in the caller's buffer */
		u64 dev;      /* device offset; ~0: zeroes (hole, unwritten) */
		u32 nblk;
	} seg[RPLAN_SEGS];
	u32 sums[RPLAN_BLKS];
};
int file_read_plan(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, u64 len,
		   struct rplan *p);
int file_read_planned(struct cfs_fs *fs, const struct rplan *p, u8 *buf);
s64 file_read(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, u64 len,
	      void *buf);
int file_fallocate(struct cfs_fs *fs, struct cfs_inode *ip, u32 mode, u64 off,
		   u64 len);
s64 file_lseek(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, int whence);
int file_bmap(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk, u64 *pblk,
	      u64 *count);
int file_links(struct cfs_fs *fs, struct cfs_inode *ip,
	       struct cfs_ino_links *out);

/* ---- directories (dir.c) ---- */
u64 dir_hash(const struct cfs_fs *fs, const char *name, u32 len);
int dir_find(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	     u32 len, u64 *ino, u32 *type);
int dir_add(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	    u32 len, struct cfs_inode *ip);
int dir_remove(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	       u32 len, struct cfs_inode *ip);
/* A rename's new entry, its parent pointer moved from (odir, oname)
 * rather than added; the old entry then goes with pptr 0 (its record has
 * moved already). */
int dir_add_from(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
		 u32 len, struct cfs_inode *ip, struct cfs_inode *odir,
		 const char *oname, u32 olen);
int dir_remove_pp(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
		  u32 len, struct cfs_inode *ip, int pptr);
int dir_is_empty(struct cfs_fs *fs, struct cfs_inode *dir);
int dir_part_has(struct cfs_fs *fs, struct cfs_inode *part, const char *name,
		 u32 len);
/* Put the entry under hash h of directory tree t: into the first of the
 * hash's items with room, else a new overflow item (DIROVF).  -EEXIST:
 * the name is there; -ENOSPC: 256 names of the hash in this part, or no
 * room.  buf: block size + the largest entry. */
int dir_item_put(struct cfs_fs *fs, struct cfs_tree *t, u64 h, u32 ino,
		 u8 type, const char *name, u32 len, u8 *buf);
int dir_part_insert(struct cfs_fs *fs, struct cfs_inode *part,
		    const char *name, u32 len, struct cfs_inode *ip);
int dir_free_all(struct cfs_fs *fs, struct cfs_inode *dir);
/* The directory (home inode number) whose entry names directory ip. */
int dir_parent(struct cfs_fs *fs, struct cfs_inode *ip, u64 *parent);
int cfs_readdir_locked(struct cfs_fs *fs, struct cfs_inode *dir, u64 cookie,
		       cfs_filldir_t fn, void *ctx);
struct cfs_chunk *dir_cont_chunk_with_room(struct cfs_fs *fs,
					   struct cfs_inode *dir);
int dir_links(struct cfs_fs *fs, struct cfs_inode *dir,
	      struct cfs_ino_links *out);

/* ---- xattrs (xattr.c) ---- */
int xattr_free_all(struct cfs_fs *fs, struct cfs_inode *ip);
int xattr_set(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      const void *value, u32 size, u32 flags);
s64 xattr_get(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      void *value, u32 size);
s64 xattr_list(struct cfs_fs *fs, struct cfs_inode *ip, char *list, u32 size);
int xattr_remove(struct cfs_fs *fs, struct cfs_inode *ip, const char *name);

/* ---- POSIX ACLs and the set-id rules (acl.c) ---- */
#define CFS_ACL_ACCESS 1
#define CFS_ACL_DEFAULT 2
/* CFS_ACL_ACCESS or CFS_ACL_DEFAULT for their xattr names, else 0. */
int acl_kind(const char *name);
int acl_kind_n(const char *name, u32 len);
/* setxattr / removexattr of an ACL name (ACLs on): the ext4 rules. */
int acl_set(struct cfs_fs *fs, struct cfs_inode *ip, int kind,
	    const void *value, u32 size, u32 flags);
int acl_remove(struct cfs_fs *fs, struct cfs_inode *ip, int kind);
/* A chmod to mode is coming: the access ACL follows it (before the mode
 * is set; nothing when the permission bits do not change). */
int acl_chmod(struct cfs_fs *fs, struct cfs_inode *ip, u32 mode);
/* The ACLs of a new inode in dir: from cr (given), inherited from dir's
 * default ACL (*mode masked by it), or none (*mode without cr->umask). */
struct acl_new {
	u8 *access, *dflt;    /* posix_acl_xattr values, or NULL */
	u32 access_len, dflt_len;
	int owned;            /* allocated here: acl_new_free frees them */
};
int acl_new_prepare(struct cfs_fs *fs, struct cfs_inode *dir, u32 *mode,
		    const struct cfs_cred *cr, struct acl_new *an);
int acl_new_store(struct cfs_fs *fs, struct cfs_inode *ip,
		  const struct acl_new *an);
void acl_new_free(struct acl_new *an);
/* The set-id bits to clear: for a write/truncate (chown 0) or a chown
 * (chown 1) of ip by cr; for a new inode's mode in dir (mode_strip_sgid). */
u32 setid_kill(const struct cfs_inode *ip, const struct cfs_cred *cr,
	       int chown);
u32 setid_create(const struct cfs_inode *dir, u32 mode,
		 const struct cfs_cred *cr);

/* ---- parent pointers and the name backup (pptr.c) ---- */
void pptr_tree(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_tree *t);
void nbak_tree(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_tree *t);
struct cfs_chunk *nbak_chunk(struct cfs_fs *fs, u32 k);
u64 pptr_key(u32 local, u64 parent, const char *name, u32 len);
int pptr_find(const u8 *v, u32 vlen, u64 parent, const char *name, u32 len);
int pptr_rec_put(struct cfs_fs *fs, struct cfs_chunk *ch, int backup, u64 key,
		 const struct cfs_pptr *p, const char *name);
int pptr_rec_del(struct cfs_fs *fs, struct cfs_chunk *ch, int backup, u64 key,
		 u64 parent, const char *name, u32 len);
int pptr_add(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	     u32 len, struct cfs_inode *ip);
int pptr_move(struct cfs_fs *fs, struct cfs_inode *odir, const char *oname,
	      u32 olen, struct cfs_inode *dir, const char *name, u32 len,
	      struct cfs_inode *ip);
int pptr_remove(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
		u32 len, struct cfs_inode *ip);
int pptr_set_attrs(struct cfs_fs *fs, struct cfs_inode *ip);
int pptr_name(struct cfs_fs *fs, u64 ino, int backup, u64 *parent,
	      char *name);
int pptr_path(struct cfs_fs *fs, u64 ino, char *out, u32 size);
int pptr_path_any(struct cfs_fs *fs, u64 ino, char *out, u32 size);

/* ---- small helpers (util.c) ---- */
u32 cfs_strnlen(const char *s, u32 max);
u64 cfs_fnv1a(u64 h, const void *p, u32 len);
u32 cfs_format(char *buf, u32 size, const char *fmt, ...) CFS_PRINTF(3, 4);

#endif
