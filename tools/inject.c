// SPDX-License-Identifier: GPL-2.0
/*
 * inject.c - "chunkfs inject IMAGE --chunk N --what KIND [--seed S] [--json]
 * [--dry-run]": damage one chunk of an unmounted image on purpose, for
 * tests, demos and for seeing repair work.
 *
 * The image is opened read-write with the exclusive lock every chunkfs
 * program takes (a mounted or otherwise busy image is refused), unless
 * --force is given: then a mounted image is damaged under the running
 * filesystem (without the lock), as a disk can go bad under a mount; the
 * online scrub (chunkfs scrub) is what sees it then.  The chunk
 * is analysed from the raw bytes, following docs/FORMAT.md: geometry from
 * the superblock (or its copy), the layout recomputed from it, the chunk
 * header (primary or copy), the initialised inode table blocks and every
 * B+tree reachable from this chunk's inodes and link index.  Only blocks
 * that verify (magic, crc, uuid, chunk, block number) are followed.  This
 * works whether or not the library would mount the image, so every kind can
 * be applied even when chunk 0 is already damaged.
 *
 * Changes are made in memory, then written with the device's write op.
 * Kinds that destroy bytes (zero-block, flip-bits, header, inode-table,
 * dir-block when it zeroes a node) leave the checksum alone so the damage
 * is detected as such; kinds that make a valid-looking but inconsistent
 * block (inode, forward-link, back-link, continuation, free-maps, dir-block
 * on an inline root) recompute the block's crc32.  The choice of target is
 * a deterministic function of the image and the seed.
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
#define KPTR_SZ ((u32)sizeof(struct cfs_kptr))
#define MAX_DEPTH 12
#define DESC_LEN 128
#define WHAT_LEN 512

enum meta_type { M_HDR, M_BBMAP, M_IBMAP, M_ITABLE, M_TREE };

struct meta {                 /* a metadata block of the chunk */
	u32 local;
	u32 type;             /* enum meta_type */
	u32 tree, owner;      /* M_TREE */
	char desc[DESC_LEN];
};

struct ino {                  /* an in-use inode of the chunk */
	u32 local;
	struct cfs_dinode d;
	u32 tblk;             /* local block of its table block */
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

struct mod {                  /* a block changed in memory */
	u32 local;
	int reseal;           /* recompute the crc before writing */
	u8 *data;
};

struct change {
	u32 local;
	char what[WHAT_LEN];
};

struct inj {
	struct cfs_bdev *dev;
	struct cfs_geom g;
	u32 bs, chunk, nblocks, ipb, bpb;
	u64 start;            /* absolute block of local 0 */
	struct cfs_chunk_hdr L;  /* the computed layout */
	u32 itable_init, link_root;
	const char *hdr_src;  /* "primary", "copy" or "layout" */
	int have_block;       /* --block: the target of zero-block/flip-bits */
	u32 block;
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

static void *xgrow(void *p, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * sz);
	if (!p) {
		tool_err("out of memory");
		exit(1);
	}
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

/* The block header checks of FORMAT.md section 3. */
static int verify(struct inj *j, const u8 *buf, u32 local, u32 magic)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)buf;

	return h->magic == magic && h->crc == crc_of(buf, j->bs) &&
	       (!memcmp(h->uuid, j->g.uuid, 16) ||
		(j->alt_uuid && !memcmp(h->uuid, j->alt_uuid, 16))) &&
	       h->chunk == j->chunk && h->blkno == j->start + local;
}

