// SPDX-License-Identifier: GPL-2.0
/*
 * super.c - geometry, mkfs, mount, sync and unmount; chunk headers and
 * chunk state.
 *
 * The superblock (block 0, copy in block 1) and every chunk header (first
 * block of the chunk, copy in its last block) are read and written directly,
 * not through the buffer cache.  Each chunk header repeats the geometry, so
 * the superblock can be rebuilt from any of them (invariant 6).
 */
#include "internal.h"
#include "check.h"

#define CFS_CACHE_BYTES (64ULL << 20)

static int is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

static u32 log2_u32(u32 x)
{
	u32 r = 0;

	while (x > 1) {
		x >>= 1;
		r++;
	}
	return r;
}

static u32 div_up(u64 a, u64 b)
{
	return (u32)((a + b - 1) / b);
}

/* Compute the layout of one chunk of nblocks blocks.  Deterministic: mount
 * recomputes it to validate (or replace) a damaged header; tools that read
 * damaged images (chunkfs inject) call it too. */
int cfs_chunk_layout(const struct cfs_geom *g, u32 index, u32 nblocks,
		     struct cfs_chunk_hdr *h)
{
	u32 bs = g->block_size;
	u32 bpb = (bs - (u32)sizeof(struct cfs_bhdr)) * 8;
	u32 ipb = (bs - (u32)sizeof(struct cfs_bhdr)) / CFS_INODE_SIZE;
	u64 ninodes = (u64)nblocks * bs / g->inode_ratio;
	u32 next, end;

	if (ninodes < 16)
		ninodes = 16;
	if (ninodes > 0x7fffffffULL)
		ninodes = 0x7fffffffULL;
	cfs_memset(h, 0, sizeof(*h));
	h->g = *g;
	h->index = index;
	h->nblocks = nblocks;
	h->itable_blocks = div_up(ninodes, ipb);
	h->ninodes = h->itable_blocks * ipb;
	h->bbmap_start = 1;
	h->bbmap_blocks = div_up(nblocks, bpb);
	h->ibmap_start = h->bbmap_start + h->bbmap_blocks;
	h->ibmap_blocks = div_up(h->ninodes, bpb);
	h->itable_start = h->ibmap_start + h->ibmap_blocks;
	next = h->itable_start + h->itable_blocks;
	if (g->feat_incompat & CFS_FEAT_INCOMPAT_DATASUM) {
		/* FORMAT.md 16.5, 16.6: a u32 per block of the chunk */
		u32 cpb = (bs - (u32)sizeof(struct cfs_bhdr)) / 4;

		h->csum_start = next;
		h->csum_blocks = div_up(nblocks, cpb);
		next += h->csum_blocks;
	}
	if (g->feat_incompat & CFS_FEAT_INCOMPAT_METAGEN) {
		/* FORMAT.md 16.5: the generation table covers every
		 * positional block before it */
		u32 gpb = (bs - (u32)sizeof(struct cfs_bhdr)) / 4;

		h->gtab_start = next;
		h->gtab_blocks = div_up(next - 1, gpb);
		if (h->gtab_blocks > (bs - CFS_GTAB_GEN_OFF) / 4)
			return -CFS_E2BIG;
		next += h->gtab_blocks;
	}
	h->journal_start = next;
	h->journal_blocks = g->journal_blocks;
	h->data_start = h->journal_start + h->journal_blocks;
	/* data area: data_start .. end-1; its first block is the link root */
	end = nblocks - 1;
	if (g->feat_incompat & CFS_FEAT_INCOMPAT_DUP) {
		u32 pos = h->gtab_start + h->gtab_blocks - 1;

		if (pos >= end)
			return -CFS_ENOSPC;
		h->mirror_start = end - pos;
		end = h->mirror_start;
	}
	/* the data area: the roots mkfs puts at its start (link index, and
	 * with PPTR the parent pointer tree and the name backup), then 32 */
	if ((u64)h->data_start + 3 + 32 > end)
		return -CFS_ENOSPC;
	h->free_blocks = end - h->data_start; /* mkfs takes the roots */
	h->free_inodes = h->ninodes - 1; /* local 0 is never used */
	h->state = CFS_CHUNK_CLEAN;
	h->next_gen = 1;
	return 0;
}

static u32 chunk_nblocks(const struct cfs_geom *g, u32 index)
{
	u64 first = CFS_FIRST_CHUNK_BLOCK + (u64)index * g->chunk_blocks;
	u64 left = g->total_blocks - first;

	return left < g->chunk_blocks ? (u32)left : g->chunk_blocks;
}

int cfs_mkfs_check(const struct cfs_bdev *dev, const struct cfs_mkfs_opts *o,
		   struct cfs_geom *g, const char **why)
{
	u32 bs = o->block_size ? o->block_size : 4096;
	u64 chunk = o->chunk_bytes, devblocks, nfull, rem, min_last;
	struct cfs_chunk_hdr h;
	int err;

