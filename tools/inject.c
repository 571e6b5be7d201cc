// SPDX-License-Identifier: GPL-2.0
/*
 * inject.c - "chunkfs inject IMAGE --chunk N --what KIND [--seed S]
 * [--block LOCAL] [--copy first|second|both] [--json] [--dry-run]": damage
 * one chunk of an unmounted image on purpose, for tests, demos and for
 * seeing repair work.
 *
 * The image is opened read-write with the exclusive lock every chunkfs
 * program takes (a mounted or otherwise busy image is refused), unless
 * --force is given: then a mounted image is damaged under the running
 * filesystem (without the lock), as a disk can go bad under a mount; the
 * online scrub (chunkfs scrub) is what sees it then.  The chunk
 * is analysed from the raw bytes, following docs/FORMAT.md: geometry from
 * the superblock (or its copy), the layout recomputed from it (with the
 * format v2 regions: the generation table and the mirror region), the chunk
 * header (primary or copy), the generation table, the initialised inode
 * table blocks and every B+tree reachable from this chunk's inodes and link
 * index.  Only blocks that verify (magic, crc, uuid, chunk, block number;
 * with METAGEN the generation their reference expects; tree and owner of a
 * tree node) are followed; of a block with two copies (DUP, and the chunk
 * header in every format) the first copy that verifies.  This works
 * whether or not the library would mount the image, so every kind can be
 * applied even when chunk 0 is already damaged.
 *
 * Changes are made in memory, then written with the device's write op.
 * Kinds that destroy bytes (zero-block, flip-bits, header, inode-table,
 * dir-block when it zeroes a node) leave the checksum alone so the damage
 * is detected as such; kinds that make a valid-looking but inconsistent
 * block (inode, forward-link, back-link, continuation, free-maps, dir-block
 * on an inline root, stale) recompute the block's crc32 and keep its
 * generation (wgen) unless that is the damage (stale); misdirected writes
 * another valid block's bytes as they are.  A block with two copies is
 * damaged in the copies --copy names: by default both on a filesystem with
 * second copies (damage to one copy is healed, not repaired), the first
 * otherwise, and the primary for the kind `header`.  Resealed copies get
 * the same new content, each with its own block number and crc.  The
 * choice of target is a deterministic function of the image and the seed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "chunkfs.h"

#define HDR_SZ ((u32)sizeof(struct cfs_bhdr))
#define NODE_HDR ((u32)sizeof(struct cfs_node_hdr))
#define ITEM_SZ ((u32)sizeof(struct cfs_item))
#define MAX_DEPTH 12
#define DESC_LEN 160
#define WHAT_LEN 512

enum meta_type { M_HDR, M_BBMAP, M_IBMAP, M_ITABLE, M_CSUM, M_GTAB, M_TREE };

struct meta {                 /* a metadata block of the chunk */
	u32 local;            /* its (first) copy */
	u32 local2;           /* its second copy (DUP; the chunk header's
			       * copy), or 0 */
	u32 type;             /* enum meta_type */
	u32 magic;
	u32 tree, owner;      /* M_TREE */
	int root;             /* M_TREE: a root block (tree, owner unchecked) */
	int has_gen;          /* METAGEN: gen is what its reference expects */
	u32 gen;
	int good;             /* the copy that verifies: 1, 2, or 0: none */
	char desc[DESC_LEN];
};

struct ino {                  /* an in-use inode of the chunk */
	u32 local;
	struct cfs_dinode d;
	u32 tblk;             /* local block of its table block (first copy) */
	u32 off;              /* byte offset of the slot in that block */
};

struct fwd {                  /* a forward link stored in this chunk */
	u32 owner;            /* local inode of the origin */
	int isdir;
	u64 key;
	u32 blk;              /* local block holding the value */
	u32 off;              /* byte offset of the value in that block */
	u32 chunk, ino, gen, len;
};

/* How a changed block is written to its copies. */
enum {
	MOD_RESEAL,           /* data: the new content; each copy gets it with
			       * its own block number and crc */
	MOD_RAW,              /* data: written as it is to each copy */
	MOD_OWN,              /* data, data2: each copy's own bytes, changed */
};

struct mod {                  /* a block changed in memory */
	u32 local, local2;    /* its copies (local2 0: one copy) */
	int how;
	int valid;            /* MOD_RESEAL: the content was read from a copy
			       * that verifies */
	u8 *data, *data2;
};

struct change {
	u32 local;
	char what[WHAT_LEN];
};

/* Which copies of a block with two are damaged (--copy). */
#define SEL_FIRST 1
#define SEL_SECOND 2
#define SEL_BOTH 3

struct inj {
	struct cfs_bdev *dev;
	struct cfs_geom g;
	u32 bs, chunk, nblocks, ipb, bpb, gpb;
	u64 start;            /* absolute block of local 0 */
	int metagen, dup;     /* format v2 features (FORMAT.md 16) */
	u32 kptr_sz, iroot_sz;
	struct cfs_chunk_hdr L;  /* the computed layout */
	u32 data_end;         /* first block after the data area */
	u32 pos_end;          /* first block after the positional blocks */
	u32 itable_init, link_root, link_root2, link_gen;
	/* PPTR: the parent pointer tree and the name backup held here */
	u32 pptr_root, pptr_root2, pptr_gen, nbak_root, nbak_root2, nbak_gen;
	int hdr_gens;         /* link_gen and gtab_gen come from a header */
	u32 *gtab_gen;        /* gens of the generation table's blocks */
	u32 *pos_gen;         /* [local]: gen32 of positional block local */
	u8 *pos_gen_ok;
	const char *hdr_src;  /* "primary", "copy" or "layout" */
	int have_block;       /* --block: the target of a kind that takes one */
	u32 block;
	int sel;              /* SEL_*: the copies damaged */
	int sel_given;        /* --copy was given */
	u64 rng;

	struct meta *metas;
	size_t nmetas, cmetas;
	struct ino *inos;
	size_t ninos, cinos;
	struct fwd *fwds;
	size_t nfwds, cfwds;
	struct mod *mods;
	size_t nmods, cmods;
	struct change *chg;
	size_t nchg, cchg;
	u8 *seen;             /* tree blocks visited, one bit per local block */
	const u8 *alt_uuid;   /* tool_chunk_metadata: blocks of this UUID
			       * verify too (a UUID change half done) */
	char err[512];        /* why a kind does not apply */
};

/* ---- small helpers ---- */

static void oom(void)
{
	tool_err("out of memory");
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		oom();
	return p;
}

static void *xgrow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * sz);
	if (!p)
		oom();
	return p;
}

static u64 rng_next(u64 *s)   /* splitmix64 */
{
	u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 rng_below(struct inj *j, u64 n)
{
	return n ? rng_next(&j->rng) % n : 0;
}

static u32 crc_of(const u8 *blk, u32 bs)
{
	return (u32)crc32(0, blk + 4, bs - 4);
}

static int read_local(struct inj *j, u32 local, u8 *buf)
{
	return j->dev->ops->read(j->dev, (j->start + local) * j->bs, buf, j->bs);
}

static unsigned long long abs_blk(const struct inj *j, u32 local)
{
	return (unsigned long long)(j->start + local);
}

/* The block header checks of FORMAT.md section 3. */
static int verify(struct inj *j, const u8 *buf, u32 local, u32 magic)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)buf;

	return h->magic == magic && h->crc == crc_of(buf, j->bs) &&
	       (!memcmp(h->uuid, j->g.uuid, 16) ||
		(j->alt_uuid && !memcmp(h->uuid, j->alt_uuid, 16))) &&
	       h->chunk == j->chunk && h->blkno == j->start + local;
}

/* Copy `copy` (1 or 2) of m, read from `local` into buf, is good: it
 * verifies, has the generation its reference expects (METAGEN) and, for a
 * tree node other than a root, the tree and owner its parent's tree has. */
static int meta_ok(struct inj *j, const struct meta *m, const u8 *buf,
		   u32 local)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)buf;

	if (!verify(j, buf, local, m->magic))
		return 0;
	if (j->metagen && m->has_gen && (u32)h->wgen != m->gen)
		return 0;
	if (m->type == M_TREE && !m->root &&
	    (h->tree != m->tree || h->owner_lo != m->owner))
		return 0;
	return 1;
}

/* Reads m from its first copy that is good: returns 1 or 2, the copy in
 * buf; or 0 if neither is (buf then holds the first copy's bytes, or
 * zeroes if they cannot be read). */
static int read_meta(struct inj *j, const struct meta *m, u8 *buf)
{
	if (!read_local(j, m->local, buf) && meta_ok(j, m, buf, m->local))
		return 1;
	if (m->local2 && !read_local(j, m->local2, buf) &&
	    meta_ok(j, m, buf, m->local2))
		return 2;
	if (read_local(j, m->local, buf))
		memset(buf, 0, j->bs);
	return 0;
}

