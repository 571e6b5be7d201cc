// SPDX-License-Identifier: GPL-2.0
/*
 * shadow.c - a device over a device, for the online scrub's private
 * instance (scrub.c).
 *
 * The scrub checks, and repairs, a chunk on a private instance of the
 * filesystem that runs without the mounted filesystem's lock.  That
 * instance mounts this shadow device instead of the real one:
 *
 *  - every block it reads from the real device is remembered with its
 *    crc32 (the read set), so that the scrub can later tell, under the
 *    lock, whether what the check saw is still what the filesystem holds;
 *  - every block it writes stays here (the write set), and reads of it
 *    are served from here: nothing reaches the real device.  The scrub
 *    installs the write set into the mounted filesystem's cache, as one
 *    journal commit, once the read set has been found current.
 *
 * Writes made while the private instance mounts (its journal replay)
 * are what the last commit holds: they count as observed, like reads.
 * The superblock blocks are never shadowed: reads pass through, writes
 * are dropped (the mounted filesystem owns its superblock).
 */
#include "internal.h"

struct shadow_ent {
	u64 blk;
	u32 crc;              /* of the content observed (read or replayed) */
	u32 hcrc;             /* a chunk header's: of what is not counts */
	u32 pcrc;             /* of the observed block but for its seal */
	u32 lcrc;             /* a link index node's: of what concerns chunk k */
	u8 link;
	u8 used, observed, written, header;
	u8 *data;             /* held content (written, or replayed) */
	u32 *slot_crc;        /* an inode table block: per inode slot the
			       * private instance read, shadow_inode_crc of
			       * it +1 (0: not read) */
};

struct cfs_shadow {
	struct cfs_bdev dev;  /* what the private instance mounts */
	struct cfs_bdev *base;
	u32 bs, bshift;
	int metagen;          /* block generations are content (METAGEN) */
	int capture;          /* writes are the repair's (else observations) */
	u32 k;                /* the chunk checked */
	struct shadow_ent *tab;
	u64 cap, n;
	u8 *tmp, *tmp2;
};

static struct shadow_ent *ent_find(struct cfs_shadow *s, u64 blk, int add);

static int grow(struct cfs_shadow *s)
{
	struct shadow_ent *old = s->tab;
	u64 ocap = s->cap, i;

	s->cap = ocap ? ocap * 2 : 1024;
	s->tab = host_alloc(s->cap * sizeof(*s->tab));
	if (!s->tab) {
		s->tab = old;
		s->cap = ocap;
		return -CFS_ENOMEM;
	}
	s->n = 0;
	for (i = 0; i < ocap; i++)
		if (old[i].used)
			*ent_find(s, old[i].blk, 1) = old[i];
	host_free(old);
	return 0;
}

/* The entry of blk, NULL if none (add: created, NULL when out of memory). */
static struct shadow_ent *ent_find(struct cfs_shadow *s, u64 blk, int add)
{
	u64 i;

	if (add && (s->n + 1) * 4 > s->cap * 3 && grow(s))
		return NULL;
	if (!s->cap)
		return NULL;
	i = (blk * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);
	while (s->tab[i].used) {
		if (s->tab[i].blk == blk)
			return &s->tab[i];
		i = (i + 1) & (s->cap - 1);
	}
	if (!add)
		return NULL;
	cfs_memset(&s->tab[i], 0, sizeof(s->tab[i]));
	s->tab[i].used = 1;
	s->tab[i].blk = blk;
	s->n++;
	return &s->tab[i];
}

/*
 * A chunk header's crc over what describes the chunk's structure (its
 * layout, the root of its link index, its lost+found), leaving out what
 * every change of the chunk moves: the free counts, the state, the
 * count of links, the next generation, the check's record, the seal.
 */
u32 shadow_hdr_crc(const u8 *blk)
{
	struct cfs_chunk_hdr h;

	cfs_memcpy(&h, blk, sizeof(h));
	h.h.wgen = 0;
	h.h.crc = 0;
	h.free_blocks = h.free_inodes = h.state = 0;
	h.link_count = h.next_gen = 0;
	h.verified_gen = 0;
	h.verified_time = 0;
	h.errors_found = h.errors_fixed = 0;
	/* (format v2: counters, and the gens of roots that every change of
	 * their trees moves) */
	h.errors_corrected = h.data_errors = 0;
	h.data_verified_gen = 0;
	h.data_verified_time = 0;
	h.link_gen = h.pptr_gen = h.nbak_gen = 0;
	return host_crc32(0, &h, sizeof(h));
}

/* An inode's crc over all but its times (which say nothing about the
 * structure a check looks at). */