	cfs_memset(g, 0, sizeof(*g));
	if (!is_pow2(bs) || bs < CFS_MIN_BLOCK_SIZE || bs > CFS_MAX_BLOCK_SIZE) {
		*why = "block size must be a power of two from 1024 to 65536";
		return -CFS_EINVAL;
	}
	devblocks = dev->size / bs;
	if (!chunk) {
		/* 1 GiB, or smaller on small devices so there are >= 4 chunks */
		chunk = CFS_DEFAULT_CHUNK_BYTES;
		while (chunk > CFS_MIN_CHUNK_BYTES && chunk * 4 > dev->size)
			chunk >>= 1;
		if (chunk < bs * 64ULL)
			chunk = bs * 64ULL;
	}
	if (chunk % bs) {
		*why = "chunk size must be a multiple of the block size";
		return -CFS_EINVAL;
	}
	if (chunk < CFS_MIN_CHUNK_BYTES) {
		*why = "chunk size must be at least 4 MiB";
		return -CFS_EINVAL;
	}
	if (chunk / bs > 0xffffffffULL) {
		*why = "chunk size too large for this block size (2^32 blocks)";
		return -CFS_EINVAL;
	}
	if (o->inode_ratio && (o->inode_ratio < 1024 ||
			       o->inode_ratio > (64u << 20))) {
		*why = "bytes-per-inode must be between 1024 and 64M";
		return -CFS_EINVAL;
	}
	if (o->reserve_pct > 50) {
		*why = "placement reserve must be at most 50 percent";
		return -CFS_EINVAL;
	}
	g->version = CFS_VERSION;
	g->block_size = bs;
	g->chunk_blocks = (u32)(chunk / bs);
	g->inode_ratio = o->inode_ratio ? o->inode_ratio : 16384;
	/* two halves, each for a whole commit's changes in this chunk */
	g->journal_blocks = g->chunk_blocks / 64;
	if (g->journal_blocks < 64)
		g->journal_blocks = 64;
	if (g->journal_blocks > 4096)
		g->journal_blocks = 4096;
	if (g->journal_blocks > g->chunk_blocks / 8)
		g->journal_blocks = g->chunk_blocks / 8;
	g->feat_incompat = CFS_FEAT_INCOMPAT_JOURNAL;
	if (!(o->no_features & CFS_MKFS_NO_METAGEN))
		g->feat_incompat |= CFS_FEAT_INCOMPAT_METAGEN;
	if (!(o->no_features & (CFS_MKFS_NO_METAGEN | CFS_MKFS_NO_DUP)))
		g->feat_incompat |= CFS_FEAT_INCOMPAT_DUP;
	if (!(o->no_features & (CFS_MKFS_NO_METAGEN | CFS_MKFS_NO_PPTR)))
		g->feat_ro_compat |= CFS_FEAT_RO_COMPAT_PPTR;
	if (!(o->no_features & (CFS_MKFS_NO_METAGEN | CFS_MKFS_NO_DATASUM)))
		g->feat_incompat |= CFS_FEAT_INCOMPAT_DATASUM;
	if (!(o->no_features & CFS_MKFS_NO_XCONT))
		g->feat_incompat |= CFS_FEAT_INCOMPAT_XCONT;
	if (!(o->no_features & (CFS_MKFS_NO_METAGEN | CFS_MKFS_NO_DIROVF)))
		g->feat_incompat |= CFS_FEAT_INCOMPAT_DIROVF;
	if (o->dir_hash_bits) {
		if (o->dir_hash_bits >= CFS_HASH_BITS) {
			*why = "directory hash bits: 1 to 34";
			return -CFS_EINVAL;
		}
		g->feat_incompat |= CFS_FEAT_INCOMPAT_HASHBITS;
		g->dir_hash_bits = o->dir_hash_bits;
	}
	g->reserve_pct = o->reserve_pct ? o->reserve_pct : 10;
	if (devblocks < CFS_FIRST_CHUNK_BLOCK + (u64)g->chunk_blocks) {
		*why = "device too small for one chunk";
		return -CFS_ENOSPC;
	}
	nfull = (devblocks - CFS_FIRST_CHUNK_BLOCK) / g->chunk_blocks;
	rem = (devblocks - CFS_FIRST_CHUNK_BLOCK) % g->chunk_blocks;
	min_last = (CFS_MIN_CHUNK_BYTES / 4) / bs; /* a short last chunk: 1 MiB */
	if (nfull + (rem >= min_last) > CFS_MAX_CHUNKS) {
		*why = "too many chunks (at most 524288): use larger chunks";
		return -CFS_EINVAL;
	}
	if (rem < min_last)
		rem = 0;
	g->nchunks = (u32)nfull + (rem ? 1 : 0);
	g->total_blocks = CFS_FIRST_CHUNK_BLOCK + nfull * g->chunk_blocks + rem;
	cfs_memcpy(g->uuid, o->uuid, 16);
	cfs_memcpy(g->label, o->label, sizeof(g->label));
	g->label[sizeof(g->label) - 1] = 0;
	g->mkfs_time = o->now_sec;
	g->hash_seed = host_crc32(0, o->uuid, 16) ^ 0x5bd1e995u;
	err = cfs_chunk_layout(g, 0, g->chunk_blocks, &h);
	if (err == -CFS_E2BIG) {
		*why = "chunk too large for its generation table with this "
		       "block size: use larger blocks or smaller chunks";
		return -CFS_EINVAL;
	}
	if (err) {
		*why = "chunk too small for its metadata";
		return -CFS_ENOSPC;
	}
	if (rem && cfs_chunk_layout(g, g->nchunks - 1, (u32)rem, &h)) {
		/* a short last chunk too small for its metadata: drop it */
		g->nchunks--;
		g->total_blocks -= rem;
	}
	return 0;
}

/* ---- raw header I/O ---- */

int super_write(struct cfs_fs *fs)
{
	u8 *blk = fs->scratch;
	int err;

	cfs_memset(blk, 0, fs->bs);
	fs->sb.jmap_off = CFS_JMAP_OFF;
	if (!fs->jmap)
		fs->sb.jmap_bits = 0;
	cfs_memcpy(blk, &fs->sb, sizeof(fs->sb));
	if (fs->jmap && fs->sb.jmap_bits)
		cfs_memcpy(blk + CFS_JMAP_OFF, fs->jmap, fs->bs - CFS_JMAP_OFF);
	buf_init_hdr(fs->g, blk, CFS_SB_BLOCK, CFS_NO_CHUNK, CFS_MAGIC_SUPER);
	err = raw_write(fs, CFS_SB_BLOCK, blk);
	if (err)
		return err;
	((struct cfs_bhdr *)blk)->blkno = CFS_SB2_BLOCK;
	return raw_write(fs, CFS_SB2_BLOCK, blk);
}



static void read_chunk_hdr(struct cfs_fs *fs, struct cfs_chunk *ch);

/* Read the chunk's headers again (the online scrub: damage that happened
 * under the mount); call with fs->checking set for the checker's
 * tolerance. */
void chunk_reread_hdr(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	read_chunk_hdr(fs, ch);
}

static void read_chunk_hdr(struct cfs_fs *fs, struct cfs_chunk *ch);

/* The slow path of chunk_get(): the chunk's first use in this mount. */
struct cfs_chunk *chunk_load(struct cfs_fs *fs, u32 index)
{
	struct cfs_chunk *ch;

	if (index >= fs->nchunks)
		return NULL;
	if (fs->chunks[index])
		return fs->chunks[index];
	ch = host_alloc(sizeof(*ch));
	if (!ch)
		return NULL;
	ch->index = index;
	ch->start = CFS_FIRST_CHUNK_BLOCK + (u64)index * fs->g->chunk_blocks;
	read_chunk_hdr(fs, ch);
	ch->bb_hint = ch->hdr.data_start;
	ch->jcap = journal_capacity(fs, ch);
	ch->ib_hint = 1;
	fs->chunks[index] = ch;
	orphans_queue(fs, index); /* looked at between operations */
	return ch;
}

const struct cfs_geom *cfs_geometry(struct cfs_fs *fs)
{
	return fs->g;
}

/* The format v2 features of the geometry, as flags of the instance. */
static void fs_features(struct cfs_fs *fs)
{
	u32 inc = fs->g->feat_incompat;

	fs->metagen = !!(inc & CFS_FEAT_INCOMPAT_METAGEN);
	fs->dup = fs->metagen && (inc & CFS_FEAT_INCOMPAT_DUP);
	fs->pptr = fs->metagen &&
		   (fs->g->feat_ro_compat & CFS_FEAT_RO_COMPAT_PPTR);
	fs->ev_path = fs->pptr ? pptr_path_any : NULL; /* events name files */
	fs->datasum = fs->metagen && (inc & CFS_FEAT_INCOMPAT_DATASUM);
	fs->xcont = !!(inc & CFS_FEAT_INCOMPAT_XCONT);
	fs->dirovf = !!(inc & CFS_FEAT_INCOMPAT_DIROVF);
	fs->hash_mask = (1ULL << CFS_HASH_BITS) - 1;
	if ((inc & CFS_FEAT_INCOMPAT_HASHBITS) && fs->g->dir_hash_bits &&
	    fs->g->dir_hash_bits < CFS_HASH_BITS)
		fs->hash_mask = (1ULL << fs->g->dir_hash_bits) - 1;
	fs->iroot_size = fs->metagen ? CFS_IROOT_SIZE_MG : CFS_IROOT_SIZE;
}

/* ---- mkfs ---- */

/* mkfs writes a positional block (FORMAT.md 16.4): with METAGEN it carries
 * the generation mkfs writes (1) and the generation table records it;
 * with DUP its second copy is written too. */
static int mkfs_write_pos(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
			  u8 *blk, u32 *gtab)
{
	if (fs->metagen) {
		((struct cfs_bhdr *)blk)->wgen = fs->gen;
		gtab[local - 1] = (u32)fs->gen;
	}
	buf_seal(fs, blk);
	return buf_write_copies(fs, blk, cfs_abs(ch, local),
				fs->dup ? cfs_abs(ch, chunk_mirror(ch, local))
					: 0);
}