static int all_zero(const u8 *p, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static u32 div_up(u64 a, u64 b)
{
	return (u32)((a + b - 1) / b);
}

/* The block in memory for modification (read once). */
static u8 *mod_block(struct inj *j, u32 local, int reseal)
{
	size_t i;
	struct mod *m;

	for (i = 0; i < j->nmods; i++) {
		if (j->mods[i].local == local) {
			j->mods[i].reseal |= reseal;
			return j->mods[i].data;
		}
	}
	j->mods = xgrow(j->mods, &j->cmods, j->nmods, sizeof(*j->mods));
	m = &j->mods[j->nmods];
	m->data = malloc(j->bs);
	if (!m->data) {
		tool_err("out of memory");
		exit(1);
	}
	if (read_local(j, local, m->data)) {
		free(m->data);
		return NULL;
	}
	m->local = local;
	m->reseal = reseal;
	j->nmods++;
	return m->data;
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

static struct meta *add_meta(struct inj *j, u32 local, u32 type)
{
	struct meta *m;

	j->metas = xgrow(j->metas, &j->cmetas, j->nmetas, sizeof(*j->metas));
	m = &j->metas[j->nmetas++];
	memset(m, 0, sizeof(*m));
	m->local = local;
	m->type = type;
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
	j->bs = g->block_size;
	return 0;
}

/* chunk_layout() of fs/super.c, from FORMAT.md section 6. */
static int layout(struct inj *j)
{
	struct cfs_chunk_hdr *h = &j->L;
	u32 P = j->bs - HDR_SZ;
	u64 first = CFS_FIRST_CHUNK_BLOCK + (u64)j->chunk * j->g.chunk_blocks;
	u64 left = j->g.total_blocks - first, ninodes;

	j->start = first;
	j->nblocks = left < j->g.chunk_blocks ? (u32)left : j->g.chunk_blocks;
	j->bpb = P * 8;
	j->ipb = P / CFS_INODE_SIZE;
	ninodes = (u64)j->nblocks * j->bs / j->g.inode_ratio;
	if (ninodes < 16)
		ninodes = 16;
	if (ninodes > 0x7fffffffULL)
		ninodes = 0x7fffffffULL;
	memset(h, 0, sizeof(*h));
	h->index = j->chunk;
	h->nblocks = j->nblocks;
	h->itable_blocks = div_up(ninodes, j->ipb);
	h->ninodes = h->itable_blocks * j->ipb;
	h->bbmap_start = 1;
	h->bbmap_blocks = div_up(j->nblocks, j->bpb);
	h->ibmap_start = h->bbmap_start + h->bbmap_blocks;
	h->ibmap_blocks = div_up(h->ninodes, j->bpb);
	h->itable_start = h->ibmap_start + h->ibmap_blocks;
	h->journal_start = h->itable_start + h->itable_blocks;
	h->journal_blocks = j->g.journal_blocks;
	h->data_start = h->journal_start + h->journal_blocks;
	if ((u64)h->data_start + 1 + 32 > j->nblocks)
		return -1;
	return 0;
}

/* itable_init and link_root from a header that verifies, else guessed. */
static void load_chunk_hdr(struct inj *j, u8 *buf)
{
	const struct cfs_chunk_hdr *h = (const struct cfs_chunk_hdr *)buf;
	u32 copy, i;

	for (copy = 0; copy < 2; copy++) {
		u32 local = copy ? j->nblocks - 1 : 0;

		if (read_local(j, local, buf) ||
		    !verify(j, buf, local, CFS_MAGIC_CHUNK))
			continue;
		if (h->index != j->chunk || h->nblocks != j->nblocks ||
		    h->itable_start != j->L.itable_start ||
		    h->data_start != j->L.data_start ||
		    h->ninodes != j->L.ninodes ||
		    h->itable_init > j->L.itable_blocks ||
		    h->link_root < j->L.data_start ||
		    h->link_root >= j->nblocks - 1)
			continue;
		j->itable_init = h->itable_init;
		j->link_root = h->link_root;
		j->hdr_src = copy ? "copy" : "primary";
		return;
	}
	/* Neither header usable: the table blocks written so far are the
	 * leading ones that verify; the link index root is where mkfs put
	 * it. */
	j->hdr_src = "layout";
	j->link_root = j->L.data_start;
	for (i = 0; i < j->L.itable_blocks; i++) {
		if (read_local(j, j->L.itable_start + i, buf) ||
		    !verify(j, buf, j->L.itable_start + i, CFS_MAGIC_ITABLE))
			break;
	}
	j->itable_init = i;
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

static void walk_block(struct inj *j, u32 blk, u32 type, u32 owner,
		       int is_root, u32 depth);

/* Walk a node of `size` bytes at byte `noff` of local block `blk`. */
static void walk_node(struct inj *j, const u8 *p, u32 size, u32 blk,
		      u32 noff, u32 type, u32 owner, u32 depth)
{
	struct cfs_node_hdr nh;
	u32 i;

	memcpy(&nh, p, sizeof(nh));
	if (nh.level) {
		if (nh.level >= MAX_DEPTH || nh.nitems > (size - NODE_HDR) /
		    KPTR_SZ || depth + 1 >= MAX_DEPTH)
			return;
		for (i = 0; i < nh.nitems; i++) {
			struct cfs_kptr k;

			memcpy(&k, p + NODE_HDR + i * KPTR_SZ, sizeof(k));
			walk_block(j, k.child, type, owner, 0, depth + 1);
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

static void walk_block(struct inj *j, u32 blk, u32 type, u32 owner,
		       int is_root, u32 depth)
{
	u32 size = j->bs - HDR_SZ;
	const struct cfs_bhdr *h;
	struct meta *m;
	u8 *buf;

	if (size > 0xffff)
		size = 0xffff;
	if (blk < j->L.data_start || blk >= j->nblocks - 1 ||
	    (j->seen[blk / 8] & (1u << (blk % 8))))
		return;
	j->seen[blk / 8] |= (u8)(1u << (blk % 8));
	buf = malloc(j->bs);
	if (!buf) {
		tool_err("out of memory");
		exit(1);
	}
	h = (const struct cfs_bhdr *)buf;
	if (read_local(j, blk, buf) || !verify(j, buf, blk, CFS_MAGIC_BTREE) ||
	    (!is_root && (h->tree != type || h->owner_lo != owner))) {
		free(buf);
		return;
	}
	m = add_meta(j, blk, M_TREE);
	m->tree = type;
	m->owner = owner;
	if (type == CFS_TREE_LINK)
		snprintf(m->desc, DESC_LEN, "link index %s (level %u)",
			 is_root ? "root" : "node", buf[HDR_SZ + 2]);
	else
		snprintf(m->desc, DESC_LEN, "%s tree %s of inode %u (level %u)",
			 tree_name(type), is_root ? "root" : "node", owner,
			 buf[HDR_SZ + 2]);
	walk_node(j, buf + HDR_SZ, size, blk, HDR_SZ, type, owner, depth);
	free(buf);
}

/* ---- analysis of the chunk ---- */

static int analyse(struct inj *j)
{
	struct cfs_chunk_hdr *L = &j->L;
	u8 *buf = malloc(j->bs);
	struct meta *m;
	u32 i, s;

	j->seen = calloc(j->nblocks / 8 + 1, 1);
	if (!buf || !j->seen) {
		tool_err("out of memory");
		exit(1);
	}
	load_chunk_hdr(j, buf);
	m = add_meta(j, 0, M_HDR);
	snprintf(m->desc, DESC_LEN, "chunk header");
	for (i = 0; i < L->bbmap_blocks; i++) {
		m = add_meta(j, L->bbmap_start + i, M_BBMAP);
		snprintf(m->desc, DESC_LEN, "block bitmap block %u of %u", i,
			 L->bbmap_blocks);
	}
	for (i = 0; i < L->ibmap_blocks; i++) {
		m = add_meta(j, L->ibmap_start + i, M_IBMAP);
		snprintf(m->desc, DESC_LEN, "inode bitmap block %u of %u", i,
			 L->ibmap_blocks);
	}
	for (i = 0; i < j->itable_init; i++) {
		m = add_meta(j, L->itable_start + i, M_ITABLE);
		snprintf(m->desc, DESC_LEN,
			 "inode table block %u of %u, inodes %u-%u", i,
			 L->itable_blocks, i * j->ipb, (i + 1) * j->ipb - 1);
	}
	/* In-use inodes (from table blocks that verify) and their trees. */
	for (i = 0; i < j->itable_init; i++) {
		u32 tblk = L->itable_start + i;

		if (read_local(j, tblk, buf) ||
		    !verify(j, buf, tblk, CFS_MAGIC_ITABLE))
			continue;
		for (s = 0; s < j->ipb; s++) {
			u32 local = i * j->ipb + s, off;
			struct ino *ip;

			if (!local || local >= L->ninodes)
				continue;
			off = HDR_SZ + s * CFS_INODE_SIZE;
			j->inos = xgrow(j->inos, &j->cinos, j->ninos,
					sizeof(*ip));
			ip = &j->inos[j->ninos];
			memcpy(&ip->d, buf + off, sizeof(ip->d));
			if (!ip->d.mode)
				continue;
			ip->local = local;
			ip->tblk = tblk;
			ip->off = off;
			j->ninos++;
		}
	}
	for (i = 0; i < j->ninos; i++) {
		struct ino *ip = &j->inos[i];
		u32 type = 0;
		u8 *rbuf;

		if (CFS_ISREG(ip->d.mode) || (CFS_ISLNK(ip->d.mode) &&
		    !(ip->d.flags & CFS_IF_INLINE_LINK)))
			type = CFS_TREE_EXTENT;
		else if (CFS_ISDIR(ip->d.mode))
			type = CFS_TREE_DIR;
		if (type) {
			/* the table block holding the inline root */
			rbuf = malloc(j->bs);
			if (!rbuf) {
				tool_err("out of memory");
				exit(1);
			}
			if (!read_local(j, ip->tblk, rbuf))
				walk_node(j, rbuf + ip->off +
					  offsetof(struct cfs_dinode, root),
					  CFS_IROOT_SIZE, ip->tblk,
					  ip->off + (u32)offsetof(struct cfs_dinode,
								  root),
					  type, ip->local, 0);
			free(rbuf);
		}
		if (ip->d.xattr_root)
			walk_block(j, ip->d.xattr_root, CFS_TREE_XATTR,
				   ip->local, 1, 0);
	}
	walk_block(j, j->link_root, CFS_TREE_LINK, 0, 1, 0);
	free(buf);
	return 0;
}

/* ---- the kinds ---- */

/* Metadata blocks that are not all zeroes already (indexes into metas). */
static size_t nonzero_metas(struct inj *j, size_t *idx, int tree_only,
			    u32 tree)
{
	u8 *buf = malloc(j->bs);
	size_t i, n = 0;

	if (!buf) {
		tool_err("out of memory");
		exit(1);
	}
	for (i = 0; i < j->nmetas; i++) {
		if (tree_only && (j->metas[i].type != M_TREE ||
				  j->metas[i].tree != tree))
			continue;
		if (read_local(j, j->metas[i].local, buf) ||
		    all_zero(buf, j->bs))
			continue;
		idx[n++] = i;
	}
	free(buf);
	return n;
}

static int zero_meta(struct inj *j, const struct meta *m)
{
	u8 *b = mod_block(j, m->local, 0);

	if (!b)
		return fail(j, "cannot read block %u of chunk %u", m->local,
			    j->chunk);
	memset(b, 0, j->bs);
	add_change(j, m->local, "zeroed block %llu (local %u, %s)",
		   (unsigned long long)(j->start + m->local), m->local,
		   m->desc);
	return 0;
}

/* --block: the named local block, described if it is known metadata. */
static const struct meta *forced_meta(struct inj *j, struct meta *tmp)
{
	size_t i;

	if (j->block >= j->nblocks) {
		fail(j, "block %u is outside chunk %u (%u blocks)", j->block,
		     j->chunk, j->nblocks);
		return NULL;
	}
	for (i = 0; i < j->nmetas; i++)
		if (j->metas[i].local == j->block)
			return &j->metas[i];
	memset(tmp, 0, sizeof(*tmp));
	tmp->local = j->block;
	if (j->block == j->nblocks - 1)
		snprintf(tmp->desc, DESC_LEN, "chunk header copy");
	else if (j->block >= j->L.itable_start &&
		 j->block < j->L.journal_start)
		snprintf(tmp->desc, DESC_LEN, "uninitialised inode table block");
	else if (j->block >= j->L.journal_start &&
		 j->block < j->L.data_start)
		snprintf(tmp->desc, DESC_LEN, "journal area");
	else
		snprintf(tmp->desc, DESC_LEN, "data area, not a known tree node");
	return tmp;
}

static int k_zero_block(struct inj *j)
{
	size_t *idx, n;
	struct meta tmp;
	int r;

	if (j->have_block) {
		const struct meta *m = forced_meta(j, &tmp);

		return m ? zero_meta(j, m) : -1;
	}
	idx = calloc(j->nmetas + 1, sizeof(*idx));
	if (!idx) {
		tool_err("out of memory");
		exit(1);
	}
	n = nonzero_metas(j, idx, 0, 0);
	if (!n) {
		free(idx);
		return fail(j, "chunk %u has no metadata block left to zero",
			    j->chunk);
	}
	r = zero_meta(j, &j->metas[idx[rng_below(j, n)]]);
	free(idx);
	return r;
}

static int k_flip_bits(struct inj *j)
{
	struct meta tmp;
	const struct meta *m = j->have_block ? forced_meta(j, &tmp) :
			       &j->metas[rng_below(j, j->nmetas)];
	u32 nbits = 1 + (u32)rng_below(j, 8), pos[8], i, k;
	char list[WHAT_LEN] = "";
	size_t len = 0;
	u8 *b;

	if (!m)
		return -1;
	b = mod_block(j, m->local, 0);
	if (!b)
		return fail(j, "cannot read block %u of chunk %u", m->local,
			    j->chunk);
	for (i = 0; i < nbits; i++) {
		u32 p;
again:
		p = (u32)rng_below(j, (u64)j->bs * 8);
		for (k = 0; k < i; k++)
			if (pos[k] == p)
				goto again;
		pos[i] = p;
		b[p / 8] ^= (u8)(1u << (p % 8));
		len += (size_t)snprintf(list + len, sizeof(list) - len,
					"%s%u.%u", i ? ", " : "", p / 8, p % 8);
		if (len >= sizeof(list))
			len = sizeof(list) - 1;
	}
	add_change(j, m->local,
		   "flipped %u bit%s in block %llu (local %u, %s) at byte.bit "
		   "%s", nbits, nbits == 1 ? "" : "s",
		   (unsigned long long)(j->start + m->local), m->local,
		   m->desc, list);
	return 0;
}

static int k_header(struct inj *j)
{
	u8 *b = mod_block(j, 0, 0);

	if (!b)
		return fail(j, "cannot read the header of chunk %u", j->chunk);
	if (all_zero(b, j->bs))
		return fail(j, "chunk %u: primary header is already blank",
			    j->chunk);
	memset(b, 0, j->bs);
	add_change(j, 0, "zeroed block %llu (local 0, primary chunk header; "
		   "the copy in local %u is intact)",
		   (unsigned long long)j->start, j->nblocks - 1);
	return 0;
}

static int k_inode_table(struct inj *j)
{
	size_t i, before = j->nchg;

	for (i = 0; i < j->nmetas; i++) {
		const struct meta *m = &j->metas[i];
		u8 *buf;

		if (m->type != M_ITABLE)
			continue;
		buf = malloc(j->bs);
		if (!buf) {
			tool_err("out of memory");
			exit(1);
		}
		if (!read_local(j, m->local, buf) && !all_zero(buf, j->bs) &&
		    zero_meta(j, m)) {
			free(buf);
			return -1;
		}
		free(buf);
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
		size_t target = k ? rng_below(j, n) : 0, seen = 0;

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
			else if (seen++ == target)
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
	b = mod_block(j, ip->tblk, 1);
	if (!b)
		return fail(j, "cannot read block %u of chunk %u", ip->tblk,
			    j->chunk);
	rand_bytes(j, b + ip->off, CFS_INODE_SIZE);
	memcpy(&d, b + ip->off, sizeof(d));
	if (!d.mode) {
		d.mode = 1;
		memcpy(b + ip->off, &d, sizeof(d));
	}
	add_change(j, ip->tblk, "scrambled %s inode %u in block %llu (local "
		   "%u): mode 0%o -> 0%o, gen %u -> %u, all 256 bytes random, "
		   "checksum kept valid", type_name(ip->d.mode), ip->local,
		   (unsigned long long)(j->start + ip->tblk), ip->tblk,
		   ip->d.mode, d.mode, ip->d.gen, d.gen);
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
	char where[DESC_LEN];
	u8 *b;

	if (!j->nfwds)
		return fail(j, "chunk %u has no forward link to break",
			    j->chunk);
	f = &j->fwds[rng_below(j, j->nfwds)];
	field = (u32)rng_below(j, 2);   /* 0: ino, 1: gen */
	b = mod_block(j, f->blk, 1);
	if (!b)
		return fail(j, "cannot read block %u of chunk %u", f->blk,
			    j->chunk);
	/* cfs_cext: len, chunk, ino, gen; cfs_dcont: chunk, ino, gen, pad */
	off = f->off + (f->isdir ? 4 : 8) + field * 4;
	memcpy(&oldv, b + off, 4);
	newv = field ? other_gen(j, oldv) : other_ino(j, oldv);
	memcpy(b + off, &newv, 4);
	if (f->blk >= j->L.itable_start &&
	    f->blk < j->L.itable_start + j->L.itable_blocks)
		snprintf(where, sizeof(where), "inline root in block %llu "
			 "(local %u)",
			 (unsigned long long)(j->start + f->blk), f->blk);
	else
		snprintf(where, sizeof(where), "tree node block %llu "
			 "(local %u)",
			 (unsigned long long)(j->start + f->blk), f->blk);
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
	b = mod_block(j, ip->tblk, 1);
	if (!b)
		return fail(j, "cannot read block %u of chunk %u", ip->tblk,
			    j->chunk);
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
		   "(origin chunk %u inode %u gen %u): %s %u -> %u in block "
		   "%llu (local %u), checksum kept valid",
		   type_name(ip->d.mode), ip->local, ip->d.back_chunk,
		   ip->d.back_ino, ip->d.back_gen,
		   field ? "back_gen" : "back_ino", oldv, newv,
		   (unsigned long long)(j->start + ip->tblk), ip->tblk);
	return 0;
}

static int k_continuation(struct inj *j)
{
	struct ino *ip = pick_inode(j, PICK_CONT);
	u32 iblk, byte, bit;
	u8 *b, *bm;

	if (!ip)
		return fail(j, "chunk %u has no continuation to delete",
			    j->chunk);
	iblk = j->L.ibmap_start + ip->local / j->bpb;
	byte = HDR_SZ + (ip->local % j->bpb) / 8;
	bit = (ip->local % j->bpb) % 8;
	bm = mod_block(j, iblk, 1);
	if (!bm || !verify(j, bm, iblk, CFS_MAGIC_IBMAP))
		return fail(j, "chunk %u: the inode bitmap block %u is damaged "
			    "already; not resealing it", j->chunk, iblk);
	b = mod_block(j, ip->tblk, 1);
	if (!b)
		return fail(j, "cannot read block %u of chunk %u", ip->tblk,
			    j->chunk);
	memset(b + ip->off, 0, CFS_INODE_SIZE);
	add_change(j, ip->tblk, "deleted %s continuation inode %u (origin "
		   "chunk %u inode %u gen %u): slot zeroed in block %llu "
		   "(local %u), checksum kept valid", type_name(ip->d.mode),
		   ip->local, ip->d.back_chunk, ip->d.back_ino, ip->d.back_gen,
		   (unsigned long long)(j->start + ip->tblk), ip->tblk);
	bm[byte] &= (u8)~(1u << bit);
	add_change(j, iblk, "cleared inode bitmap bit %u in block %llu (local "
		   "%u), checksum kept valid", ip->local,
		   (unsigned long long)(j->start + iblk), iblk);
	return 0;
}

static int k_dir_block(struct inj *j)
{
	size_t *idx = calloc(j->nmetas + 1, sizeof(*idx)), n;
	struct ino *ip;
	u8 *b;
	int r;

	if (!idx) {
		tool_err("out of memory");
		exit(1);
	}
	n = nonzero_metas(j, idx, 1, CFS_TREE_DIR);
	if (n) {
		r = zero_meta(j, &j->metas[idx[rng_below(j, n)]]);
		free(idx);
		return r;
	}
	free(idx);
	/* Only inline roots: scramble one (structural damage). */
	ip = pick_inode(j, PICK_DIR);
	if (!ip)
		return fail(j, "chunk %u has no directory", j->chunk);
	b = mod_block(j, ip->tblk, 1);
	if (!b)
		return fail(j, "cannot read block %u of chunk %u", ip->tblk,
			    j->chunk);
	rand_bytes(j, b + ip->off + offsetof(struct cfs_dinode, root),
		   CFS_IROOT_SIZE);
	add_change(j, ip->tblk, "scrambled the inline directory tree root of "
		   "%sdirectory inode %u in block %llu (local %u; no directory "
		   "tree blocks in this chunk), checksum kept valid",
		   (ip->d.flags & CFS_IF_CONT) ? "continuation " : "",
		   ip->local, (unsigned long long)(j->start + ip->tblk),
		   ip->tblk);
	return 0;
}

/* Flip `n` distinct bits below `limit` (starting at `first`) in a bitmap. */
static int flip_map(struct inj *j, u32 start, u32 nblks, u32 first,
		    u32 limit, u32 n, u32 magic, const char *name,
		    const char *unit)
{
	u32 done[8], i, k;
	u8 *tmp = malloc(j->bs);

	if (!tmp) {
		tool_err("out of memory");
		exit(1);
	}
	for (i = 0; i < nblks; i++) {
		if (read_local(j, start + i, tmp) ||
		    !verify(j, tmp, start + i, magic)) {
			free(tmp);
			return fail(j, "chunk %u: %s block %u is damaged "
				    "already; not resealing it", j->chunk,
				    name, start + i);
		}
	}
	free(tmp);
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
		b = mod_block(j, blk, 1);
		if (!b)
			return fail(j, "cannot read block %u of chunk %u", blk,
				    j->chunk);
		b[byte] ^= (u8)(1u << bit);
		add_change(j, blk, "%s: %s %u marked %s (bit flipped in block "
			   "%llu, local %u), checksum kept valid", name, unit,
			   v, (b[byte] >> bit) & 1 ? "used" : "free",
			   (unsigned long long)(j->start + blk), blk);
	}
	return 0;
}

static int k_free_maps(struct inj *j)
{
	u32 nb = 2 + (u32)rng_below(j, 3), ni = 2 + (u32)rng_below(j, 3);

	if (flip_map(j, j->L.bbmap_start, j->L.bbmap_blocks, 0, j->nblocks,
		     nb, CFS_MAGIC_BBMAP, "block bitmap", "local block"))
		return -1;
	return flip_map(j, j->L.ibmap_start, j->L.ibmap_blocks, 1,
			j->L.ninodes, ni, CFS_MAGIC_IBMAP, "inode bitmap",
			"local inode");
}

static const struct kind {
	const char *name;
	int (*fn)(struct inj *j);
	const char *help;
} kinds[] = {
	{ "zero-block", k_zero_block,
	  "zero one metadata block (header, bitmap, inode table, tree node)" },
	{ "flip-bits", k_flip_bits,
	  "flip 1-8 bits in one metadata block (checksum error)" },
	{ "header", k_header, "zero the primary chunk header" },
	{ "inode", k_inode, "scramble one in-use inode (not the root)" },
	{ "forward-link", k_forward_link,
	  "break a forward link (file extent or directory item) to a "
	  "continuation" },
	{ "back-link", k_back_link,
	  "break the back link of a continuation inode" },
	{ "continuation", k_continuation,
	  "delete a continuation inode (origin's link dangles)" },
	{ "dir-block", k_dir_block,
	  "zero a directory tree node (or scramble an inline directory root)" },
	{ "free-maps", k_free_maps,
	  "flip bits in the block and inode bitmaps" },
	{ "inode-table", k_inode_table,
	  "zero every initialised inode table block" },
	{ "random", NULL, "any of the above that applies, chosen by the seed" },
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

	for (i = 0; i < j->nmods; i++)
		free(j->mods[i].data);
	j->nmods = 0;
	j->nchg = 0;
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
		if (!kinds[order[i]].fn(j))
			return &kinds[order[i]];
		drop_plan(j);
	}
	fail(j, "no kind of damage applies to chunk %u", j->chunk);
	return NULL;
}

long tool_chunk_metadata(struct cfs_bdev *dev, u32 chunk, const u8 *uuid,
			 const u8 *alt_uuid, u64 **out)
{
	struct inj j;
	long n = -1;
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
	*out = malloc((j.nmetas + 1) * sizeof(**out));
	if (*out) {
		for (i = 0; i < j.nmetas; i++)
			(*out)[i] = j.start + j.metas[i].local;
		(*out)[j.nmetas] = j.start + j.nblocks - 1; /* header copy */
		n = (long)j.nmetas + 1;
	} else {
		tool_err("out of memory");
	}
	free(j.metas);
	free(j.inos);
	free(j.fwds);
	free(j.seen);
	return n;
}

/* --list: the metadata blocks and link ends found in the chunk. */
static void list_targets(struct inj *j, int json)
{
	size_t i, nconts = 0;

	for (i = 0; i < j->ninos; i++)
		nconts += !!(j->inos[i].d.flags & CFS_IF_CONT);
	if (json) {
		printf("{\"chunk\": %u, \"header\": \"%s\", \"inodes\": %zu, "
		       "\"continuations\": %zu, \"forward_links\": %zu, "
		       "\"blocks\": [", j->chunk, j->hdr_src, j->ninos, nconts,
		       j->nfwds);
		for (i = 0; i < j->nmetas; i++) {
			printf("%s\n  {\"block\": %llu, \"local\": %u, "
			       "\"what\": ", i ? "," : "",
			       (unsigned long long)(j->start + j->metas[i].local),
			       j->metas[i].local);
			json_str(stdout, j->metas[i].desc);
			printf("}");
		}
		printf("%s]}\n", j->nmetas ? "\n" : "");
		return;
	}
	printf("chunk %u: header from %s, %zu in-use inodes, %zu "
	       "continuations, %zu forward links\n", j->chunk, j->hdr_src,
	       j->ninos, nconts, j->nfwds);
	for (i = 0; i < j->nmetas; i++)
		printf("  block %llu (local %u): %s\n",
		       (unsigned long long)(j->start + j->metas[i].local),
		       j->metas[i].local, j->metas[i].desc);
}

static int commit(struct inj *j, const char *image)
{
	size_t i;
	int r;

	for (i = 0; i < j->nmods; i++) {
		struct mod *m = &j->mods[i];

		if (m->reseal)
			((struct cfs_bhdr *)m->data)->crc = crc_of(m->data, j->bs);
		r = j->dev->ops->write(j->dev, (j->start + m->local) * j->bs,
				       m->data, j->bs);
		if (r) {
			tool_err("%s: writing block %llu: %s", image,
				 (unsigned long long)(j->start + m->local),
				 tool_strerror(r));
			return -1;
		}
	}
	r = j->dev->ops->flush(j->dev);
	if (r) {
		tool_err("%s: flush: %s", image, tool_strerror(r));
		return -1;
	}
	return 0;
}

static void inject_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s inject IMAGE --chunk N --what KIND [--seed S] "
		"[--block LOCAL] [--json] [--dry-run] [--force]\n"
		"       %s inject IMAGE --chunk N --list [--json]\n"
		"Damage chunk N of an unmounted image on purpose.  --block "
		"names the local block\nfor zero-block and flip-bits instead "
		"of a random metadata block.  --list prints the metadata "
		"blocks of the chunk\n(the targets) and writes nothing.  --force "
		"damages an image that is mounted\nor held by another process "
		"(without its lock): damage under a running filesystem.\n"
		"Kinds:\n", tool_prog, tool_prog);
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
	while ((opt = getopt_long(argc, argv, "c:w:s:b:ljnfh", lopts, NULL)) != -1) {
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
	if (j.have_block && kind && kind->fn != k_zero_block &&
	    kind->fn != k_flip_bits) {
		tool_err("inject: --block applies to zero-block and flip-bits "
			 "only");
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
	if (kind->fn) {
		done = kind->fn(&j) ? NULL : kind;
	} else {
		done = plan_random(&j);
	}
	if (!done) {
		tool_err("%s", j.err);
		goto out;
	}
	if (!dry && commit(&j, image))
		goto out;
	if (json) {
		printf("{\"chunk\": %u, \"kind\": \"%s\", \"requested\": \"%s\", "
		       "\"seed\": %llu, \"dry_run\": %s, \"header\": \"%s\", "
		       "\"changes\": [", j.chunk, done->name, kind->name, seed,
		       dry ? "true" : "false", j.hdr_src);
		for (i = 0; i < j.nchg; i++) {
			printf("%s\n  {\"block\": %llu, \"local\": %u, "
			       "\"what\": ", i ? "," : "",
			       (unsigned long long)(j.start + j.chg[i].local),
			       j.chg[i].local);
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
	free(j.metas);
	free(j.inos);
	free(j.fwds);
	free(j.seen);
	cfs_user_close(j.dev);
	return ret;
}