static int all_zero(const u8 *p, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void add_change(struct inj *j, u32 local, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_change(struct inj *j, u32 local, const char *fmt, ...)
{
	va_list ap;

	j->chg = xgrow(j->chg, &j->cchg, j->nchg, sizeof(*j->chg));
	j->chg[j->nchg].local = local;
	va_start(ap, fmt);
	vsnprintf(j->chg[j->nchg].what, WHAT_LEN, fmt, ap);
	va_end(ap);
	j->nchg++;
}

static int fail(struct inj *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct inj *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void meta_init(struct meta *m, u32 local, u32 local2, u32 type,
		      u32 magic)
{
	memset(m, 0, sizeof(*m));
	m->local = local;
	m->local2 = local2;
	m->type = type;
	m->magic = magic;
}

static struct meta *add_meta(struct inj *j, u32 local, u32 local2, u32 type,
			     u32 magic)
{
	struct meta *m;

	j->metas = xgrow(j->metas, &j->cmetas, j->nmetas, sizeof(*j->metas));
	m = &j->metas[j->nmetas++];
	meta_init(m, local, local2, type, magic);
	return m;
}

static const char *type_name(u16 mode)
{
	switch (mode & CFS_S_IFMT) {
	case CFS_S_IFREG: return "file";
	case CFS_S_IFDIR: return "directory";
	case CFS_S_IFLNK: return "symlink";
	case CFS_S_IFCHR: return "char device";
	case CFS_S_IFBLK: return "block device";
	case CFS_S_IFIFO: return "fifo";
	case CFS_S_IFSOCK: return "socket";
	}
	return "inode";
}

static const char *tree_name(u32 tree)
{
	switch (tree) {
	case CFS_TREE_EXTENT: return "extent";
	case CFS_TREE_DIR: return "directory";
	case CFS_TREE_XATTR: return "xattr";
	case CFS_TREE_LINK: return "link index";
	case CFS_TREE_PPTR: return "parent pointer";
	case CFS_TREE_NBAK: return "name backup";
	}
	return "unknown";
}

/* ---- geometry ---- */

static int load_super(struct inj *j, const char *image)
{
	u8 *buf = malloc(CFS_MAX_BLOCK_SIZE);
	const struct cfs_super *s = (const struct cfs_super *)buf;
	const struct cfs_geom *g;
	u64 blk;
	u32 bs;

	if (!buf) {
		tool_err("out of memory");
		return -1;
	}
	for (blk = CFS_SB_BLOCK; blk <= CFS_SB2_BLOCK; blk++) {
		for (bs = CFS_MIN_BLOCK_SIZE; bs <= CFS_MAX_BLOCK_SIZE;
		     bs <<= 1) {
			if ((blk + 1) * bs > j->dev->size)
				break;
			if (j->dev->ops->read(j->dev, blk * bs, buf, bs))
				continue;
			if (s->h.magic != CFS_MAGIC_SUPER ||
			    s->g.block_size != bs || s->h.blkno != blk ||
			    s->h.chunk != CFS_NO_CHUNK ||
			    memcmp(s->h.uuid, s->g.uuid, 16) ||
			    s->h.crc != crc_of(buf, bs))
				continue;
			j->g = s->g;
			goto found;
		}
	}
	free(buf);
	tool_err("%s: no valid chunkfs superblock (not a chunkfs image, or "
		 "both superblock copies damaged)", image);
	return -1;
found:
	free(buf);
	g = &j->g;
	if (g->version != CFS_VERSION ||
	    (u64)g->chunk_blocks * g->block_size < CFS_MIN_CHUNK_BYTES ||
	    !g->nchunks || g->nchunks > CFS_MAX_CHUNKS ||
	    g->total_blocks < CFS_FIRST_CHUNK_BLOCK +
	    (u64)(g->nchunks - 1) * g->chunk_blocks + 1 ||
	    g->total_blocks > CFS_FIRST_CHUNK_BLOCK +
	    (u64)g->nchunks * g->chunk_blocks ||
	    g->inode_ratio < 1024 || g->journal_blocks >= g->chunk_blocks) {
		tool_err("%s: superblock geometry is inconsistent", image);
		return -1;
	}
	if (g->total_blocks * g->block_size > j->dev->size) {
		tool_err("%s: image is smaller than the filesystem (truncated?)",
			 image);
		return -1;
	}
	if ((g->feat_incompat & CFS_FEAT_INCOMPAT_NEED_MG) &&
	    !(g->feat_incompat & CFS_FEAT_INCOMPAT_METAGEN)) {
		tool_err("%s: superblock has second copies (DUP) without "
			 "block generations (METAGEN)", image);
		return -1;
	}
	j->bs = g->block_size;
	j->metagen = !!(g->feat_incompat & CFS_FEAT_INCOMPAT_METAGEN);
	j->dup = j->metagen && (g->feat_incompat & CFS_FEAT_INCOMPAT_DUP);
	j->kptr_sz = j->metagen ? (u32)sizeof(struct cfs_kptr2) :
				  (u32)sizeof(struct cfs_kptr);
	j->iroot_sz = j->metagen ? CFS_IROOT_SIZE_MG : CFS_IROOT_SIZE;
	return 0;
}

/* The chunk's layout as mkfs made it (fs/super.c, FORMAT.md sections 6
 * and 16.5), whatever its header now says. */
static int layout(struct inj *j)
{
	struct cfs_chunk_hdr *h = &j->L;
	u32 P = j->bs - HDR_SZ;
	u64 first = CFS_FIRST_CHUNK_BLOCK + (u64)j->chunk * j->g.chunk_blocks;
	u64 left = j->g.total_blocks - first;

	j->start = first;
	j->nblocks = left < j->g.chunk_blocks ? (u32)left : j->g.chunk_blocks;
	j->bpb = P * 8;
	j->ipb = P / CFS_INODE_SIZE;
	j->gpb = P / 4;
	if (cfs_chunk_layout(&j->g, j->chunk, j->nblocks, h) < 0)
		return -1;
	/* the positional blocks: the maps, the inode table, the checksum
	 * region (DATASUM) and the generation table (METAGEN) */
	j->pos_end = h->journal_start;
	j->data_end = h->mirror_start ? h->mirror_start : j->nblocks - 1;
	return 0;
}

/* The second copy of positional block `local` (FORMAT.md 16.4), or 0. */
static u32 mirror(const struct inj *j, u32 local)
{
	return j->dup && local >= 1 && local < j->pos_end ?
	       j->L.mirror_start + local - 1 : 0;
}

static int in_data(const struct inj *j, u32 blk)
{
	return blk >= j->L.data_start && blk < j->data_end;
}

/* A header copy in buf that verifies and agrees with the layout. */
static int hdr_usable(struct inj *j, const u8 *buf, u32 local)
{
	const struct cfs_chunk_hdr *h = (const struct cfs_chunk_hdr *)buf;

	if (!verify(j, buf, local, CFS_MAGIC_CHUNK))
		return 0;
	if (h->index != j->chunk || h->nblocks != j->nblocks ||
	    h->itable_start != j->L.itable_start ||
	    h->data_start != j->L.data_start ||
	    h->ninodes != j->L.ninodes ||
	    h->itable_init > j->L.itable_blocks ||
	    h->link_root < j->L.data_start || h->link_root >= j->data_end)
		return 0;
	if (j->metagen && (h->gtab_start != j->L.gtab_start ||
			   h->gtab_blocks != j->L.gtab_blocks ||
			   h->mirror_start != j->L.mirror_start))
		return 0;
	if (j->dup && (!in_data(j, h->link_root2) ||
		       h->link_root2 == h->link_root))
		return 0;
	return 1;
}

/* itable_init, the link index root and (METAGEN) the generations the
 * header holds, from a header copy that verifies (with METAGEN the newer
 * of two, FORMAT.md 16.1), else guessed from the layout. */
static void load_chunk_hdr(struct inj *j, u8 *buf)
{
	const struct cfs_chunk_hdr *h = (const struct cfs_chunk_hdr *)buf;
	u8 *other = xmalloc(j->bs);
	u32 copy, use = 2;
	int ok[2];

	for (copy = 0; copy < 2; copy++) {
		u32 local = copy ? j->nblocks - 1 : 0;
		u8 *b = copy ? other : buf;

		ok[copy] = !read_local(j, local, b) && hdr_usable(j, b, local);
	}
	if (ok[0] && ok[1] && j->metagen &&
	    (s32)((u32)((const struct cfs_chunk_hdr *)other)->h.wgen -
		  (u32)h->h.wgen) > 0)
		use = 1;
	else if (ok[0])
		use = 0;
	else if (ok[1])
		use = 1;
	if (use == 1)
		memcpy(buf, other, j->bs);
	free(other);
	j->gtab_gen = calloc(j->L.gtab_blocks + 1, sizeof(u32));
	if (!j->gtab_gen)
		oom();
	if (use < 2) {
		j->itable_init = h->itable_init;
		j->link_root = h->link_root;
		j->link_root2 = j->dup ? h->link_root2 : 0;
		j->link_gen = h->link_gen;
		if (j->metagen) {
			j->pptr_root = h->pptr_root;
			j->pptr_root2 = j->dup ? h->pptr_root2 : 0;
			j->pptr_gen = h->pptr_gen;
			j->nbak_root = h->nbak_root;
			j->nbak_root2 = j->dup ? h->nbak_root2 : 0;
			j->nbak_gen = h->nbak_gen;
		}
		if (j->metagen)
			memcpy(j->gtab_gen, buf + CFS_GTAB_GEN_OFF,
			       (size_t)j->L.gtab_blocks * 4);
		j->hdr_gens = 1;
		j->hdr_src = use ? "copy" : "primary";
		return;
	}
	/* Neither header usable: the link index root is where mkfs put it
	 * (its copy half a data area away); itable_init is found later. */
	j->hdr_src = "layout";
	j->link_root = j->L.data_start;
	j->link_root2 = j->dup ? j->L.data_start +
			(j->data_end - j->L.data_start) / 2 : 0;
}

/* The generations of the positional blocks, from the generation table
 * (METAGEN): pos_gen[local], known where pos_gen_ok[local]. */
static void load_gtab(struct inj *j, u8 *buf)
{
	u32 i, e;

	j->pos_gen = calloc(j->pos_end + 1, sizeof(u32));
	j->pos_gen_ok = calloc(j->pos_end + 1, 1);
	if (!j->pos_gen || !j->pos_gen_ok)
		oom();
	for (i = 0; i < j->L.gtab_blocks; i++) {
		u32 local = j->L.gtab_start + i;
		struct meta t;

		meta_init(&t, local, mirror(j, local), M_GTAB, CFS_MAGIC_GTAB);
		t.has_gen = j->hdr_gens;
		t.gen = j->gtab_gen[i];
		j->pos_gen[local] = t.gen;
		j->pos_gen_ok[local] = (u8)j->hdr_gens;
		if (!read_meta(j, &t, buf))
			continue;
		for (e = 0; e < j->gpb; e++) {
			u32 l = 1 + i * j->gpb + e;

			if (l >= j->L.gtab_start)
				break;
			memcpy(&j->pos_gen[l], buf + HDR_SZ + e * 4, 4);
			j->pos_gen_ok[l] = 1;
		}
	}
}

static struct meta *add_pos(struct inj *j, u32 local, u32 type, u32 magic)
{
	struct meta *m = add_meta(j, local, mirror(j, local), type, magic);

	if (j->metagen) {
		m->has_gen = j->pos_gen_ok[local];
		m->gen = j->pos_gen[local];
	}
	return m;
}

/* ---- tree walk ---- */

static void record_fwd(struct inj *j, u32 type, u32 owner, u64 key,
		       const u8 *val, u32 len, u32 blk, u32 off)
{
	struct fwd *f;

	if (len != 16)
		return;
	if (type == CFS_TREE_EXTENT) {
		struct cfs_cext c;

		memcpy(&c, val, sizeof(c));
		j->fwds = xgrow(j->fwds, &j->cfwds, j->nfwds, sizeof(*f));
		f = &j->fwds[j->nfwds++];
		f->isdir = 0;
		f->chunk = c.chunk;
		f->ino = c.ino;
		f->gen = c.gen;
		f->len = c.len;
	} else if (type == CFS_TREE_DIR && (key & CFS_DKEY_CONT)) {
		struct cfs_dcont c;

		memcpy(&c, val, sizeof(c));
		j->fwds = xgrow(j->fwds, &j->cfwds, j->nfwds, sizeof(*f));
		f = &j->fwds[j->nfwds++];
		f->isdir = 1;
		f->chunk = c.chunk;
		f->ino = c.ino;
		f->gen = c.gen;
		f->len = 0;
	} else {
		return;
	}
	f->owner = owner;
	f->key = key;
	f->blk = blk;
	f->off = off;
}

/* A reference to a tree block: its copies and generation. */
struct tref {
	u32 blk, blk2, gen;
	int has_gen;
};

static void walk_block(struct inj *j, const struct tref *r, u32 type,
		       u32 owner, int is_root, u32 depth);

/* Walk a node of `size` bytes at byte `noff` of local block `blk`. */
static void walk_node(struct inj *j, const u8 *p, u32 size, u32 blk,
		      u32 noff, u32 type, u32 owner, u32 depth)
{
	struct cfs_node_hdr nh;
	u32 i;

	memcpy(&nh, p, sizeof(nh));
	if (nh.level) {
		if (nh.level >= MAX_DEPTH || nh.nitems > (size - NODE_HDR) /
		    j->kptr_sz || depth + 1 >= MAX_DEPTH)
			return;
		for (i = 0; i < nh.nitems; i++) {
			const u8 *kp = p + NODE_HDR + i * j->kptr_sz;
			struct tref r = { 0, 0, 0, 0 };

			if (j->metagen) {
				struct cfs_kptr2 k;

				memcpy(&k, kp, sizeof(k));
				r.blk = k.child;
				r.blk2 = j->dup ? k.child2 : 0;
				r.gen = k.gen;
				r.has_gen = 1;
			} else {
				struct cfs_kptr k;

				memcpy(&k, kp, sizeof(k));
				r.blk = k.child;
			}
			walk_block(j, &r, type, owner, 0, depth + 1);
		}
		return;
	}
	if (NODE_HDR + (u32)nh.nitems * ITEM_SZ > nh.data_start ||
	    nh.data_start > size)
		return;
	for (i = 0; i < nh.nitems; i++) {
		struct cfs_item it;

		memcpy(&it, p + NODE_HDR + i * ITEM_SZ, sizeof(it));
		if (it.off < nh.data_start || (u32)it.off + it.len > size)
			return;
		record_fwd(j, type, owner, it.key, p + it.off, it.len, blk,
			   noff + it.off);
	}
}

static int seen(struct inj *j, u32 blk)
{
	return !!(j->seen[blk / 8] & (1u << (blk % 8)));
}

static void mark_seen(struct inj *j, u32 blk)
{
	j->seen[blk / 8] |= (u8)(1u << (blk % 8));
}

static void walk_block(struct inj *j, const struct tref *r, u32 type,
		       u32 owner, int is_root, u32 depth)
{
	u32 size = j->bs - HDR_SZ, blk2 = r->blk2;
	struct meta tmp, *m;
	u8 *buf;

	if (size > 0xffff)
		size = 0xffff;
	if (!in_data(j, r->blk) || seen(j, r->blk))
		return;
	/* a second copy outside the data area, or the first itself, is no
	 * copy to follow or damage */
	if (blk2 && (!in_data(j, blk2) || blk2 == r->blk || seen(j, blk2)))
		blk2 = 0;
	mark_seen(j, r->blk);
	if (blk2)
		mark_seen(j, blk2);
	meta_init(&tmp, r->blk, blk2, M_TREE, CFS_MAGIC_BTREE);
	tmp.tree = type;
	tmp.owner = owner;
	tmp.root = is_root;
	tmp.has_gen = r->has_gen;
	tmp.gen = r->gen;
	buf = xmalloc(j->bs);
	tmp.good = read_meta(j, &tmp, buf);
	if (!tmp.good) {
		free(buf);
		return;
	}
	m = add_meta(j, 0, 0, 0, 0);
	*m = tmp;
	if (type == CFS_TREE_LINK || type == CFS_TREE_PPTR ||
	    type == CFS_TREE_NBAK)
		snprintf(m->desc, DESC_LEN, "%s %s (level %u)",
			 type == CFS_TREE_LINK ? "link index" :
			 type == CFS_TREE_PPTR ? "parent pointer tree" :
			 "name backup tree", is_root ? "root" : "node",
			 buf[HDR_SZ + 2]);
	else
		snprintf(m->desc, DESC_LEN, "%s tree %s of inode %u (level %u)",
			 tree_name(type), is_root ? "root" : "node", owner,
			 buf[HDR_SZ + 2]);
	walk_node(j, buf + HDR_SZ, size, r->blk, HDR_SZ, type, owner, depth);
	free(buf);
}

/* ---- analysis of the chunk ---- */

static void read_inodes(struct inj *j, const struct meta *m, const u8 *buf)
{
	u32 i = m->local - j->L.itable_start, s;

	for (s = 0; s < j->ipb; s++) {
		u32 local = i * j->ipb + s, off;
		struct ino *ip;

		if (!local || local >= j->L.ninodes)
			continue;
		off = HDR_SZ + s * CFS_INODE_SIZE;
		j->inos = xgrow(j->inos, &j->cinos, j->ninos, sizeof(*ip));
		ip = &j->inos[j->ninos];
		memcpy(&ip->d, buf + off, sizeof(ip->d));
		if (!ip->d.mode)
			continue;
		ip->local = local;
		ip->tblk = m->local;
		ip->off = off;
		j->ninos++;
	}
}

static void analyse(struct inj *j)
{
	struct cfs_chunk_hdr *L = &j->L;
	u8 *buf = xmalloc(j->bs);
	struct meta *m;
	size_t k;
	u32 i;

	j->seen = calloc(j->nblocks / 8 + 1, 1);
	if (!j->seen)
		oom();
	load_chunk_hdr(j, buf);
	load_gtab(j, buf);
	if (!strcmp(j->hdr_src, "layout")) {
		/* the table blocks written so far are the leading ones that
		 * verify */
		for (i = 0; i < L->itable_blocks; i++) {
			struct meta t;
			u32 l = L->itable_start + i;

			meta_init(&t, l, mirror(j, l), M_ITABLE,
				  CFS_MAGIC_ITABLE);
			t.has_gen = j->metagen && j->pos_gen_ok[t.local];
			t.gen = j->pos_gen[t.local];
			if (!read_meta(j, &t, buf))
				break;
		}
		j->itable_init = i;
	}
	m = add_meta(j, 0, j->nblocks - 1, M_HDR, CFS_MAGIC_CHUNK);
	m->good = !strcmp(j->hdr_src, "copy") ? 2 :
		  !strcmp(j->hdr_src, "primary");
	snprintf(m->desc, DESC_LEN, "chunk header");
	for (i = 0; i < L->bbmap_blocks; i++) {
		m = add_pos(j, L->bbmap_start + i, M_BBMAP, CFS_MAGIC_BBMAP);
		snprintf(m->desc, DESC_LEN, "block bitmap block %u of %u", i,
			 L->bbmap_blocks);
	}
	for (i = 0; i < L->ibmap_blocks; i++) {
		m = add_pos(j, L->ibmap_start + i, M_IBMAP, CFS_MAGIC_IBMAP);
		snprintf(m->desc, DESC_LEN, "inode bitmap block %u of %u", i,
			 L->ibmap_blocks);
	}
	for (i = 0; i < j->itable_init; i++) {
		m = add_pos(j, L->itable_start + i, M_ITABLE, CFS_MAGIC_ITABLE);
		snprintf(m->desc, DESC_LEN,
			 "inode table block %u of %u, inodes %u-%u", i,
			 L->itable_blocks, i * j->ipb, (i + 1) * j->ipb - 1);
	}
	for (i = 0; i < L->csum_blocks; i++) {
		m = add_pos(j, L->csum_start + i, M_CSUM, CFS_MAGIC_CSUM);
		snprintf(m->desc, DESC_LEN, "checksum block %u of %u", i,
			 L->csum_blocks);
	}
	for (i = 0; i < L->gtab_blocks; i++) {
		m = add_pos(j, L->gtab_start + i, M_GTAB, CFS_MAGIC_GTAB);
		snprintf(m->desc, DESC_LEN, "generation table block %u of %u",
			 i, L->gtab_blocks);
	}
	/* Which copy of each positional block is good; the in-use inodes
	 * (from table blocks that verify) and their trees. */
	for (k = 1; k < j->nmetas; k++) {
		m = &j->metas[k];
		m->good = read_meta(j, m, buf);
		if (m->good && m->type == M_ITABLE)
			read_inodes(j, m, buf);
	}
	for (k = 0; k < j->ninos; k++) {
		struct ino *ip = &j->inos[k];
		u32 type = 0;

		if (CFS_ISREG(ip->d.mode) || (CFS_ISLNK(ip->d.mode) &&
		    !(ip->d.flags & CFS_IF_INLINE_LINK)))
			type = CFS_TREE_EXTENT;
		else if (CFS_ISDIR(ip->d.mode))
			type = CFS_TREE_DIR;
		if (type)
			walk_node(j, ip->d.root, j->iroot_sz, ip->tblk,
				  ip->off + (u32)offsetof(struct cfs_dinode,
							  root),
				  type, ip->local, 0);
		if (ip->d.xattr_root) {
			struct tref r = { ip->d.xattr_root, 0, 0, 0 };

			if (j->metagen) {
				const struct cfs_dinode_tail *t =
					cfs_dtail(&ip->d);

				r.blk2 = j->dup ? t->xattr_root2 : 0;
				r.gen = t->xattr_gen;
				r.has_gen = 1;
			}
			walk_block(j, &r, CFS_TREE_XATTR, ip->local, 1, 0);
		}
	}
	{
		struct tref r = { j->link_root, j->link_root2, j->link_gen,
				  j->hdr_gens };

		walk_block(j, &r, CFS_TREE_LINK, 0, 1, 0);
	}
	if (j->pptr_root) {
		struct tref r = { j->pptr_root, j->pptr_root2, j->pptr_gen,
				  j->hdr_gens };

		walk_block(j, &r, CFS_TREE_PPTR, 0, 1, 0);
	}
	if (j->nbak_root) {
		struct tref r = { j->nbak_root, j->nbak_root2, j->nbak_gen,
				  j->hdr_gens };

		walk_block(j, &r, CFS_TREE_NBAK, 0, 1, 0);
	}
	free(buf);
}

/* ---- changes in memory ---- */

/* The copies of the block `local` names (either copy): from the metadata
 * list, else the block alone. */
static const struct meta *pair_of(struct inj *j, u32 local, u32 *l1, u32 *l2)
{
	size_t i;

	for (i = 0; i < j->nmetas; i++) {
		const struct meta *m = &j->metas[i];

		if (m->local == local || (m->local2 && m->local2 == local)) {
			*l1 = m->local;
			*l2 = m->local2;
			return m;
		}
	}
	*l1 = local;
	*l2 = 0;
	return NULL;
}

/* The copies of a block with copies local, local2 that are written. */
static int wcopies(const struct inj *j, u32 local2)
{
	return j->sel & (local2 ? SEL_BOTH : SEL_FIRST);
}

/* The block (named by either copy) in memory for modification: read once.
 * MOD_RESEAL: the content of its good copy; MOD_RAW: zeroes for the
 * caller to fill; MOD_OWN: each copy's bytes. */
static struct mod *mod_get(struct inj *j, u32 local, int how)
{
	const struct meta *m;
	struct mod *md;
	u32 l1, l2;
	size_t i;

	m = pair_of(j, local, &l1, &l2);
	for (i = 0; i < j->nmods; i++)
		if (j->mods[i].local == l1)
			return &j->mods[i];   /* one kind: one way per block */
	j->mods = xgrow(j->mods, &j->cmods, j->nmods, sizeof(*j->mods));
	md = &j->mods[j->nmods];
	memset(md, 0, sizeof(*md));
	md->local = l1;
	md->local2 = l2;
	md->how = how;
	md->data = xmalloc(j->bs);
	if (how == MOD_RAW) {
		memset(md->data, 0, j->bs);
	} else if (how == MOD_RESEAL && m) {
		md->valid = read_meta(j, m, md->data) != 0;
	} else {
		if (read_local(j, l1, md->data))
			goto bad;
		if (how == MOD_OWN && l2) {
			md->data2 = xmalloc(j->bs);
			if (read_local(j, l2, md->data2))
				goto bad;
		}
	}
	j->nmods++;
	return md;
bad:
	free(md->data);
	free(md->data2);
	fail(j, "cannot read block %u of chunk %u", l1, j->chunk);
	return NULL;
}

/* Content of a block for a change that keeps it valid (resealed). */
static u8 *mod_content(struct inj *j, u32 local)
{
	struct mod *md = mod_get(j, local, MOD_RESEAL);

	return md ? md->data : NULL;
}

/* The copies of m that would be written hold only zeroes. */
static int copies_zero(struct inj *j, const struct meta *m)
{
	int w = wcopies(j, m->local2), c, zero = 1;
	u8 *buf = xmalloc(j->bs);

	if (!w)
		zero = 0;   /* (refused when the plan is finished) */
	for (c = 1; c <= 2 && zero; c++) {
		if (!(w & c))
			continue;
		if (read_local(j, c == 1 ? m->local : m->local2, buf) ||
		    !all_zero(buf, j->bs))
			zero = 0;
	}
	free(buf);
	return zero;
}

/* The changes, one per written copy, each naming its block; refused if
 * a block has no copy the selection names. */
static int finish_plan(struct inj *j)
{
	struct change *out = NULL;
	size_t n = 0, cap = 0, i, k;

	for (i = 0; i < j->nmods; i++) {
		if (!wcopies(j, j->mods[i].local2))
			return fail(j, "chunk %u: block %u has one copy (%s), "
				    "not a second one to damage", j->chunk,
				    j->mods[i].local, j->dup ? "no second "
				    "copy is kept of it" : "the filesystem has "
				    "no second copies of metadata (DUP)");
	}
	for (i = 0; i < j->nchg; i++) {
		const struct change *c = &j->chg[i];
		u32 l1 = c->local, l2 = 0;
		int w = SEL_FIRST, cp;

		for (k = 0; k < j->nmods; k++) {
			if (j->mods[k].local == c->local ||
			    (j->mods[k].local2 &&
			     j->mods[k].local2 == c->local)) {
				l1 = j->mods[k].local;
				l2 = j->mods[k].local2;
				w = wcopies(j, l2);
				break;
			}
		}
		for (cp = 1; cp <= 2; cp++) {
			char where[128], intact[96] = "";
			char line[128 + WHAT_LEN + 96];
			u32 l = cp == 1 ? l1 : l2;

			if (!(w & cp))
				continue;
			if (cp == 1)
				snprintf(where, sizeof(where), "block %llu "
					 "(local %u)", abs_blk(j, l), l);
			else if (l1 == 0)
				snprintf(where, sizeof(where), "block %llu "
					 "(local %u, the chunk header copy)",
					 abs_blk(j, l), l);
			else
				snprintf(where, sizeof(where), "block %llu "
					 "(local %u, second copy of local %u)",
					 abs_blk(j, l), l, l1);
			if (l2 && w != SEL_BOTH)
				snprintf(intact, sizeof(intact), "; its other "
					 "copy (local %u) is intact",
					 cp == 1 ? l2 : l1);
			snprintf(line, sizeof(line), "%s: %s%s", where,
				 c->what, intact);
			out = xgrow(out, &cap, n, sizeof(*out));
			out[n].local = l;
			snprintf(out[n].what, WHAT_LEN, "%.*s", WHAT_LEN - 1,
				 line);
			n++;
		}
	}
	free(j->chg);
	j->chg = out;
	j->nchg = n;
	j->cchg = cap;
	return 0;
}

/* ---- the kinds ---- */

static const char *meta_desc(const struct meta *m)
{
	return m->desc;
}

/* A metadata block for which ok() holds, picked by the seed; NULL if
 * there is none. */
static const struct meta *pick_meta(struct inj *j,
				    int (*ok)(struct inj *, const struct meta *))
{
	size_t *idx = xmalloc((j->nmetas + 1) * sizeof(*idx)), n = 0, i;
	const struct meta *m = NULL;

	for (i = 0; i < j->nmetas; i++)
		if (ok(j, &j->metas[i]))
			idx[n++] = i;
	if (n)
		m = &j->metas[idx[rng_below(j, n)]];
	free(idx);
	return m;
}

/* Its written copies are not all zeroes already. */
static int not_zero(struct inj *j, const struct meta *m)
{
	return !copies_zero(j, m);
}

static int dir_node_not_zero(struct inj *j, const struct meta *m)
{
	return m->type == M_TREE && m->tree == CFS_TREE_DIR &&
	       !copies_zero(j, m);
}

/* Valid content and a generation its reference expects (stale). */
static int has_gen(struct inj *j, const struct meta *m)
{
	(void)j;
	return m->type != M_HDR && m->good && m->has_gen;
}

static int zero_meta(struct inj *j, const struct meta *m)
{
	struct mod *md = mod_get(j, m->local, MOD_RAW);

	if (!md)
		return -1;
	add_change(j, m->local, "zeroed (%s)", meta_desc(m));
	return 0;
}

/* --block: the named local block (either copy of a metadata block),
 * described if it is known metadata. */
static const struct meta *forced_meta(struct inj *j, struct meta *tmp)
{
	u32 b = j->block;
	size_t i;

	if (b >= j->nblocks) {
		fail(j, "block %u is outside chunk %u (%u blocks)", b,
		     j->chunk, j->nblocks);
		return NULL;
	}
	for (i = 0; i < j->nmetas; i++)
		if (j->metas[i].local == b ||
		    (j->metas[i].local2 && j->metas[i].local2 == b))
			return &j->metas[i];
	memset(tmp, 0, sizeof(*tmp));
	tmp->local = b;
	if (b >= j->L.itable_start && b < j->L.itable_start +
	    j->L.itable_blocks)
		snprintf(tmp->desc, DESC_LEN, "uninitialised inode table block");
	else if (b >= j->L.journal_start && b < j->L.data_start)
		snprintf(tmp->desc, DESC_LEN, "journal area");
	else if (j->dup && b >= j->L.mirror_start && b < j->nblocks - 1)
		snprintf(tmp->desc, DESC_LEN, "mirror region, second copy of "
			 "local %u (not in use)", b - j->L.mirror_start + 1);
	else
		snprintf(tmp->desc, DESC_LEN, "data area, not a known tree node");
	return tmp;
}

static int k_zero_block(struct inj *j)
{
	const struct meta *m;
	struct meta tmp;

	if (j->have_block) {
		m = forced_meta(j, &tmp);
		return m ? zero_meta(j, m) : -1;
	}
	m = pick_meta(j, not_zero);
	if (!m)
		return fail(j, "chunk %u has no metadata block left to zero",
			    j->chunk);
	return zero_meta(j, m);
}

static int k_flip_bits(struct inj *j)
{
	struct meta tmp;
	const struct meta *m = j->have_block ? forced_meta(j, &tmp) :
			       &j->metas[rng_below(j, j->nmetas)];
	u32 nbits = 1 + (u32)rng_below(j, 8), pos[8], i, k;
	char list[WHAT_LEN] = "";
	size_t len = 0;
	struct mod *md;

	if (!m)
		return -1;
	md = mod_get(j, m->local, MOD_OWN);
	if (!md)
		return -1;
	for (i = 0; i < nbits; i++) {
		u32 p;
again:
		p = (u32)rng_below(j, (u64)j->bs * 8);
		for (k = 0; k < i; k++)
			if (pos[k] == p)
				goto again;
		pos[i] = p;
		md->data[p / 8] ^= (u8)(1u << (p % 8));
		if (md->data2)
			md->data2[p / 8] ^= (u8)(1u << (p % 8));
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s%u.%u", i ? ", " : "", p / 8, p % 8);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	add_change(j, m->local, "flipped %u bit%s (%s) at byte.bit %s", nbits,
		   nbits == 1 ? "" : "s", meta_desc(m), list);
	return 0;
}

static int k_header(struct inj *j)
{
	const struct meta *m = &j->metas[0];   /* the header, both copies */

	if (copies_zero(j, m))
		return fail(j, "chunk %u: %s is already blank", j->chunk,
			    j->sel == SEL_BOTH ? "each chunk header copy" :
			    j->sel == SEL_SECOND ? "the chunk header copy" :
			    "primary header");
	return zero_meta(j, m);
}

static int k_inode_table(struct inj *j)
{
	size_t i, before = j->nchg;

	for (i = 0; i < j->nmetas; i++) {
		const struct meta *m = &j->metas[i];

		if (m->type == M_ITABLE && !copies_zero(j, m) &&
		    zero_meta(j, m))
			return -1;
	}
	if (j->nchg == before)
		return fail(j, "chunk %u has no initialised inode table block "
			    "to zero", j->chunk);
	return 0;
}

/* An in-use inode picked by the seed among those matching `want`. */
enum { PICK_ANY_BUT_ROOT, PICK_CONT, PICK_DIR };
static struct ino *pick_inode(struct inj *j, int want)
{
	size_t i, n = 0, k;

	for (k = 0; k < 2; k++) {
		size_t target = k ? rng_below(j, n) : 0, seen_n = 0;

		for (i = 0; i < j->ninos; i++) {
			struct ino *ip = &j->inos[i];
			int ok;

			switch (want) {
			case PICK_CONT:
				ok = !!(ip->d.flags & CFS_IF_CONT);
				break;
			case PICK_DIR:
				ok = CFS_ISDIR(ip->d.mode);
				break;
			default:
				ok = !(j->chunk == 0 &&
				       ip->local == CFS_ROOT_LOCAL);
			}
			if (!ok)
				continue;
			if (!k)
				n++;
			else if (seen_n++ == target)
				return ip;
		}
		if (!n)
			return NULL;
	}
	return NULL;
}

static void rand_bytes(struct inj *j, u8 *p, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		p[i] = (u8)rng_next(&j->rng);
}

static int k_inode(struct inj *j)
{
	struct ino *ip = pick_inode(j, PICK_ANY_BUT_ROOT);
	struct cfs_dinode d;
	u8 *b;

	if (!ip)
		return fail(j, "chunk %u has no in-use inode to scramble%s",
			    j->chunk, j->chunk ? "" : " (other than the root)");
	b = mod_content(j, ip->tblk);
	if (!b)
		return -1;
	rand_bytes(j, b + ip->off, CFS_INODE_SIZE);
	memcpy(&d, b + ip->off, sizeof(d));
	if (!d.mode) {
		d.mode = 1;
		memcpy(b + ip->off, &d, sizeof(d));
	}
	add_change(j, ip->tblk, "scrambled %s inode %u: mode 0%o -> 0%o, gen "
		   "%u -> %u, all 256 bytes random, checksum kept valid",
		   type_name(ip->d.mode), ip->local, ip->d.mode, d.mode,
		   ip->d.gen, d.gen);
	return 0;
}

/* A new value for an inode number or generation field: never the old. */
static u32 other_ino(struct inj *j, u32 old)
{
	return old + 1 + (u32)rng_below(j, 7);
}

static u32 other_gen(struct inj *j, u32 old)
{
	return old ^ (1 + (u32)rng_below(j, 0xfffffffeULL));
}

static int k_forward_link(struct inj *j)
{
	struct fwd *f;
	u32 field, oldv, newv, off;
	const char *where;
	u8 *b;

	if (!j->nfwds)
		return fail(j, "chunk %u has no forward link to break",
			    j->chunk);
	f = &j->fwds[rng_below(j, j->nfwds)];
	field = (u32)rng_below(j, 2);   /* 0: ino, 1: gen */
	b = mod_content(j, f->blk);
	if (!b)
		return -1;
	/* cfs_cext: len, chunk, ino, gen; cfs_dcont: chunk, ino, gen, pad */
	off = f->off + (f->isdir ? 4 : 8) + field * 4;
	memcpy(&oldv, b + off, 4);
	newv = field ? other_gen(j, oldv) : other_ino(j, oldv);
	memcpy(b + off, &newv, 4);
	where = f->blk >= j->L.itable_start &&
		f->blk < j->L.itable_start + j->L.itable_blocks ?
		"inline root" : "tree node";
	if (f->isdir)
		add_change(j, f->blk, "broke forward link of directory inode "
			   "%u to its continuation chunk %u inode %u (gen %u): "
			   "%s %u -> %u in its %s, checksum kept valid",
			   f->owner, f->chunk, f->ino, f->gen,
			   field ? "gen" : "ino", oldv, newv, where);
	else
		add_change(j, f->blk, "broke forward link of file inode %u "
			   "(logical blocks %llu-%llu) to chunk %u inode %u (gen "
			   "%u): %s %u -> %u in its %s, checksum kept valid",
			   f->owner, (unsigned long long)f->key,
			   (unsigned long long)(f->key + f->len - 1), f->chunk,
			   f->ino, f->gen, field ? "gen" : "ino", oldv, newv,
			   where);
	return 0;
}

static int k_back_link(struct inj *j)
{
	struct ino *ip = pick_inode(j, PICK_CONT);
	struct cfs_dinode d;
	u32 field, oldv, newv;
	u8 *b;

	if (!ip)
		return fail(j, "chunk %u has no continuation to break",
			    j->chunk);
	field = (u32)rng_below(j, 2);   /* 0: back_ino, 1: back_gen */
	b = mod_content(j, ip->tblk);
	if (!b)
		return -1;
	memcpy(&d, b + ip->off, sizeof(d));
	if (field) {
		oldv = d.back_gen;
		newv = d.back_gen = other_gen(j, oldv);
	} else {
		oldv = d.back_ino;
		newv = d.back_ino = other_ino(j, oldv);
	}
	memcpy(b + ip->off, &d, sizeof(d));
	add_change(j, ip->tblk, "broke back link of %s continuation inode %u "
		   "(origin chunk %u inode %u gen %u): %s %u -> %u, checksum "
		   "kept valid", type_name(ip->d.mode), ip->local,
		   ip->d.back_chunk, ip->d.back_ino, ip->d.back_gen,
		   field ? "back_gen" : "back_ino", oldv, newv);
	return 0;
}

static int k_continuation(struct inj *j)
{
	struct ino *ip = pick_inode(j, PICK_CONT);
	u32 iblk, byte, bit;
	struct mod *bm;
	u8 *b;

	if (!ip)
		return fail(j, "chunk %u has no continuation to delete",
			    j->chunk);
	iblk = j->L.ibmap_start + ip->local / j->bpb;
	byte = HDR_SZ + (ip->local % j->bpb) / 8;
	bit = (ip->local % j->bpb) % 8;
	bm = mod_get(j, iblk, MOD_RESEAL);
	if (!bm)
		return -1;
	if (!bm->valid)
		return fail(j, "chunk %u: the inode bitmap block %u is damaged "
			    "already; not resealing it", j->chunk, iblk);
	b = mod_content(j, ip->tblk);
	if (!b)
		return -1;
	memset(b + ip->off, 0, CFS_INODE_SIZE);
	add_change(j, ip->tblk, "deleted %s continuation inode %u (origin "
		   "chunk %u inode %u gen %u): slot zeroed, checksum kept valid",
		   type_name(ip->d.mode), ip->local, ip->d.back_chunk,
		   ip->d.back_ino, ip->d.back_gen);
	bm->data[byte] &= (u8)~(1u << bit);
	add_change(j, iblk, "cleared inode bitmap bit %u, checksum kept valid",
		   ip->local);
	return 0;
}

static int k_dir_block(struct inj *j)
{
	const struct meta *m = pick_meta(j, dir_node_not_zero);
	struct ino *ip;
	u8 *b;

	if (m)
		return zero_meta(j, m);
	/* Only inline roots: scramble one (structural damage). */
	ip = pick_inode(j, PICK_DIR);
	if (!ip)
		return fail(j, "chunk %u has no directory", j->chunk);
	b = mod_content(j, ip->tblk);
	if (!b)
		return -1;
	rand_bytes(j, b + ip->off + offsetof(struct cfs_dinode, root),
		   j->iroot_sz);
	add_change(j, ip->tblk, "scrambled the inline directory tree root of "
		   "%sdirectory inode %u (no directory tree blocks in this "
		   "chunk), checksum kept valid",
		   (ip->d.flags & CFS_IF_CONT) ? "continuation " : "",
		   ip->local);
	return 0;
}

/* The metadata entry of positional block local. */
static const struct meta *meta_at(struct inj *j, u32 local)
{
	u32 l1, l2;

	return pair_of(j, local, &l1, &l2);
}

/* Flip `n` distinct bits below `limit` (starting at `first`) in a bitmap. */
static int flip_map(struct inj *j, u32 start, u32 nblks, u32 first,
		    u32 limit, u32 n, const char *name, const char *unit)
{
	u32 done[8], i, k;

	for (i = 0; i < nblks; i++) {
		const struct meta *m = meta_at(j, start + i);

		if (!m || !m->good)
			return fail(j, "chunk %u: %s block %u is damaged "
				    "already; not resealing it", j->chunk,
				    name, start + i);
	}
	if (limit - first < n)
		n = limit - first;
	for (i = 0; i < n; i++) {
		u32 v, blk, byte, bit;
		u8 *b;
again:
		v = first + (u32)rng_below(j, limit - first);
		for (k = 0; k < i; k++)
			if (done[k] == v)
				goto again;
		done[i] = v;
		blk = start + v / j->bpb;
		byte = HDR_SZ + (v % j->bpb) / 8;
		bit = (v % j->bpb) % 8;
		b = mod_content(j, blk);
		if (!b)
			return -1;
		b[byte] ^= (u8)(1u << bit);
		add_change(j, blk, "%s: %s %u marked %s (bit flipped), "
			   "checksum kept valid", name, unit, v,
			   (b[byte] >> bit) & 1 ? "used" : "free");
	}
	return 0;
}

static int k_free_maps(struct inj *j)
{
	u32 nb = 2 + (u32)rng_below(j, 3), ni = 2 + (u32)rng_below(j, 3);

	if (flip_map(j, j->L.bbmap_start, j->L.bbmap_blocks, 0, j->nblocks,
		     nb, "block bitmap", "local block"))
		return -1;
	return flip_map(j, j->L.ibmap_start, j->L.ibmap_blocks, 1,
			j->L.ninodes, ni, "inode bitmap", "local inode");
}

/* The target of stale and misdirected: --block's block, else one picked
 * by the seed; ok() must hold for it (what says what it must be). */
static const struct meta *target(struct inj *j,
				 int (*ok)(struct inj *, const struct meta *),
				 const char *what)
{
	const struct meta *m;
	struct meta tmp;

	if (!j->have_block) {
		m = pick_meta(j, ok);
		if (!m)
			fail(j, "chunk %u has no %s", j->chunk, what);
		return m;
	}
	m = forced_meta(j, &tmp);
	if (m && (m == &tmp || !ok(j, m))) {
		fail(j, "chunk %u: block %u (%s) is no %s", j->chunk, j->block,
		     m->desc, what);
		return NULL;
	}
	return m;
}

static int k_stale(struct inj *j)
{
	const struct meta *m;
	struct cfs_bhdr *h;
	struct mod *md;
	u64 old;

	if (!j->metagen)
		return fail(j, "chunk %u: no block generations on this "
			    "filesystem (format v1: an older version of a "
			    "block is not told from the current one)",
			    j->chunk);
	m = target(j, has_gen, "metadata block with a valid copy and a "
		   "known generation to make stale");
	if (!m)
		return -1;
	md = mod_get(j, m->local, MOD_RESEAL);
	if (!md)
		return -1;
	h = (struct cfs_bhdr *)md->data;
	old = h->wgen;
	h->wgen = old - 1;
	add_change(j, m->local, "made stale (%s): generation %llu -> %llu "
		   "(an older version; its reference expects %u), checksum "
		   "kept valid", meta_desc(m), (unsigned long long)old,
		   (unsigned long long)(old - 1), m->gen);
	return 0;
}

/* Another metadata block than m of the same type whose content verifies,
 * picked by the seed (pick 0: count them only). */
static const struct meta *other_of_type(struct inj *j, const struct meta *m,
					int pick, size_t *count)
{
	size_t i, n = 0, want = 0;
	int round;

	for (round = 0; round < 1 + !!pick; round++) {
		if (round)
			want = rng_below(j, n);
		n = 0;
		for (i = 0; i < j->nmetas; i++) {
			const struct meta *o = &j->metas[i];

			if (o == m || o->magic != m->magic || !o->good ||
			    o->type == M_HDR)
				continue;
			if (round && n == want)
				return o;
			n++;
		}
	}
	*count = n;
	return NULL;
}

/* Valid content and another valid block of its type (misdirected). */
static int has_twin(struct inj *j, const struct meta *m)
{
	size_t n;

	if (m->type == M_HDR || !m->good)
		return 0;
	other_of_type(j, m, 0, &n);
	return n != 0;
}

static int k_misdirected(struct inj *j)
{
	const struct meta *m, *o;
	struct mod *md;
	size_t n;
	u32 src;
	int c;

	m = target(j, has_twin, "metadata block with a valid copy and "
		   "another valid block of its type to write over it");
	if (!m)
		return -1;
	o = other_of_type(j, m, 1, &n);
	md = mod_get(j, m->local, MOD_RAW);
	if (!o || !md)
		return -1;
	c = read_meta(j, o, md->data);
	src = c == 2 ? o->local2 : o->local;
	add_change(j, m->local, "overwritten with the bytes of block %llu "
		   "(local %u, %s), valid in its own place: a misdirected "
		   "write (was %s)", abs_blk(j, src), src, meta_desc(o),
		   meta_desc(m));
	return 0;
}

static const struct kind {
	const char *name;
	int (*fn)(struct inj *j);
	int takes_block;      /* --block names its target */
	const char *help;
} kinds[] = {
	{ "zero-block", k_zero_block, 1,
	  "zero one metadata block (header, bitmap, inode table, generation "
	  "table, tree node)" },
	{ "flip-bits", k_flip_bits, 1,
	  "flip 1-8 bits in one metadata block (checksum error)" },
	{ "header", k_header, 0, "zero the primary chunk header" },
	{ "inode", k_inode, 0, "scramble one in-use inode (not the root)" },
	{ "forward-link", k_forward_link, 0,
	  "break a forward link (file extent or directory item) to a "
	  "continuation" },
	{ "back-link", k_back_link, 0,
	  "break the back link of a continuation inode" },
	{ "continuation", k_continuation, 0,
	  "delete a continuation inode (origin's link dangles)" },
	{ "dir-block", k_dir_block, 0,
	  "zero a directory tree node (or scramble an inline directory root)" },
	{ "free-maps", k_free_maps, 0,
	  "flip bits in the block and inode bitmaps" },
	{ "inode-table", k_inode_table, 0,
	  "zero every initialised inode table block" },
	{ "stale", k_stale, 1,
	  "make one metadata block an older version of itself: generation "
	  "lowered, checksum valid (needs METAGEN)" },
	{ "misdirected", k_misdirected, 1,
	  "write another valid metadata block of the same type over one "
	  "(its block number gives it away)" },
	{ "random", NULL, 0,
	  "any of the above that applies, chosen by the seed" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static const struct kind *find_kind(const char *name)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

static void drop_plan(struct inj *j)
{
	size_t i;

	for (i = 0; i < j->nmods; i++) {
		free(j->mods[i].data);
		free(j->mods[i].data2);
	}
	j->nmods = 0;
	j->nchg = 0;
}

/* The copies a kind damages unless --copy says: both on a filesystem with
 * second copies (one would be healed from the other), the primary for
 * `header` (what it is for), else the block named. */
static void default_copies(struct inj *j, const struct kind *k)
{
	size_t i;

	if (j->sel_given)
		return;
	j->sel = SEL_FIRST;
	if (k->fn == k_header)
		return;
	if (j->dup) {
		j->sel = SEL_BOTH;
		return;
	}
	for (i = 0; j->have_block && i < j->nmetas; i++)
		if (j->metas[i].local2 && j->metas[i].local2 == j->block)
			j->sel = SEL_SECOND;
}

static int run_kind(struct inj *j, const struct kind *k)
{
	default_copies(j, k);
	return k->fn(j) || finish_plan(j) ? -1 : 0;
}

/* random: the real kinds in an order given by the seed; the first that
 * applies. */
static const struct kind *plan_random(struct inj *j)
{
	size_t order[NKINDS - 1], i, n = NKINDS - 1;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		size_t k = (size_t)rng_below(j, i + 1), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	for (i = 0; i < n; i++) {
		if (!run_kind(j, &kinds[order[i]]))
			return &kinds[order[i]];
		drop_plan(j);
	}
	fail(j, "no kind of damage applies to chunk %u", j->chunk);
	return NULL;
}

static void free_analysis(struct inj *j)
{
	free(j->metas);
	free(j->inos);
	free(j->fwds);
	free(j->seen);
	free(j->gtab_gen);
	free(j->pos_gen);
	free(j->pos_gen_ok);
}

long tool_chunk_metadata(struct cfs_bdev *dev, u32 chunk, const u8 *uuid,
			 const u8 *alt_uuid, u64 **out)
{
	struct inj j;
	long n = 0;
	size_t i;

	memset(&j, 0, sizeof(j));
	j.dev = dev;
	*out = NULL;
	if (load_super(&j, "the image"))
		return -1;
	memcpy(j.g.uuid, uuid, 16);
	j.alt_uuid = alt_uuid;
	j.chunk = chunk;
	if (chunk >= j.g.nchunks || layout(&j)) {
		tool_err("chunk %u: no such chunk, or too small", chunk);
		return -1;
	}
	analyse(&j);
	*out = malloc((2 * j.nmetas + 1) * sizeof(**out));
	if (*out) {
		for (i = 0; i < j.nmetas; i++) {
			(*out)[n++] = j.start + j.metas[i].local;
			if (j.metas[i].local2)
				(*out)[n++] = j.start + j.metas[i].local2;
		}
	} else {
		tool_err("out of memory");
		n = -1;
	}
	free_analysis(&j);
	return n;
}

static const char *format_name(const struct inj *j)
{
	return j->dup ? "v2 (metagen, dup)" : j->metagen ? "v2 (metagen)" :
	       "v1";
}

/* The description of copy `cp` (1 or 2) of m. */
static void copy_desc(const struct meta *m, int cp, char *out, size_t len)
{
	if (cp == 1)
		snprintf(out, len, "%s", m->desc);
	else if (m->type == M_HDR)
		snprintf(out, len, "chunk header copy");
	else
		snprintf(out, len, "%s, second copy of local %u", m->desc,
			 m->local);
}

/* --list: the metadata blocks (every copy) and link ends of the chunk. */
static void list_targets(struct inj *j, int json)
{
	size_t i, nconts = 0, rows = 0;
	char d[DESC_LEN + 48];
	int cp;

	for (i = 0; i < j->ninos; i++)
		nconts += !!(j->inos[i].d.flags & CFS_IF_CONT);
	if (json)
		printf("{\"chunk\": %u, \"header\": \"%s\", \"metagen\": %s, "
		       "\"dup\": %s, \"inodes\": %zu, \"continuations\": %zu, "
		       "\"forward_links\": %zu, \"blocks\": [", j->chunk,
		       j->hdr_src, j->metagen ? "true" : "false",
		       j->dup ? "true" : "false", j->ninos, nconts, j->nfwds);
	else
		printf("chunk %u: format %s, header from %s, %zu in-use "
		       "inodes, %zu continuations, %zu forward links\n",
		       j->chunk, format_name(j), j->hdr_src, j->ninos, nconts,
		       j->nfwds);
	for (i = 0; i < j->nmetas; i++) {
		const struct meta *m = &j->metas[i];

		for (cp = 1; cp <= 2; cp++) {
			u32 l = cp == 1 ? m->local : m->local2;

			if (cp == 2 && !l)
				continue;
			copy_desc(m, cp, d, sizeof(d));
			if (!json) {
				printf("  block %llu (local %u): %s\n",
				       abs_blk(j, l), l, d);
				continue;
			}
			printf("%s\n  {\"block\": %llu, \"local\": %u, "
			       "\"copy\": %d, ", rows++ ? "," : "",
			       abs_blk(j, l), l, cp);
			if (cp == 2)
				printf("\"first\": %u, ", m->local);
			else if (m->local2)
				printf("\"second\": %u, ", m->local2);
			printf("\"what\": ");
			json_str(stdout, d);
			printf("}");
		}
	}
	if (json)
		printf("%s]}\n", rows ? "\n" : "");
}

static int commit(struct inj *j, const char *image)
{
	u8 *tmp = xmalloc(j->bs);
	size_t i;
	int r = 0, cp;

	for (i = 0; i < j->nmods && !r; i++) {
		struct mod *m = &j->mods[i];
		int w = wcopies(j, m->local2);

		for (cp = 1; cp <= 2 && !r; cp++) {
			u32 l = cp == 1 ? m->local : m->local2;
			const u8 *out = m->data;

			if (!(w & cp))
				continue;
			if (m->how == MOD_RESEAL) {
				struct cfs_bhdr *h = (struct cfs_bhdr *)tmp;

				memcpy(tmp, m->data, j->bs);
				h->blkno = j->start + l;
				h->crc = crc_of(tmp, j->bs);
				out = tmp;
			} else if (m->how == MOD_OWN && cp == 2) {
				out = m->data2;
			}
			r = j->dev->ops->write(j->dev, (j->start + l) * j->bs,
					       out, j->bs);
			if (r)
				tool_err("%s: writing block %llu: %s", image,
					 abs_blk(j, l), tool_strerror(r));
		}
	}
	free(tmp);
	if (r)
		return -1;
	r = j->dev->ops->flush(j->dev);
	if (r) {
		tool_err("%s: flush: %s", image, tool_strerror(r));
		return -1;
	}
	return 0;
}

static const char *sel_name(int sel)
{
	return sel == SEL_BOTH ? "both" : sel == SEL_SECOND ? "second" :
	       "first";
}

static void inject_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s inject IMAGE --chunk N --what KIND [--seed S] "
		"[--block LOCAL]\n"
		"                 [--copy first|second|both] [--json] "
		"[--dry-run] [--force]\n"
		"       %s inject IMAGE --chunk N --list [--json]\n"
		"Damage chunk N of an unmounted image on purpose.  --block "
		"names the local block\n(either copy) for zero-block, "
		"flip-bits, stale and misdirected instead of a\nrandom "
		"metadata block.  --copy: which copies of a block with two "
		"are damaged:\nby default both on a filesystem with second "
		"copies of metadata (DUP; damage\nto one copy is healed from "
		"the other, not repaired), the primary for header,\nelse the "
		"block named; --copy first (or second) damages one copy, to "
		"see it\nhealed.  --list prints the metadata blocks of the "
		"chunk, every copy (the\ntargets), and writes nothing.  "
		"--force damages an image that is mounted or held\nby another "
		"process (without its lock): damage under a running "
		"filesystem.\nKinds:\n", tool_prog, tool_prog);
	for (i = 0; i < NKINDS; i++)
		fprintf(f, "  %-13s %s\n", kinds[i].name, kinds[i].help);
}

static int parse_u64(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end || *out > max ? -1 : 0;
}

int cmd_inject(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "chunk", required_argument, NULL, 'c' },
		{ "what", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "block", required_argument, NULL, 'b' },
		{ "copy", required_argument, NULL, 'C' },
		{ "list", no_argument, NULL, 'l' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct kind *kind = NULL, *done;
	unsigned long long chunk = 0, seed = 1, blk = 0;
	int have_chunk = 0, json = 0, dry = 0, list = 0, force = 0, opt, r;
	int ret = 1, busy;
	const char *image;
	struct inj j;
	char err[512];
	size_t i;

	memset(&j, 0, sizeof(j));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:w:s:b:C:ljnfh", lopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (parse_u64(optarg, 0xffffffffULL, &chunk)) {
				tool_err("inject: bad chunk number '%s'", optarg);
				return 1;
			}
			have_chunk = 1;
			break;
		case 'w':
			kind = find_kind(optarg);
			if (!kind) {
				tool_err("inject: unknown kind '%s'", optarg);
				inject_usage(stderr);
				return 1;
			}
			break;
		case 's':
			if (parse_u64(optarg, ~0ULL, &seed)) {
				tool_err("inject: bad seed '%s'", optarg);
				return 1;
			}
			break;
		case 'b':
			if (parse_u64(optarg, 0xffffffffULL, &blk)) {
				tool_err("inject: bad block number '%s'", optarg);
				return 1;
			}
			j.have_block = 1;
			j.block = (u32)blk;
			break;
		case 'C':
			if (!strcmp(optarg, "first"))
				j.sel = SEL_FIRST;
			else if (!strcmp(optarg, "second"))
				j.sel = SEL_SECOND;
			else if (!strcmp(optarg, "both"))
				j.sel = SEL_BOTH;
			else {
				tool_err("inject: bad --copy '%s' (first, "
					 "second or both)", optarg);
				return 1;
			}
			j.sel_given = 1;
			break;
		case 'l':
			list = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			inject_usage(stdout);
			return 0;
		default:
			inject_usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		tool_err("inject: no image given");
		inject_usage(stderr);
		return 1;
	}
	if (optind + 1 < argc) {
		tool_err("inject: one image only (extra argument '%s')",
			 argv[optind + 1]);
		inject_usage(stderr);
		return 1;
	}
	if (!have_chunk || (!kind && !list)) {
		tool_err("inject: --chunk and --what (or --list) are required");
		inject_usage(stderr);
		return 1;
	}
	if (j.have_block && kind && !kind->takes_block) {
		tool_err("inject: --block applies to zero-block, flip-bits, "
			 "stale and misdirected only");
		return 1;
	}
	image = argv[optind];
	busy = cfs_user_is_mounted(image);
	if (busy && !force) {
		tool_err("%s is mounted; unmount it first (or --force to damage "
			 "it under the running filesystem)", image);
		return 1;
	}
	r = busy ? -EBUSY : cfs_user_open(image, 0, &j.dev, err, sizeof(err));
	if (r == -EBUSY && !force) {
		tool_err("%s is in use by another process (mounted?); refusing "
			 "to inject damage (--force to do it anyway)", image);
		return 1;
	}
	if (r == -EBUSY) { /* --force: without the lock the holder has */
		r = cfs_user_open(image, CFS_OPEN_NOLOCK, &j.dev, err,
				  sizeof(err));
		if (r == 0 && !list && !dry)
			fprintf(stderr, "%s: warning: %s is %s: --force damages "
				"it under the running filesystem, which may "
				"write over the damage or serve what it cached "
				"before\n", tool_prog, image, busy ?
				"mounted" : "in use by another process");
	}
	if (r < 0) {
		tool_err("%s", err);
		return 1;
	}
	if (load_super(&j, image))
		goto out;
	if (chunk >= j.g.nchunks) {
		tool_err("inject: chunk %llu out of range (%s has %u chunk%s)",
			 chunk, image, j.g.nchunks, j.g.nchunks == 1 ? "" : "s");
		goto out;
	}
	j.chunk = (u32)chunk;
	if (layout(&j)) {
		tool_err("%s: chunk %u is too small for its metadata", image,
			 j.chunk);
		goto out;
	}
	/* the chunk is mixed in so that chunks differ for one seed */
	j.rng = seed ^ ((u64)j.chunk << 40) ^ 0x63667369ULL;
	analyse(&j);
	if (list) {
		list_targets(&j, json);
		ret = 0;
		goto out;
	}
	if (kind->fn)
		done = run_kind(&j, kind) ? NULL : kind;
	else
		done = plan_random(&j);
	if (!done) {
		tool_err("%s", j.err);
		goto out;
	}
	if (!dry && commit(&j, image))
		goto out;
	if (json) {
		printf("{\"chunk\": %u, \"kind\": \"%s\", \"requested\": \"%s\", "
		       "\"seed\": %llu, \"dry_run\": %s, \"header\": \"%s\", "
		       "\"copies\": \"%s\", \"changes\": [", j.chunk,
		       done->name, kind->name, seed, dry ? "true" : "false",
		       j.hdr_src, sel_name(j.sel));
		for (i = 0; i < j.nchg; i++) {
			printf("%s\n  {\"block\": %llu, \"local\": %u, "
			       "\"what\": ", i ? "," : "",
			       abs_blk(&j, j.chg[i].local), j.chg[i].local);
			json_str(stdout, j.chg[i].what);
			printf("}");
		}
		printf("%s]}\n", j.nchg ? "\n" : "");
	} else {
		for (i = 0; i < j.nchg; i++)
			printf("chunk %u: %s%s: %s%s\n", j.chunk, done->name,
			       kind != done ? " (random)" : "", j.chg[i].what,
			       dry ? " [dry run]" : "");
	}
	ret = 0;
out:
	drop_plan(&j);
	free(j.mods);
	free(j.chg);
	free_analysis(&j);
	cfs_user_close(j.dev);
	return ret;
}