/* An empty tree root block (the link index) and its copy. */
static int mkfs_root(struct cfs_fs *fs, struct cfs_chunk *ch, u32 tree,
		     u32 blk1, u32 blk2, u8 *blk)
{
	cfs_memset(blk, 0, fs->bs);
	buf_init_hdr(fs->g, blk, cfs_abs(ch, blk1), ch->index,
		     CFS_MAGIC_BTREE);
	((struct cfs_bhdr *)blk)->tree = tree;
	((struct cfs_bhdr *)blk)->wgen = fs->gen;
	bt_init_node(blk + sizeof(struct cfs_bhdr), CFS_PAYLOAD(fs));
	buf_seal(fs, blk);
	return buf_write_copies(fs, blk, cfs_abs(ch, blk1),
				blk2 ? cfs_abs(ch, blk2) : 0);
}

static int mkfs_chunk(struct cfs_fs *fs, struct cfs_chunk *ch,
		      const struct cfs_mkfs_opts *o, u32 *gtab)
{
	struct cfs_chunk_hdr *h = &ch->hdr;
	u32 bpb = CFS_PAYLOAD(fs) * 8, gpb = CFS_PAYLOAD(fs) / 4, i, bit;
	u32 de = chunk_data_end(ch), span = de - h->data_start;
	u8 *blk = fs->scratch;
	int err;

	/* The link index root: the first data block; its copy half a data
	 * area away (alloc_meta_pair's rule). */
	h->link_root = h->data_start;
	h->free_blocks--;
	if (fs->dup) {
		h->link_root2 = h->data_start + span / 2;
		h->free_blocks--;
	}
	h->link_gen = (u32)fs->gen;
	if (fs->pptr) {
		/* the parent pointer tree, and (with more than one chunk) the
		 * name backup of the chunk before: the next data blocks */
		h->pptr_root = h->data_start + 1;
		h->pptr_gen = (u32)fs->gen;
		h->free_blocks--;
		if (fs->g->nchunks > 1) {
			h->nbak_root = h->data_start + 2;
			h->nbak_gen = (u32)fs->gen;
			h->free_blocks--;
		}
		if (fs->dup) {
			h->pptr_root2 = h->data_start + (1 + span / 2) % span;
			h->free_blocks--;
			if (h->nbak_root) {
				h->nbak_root2 = h->data_start +
						(2 + span / 2) % span;
				h->free_blocks--;
			}
		}
	}
	if (fs->metagen)
		cfs_memset(gtab, 0, (u64)(h->gtab_start - 1) * 4);
	/* Block bitmap: metadata in front, the mirror region and the header
	 * copy at the end, bits past the chunk's end, and the roots. */
	for (i = 0; i < h->bbmap_blocks; i++) {
		u8 *bits = blk + sizeof(struct cfs_bhdr);

		cfs_memset(blk, 0, fs->bs);
		buf_init_hdr(fs->g, blk, cfs_abs(ch, h->bbmap_start + i),
			     ch->index, CFS_MAGIC_BBMAP);
		for (bit = 0; bit < bpb; bit++) {
			u64 b = (u64)i * bpb + bit;

			if (b <= h->data_start || b >= de ||
			    (h->link_root2 && b == h->link_root2) ||
			    (h->pptr_root && (b == h->pptr_root ||
					      b == h->pptr_root2)) ||
			    (h->nbak_root && (b == h->nbak_root ||
					      b == h->nbak_root2)))
				bits[bit / 8] |= (u8)(1u << (bit % 8));
		}
		err = mkfs_write_pos(fs, ch, h->bbmap_start + i, blk, gtab);
		if (err)
			return err;
	}
	err = mkfs_root(fs, ch, CFS_TREE_LINK, h->link_root, h->link_root2,
			blk);
	if (!err && h->pptr_root)
		err = mkfs_root(fs, ch, CFS_TREE_PPTR, h->pptr_root,
				h->pptr_root2, blk);
	if (!err && h->nbak_root)
		err = mkfs_root(fs, ch, CFS_TREE_NBAK, h->nbak_root,
				h->nbak_root2, blk);
	if (err)
		return err;
	/* Inode bitmap: local 0 is reserved; chunk 0 also holds the root. */
	for (i = 0; i < h->ibmap_blocks; i++) {
		u8 *bits = blk + sizeof(struct cfs_bhdr);

		cfs_memset(blk, 0, fs->bs);
		buf_init_hdr(fs->g, blk, cfs_abs(ch, h->ibmap_start + i),
			     ch->index, CFS_MAGIC_IBMAP);
		for (bit = 0; bit < bpb; bit++) {
			u64 n = (u64)i * bpb + bit;

			if (n == 0 || n >= h->ninodes ||
			    (ch->index == 0 && n == CFS_ROOT_LOCAL))
				bits[bit / 8] |= (u8)(1u << (bit % 8));
		}
		err = mkfs_write_pos(fs, ch, h->ibmap_start + i, blk, gtab);
		if (err)
			return err;
	}
	if (ch->index == 0) {
		struct cfs_dinode *di;

		cfs_memset(blk, 0, fs->bs);
		buf_init_hdr(fs->g, blk, cfs_abs(ch, h->itable_start), 0,
			     CFS_MAGIC_ITABLE);
		di = (struct cfs_dinode *)(blk + sizeof(struct cfs_bhdr)) +
		     CFS_ROOT_LOCAL;
		di->mode = CFS_S_IFDIR | 0755;
		di->nlink = 2;
		di->uid = o->root_uid;
		di->gid = o->root_gid;
		di->gen = h->next_gen++;
		di->atime = di->mtime = di->ctime = di->btime = o->now_sec;
		di->parent = CFS_ROOT_LOCAL;
		bt_init_node(di->root, fs->iroot_size);
		err = mkfs_write_pos(fs, ch, h->itable_start, blk, gtab);
		if (err)
			return err;
		h->itable_init = 1;
		h->free_inodes--;
	}
	/* The checksum region (DATASUM): written whole, entries zero (no
	 * data block is mapped yet). */
	for (i = 0; i < h->csum_blocks; i++) {
		cfs_memset(blk, 0, fs->bs);
		buf_init_hdr(fs->g, blk, cfs_abs(ch, h->csum_start + i),
			     ch->index, CFS_MAGIC_CSUM);
		err = mkfs_write_pos(fs, ch, h->csum_start + i, blk, gtab);
		if (err)
			return err;
	}
	/* The generation table, and its blocks' generations in the header. */
	for (i = 0; fs->metagen && i < h->gtab_blocks; i++) {
		u32 n = CFS_MIN(gpb, h->gtab_start - 1 - i * gpb);

		cfs_memset(blk, 0, fs->bs);
		buf_init_hdr(fs->g, blk, cfs_abs(ch, h->gtab_start + i),
			     ch->index, CFS_MAGIC_GTAB);
		cfs_memcpy(blk + sizeof(struct cfs_bhdr), gtab + (u64)i * gpb,
			   (u64)n * 4);
		((struct cfs_bhdr *)blk)->wgen = fs->gen;
		buf_seal(fs, blk);
		err = buf_write_copies(fs, blk, cfs_abs(ch, h->gtab_start + i),
				       fs->dup ? cfs_abs(ch, chunk_mirror(ch,
						h->gtab_start + i)) : 0);
		if (err)
			return err;
		ch->gtab_gen[i] = (u32)fs->gen;
	}
	return chunk_write_hdr(fs, ch);
}

/* "chunk-K": the name of chunk K's directory in /lost+found */
u32 chunk_dir_name(char *name, u32 k)
{
	char digits[12];
	u32 n = 0, len = 6;

	cfs_memcpy(name, "chunk-", 6);
	do {
		digits[n++] = (char)('0' + k % 10);
		k /= 10;
	} while (k);
	while (n)
		name[len++] = digits[--n];
	name[len] = 0;
	return len;
}

/* /lost+found (chunk 0, local inode 2) with a directory chunk-K living in
 * every chunk K, recorded in K's header: the checker of chunk K attaches
 * orphans there without writing anywhere else. */