u32 shadow_inode_crc(const struct cfs_dinode *di)
{
	struct cfs_dinode d = *di;

	d.atime = d.mtime = d.ctime = d.btime = 0;
	d.atime_ns = d.mtime_ns = d.ctime_ns = d.btime_ns = 0;
	return host_crc32(0, &d, sizeof(d));
}

void shadow_note_inode(struct cfs_shadow *s, u64 blk, u32 slot,
		       const struct cfs_dinode *di)
{
	struct shadow_ent *e = ent_find(s, blk, 0);
	u32 ipb = (s->bs - (u32)sizeof(struct cfs_bhdr)) / CFS_INODE_SIZE;

	if (!e || slot >= ipb)
		return;
	if (!e->slot_crc) {
		e->slot_crc = host_alloc((u64)ipb * 4);
		if (!e->slot_crc)
			return; /* then the whole block is compared */
	}
	if (!e->slot_crc[slot])
		e->slot_crc[slot] = shadow_inode_crc(di) | 1;
}

/* A block's crc but for its seal (crc, and in v1 the write generation):
 * the same for a block written again unchanged.  With METAGEN (gen set)
 * the generation is part of the content: a block written again with a
 * new one is a new version, which its referrer (also written) names.
 * tmp: a block of scratch. */
u32 shadow_payload_crc(const u8 *blk, u32 bs, u8 *tmp, int gen)
{
	struct cfs_bhdr *h = (struct cfs_bhdr *)tmp;

	cfs_memcpy(tmp, blk, bs);
	h->crc = 0;
	if (!gen)
		h->wgen = 0;
	return host_crc32(0, tmp, bs);
}

/*
 * A link index node's crc over what concerns chunk k (keys peer << 32 |
 * local with peer k): a leaf's items of k (keys and values), an internal
 * node's entries whose children may hold them.  A damaged node: its
 * whole crc (it is compared whole then).
 */
u32 shadow_link_crc(const u8 *blk, u32 bs, u32 k)
{
	const struct cfs_node_hdr *n =
		(const struct cfs_node_hdr *)(blk + sizeof(struct cfs_bhdr));
	const u8 *base = (const u8 *)n;
	u32 size = bs - (u32)sizeof(struct cfs_bhdr), crc = 0, i;
	u64 lo = (u64)k << 32, hi = lo | 0xffffffffu;

	if (n->level == 0) {
		const struct cfs_item *it = (const struct cfs_item *)(n + 1);

		if (sizeof(*n) + (u64)n->nitems * sizeof(*it) > size)
			return host_crc32(0, blk, bs);
		for (i = 0; i < n->nitems; i++) {
			struct cfs_item x;

			cfs_memcpy(&x, &it[i], sizeof(x));
			if (x.key < lo || x.key > hi)
				continue;
			if ((u32)x.off + x.len > size)
				return host_crc32(0, blk, bs);
			crc = host_crc32(crc, &x.key, sizeof(x.key));
			crc = host_crc32(crc, base + x.off, x.len);
		}
		return crc;
	} else {
		const struct cfs_kptr *kp = (const struct cfs_kptr *)(n + 1);

		if (sizeof(*n) + (u64)n->nitems * sizeof(*kp) > size)
			return host_crc32(0, blk, bs);
		for (i = 0; i < n->nitems; i++) {
			/* child i holds keys from kp[i].key to kp[i + 1].key */
			if (kp[i].key > hi ||
			    (i + 1 < n->nitems && kp[i + 1].key <= lo))
				continue;
			crc = host_crc32(crc, &kp[i], sizeof(kp[i]));
		}
		return crc + n->level;
	}
}

static void observe(struct cfs_shadow *s, struct shadow_ent *e,
		    const u8 *data, u32 bs)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)data;

	e->observed = 1;
	e->crc = host_crc32(0, data, bs);
	e->pcrc = shadow_payload_crc(data, bs, s->tmp2, s->metagen);
	e->header = h->magic == CFS_MAGIC_CHUNK;
	e->link = h->magic == CFS_MAGIC_BTREE && h->tree == CFS_TREE_LINK;
	if (e->link)
		e->lcrc = shadow_link_crc(data, bs, s->k);
	if (e->header)
		e->hcrc = shadow_hdr_crc(data);
}

static int in_super(const struct cfs_shadow *s, u64 off)
{
	return off < ((u64)CFS_FIRST_CHUNK_BLOCK << s->bshift);
}