static int mkfs_lost_found(struct cfs_bdev *dev, const struct cfs_mkfs_opts *o)
{
	struct cfs_inode *root = NULL, *lf = NULL, *d;
	struct cfs_fs *fs;
	const char *why;
	char name[24];
	u32 k, len;
	/* part of mkfs: not journaled (one operation makes every chunk-K) */
	int err = cfs_mount(dev, CFS_MOUNT_NOJOURNAL, &fs, &why);

	if (err)
		return err;
	host_mutex_lock(fs->lock);
	err = inode_get(fs, CFS_ROOT_INO, &root);
	if (!err)
		err = chunk_get(fs, 0) ? inode_alloc(fs, chunk_get(fs, 0),
			CFS_S_IFDIR | 0700, &lf) : -CFS_ENOMEM;
	if (!err && lf->local != CFS_LOST_FOUND_LOCAL)
		err = -CFS_EINVAL;
	if (!err) {
		lf->d.uid = o->root_uid;
		lf->d.gid = o->root_gid;
		lf->d.nlink = 2;
		err = dir_add(fs, root, "lost+found", 10, lf);
	}
	for (k = 0; !err && k < fs->nchunks; k++) {
		struct cfs_chunk *ch = chunk_get(fs, k);

		if (!ch) {
			err = -CFS_ENOMEM;
			break;
		}
		len = chunk_dir_name(name, k);
		err = inode_alloc(fs, ch, CFS_S_IFDIR | 0700, &d);
		if (err)
			break;
		d->d.uid = o->root_uid;
		d->d.gid = o->root_gid;
		d->d.nlink = 2;
		err = dir_add(fs, lf, name, len, d);
		if (!err) {
			ch->hdr.lost_found = d->local;
			ch->hdr_dirty = 1;
		}
		inode_put(fs, d);
	}
	inode_put(fs, lf);
	inode_put(fs, root);
	host_mutex_unlock(fs->lock);
	{
		int e = cfs_unmount(fs);

		return err ? err : e;
	}
}

int cfs_mkfs(struct cfs_bdev *dev, const struct cfs_mkfs_opts *o)
{
	struct cfs_fs fs;
	struct cfs_chunk ch;
	const char *why;
	u32 i, *gtab = NULL, *gtab_gen = NULL;
	int err;

	cfs_memset(&fs, 0, sizeof(fs));
	err = cfs_mkfs_check(dev, o, &fs.sb.g, &why);
	if (err)
		return err;
	fs.dev = dev;
	fs.g = &fs.sb.g;
	fs.bs = fs.g->block_size;
	fs.bshift = log2_u32(fs.bs);
	fs.wgen = 1;
	fs_features(&fs);
	fs.gen = 1; /* mkfs writes generation 1, then commit_group is 1 */
	fs.scratch = host_alloc(fs.bs);
	fs.copybuf = host_alloc(fs.bs);
	gtab = host_alloc(((u64)fs.g->chunk_blocks + 1) * 4);
	gtab_gen = host_alloc(fs.bs);
	if (!fs.scratch || !fs.copybuf || !gtab || !gtab_gen) {
		err = -CFS_ENOMEM;
		goto out;
	}
	for (i = 0; i < fs.g->nchunks; i++) {
		cfs_memset(&ch, 0, sizeof(ch));
		ch.index = i;
		ch.start = CFS_FIRST_CHUNK_BLOCK + (u64)i * fs.g->chunk_blocks;
		ch.gtab_gen = gtab_gen;
		cfs_chunk_layout(fs.g, i, chunk_nblocks(fs.g, i), &ch.hdr);
		err = mkfs_chunk(&fs, &ch, o, gtab);
		if (err)
			goto out;
	}
	fs.sb.state = CFS_FS_CLEAN;
	fs.sb.last_write_time = o->now_sec;
	if (fs.metagen)
		fs.sb.commit_group = fs.gen;
	err = super_write(&fs);
	if (!err)
		err = dev->ops->flush(dev);
out:
	host_free(fs.scratch);
	host_free(fs.copybuf);
	host_free(gtab);
	host_free(gtab_gen);
	if (!err)
		err = mkfs_lost_found(dev, o);
	return err;
}

/* ---- mount ---- */

static int geom_sane(const struct cfs_geom *g, u64 devsize, const char **why)
{
	if (g->version != CFS_VERSION) {
		*why = "unsupported format version";
		return -CFS_EINVAL;
	}
	if (!is_pow2(g->block_size) || g->block_size < CFS_MIN_BLOCK_SIZE ||
	    g->block_size > CFS_MAX_BLOCK_SIZE) {
		*why = "corrupt superblock: bad block size";
		return -CFS_EUCLEAN;
	}
	if ((u64)g->chunk_blocks * g->block_size < CFS_MIN_CHUNK_BYTES ||
	    !g->nchunks || g->nchunks > CFS_MAX_CHUNKS ||
	    g->total_blocks < CFS_FIRST_CHUNK_BLOCK + (u64)(g->nchunks - 1) *
	    g->chunk_blocks + 1 || g->total_blocks > CFS_FIRST_CHUNK_BLOCK +
	    (u64)g->nchunks * g->chunk_blocks || g->inode_ratio < 1024 ||
	    g->journal_blocks >= g->chunk_blocks || g->reserve_pct > 50) {
		*why = "corrupt superblock: inconsistent geometry";
		return -CFS_EUCLEAN;
	}
	if ((g->total_blocks - CFS_FIRST_CHUNK_BLOCK - 1) % g->chunk_blocks + 1 <
	    (CFS_MIN_CHUNK_BYTES / 4) / g->block_size) {
		*why = "corrupt superblock: last chunk too small";
		return -CFS_EUCLEAN;
	}
	if (g->total_blocks * g->block_size > devsize) {
		*why = "device is smaller than the filesystem (truncated image?)";
		return -CFS_EINVAL;
	}
	return 0;
}

/* Try the superblock at block `blk` for every possible block size. */
static int read_super_at(struct cfs_bdev *dev, u64 blk, u8 *buf,
			 struct cfs_super *out)
{
	u32 bs;

	for (bs = CFS_MIN_BLOCK_SIZE; bs <= CFS_MAX_BLOCK_SIZE; bs <<= 1) {
		struct cfs_super *s = (struct cfs_super *)buf;

		if ((blk + 1) * bs > dev->size)
			break;
		if (dev->ops->read(dev, blk * bs, buf, bs))
			continue;
		if (s->h.magic != CFS_MAGIC_SUPER || s->g.block_size != bs ||
		    s->h.blkno != blk || s->h.chunk != CFS_NO_CHUNK ||
		    cfs_memcmp(s->h.uuid, s->g.uuid, 16) ||
		    host_crc32(0, buf + 4, bs - 4) != s->h.crc)
			continue;
		cfs_memcpy(out, buf, sizeof(*out));
		return 0;
	}
	return -CFS_EUCLEAN;
}

int cfs_read_super(struct cfs_bdev *dev, struct cfs_super *out, u64 *blk)
{
	u8 *buf = host_alloc(CFS_MAX_BLOCK_SIZE);
	int err;

	if (!buf)
		return -CFS_ENOMEM;
	*blk = CFS_SB_BLOCK;
	err = read_super_at(dev, CFS_SB_BLOCK, buf, out);
	if (err) {
		*blk = CFS_SB2_BLOCK;
		err = read_super_at(dev, CFS_SB2_BLOCK, buf, out);
	}
	host_free(buf);
	return err;
}

static void read_chunk_hdr(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	struct cfs_chunk_hdr want;
	u32 nb = chunk_nblocks(fs->g, ch->index), copy, have_gen = 0;
	const char *why = "";
	int have = 0;

	cfs_chunk_layout(fs->g, ch->index, nb, &want);
	ch->hdr_bad = 0;
	ch->hdr_stale = 0;
	if (fs->metagen && !ch->gtab_gen) {
		ch->gtab_gen = host_alloc((u64)want.gtab_blocks * 4 + 4);
		if (!ch->gtab_gen)
			why = "out of memory";
	}
	for (copy = 0; copy < 2 && (!fs->metagen || ch->gtab_gen); copy++) {
		u64 blk = cfs_abs(ch, copy ? nb - 1 : 0);
		const struct cfs_chunk_hdr *h =
			(const struct cfs_chunk_hdr *)fs->hdrbuf;
		const char *w = NULL;
		u32 gen;

		if (fs->dev->ops->read(fs->dev, blk << fs->bshift, fs->hdrbuf,
				       fs->bs))
			w = "read error";
		else if (buf_verify(fs, fs->hdrbuf, blk, ch->index,
				    CFS_MAGIC_CHUNK, &w))
			;
		else if (h->index != ch->index || h->nblocks != nb ||
		    h->bbmap_start != want.bbmap_start ||
		    h->bbmap_blocks != want.bbmap_blocks ||
		    h->ibmap_start != want.ibmap_start ||
		    h->ibmap_blocks != want.ibmap_blocks ||
		    h->itable_start != want.itable_start ||
		    h->itable_blocks != want.itable_blocks ||
		    h->journal_start != want.journal_start ||
		    h->journal_blocks != want.journal_blocks ||
		    h->data_start != want.data_start ||
		    h->gtab_start != want.gtab_start ||
		    h->gtab_blocks != want.gtab_blocks ||
		    h->csum_start != want.csum_start ||
		    h->csum_blocks != want.csum_blocks ||
		    h->mirror_start != want.mirror_start ||
		    h->ninodes != want.ninodes || h->free_blocks >= nb ||
		    h->free_inodes >= h->ninodes ||
		    h->itable_init > h->itable_blocks ||
		    h->link_root < h->data_start || h->link_root >= nb - 1 ||
		    (h->mirror_start && (h->link_root >= h->mirror_start ||
					 h->link_root2 < h->data_start ||
					 h->link_root2 >= h->mirror_start ||
					 h->link_root2 == h->link_root)) ||
		    (fs->pptr && (h->pptr_root < h->data_start ||
				  h->pptr_root >= nb - 1 ||
				  (h->nbak_root && (h->nbak_root < h->data_start ||
						    h->nbak_root >= nb - 1)))) ||
		    h->state < CFS_CHUNK_CLEAN || h->state > CFS_CHUNK_REPAIRING ||
		    h->g.block_size != fs->g->block_size ||
		    h->g.chunk_blocks != fs->g->chunk_blocks ||
		    h->g.nchunks != fs->g->nchunks ||
		    h->g.total_blocks != fs->g->total_blocks ||
		    cfs_memcmp(h->g.uuid, fs->g->uuid, 16))
			w = "chunk header disagrees with the geometry";
		if (w) {
			why = w;
			ch->hdr_bad |= (u8)(1u << copy);
			continue;
		}
		/* Both copies good: the newer (higher generation) is current,
		 * the other stale (FORMAT.md 16.1); a tie keeps the first. */
		gen = (u32)h->h.wgen;
		if (have && (u32)(gen - have_gen) != 0) {
			if ((s32)(gen - have_gen) > 0) {
				chunk_hdr_load(fs, ch, fs->hdrbuf);
				ch->hdr_stale = 1;	/* the first copy */
				have_gen = gen;
			} else {
				ch->hdr_stale = 2;	/* this copy */
			}
			continue;
		}
		if (!have) {
			chunk_hdr_load(fs, ch, fs->hdrbuf);
			have = 1;
			have_gen = gen;
		}
	}
	if (have && ch->hdr_stale && !fs->checking) {
		/* rewritten whole with the next commit (both copies): a crash
		 * between the two header writes of a commit leaves this,
		 * which is no damage (no event) */
		host_log(CFS_LOG_INFO, "chunk %u: %s header copy is stale; "
			 "rewritten", ch->index,
			 ch->hdr_stale == 1 ? "first" : "second");
		if (!fs->rdonly) {
			ch->hdr_dirty = 1;
			ch->changed = 1;
		}
	}
	if (have && ch->hdr_bad && fs->metagen) {
		/* format v2: one bad copy of the header is healed from the
		 * other (both rewritten with the next commit) */
		char msg[96];

		if (fs->checking)
			return; /* the checker reports and rewrites it */
		cfs_format(msg, sizeof(msg), "chunk %u block %u (chunk "
			   "header): %s; %s from its copy", ch->index,
			   (ch->hdr_bad & 1) ? 0 : nb - 1, why,
			   fs->rdonly ? "read" : "healed");
		ch->hdr.errors_corrected++;
		fs->ncorrected++;
		if (!fs->rdonly) {
			ch->hdr_dirty = 1;
			ch->changed = 1;
		}
		fs_event(fs, CHUNKFS_EV_WARNING, CHUNKFS_E_CORRECTED,
			 ch->index, 0, msg);
		return;
	}
	if (have && (ch->hdr_bad & 1)) {
		host_log(CFS_LOG_WARN, "chunk %u: primary header bad, using "
			 "the copy", ch->index);
		if (!fs->checking) {
			ch->hdr.state = CFS_CHUNK_SUSPECT;
			ch->hdr_dirty = 1;
		}
	}
	if (have)
		return;
	if (!fs->checking)
		host_log(CFS_LOG_ERR, "chunk %u: both headers unusable (%s); "
			 "chunk marked damaged", ch->index, why);
	ch->hdr = want;
	ch->hdr.state = CFS_CHUNK_DAMAGED;
	ch->hdr.free_blocks = 0;
	ch->hdr.free_inodes = 0;
}

static void fs_free(struct cfs_fs *fs)
{
	if (!fs)
		return;
	buf_drop_all(fs);
	host_free(fs->ihash);
	if (fs->chunks) {
		u32 i;

		for (i = 0; i < fs->nchunks; i++) {
			if (fs->chunks[i]) {
				host_free(fs->chunks[i]->pfree);
				host_free(fs->chunks[i]->pnew);
				host_free(fs->chunks[i]->pzero);
				host_free(fs->chunks[i]->gtab_gen);
			}
			host_free(fs->chunks[i]);
		}
	}
	host_free(fs->chunks);
	host_free(fs->zero);
	host_free(fs->scratch);
	host_free(fs->hdrbuf);
	host_free(fs->copybuf);
	host_free(fs->dbuf);
	dsum_job_free(fs->dsj);
	host_free(fs->jmap);
	host_free(fs->ev);
	host_free(fs->orphan_q);
	host_mutex_free(fs->lock);
	if (fs->freeze_lock)
		host_mutex_free(fs->freeze_lock);
	host_free(fs->inval);
	host_free(fs->inval_ent);
	host_free(fs);
}

/* Both superblock copies bad: find the geometry in a chunk header (chunk 0's
 * primary at block 2, its copy, or chunk 1's primary) for each possible
 * block size and chunk size. */