/* One whole block into buf: held content, or the device's (observed). */
static int read_block(struct cfs_shadow *s, u64 blk, u8 *buf)
{
	struct shadow_ent *e = ent_find(s, blk, 0);
	int err;

	if (e && e->data) {
		cfs_memcpy(buf, e->data, s->bs);
		return 0;
	}
	err = s->base->ops->read(s->base, blk << s->bshift, buf, s->bs);
	if (err)
		return err;
	if (!e) {
		e = ent_find(s, blk, 1);
		if (!e)
			return -CFS_ENOMEM;
	}
	if (!e->observed)
		observe(s, e, buf, s->bs);
	return 0;
}

static int write_block(struct cfs_shadow *s, u64 blk, const u8 *data)
{
	struct shadow_ent *e = ent_find(s, blk, 1);

	if (!e)
		return -CFS_ENOMEM;
	if (!e->data) {
		e->data = host_alloc(s->bs);
		if (!e->data)
			return -CFS_ENOMEM;
	}
	cfs_memcpy(e->data, data, s->bs);
	if (s->capture) {
		e->written = 1;
	} else {
		/* the mount's replay: what the last commit holds */
		observe(s, e, data, s->bs);
	}
	return 0;
}

/* Byte-addressed I/O split into whole blocks (a partial block is read,
 * and for a write modified and written whole). */
static int sh_io(struct cfs_shadow *s, u64 off, u8 *p, u64 len, int write)
{
	while (len) {
		u64 blk = off >> s->bshift;
		u32 in = (u32)(off & (s->bs - 1)), n = s->bs - in;
		int err;

		if (n > len)
			n = (u32)len;
		if (!in && n == s->bs) {
			err = write ? write_block(s, blk, p) :
				      read_block(s, blk, p);
		} else {
			err = read_block(s, blk, s->tmp);
			if (!err && write) {
				cfs_memcpy(s->tmp + in, p, n);
				err = write_block(s, blk, s->tmp);
			} else if (!err) {
				cfs_memcpy(p, s->tmp + in, n);
			}
		}
		if (err)
			return err;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int sh_read(struct cfs_bdev *dev, u64 off, void *buf, u64 len)
{
	struct cfs_shadow *s = dev->priv;

	if (in_super(s, off))
		return s->base->ops->read(s->base, off, buf, len);
	return sh_io(s, off, buf, len, 0);
}

static int sh_write(struct cfs_bdev *dev, u64 off, const void *buf, u64 len)
{
	struct cfs_shadow *s = dev->priv;

	if (in_super(s, off))
		return 0; /* the mounted filesystem's own */
	/* (sh_io does not write through p when writing) */
	return sh_io(s, off, (u8 *)(unsigned long)buf, len, 1);
}

static int sh_flush(struct cfs_bdev *dev)
{
	(void)dev;
	return 0;
}

static const struct cfs_bdev_ops shadow_ops = {
	.read = sh_read,
	.write = sh_write,
	.flush = sh_flush,
};

struct cfs_shadow *shadow_new(struct cfs_bdev *base, u32 bs, u32 bshift,
			      u32 k, int metagen)
{
	struct cfs_shadow *s = host_alloc(sizeof(*s));

	if (!s)
		return NULL;
	s->tmp = host_alloc(bs);
	s->tmp2 = host_alloc(bs);
	if (!s->tmp || !s->tmp2) {
		host_free(s->tmp);
		host_free(s->tmp2);
		host_free(s);
		return NULL;
	}
	s->base = base;
	s->k = k;
	s->metagen = metagen;
	s->bs = bs;
	s->bshift = bshift;
	s->dev.ops = &shadow_ops;
	s->dev.size = base->size;
	s->dev.readonly = 0;
	s->dev.priv = s;
	return s;
}

struct cfs_bdev *shadow_dev(struct cfs_shadow *s)
{
	return &s->dev;
}

void shadow_capture(struct cfs_shadow *s)
{
	s->capture = 1;
}

void shadow_free(struct cfs_shadow *s)
{
	u64 i;

	if (!s)
		return;
	for (i = 0; i < s->cap; i++) {
		host_free(s->tab[i].data);
		host_free(s->tab[i].slot_crc);
	}
	host_free(s->tab);
	host_free(s->tmp);
	host_free(s->tmp2);
	host_free(s);
}

int shadow_each(struct cfs_shadow *s, u64 *pos, struct shadow_block *out)
{
	while (*pos < s->cap) {
		struct shadow_ent *e = &s->tab[(*pos)++];

		if (!e->used)
			continue;
		out->blk = e->blk;
		out->crc = e->crc;
		out->hcrc = e->hcrc;
		out->pcrc = e->pcrc;
		out->link = e->link;
		out->lcrc = e->lcrc;
		out->header = e->header;
		out->observed = e->observed;
		out->written = e->written;
		out->data = e->data;
		out->slot_crc = e->slot_crc;
		return 1;
	}
	return 0;
}