static int rebuild_super(struct cfs_fs *fs, u8 *buf)
{
	u32 bs;
	u64 cb;

	for (bs = CFS_MIN_BLOCK_SIZE; bs <= CFS_MAX_BLOCK_SIZE; bs <<= 1) {
		u64 cand[3];
		u32 i;

		for (cb = CFS_MIN_CHUNK_BYTES / bs; cb <= 0xffffffffULL &&
		     cb * bs <= fs->dev->size; cb <<= 1) {
			cand[0] = CFS_FIRST_CHUNK_BLOCK;
			cand[1] = CFS_FIRST_CHUNK_BLOCK + cb - 1;
			cand[2] = CFS_FIRST_CHUNK_BLOCK + cb;
			for (i = 0; i < 3; i++) {
				const struct cfs_chunk_hdr *h = (const void *)buf;

				if ((cand[i] + 1) * bs > fs->dev->size ||
				    fs->dev->ops->read(fs->dev, cand[i] * bs, buf,
						       bs))
					continue;
				if (h->h.magic != CFS_MAGIC_CHUNK ||
				    h->g.block_size != bs ||
				    h->g.chunk_blocks != cb || h->h.blkno != cand[i] ||
				    host_crc32(0, buf + 4, bs - 4) != h->h.crc)
					continue;
				cfs_memset(&fs->sb, 0, sizeof(fs->sb));
				fs->sb.g = h->g;
				fs->sb.state = CFS_FS_DIRTY;
				return 0;
			}
			if (!i)
				break;
		}
	}
	return -CFS_EUCLEAN;
}

/* Replay the journals of the chunks the superblock's map names (every
 * chunk's if there is no map).  Read-only: into the buffer cache only.
 * Read-write: in place, then flushed, then the map is emptied (the
 * superblock is written by the caller's mount, or here for fsck). */
static int replay_journals(struct cfs_fs *fs)
{
	u32 k, named = 0;
	int err;

	if (!fs->sb.commit_group)
		return 0;
	for (k = 0; k < fs->nchunks; k++) {
		struct cfs_chunk *ch;
		int r;

		if (!journal_in_map(fs, k))
			continue;
		named++;
		ch = chunk_get(fs, k);
		if (!ch)
			return -CFS_ENOMEM;
		r = journal_replay(fs, ch, fs->sb.jmap_bits != 0, fs->rdonly);
		if (r == -CFS_ENOMEM)
			return r;
		if (r < 0) {
			/* for fsck's default run too: it checks this chunk */
			ch->hdr.state = CFS_CHUNK_SUSPECT;
			if (!fs->checking) {
				ch->hdr.errors_found++;
				ch->hdr_dirty = 1;
				ch->changed = 1;
			}
		}
	}
	if (fs->rdonly || !named)
		return 0;
	err = fs->dev->ops->flush(fs->dev);
	if (err)
		return err;
	journal_map_clear(fs);
	if (!fs->checking)
		return 0; /* the mount writes the superblock next */
	err = super_write(fs);
	if (!err)
		err = fs->dev->ops->flush(fs->dev);
	return err;
}

static int super_mounted_rw(struct cfs_fs *fs);

static int mount_common(struct cfs_bdev *dev, u32 flags, struct cfs_fs **out,
			const char **why, int checking)
{
	const char *dummy;
	struct cfs_fs *fs;
	u8 *buf, *copy;
	u64 cg = 0, mc = 0;
	int err;

	if (!why)
		why = &dummy;
	*why = "";
	fs = host_alloc(sizeof(*fs));
	buf = host_alloc(CFS_MAX_BLOCK_SIZE);
	if (!fs || !buf) {
		host_free(fs);
		host_free(buf);
		*why = "out of memory";
		return -CFS_ENOMEM;
	}
	fs->dev = dev;
	fs->g = &fs->sb.g;
	fs->checking = checking;
	fs->rdonly = (flags & CFS_MOUNT_RDONLY) || dev->readonly;
	/* both copies: the newer of two good ones is current (FORMAT.md
	 * 16.1), the other stale (rewritten by the mount's superblock
	 * write) */
	copy = host_alloc(CFS_MAX_BLOCK_SIZE);
	if (!copy || read_super_at(dev, CFS_SB2_BLOCK, copy, &fs->sb)) {
		fs->sb_bad |= 2;
		host_free(copy);
		copy = NULL;
	} else {
		cg = fs->sb.commit_group;
		mc = fs->sb.mount_count;
	}
	err = read_super_at(dev, CFS_SB_BLOCK, buf, &fs->sb);
	if (!err && copy && (fs->sb.commit_group < cg ||
			     (fs->sb.commit_group == cg &&
			      fs->sb.mount_count < mc))) {
		cfs_memcpy(buf, copy, CFS_MAX_BLOCK_SIZE);
		cfs_memcpy(&fs->sb, copy, sizeof(fs->sb));
		fs->sb_bad |= 8;
		if (!checking)
			host_log(CFS_LOG_WARN, "primary superblock stale; "
				 "using its newer copy");
	} else if (!err && copy &&
		   (fs->sb.g.feat_incompat & CFS_FEAT_INCOMPAT_METAGEN) &&
		   (fs->sb.commit_group > cg ||
		    (fs->sb.commit_group == cg && fs->sb.mount_count > mc))) {
		fs->sb_bad |= 16; /* the copy is the older one */
	}
	host_free(copy);
	if (err) {
		fs->sb_bad |= 1;
		err = read_super_at(dev, CFS_SB2_BLOCK, buf, &fs->sb);
		if (!err && !checking)
			host_log(CFS_LOG_WARN,
				 "primary superblock bad; using its copy");
	}
	if (err && checking) {
		err = rebuild_super(fs, buf);
		if (!err)
			fs->sb_bad |= 4;
	}
	if (!err && !(fs->sb_bad & 4) && fs->sb.commit_group) {
		/* the journal map follows the superblock in its block */
		u32 bs = fs->sb.g.block_size, cap;

		cap = bs > CFS_JMAP_OFF ? (bs - CFS_JMAP_OFF) * 8 : 0;
		fs->jmap = host_alloc(bs > CFS_JMAP_OFF ? bs - CFS_JMAP_OFF : 8);
		if (!fs->jmap)
			err = -CFS_ENOMEM;
		else if (fs->sb.jmap_off != CFS_JMAP_OFF ||
			 fs->sb.jmap_bits > cap ||
			 (fs->sb.jmap_bits &&
			  fs->sb.jmap_bits != fs->sb.g.nchunks))
			fs->sb.jmap_bits = 0; /* unusable: look at every chunk */
		else
			cfs_memcpy(fs->jmap, buf + CFS_JMAP_OFF,
				   bs - CFS_JMAP_OFF);
	}
	host_free(buf);
	if (err) {
		/* the checker looked for chunk headers to rebuild from too */
		*why = checking ? "not a chunkfs filesystem (no superblock and "
				  "no chunk header found)" :
		       "no chunkfs superblock found (not a chunkfs image, or "
		       "both superblock copies damaged: run fsck.chunkfs)";
		host_free(fs->jmap);
		host_free(fs);
		return -CFS_EINVAL;
	}
	err = geom_sane(fs->g, dev->size, why);
	if (err) {
		host_free(fs->jmap);
		host_free(fs);
		return err;
	}
	if (fs->g->feat_incompat & ~CFS_FEAT_INCOMPAT_SUPP) {
		*why = "filesystem uses incompatible features this version "
		       "does not know; refusing to mount";
		host_free(fs->jmap);
		host_free(fs);
		return -CFS_EINVAL;
	}
	if ((fs->g->feat_incompat & CFS_FEAT_INCOMPAT_NEED_MG) &&
	    !(fs->g->feat_incompat & CFS_FEAT_INCOMPAT_METAGEN)) {
		*why = "corrupt superblock: format v2 features without "
		       "generations (METAGEN)";
		host_free(fs->jmap);
		host_free(fs);
		return -CFS_EINVAL;
	}
	if ((fs->g->feat_ro_compat & ~CFS_FEAT_RO_COMPAT_SUPP) && !fs->rdonly) {
		*why = "filesystem uses read-only-compatible features this "
		       "version does not know; mount it read-only";
		host_free(fs->jmap);
		host_free(fs);
		return -CFS_EROFS;
	}
	fs->bs = fs->g->block_size;
	fs->bshift = log2_u32(fs->bs);
	fs->nchunks = fs->g->nchunks;
	fs->wgen = fs->sb.mount_count + 1;
	fs_features(fs);
	/* what is modified goes with the next commit (or, without the
	 * journal, this session: FORMAT.md 16.1) */
	fs->gen = fs->sb.commit_group + 1;
	fs->lock = host_mutex_new();
	fs->zero = host_alloc(fs->bs);
	fs->scratch = host_alloc(fs->bs);
	fs->hdrbuf = host_alloc(fs->bs);
	fs->copybuf = host_alloc(fs->bs);
	fs->dbuf = host_alloc((u64)fs->bs * 2);
	fs->chunks = host_alloc((u64)fs->nchunks * sizeof(*fs->chunks));
	if (!fs->jmap)
		fs->jmap = host_alloc(fs->bs > CFS_JMAP_OFF ?
				      fs->bs - CFS_JMAP_OFF : 8);
	fs->ihash_mask = 4095;
	fs->ihash = host_alloc((fs->ihash_mask + 1) * sizeof(*fs->ihash));
	if (!fs->lock || !fs->zero || !fs->scratch || !fs->hdrbuf ||
	    !fs->copybuf || !fs->dbuf ||
	    !fs->chunks || !fs->jmap ||
	    !fs->ihash || buf_cache_init(fs, CFS_CACHE_BYTES)) {
		*why = "out of memory";
		fs_free(fs);
		return -CFS_ENOMEM;
	}
	/* Chunk headers are read on first use (chunk_get), not here; the
	 * journals of the chunks the last commit named are replayed first. */
	fs->rw_journal = !checking && !(flags & CFS_MOUNT_NOJOURNAL);
	fs->journal = fs->rw_journal && !fs->rdonly;
	fs->ro_replayed = fs->rdonly;
	fs->checking_offline = checking;
	if (!checking && (events_init(fs) ||
			  !(fs->freeze_lock = host_mutex_new()))) {
		*why = "out of memory";
		fs_free(fs);
		return -CFS_ENOMEM;
	}
	if (!checking && fs->metagen && (fs->sb_bad & (1 | 2 | 8))) {
		/* one superblock copy bad or stale (a newer one is used): a
		 * corrected error; a read-write mount rewrites both below */
		fs->ncorrected++;
		fs_event(fs, CHUNKFS_EV_WARNING, CHUNKFS_E_CORRECTED,
			 CHUNKFS_NO_CHUNK, 0, (fs->sb_bad & 8) ?
			 "superblock: the primary copy is stale; the newer copy "
			 "is used" : (fs->sb_bad & 1) ?
			 "superblock: the primary copy is bad; its copy is used" :
			 "superblock: its copy (block 1) is bad");
	}
	fs->sync_mode = !!(flags & CFS_MOUNT_SYNC);
	err = (flags & CFS_MOUNT_NOREPLAY) ? 0 : replay_journals(fs);
	if (err) {
		*why = err == -CFS_ENOMEM ? "out of memory" :
		       "cannot write the replayed journal blocks";
		fs_free(fs);
		return err;
	}
	if (checking) {
		*out = fs;
		return 0;
	}
	if (!chunk_get(fs, 0)) {
		*why = "out of memory";
		fs_free(fs);
		return -CFS_ENOMEM;
	}
	if (fs->chunks[0]->hdr_bad == 3) {
		*why = "chunk 0 (holding the root directory) is damaged: run "
		       "fsck.chunkfs";
		fs_free(fs);
		return -CFS_EUCLEAN;
	}
	{
		struct cfs_inode *root;

		err = inode_get(fs, CFS_ROOT_INO, &root);
		if (!err && !CFS_ISDIR(root->d.mode)) {
			inode_put(fs, root);
			err = -CFS_EUCLEAN;
		}
		if (err) {
			*why = "root directory unreadable: run fsck.chunkfs";
			fs_free(fs);
			return err;
		}
		inode_put(fs, root);
	}
	if (fs->journal) {
		/* from now on every chunk loaded has its orphan list looked
		 * at; chunk 0 and the replayed ones are loaded already */
		u32 k;

		fs->orphans_on = 1;
		for (k = 0; k < fs->nchunks; k++)
			if (fs->chunks[k])
				orphans_queue(fs, k);
	}
	if (!fs->rdonly) {
		err = super_mounted_rw(fs);
		if (err) {
			*why = "cannot write the superblock";
			fs_free(fs);
			return err;
		}
	}
	*out = fs;
	return 0;
}

int cfs_mount(struct cfs_bdev *dev, u32 flags, struct cfs_fs **out,
	      const char **why)
{
	return mount_common(dev, flags, out, why, 0);
}

/* The superblock of a read-write mount: mounted once more, DIRTY. */
static int super_mounted_rw(struct cfs_fs *fs)
{
	s64 sec;
	u32 ns;
	int err;

	host_now(&sec, &ns);
	fs->sb.mount_count++;
	fs->sb.last_mount_time = sec;
	fs->sb.state = CFS_FS_DIRTY;
	fs->wgen = fs->sb.mount_count + 1; /* mkfs wrote generation 1 */
	err = super_write(fs);
	if (!err)
		err = fs->dev->ops->flush(fs->dev);
	return err;
}

/* The last commit of a journaled mount (unmount, remount read-only): it
 * marks what this mount dirtied CLEAN; once it is in place, the
 * superblock says so with an empty map. */
static int commit_clean(struct cfs_fs *fs)
{
	s64 sec;
	u32 ns;
	int err;

	err = journal_commit(fs, 1);
	if (!err)
		err = fs->dev->ops->flush(fs->dev);
	if (!err) {
		host_now(&sec, &ns);
		fs->sb.state = CFS_FS_CLEAN;
		fs->sb.last_write_time = sec;
		journal_map_clear(fs);
		err = super_write(fs);
	}
	if (!err)
		err = fs->dev->ops->flush(fs->dev);
	return err;
}

/* Read-write to read-only, as an unmount leaves the disk: everything
 * committed, the chunks this mount dirtied and the superblock CLEAN. */
static int remount_ro(struct cfs_fs *fs, const char **why)
{
	int err;

	if (fs->norphan_q && fs->journal)
		orphans_process(fs);
	err = commit_clean(fs);
	if (err) {
		*why = "cannot write the filesystem back";
		return err;
	}
	fs->rdonly = 1;
	fs->journal = 0;
	return 0;
}

/* Read-only to read-write.  A filesystem mounted read-only replayed its
 * journals into the cache only: now they are replayed in place (the
 * same images: the cache's replayed blocks are what the disk holds
 * then), as a read-write mount would have. */
static int remount_rw(struct cfs_fs *fs, const char **why)
{
	struct cfs_journal_stats js = fs->jstat;
	u32 k;
	int err;

	if (fs->dev->readonly) {
		*why = "the device is read-only";
		return -CFS_EROFS;
	}
	if (fs->g->feat_ro_compat & ~CFS_FEAT_RO_COMPAT_SUPP) {
		*why = "filesystem uses read-only-compatible features this "
		       "version does not know";
		return -CFS_EROFS;
	}
	fs->rdonly = 0;
	if (fs->ro_replayed) {
		err = replay_journals(fs);
		fs->jstat = js; /* counted once, by the mount */
		if (err) {
			fs->rdonly = 1;
			*why = "cannot write the replayed journal blocks";
			return err;
		}
		buf_clean_all(fs);
		fs->ro_replayed = 0;
	}
	err = super_mounted_rw(fs);
	if (err) {
		fs->rdonly = 1;
		*why = "cannot write the superblock";
		return err;
	}
	fs->journal = 1;
	/* the orphans of a crash, and those whose last user went while
	 * read-only, are freed between the next operations */
	fs->orphans_on = 1;
	for (k = 0; k < fs->nchunks; k++)
		if (fs->chunks[k])
			orphans_queue(fs, k);
	return 0;
}

int cfs_remount(struct cfs_fs *fs, u32 flags, const char **why)
{
	const char *dummy;
	int ro = !!(flags & CFS_MOUNT_RDONLY), err = 0;

	if (!why)
		why = &dummy;
	*why = "";
	if (!fs->rw_journal)
		return -CFS_EINVAL; /* the checker's or a bulk load's */
	host_mutex_lock(fs->lock);
	fs->sync_mode = !!(flags & CFS_MOUNT_SYNC);
	if (ro && !fs->rdonly)
		err = remount_ro(fs, why);
	else if (!ro && fs->rdonly)
		err = remount_rw(fs, why);
	host_mutex_unlock(fs->lock);
	return err;
}

int cfs_mount_check(struct cfs_bdev *dev, u32 flags, struct cfs_fs **out,
		    const char **why)
{
	return mount_common(dev, flags, out, why, 1);
}

u32 cfs_nchunks(struct cfs_fs *fs)
{
	return fs->nchunks;
}

u32 cfs_chunk_state(struct cfs_fs *fs, u32 chunk)
{
	struct cfs_chunk *ch;
	u32 state = 0;

	host_mutex_lock(fs->lock);
	ch = chunk_get(fs, chunk);
	if (ch) {
		state = ch->hdr.state;
		/* a header copy found bad when it was read makes a clean
		 * chunk suspect */
		if (ch->hdr_bad && state == CFS_CHUNK_CLEAN)
			state = CFS_CHUNK_SUSPECT;
	}
	host_mutex_unlock(fs->lock);
	return state;
}

int fs_sync_locked(struct cfs_fs *fs)
{
	u32 i;
	int err, e;

	if (fs->rdonly)
		return 0;
	if (fs->journal)
		return journal_commit(fs, 0);
	err = buf_flush_all(fs);
	for (i = 0; i < fs->nchunks; i++) {
		if (fs->chunks[i] && fs->chunks[i]->hdr_dirty) {
			e = chunk_write_hdr(fs, fs->chunks[i]);
			if (e && !err)
				err = e;
		}
	}
	e = fs->dev->ops->flush(fs->dev);
	return err ? err : e;
}

int cfs_sync(struct cfs_fs *fs)
{
	int err;

	host_mutex_lock(fs->lock);
	err = fs_sync_locked(fs);
	host_mutex_unlock(fs->lock);
	return err;
}

/* Inodes still referenced at unmount: unlinked ones are freed now. */
static void evict_all(struct cfs_fs *fs)
{
	u32 i;

	for (i = 0; i <= fs->ihash_mask; i++) {
		while (fs->ihash[i]) {
			struct cfs_inode *ip = fs->ihash[i];

			ip->nlookup = 0;
			ip->refs = 1;
			inode_put(fs, ip);
			if (fs->ihash[i] == ip) {
				/* could not evict (I/O error): unhash */
				fs->ihash[i] = ip->hnext;
				host_free(ip);
			}
		}
	}
}

int cfs_unmount(struct cfs_fs *fs)
{
	return cfs_unmount_stats(fs, NULL);
}

int cfs_unmount_stats(struct cfs_fs *fs, struct cfs_journal_stats *js)
{
	s64 sec;
	u32 ns, i;
	int err = 0;

	host_mutex_lock(fs->lock);
	if (fs->journal)
		orphans_process(fs);
	evict_all(fs);
	if (fs->journal && fs->norphan_q) {
		/* files whose last name went with the eviction: freed in
		 * rounds through the orphan list (inode_evict_if_unused) */
		orphans_process(fs);
		evict_all(fs);
	}
	if (fs->journal) {
		err = commit_clean(fs);
	} else if (!fs->rdonly) {
		err = fs_sync_locked(fs);
		if (!err) {
			for (i = 0; i < fs->nchunks; i++) {
				struct cfs_chunk *ch = fs->chunks[i];

				if (ch && ch->marked_dirty &&
				    ch->hdr.state == CFS_CHUNK_DIRTY) {
					ch->hdr.state = CFS_CHUNK_CLEAN;
					err = chunk_write_hdr(fs, ch);
					if (err)
						break;
				}
			}
		}
		if (!err && !fs->checking) {
			/* (the checker writes the superblock only to repair it,
			 * or to end its generation, below) */
			host_now(&sec, &ns);
			fs->sb.state = CFS_FS_CLEAN;
			fs->sb.last_write_time = sec;
			if (fs->gen_used)
				fs->sb.commit_group = fs->gen;
			err = super_write(fs);
		} else if (!err && fs->gen_used) {
			/* blocks written without the journal carry generation
			 * commit_group + 1, which the next commit must not
			 * reuse (FORMAT.md 16.1) */
			err = fs->dev->ops->flush(fs->dev);
			if (!err) {
				fs->sb.commit_group = fs->gen;
				journal_map_clear(fs);
				err = super_write(fs);
			}
		}
		if (!err)
			err = fs->dev->ops->flush(fs->dev);
	}
	if (js)
		*js = fs->jstat;
	i = buf_held(fs);
	if (i) {
		/* a bug: reported, and the unmount's result says so */
		host_log(CFS_LOG_ERR, "%u metadata buffers still held at "
			 "unmount (a reference never put)", i);
		if (!err)
			err = -CFS_EIO;
	}
	host_mutex_unlock(fs->lock);
	fs_free(fs);
	return err;
}

int cfs_chunk_info(struct cfs_fs *fs, u32 chunk, struct cfs_chunk_info *out)
{
	struct cfs_chunk *ch;

	host_mutex_lock(fs->lock);
	ch = chunk_get(fs, chunk);
	if (ch) {
		out->index = ch->index;
		out->state = ch->hdr.state;
		out->nblocks = ch->hdr.nblocks;
		out->free_blocks = ch->hdr.free_blocks;
		out->ninodes = ch->hdr.ninodes;
		out->free_inodes = ch->hdr.free_inodes;
		out->links = ch->hdr.link_count;
		out->verified_gen = ch->hdr.verified_gen;
		out->verified_time = ch->hdr.verified_time;
		out->data_errors = ch->hdr.data_errors;
		out->data_verified_gen = ch->hdr.data_verified_gen;
		out->data_verified_time = ch->hdr.data_verified_time;
	}
	host_mutex_unlock(fs->lock);
	return ch ? 0 : -CFS_EINVAL;
}

int cfs_statfs(struct cfs_fs *fs, struct cfs_statfs *st)
{
	u32 i;

	cfs_memset(st, 0, sizeof(*st));
	host_mutex_lock(fs->lock);
	st->bsize = fs->bs;
	for (i = 0; i < fs->nchunks; i++) {
		struct cfs_chunk *ch = chunk_get(fs, i);
		const struct cfs_chunk_hdr *h;
		u32 keep;

		if (!ch)
			continue;
		h = &ch->hdr;
		keep = chunk_meta_reserve(ch);

		st->blocks += h->nblocks - h->data_start - 1;
		st->bfree += h->free_blocks;
		st->bavail += h->free_blocks > keep ? h->free_blocks - keep : 0;
		st->files += h->ninodes - 1;
		st->ffree += h->free_inodes;
	}
	st->namemax = CFS_NAME_MAX;
	cfs_memcpy(st->uuid, fs->g->uuid, 16);
	host_mutex_unlock(fs->lock);
	return 0;
}
