// SPDX-License-Identifier: GPL-2.0
/*
 * scrub.c - the checker run online: one chunk checked (and repaired) while
 * the filesystem stays mounted, with the very code fsck.chunkfs runs
 * (check.c and its passes), and the health query.
 *
 * A healthy chunk is checked without the filesystem lock (first_look, on
 * a private read-only instance of the device): operations go on.  Only
 * when that look finds something does the scrub check again holding the
 * lock, for the time of one chunk's check (and its repair): operations
 * wait for it (bounded), nothing fails.  Before the check, everything is committed
 * and the chunk's cached blocks are dropped, so the check reads what is on
 * the disk (damage that happened under the mount included), and the
 * chunk's cached inodes are reloaded from it; the peers' link indexes are
 * read live, through the cache.  A repair goes through
 * the journal like any change (one commit), and the cached inodes of the
 * chunk are reloaded from the repaired table, so what users see next is
 * the repaired state.
 */
#include "internal.h"
#include "check.h"

/* Drop every cached, unreferenced, clean block of chunk k. */
static void drop_chunk_bufs(struct cfs_fs *fs, u32 k)
{
	u32 i;

	for (i = 0; i <= fs->bhash_mask; i++) {
		struct cfs_buf *b = fs->bhash[i];

		while (b) {
			struct cfs_buf *next = b->hnext;

			if (b->chunk == k && !b->refs && !b->dirty)
				buf_drop(fs, b);
			b = next;
		}
	}
}

/* Wait while chunk k's repair is being computed: the operation changes an
 * inode of it (internal.h).  fs->lock is dropped meanwhile. */
static int is_frozen(const struct cfs_fs *fs, u32 c)
{
	u32 i;

	if (!fs->frozen)
		return 0;
	if (c + 1 == fs->frozen)
		return 1;
	for (i = 0; i < 8 && fs->frozen_peer[i]; i++)
		if (c + 1 == fs->frozen_peer[i])
			return 1;
	return 0;
}

void scrub_wait_unfrozen(struct cfs_fs *fs, u64 a, u64 b)
{
	while (is_frozen(fs, CFS_CHUNK_OF(a)) || is_frozen(fs, CFS_CHUNK_OF(b))) {
		host_mutex_unlock(fs->lock);
		host_mutex_lock(fs->freeze_lock);   /* until the repair is in */
		host_mutex_unlock(fs->freeze_lock);
		host_mutex_lock(fs->lock);
	}
}

/* A chunk found clean: state CLEAN, verified now (with the next commit). */
static void record_verified(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	s64 sec;
	u32 ns;

	ch->repair_pending = 0;
	if (fs->rdonly)
		return;
	host_now(&sec, &ns);
	ch->hdr.state = CFS_CHUNK_CLEAN;
	ch->hdr.verified_gen = fs->sb.mount_count;
	ch->hdr.verified_time = sec;
	ch->marked_dirty = 0;
	ch->keep_state = 1;
	ch->hdr_dirty = 1;
	ch->changed = 1;
}

static u64 ns_since(s64 s0, u32 n0)
{
	s64 s1;
	u32 n1;

	host_now(&s1, &n1);
	return (u64)((s1 - s0) * 1000000000LL + (s64)n1 - (s64)n0);
}

/* The chunk holding absolute block blk, or NULL (superblocks). */
static u32 chunk_of_blk(struct cfs_fs *fs, u64 blk)
{
	u64 c;

	if (blk < CFS_FIRST_CHUNK_BLOCK)
		return CFS_NO_CHUNK;
	c = (blk - CFS_FIRST_CHUNK_BLOCK) / fs->g->chunk_blocks;
	return c < fs->nchunks ? (u32)c : CFS_NO_CHUNK;
}

/*
 * What a pass found, problem by problem (the checker's reports), for the
 * events that tell a scrub's caller and the log what was found and what
 * was repaired.  The first PLOG_MAX are kept, the rest counted.
 */
#define PLOG_MAX 64
struct plog {
	u32 n, more;
	struct {
		u32 code;
		u8 fixed;
		u64 ino, blk;
		char detail[48];
		char path[232];   /* the checker's path of the file, "" */
	} p[PLOG_MAX];
};

static void plog_cb(void *ctx, const struct cfs_problem_report *r)
{
	struct plog *l = ctx;

	/* a failed repair undoes the "fixed" of the problem before it */
	if (r->code == CFS_PROBLEM_FIX_FAILED && l->n && !l->more)
		l->p[l->n - 1].fixed = 0;
	if (l->n == PLOG_MAX) {
		l->more++;
		return;
	}
	l->p[l->n].code = r->code;
	l->p[l->n].fixed = r->fixed != 0;
	l->p[l->n].ino = r->ino;
	l->p[l->n].blk = r->blk;
	cfs_format(l->p[l->n].detail, sizeof(l->p[l->n].detail), "%s",
		   r->detail ? r->detail : "");
	l->p[l->n].path[0] = 0;
	if (r->path) {
		u32 n = cfs_strnlen(r->path, 4096),
		    room = sizeof(l->p[l->n].path) - 1;

		cfs_format(l->p[l->n].path, sizeof(l->p[l->n].path), "%s%s",
			   n > room ? "..." : "",
			   n > room ? r->path + n - (room - 3) : r->path);
	}
	l->n++;
}

/* One event per problem of the accepted pass (under the lock), before
 * the scrub's summary; and the names of what it found, for the summary. */
static void plog_events(struct cfs_fs *fs, u32 k, const struct plog *l,
			char *names, u32 size)
{
	u32 i, j, o = 0;

	names[0] = 0;
	for (i = 0; l && i < l->n; i++) {
		const struct cfs_problem_desc *d = cfs_problem(l->p[i].code);
		const char *name = d ? d->name : "unknown";
		char msg[96], blk[32] = "", det[56] = "";

		if (l->p[i].blk)
			cfs_format(blk, sizeof(blk), " block %llu",
				   (unsigned long long)l->p[i].blk);
		if (l->p[i].detail[0])
			cfs_format(det, sizeof(det), " [%s]", l->p[i].detail);
		cfs_format(msg, sizeof(msg), "chunk %u: %s%s%s -- %s", k, name,
			   blk, det, l->p[i].fixed ? "fixed" : "not fixed");
		fs_event_problem(fs, l->p[i].fixed ? CHUNKFS_EV_WARNING :
				 CHUNKFS_EV_ERROR, k, l->p[i].ino,
				 l->p[i].code, msg,
				 l->p[i].path[0] ? l->p[i].path : NULL);
		for (j = 0; j < i && l->p[j].code != l->p[i].code; j++)
			;
		if (j == i && o + cfs_strnlen(name, 64) + 3 < size)
			o += cfs_format(names + o, size - o, "%s%s",
					o ? ", " : "", name);
	}
	if (l && l->more)
		cfs_format(names + o, size - o, "%s...", o ? ", " : "");
}

/*
 * A private pass: fsck's check of chunk k (and, with CFS_CHECK_FIXALL,
 * its repair) on a private instance of the filesystem over a shadow of
 * the device (shadow.c), without the filesystem lock: operations go on.
 * The instance sees what the commit just before it left on the disk;
 * its writes stay in the shadow.  Returns 0 with *out the shadow (the
 * read set and the write set) and *r the result, or a negative errno.
 */
static int private_pass(struct cfs_fs *fs, u32 k, u32 mode,
			struct cfs_shadow **out, struct cfs_check_result *r,
			u64 *reads, struct plog *pl)
{
	struct cfs_shadow *sh = shadow_new(fs->dev, fs->bs, fs->bshift, k,
					   fs->metagen);
	struct cfs_fs *priv;
	const char *why;
	int err;

	*out = NULL;
	if (!sh)
		return -CFS_ENOMEM;
	/* writable (its writes stay in the shadow); no journal replay: the
	 * commit just before left everything in place, and a commit that
	 * runs meanwhile changes what the pass reads, which the caller
	 * sees (replaying would make the chunks of the last commit, the
	 * busiest, part of every pass's read set).  A read-only mount
	 * replayed in memory only: the disk is not current then, but it
	 * does not change either: replay. */
	err = cfs_mount_check(shadow_dev(sh), fs->rdonly ? 0 :
			      CFS_MOUNT_NOREPLAY, &priv, &why);
	if (err) {
		shadow_free(sh);
		return err;
	}
	shadow_capture(sh);
	priv->shadow = sh;
	if (pl)
		pl->n = pl->more = 0;
	err = cfs_check_chunk(priv, k, mode, pl ? plog_cb : NULL, pl, r);
	*reads += priv->nreads;
	if (cfs_unmount(priv) && !err)
		err = -CFS_EIO;
	if (err) {
		shadow_free(sh);
		return err;
	}
	*out = sh;
	return 0;
}

/*
 * Under the lock, after a commit (the disk holds what memory holds): is
 * every block the private pass read still what it read?  A chunk that
 * took part in no commit since `since` is unchanged; the blocks of the
 * others are read again and compared.  The header of a peer chunk the
 * pass did not write is compared only for what describes the chunk's
 * structure (its counts move with every change, and the check of chunk k
 * does not depend on them); a header the pass wrote is installed whole,
 * so it must be whole what the pass read.
 */
/*
 * A block of a peer chunk the pass did not write, read again: is what the
 * check looked at in it unchanged?  A header: what describes the chunk's
 * structure.  A node of its link index: its entries of chunk k (links are
 * recorded at both ends: a new or removed link of chunk k changes chunk
 * k's own index, compared whole).  An inode table block whose inodes the check read one by one
 * (the cross pass reads peers' inodes so): those inodes, but for their
 * times; other inodes of the block, changed or made since, are not what
 * the check saw.  Anything else: 0 (compared whole by the caller).
 */
static int peer_current(struct cfs_fs *fs, const struct shadow_block *sb,
			u32 k)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)fs->scratch;
	const struct cfs_dinode *di;
	u32 ipb = CFS_PAYLOAD(fs) / CFS_INODE_SIZE, i;

	if (sb->header && h->magic == CFS_MAGIC_CHUNK)
		return shadow_hdr_crc(fs->scratch) == sb->hcrc;
	if (sb->link && h->magic == CFS_MAGIC_BTREE && h->tree == CFS_TREE_LINK)
		return shadow_link_crc(fs->scratch, fs->bs, k) == sb->lcrc;
	if (!sb->slot_crc || h->magic != CFS_MAGIC_ITABLE)
		return 0;
	di = (const struct cfs_dinode *)(fs->scratch + sizeof(*h));
	for (i = 0; i < ipb; i++)
		if (sb->slot_crc[i] &&
		    (shadow_inode_crc(&di[i]) | 1) != sb->slot_crc[i])
			return 0;
	return 1;
}

static int shadow_current(struct cfs_fs *fs, struct cfs_shadow *sh, u32 k,
			  u64 since)
{
	struct shadow_block sb;
	u8 *wrote = host_alloc(fs->nchunks / 8 + 1);
	u64 pos = 0;
	int ok = 1;

	if (!wrote)
		return 0;
	while (shadow_each(sh, &pos, &sb)) {
		u32 c = chunk_of_blk(fs, sb.blk);

		if (sb.written && c != CFS_NO_CHUNK)
			wrote[c / 8] |= (u8)(1u << (c % 8));
	}
	pos = 0;
	while (ok && shadow_each(sh, &pos, &sb)) {
		u32 c = chunk_of_blk(fs, sb.blk);
		struct cfs_chunk *ch;

		if (!sb.observed || c == CFS_NO_CHUNK)
			continue;
		ch = fs->chunks[c];
		if (!ch || ch->cgen <= since)
			continue;
		if (fs->dev->ops->read(fs->dev, sb.blk << fs->bshift,
				       fs->scratch, fs->bs))
			ok = 0;
		else if (c != k && !((wrote[c / 8] >> (c % 8)) & 1) &&
			 peer_current(fs, &sb, k))
			continue;
		else
			ok = host_crc32(0, fs->scratch, fs->bs) == sb.crc;
		if (!ok)
			host_log(CFS_LOG_DEBUG, "scrub of chunk %u: chunk %u "
				 "block %llu (type %08x) changed under the "
				 "private pass", k, c,
				 (unsigned long long)(sb.blk - ch->start),
				 ((struct cfs_bhdr *)fs->scratch)->magic);
	}
	host_free(wrote);
	return ok;
}

#define INVAL_MAX 65536

/* An inode the front end has and a repair changed: on the list. */
static void inval_push(struct cfs_fs *fs, u64 ino)
{
	if (fs->ninval == fs->inval_cap) {
		u32 cap = fs->inval_cap ? fs->inval_cap * 2 : 256;
		u64 *n = cap <= INVAL_MAX ? host_alloc((u64)cap * 8) : NULL;

		if (!n) {
			fs->inval_lost = 1;
			return;
		}
		if (fs->ninval)
			cfs_memcpy(n, fs->inval, (u64)fs->ninval * 8);
		host_free(fs->inval);
		fs->inval = n;
		fs->inval_cap = cap;
	}
	fs->inval[fs->ninval++] = ino;
}

u32 cfs_inval_take(struct cfs_fs *fs, u64 *inos, u32 max, int *lost)
{
	u32 n;

	host_mutex_lock(fs->lock);
	n = fs->ninval < max ? fs->ninval : max;
	/* from the end: what is left stays in place */
	if (n)
		cfs_memcpy(inos, fs->inval + fs->ninval - n, (u64)n * 8);
	fs->ninval -= n;
	*lost = fs->inval_lost;
	fs->inval_lost = 0;
	host_mutex_unlock(fs->lock);
	return n;
}

/* A name a repair removed from directory `parent`: on the list. */
static void inval_name_push(struct cfs_fs *fs, u64 parent, const char *name,
			    u32 len)
{
	u32 need = fs->ninval_ent + 9 + len;

	if (need > fs->inval_ent_cap) {
		u32 cap = fs->inval_ent_cap ? fs->inval_ent_cap * 2 : 4096;
		u8 *n;

		while (cap < need)
			cap *= 2;
		n = cap <= (1u << 24) ? host_alloc(cap) : NULL;
		if (!n) {
			fs->inval_lost = 1;
			return;
		}
		if (fs->ninval_ent)
			cfs_memcpy(n, fs->inval_ent, fs->ninval_ent);
		host_free(fs->inval_ent);
		fs->inval_ent = n;
		fs->inval_ent_cap = cap;
	}
	cfs_memcpy(fs->inval_ent + fs->ninval_ent, &parent, 8);
	fs->inval_ent[fs->ninval_ent + 8] = (u8)len;
	cfs_memcpy(fs->inval_ent + fs->ninval_ent + 9, name, len);
	fs->ninval_ent = need;
}

u32 cfs_inval_take_name(struct cfs_fs *fs, u64 *parent, char *name)
{
	u32 len = 0, rec;

	host_mutex_lock(fs->lock);
	if (fs->ninval_ent >= 9) {
		cfs_memcpy(parent, fs->inval_ent, 8);
		len = fs->inval_ent[8];
		cfs_memcpy(name, fs->inval_ent + 9, len);
		rec = 9 + len;
		cfs_memmove(fs->inval_ent, fs->inval_ent + rec,
			    fs->ninval_ent - rec);
		fs->ninval_ent -= rec;
	}
	host_mutex_unlock(fs->lock);
	return len;
}

/* Is the entry (ino, name) among the directory entries of leaf node n
 * (of size `size`)?  With want == NULL: calls back for every entry. */
typedef void (*dirent_fn)(void *ctx, u32 ino, const char *name, u32 len);
static int leaf_dirents(const u8 *node, u32 size, dirent_fn fn, void *ctx,
			u32 want_ino, const char *want, u32 want_len)
{
	const struct cfs_node_hdr *n = (const struct cfs_node_hdr *)node;
	const struct cfs_item *it = (const struct cfs_item *)(n + 1);
	u32 i;

	if (n->level || sizeof(*n) + (u64)n->nitems * sizeof(*it) > size)
		return 0;
	for (i = 0; i < n->nitems; i++) {
		struct cfs_item x;
		u32 o;

		cfs_memcpy(&x, &it[i], sizeof(x));
		if (x.key >= CFS_DKEY_CONT || (u32)x.off + x.len > size)
			continue;
		for (o = 0; o + sizeof(struct cfs_dirent) <= x.len;) {
			const struct cfs_dirent *d =
				(const struct cfs_dirent *)(node + x.off + o);
			u32 ino, nl = d->namelen;

			if (o + sizeof(*d) + nl > x.len)
				break;
			cfs_memcpy(&ino, &d->ino, 4);
			if (fn)
				fn(ctx, ino, d->name, nl);
			else if (ino == want_ino && nl == want_len &&
				 !cfs_memcmp(d->name, want, nl))
				return 1;
			o += (u32)sizeof(*d) + nl;
		}
	}
	return 0;
}

struct gone_ctx {
	struct cfs_fs *fs;
	const u8 *new_node;
	u32 size;
	u64 parent;
};

static void gone_one(void *ctx, u32 ino, const char *name, u32 len)
{
	struct gone_ctx *g = ctx;

	if (!leaf_dirents(g->new_node, g->size, NULL, NULL, ino, name, len))
		inval_name_push(g->fs, g->parent, name, len);
}

/* The directory a tree owned by local inode `owner` of chunk c serves, as
 * front ends know it: the origin, for a continuation. */
static u64 dir_of(struct cfs_fs *fs, u32 c, u32 owner)
{
	struct cfs_inode *ip;
	u64 ino = CFS_MKINO(c, owner);

	if (inode_get(fs, ino, &ip))
		return ino;
	if (ip->d.flags & CFS_IF_CONT)
		ino = CFS_MKINO(ip->d.back_chunk, ip->d.back_ino);
	inode_put(fs, ip);
	return ino;
}

/* The names in directory leaves of the old content of a block that the
 * repair's new content no longer has: on the list (the kernel's dentry
 * cache of them is dropped by the front end).  Leaves in a block of
 * their own, and directories' inline roots in an inode table block. */
static void names_gone(struct cfs_fs *fs, struct cfs_chunk *ch, u32 c,
		       const u8 *old, const u8 *new)
{
	const struct cfs_bhdr *ho = (const struct cfs_bhdr *)old;
	const struct cfs_bhdr *hn = (const struct cfs_bhdr *)new;
	struct gone_ctx g;
	u32 size = CFS_PAYLOAD(fs), i;

	g.fs = fs;
	g.size = size;
	if (ho->magic == CFS_MAGIC_BTREE && ho->tree == CFS_TREE_DIR) {
		g.parent = dir_of(fs, c, ho->owner_lo);
		g.new_node = new + sizeof(*hn);
		if (hn->magic != CFS_MAGIC_BTREE || hn->tree != CFS_TREE_DIR ||
		    hn->owner_lo != ho->owner_lo)
			g.new_node = fs->zero; /* (an empty leaf) */
		leaf_dirents(old + sizeof(*ho), size, gone_one, &g, 0, NULL, 0);
	} else if (ho->magic == CFS_MAGIC_ITABLE) {
		const struct cfs_dinode *od =
			(const struct cfs_dinode *)(old + sizeof(*ho));
		const struct cfs_dinode *nd =
			(const struct cfs_dinode *)(new + sizeof(*hn));
		u32 ipb = size / CFS_INODE_SIZE;
		u64 base = (ho->blkno - ch->start - ch->hdr.itable_start) * ipb;

		if (hn->magic != CFS_MAGIC_ITABLE)
			return;
		for (i = 0; i < ipb; i++) {
			if (!CFS_ISDIR(od[i].mode) ||
			    !cfs_memcmp(od[i].root, nd[i].root, fs->iroot_size))
				continue;
			g.parent = dir_of(fs, c, (u32)(base + i));
			g.new_node = CFS_ISDIR(nd[i].mode) ? nd[i].root :
				     fs->zero;
			g.size = fs->iroot_size;
			leaf_dirents(od[i].root, fs->iroot_size, gone_one, &g,
				     0, NULL, 0);
		}
	}
}

/* Cached inodes of the chunks marked in `touched` (or of chunk k):
 * reload what the repair may have changed; those the front end has and
 * that changed go on the list of cfs_inval_take. */
static void reload_inodes(struct cfs_fs *fs, const u8 *touched, u32 k)
{
	u32 i;

	for (i = 0; i <= fs->ihash_mask; i++) {
		struct cfs_inode *ip;

		for (ip = fs->ihash[i]; ip; ip = ip->hnext) {
			u32 c = CFS_CHUNK_OF(ip->ino);
			struct cfs_dinode old;

			if (touched ? !((touched[c / 8] >> (c % 8)) & 1) :
			    c != k)
				continue;
			old = ip->d;
			inode_reload(fs, ip);
			if (ip->nlookup && cfs_memcmp(&old, &ip->d, sizeof(old)))
				inval_push(fs, ip->ino);
		}
	}
}

/*
 * Under the lock: the private repair's writes become the filesystem's
 * (dirty blocks and chunk headers for the next commit), the chunk's other
 * cached blocks are dropped (the disk's are what the repair saw), and the
 * cached inodes of every chunk written are reloaded.
 */
static int shadow_install(struct cfs_fs *fs, struct cfs_shadow *sh, u32 k)
{
	struct shadow_block sb;
	u64 pos = 0;
	u8 *touched = host_alloc(fs->nchunks / 8 + 1);
	u8 *old = host_alloc(fs->bs); /* (without it: no names listed) */
	int err = 0;

	if (!touched) {
		host_free(old);
		return -CFS_ENOMEM;
	}
	drop_chunk_bufs(fs, k);
	/* what is read meanwhile (the old directory blocks, inodes for
	 * dir_of) may be the damage being repaired: no suspect marking */
	fs->checking = 1;
	touched[k / 8] |= (u8)(1u << (k % 8));
	while (!err && shadow_each(sh, &pos, &sb)) {
		u32 c = chunk_of_blk(fs, sb.blk), local;
		struct cfs_chunk *ch;

		if (!sb.written || c == CFS_NO_CHUNK)
			continue;
		/* written again as it was (the checker rewrites some blocks
		 * whole): nothing to install */
		if (sb.observed &&
		    shadow_payload_crc(sb.data, fs->bs, fs->scratch,
				       fs->metagen) == sb.pcrc)
			continue;
		ch = chunk_get(fs, c);
		if (!ch) {
			err = -CFS_ENOMEM;
			break;
		}
		touched[c / 8] |= (u8)(1u << (c % 8));
		local = (u32)(sb.blk - ch->start);
		if (local == 0) {
			/* the header: the next commit writes both copies */
			chunk_hdr_load(fs, ch, sb.data);
			ch->hdr_dirty = 1;
			ch->changed = 1;
			ch->marked_dirty = 0;
			ch->keep_state = c == k; /* its state is the checker's */
		} else if (local != ch->hdr.nblocks - 1 &&
			   ch->hdr.mirror_start &&
			   local >= ch->hdr.mirror_start) {
			/* a second copy of a positional block written: a heal
			 * (its first copy unchanged, so not installed above)
			 * or the copy of a repair's write; installed through
			 * its first copy, which writes both */
			u32 first = local - ch->hdr.mirror_start + 1;

			if (!old) {
				err = -CFS_ENOMEM;
				break;
			}
			cfs_memcpy(old, sb.data, fs->bs);
			((struct cfs_bhdr *)old)->blkno = cfs_abs(ch, first);
			err = buf_install(fs, ch, first, 0, old);
		} else if (local != ch->hdr.nblocks - 1) {
			/* (second copies of positional blocks come with
			 * their first: buf_install) */
			/* the names it removes, from what the disk holds (the
			 * state before the repair: everything is committed) */
			if (old && !fs->dev->ops->read(fs->dev, sb.blk <<
						       fs->bshift, old,
						       fs->bs))
				names_gone(fs, ch, c, old, sb.data);
			err = buf_install(fs, ch, local, 0, sb.data);
		}
	}
	reload_inodes(fs, touched, k);
	fs->checking = 0;
	host_free(touched);
	host_free(old);
	return err;
}

/* Fill s from a check's result and send the scrub's event. */
static void scrub_report(struct cfs_fs *fs, struct cfs_chunk *ch,
			 struct chunkfs_scrub *s, int repair, int fixmode,
			 const struct cfs_check_result *res, int err,
			 const struct plog *pl)
{
	char msg[96], names[64];

	s->found = res->found;
	s->fixed = res->fixed;
	s->corrected = res->corrected;
	s->lost_found = res->lost_found;
	s->peers = res->peers;
	plog_events(fs, s->chunk, err ? NULL : pl, names, sizeof(names));
	if (!err && res->corrected && repair) {
		cfs_format(msg, sizeof(msg), "chunk %u: %u bad block copies "
			   "rewritten from their good copies", s->chunk,
			   res->corrected);
		fs_event(fs, CHUNKFS_EV_WARNING, CHUNKFS_E_CORRECTED, s->chunk,
			 0, msg);
	}
	if (err) {
		cfs_format(msg, sizeof(msg), "chunk %u: scrub could not run "
			   "(error %d)", s->chunk, err);
		fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_UNREPAIRED, s->chunk,
			 0, msg);
	} else if (!repair && (res->found || res->corrected)) {
		/* for the next repair (scrubd, fsck): not clean (bad
		 * copies too: the repair heals them) */
		if (ch->hdr.state == CFS_CHUNK_CLEAN ||
		    ch->hdr.state == CFS_CHUNK_DIRTY) {
			ch->hdr.state = CFS_CHUNK_SUSPECT;
			if (!fs->rdonly) {
				ch->hdr_dirty = 1;
				ch->changed = 1;
			}
		}
		if (res->found)
			cfs_format(msg, sizeof(msg), "chunk %u scrubbed: %u "
				   "problems found (check only): %s", s->chunk,
				   res->found, names);
		else
			cfs_format(msg, sizeof(msg), "chunk %u scrubbed: %u "
				   "bad block copies (check only)", s->chunk,
				   res->corrected);
		fs_event(fs, CHUNKFS_EV_WARNING, CHUNKFS_E_PROBLEMS, s->chunk,
			 0, msg);
	} else if (!res->found) {
		if (!fixmode) /* a repairing check records it itself */
			record_verified(fs, ch);
		cfs_format(msg, sizeof(msg), "chunk %u scrubbed: clean",
			   s->chunk);
		fs_event(fs, CHUNKFS_EV_INFO, CHUNKFS_E_SCRUBBED, s->chunk, 0,
			 msg);
	} else if (res->fixed == res->found) {
		cfs_format(msg, sizeof(msg), "chunk %u repaired: %u problems "
			   "fixed: %s", s->chunk, res->fixed, names);
		fs_event(fs, CHUNKFS_EV_INFO, CHUNKFS_E_REPAIRED, s->chunk, 0,
			 msg);
	} else {
		cfs_format(msg, sizeof(msg), "chunk %u could not be repaired: "
			   "%u of %u problems fixed: %s", s->chunk, res->fixed,
			   res->found, names);
		fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_UNREPAIRED, s->chunk,
			 0, msg);
	}
	s->state = ch->hdr.state;
}

/* Commit a repair.  A repair larger than the chunk's journal is written
 * in place behind a DIRTY header (journal.c, write_in_place); once those
 * writes are on the disk an idle commit marks the chunk clean again: done
 * at once, so that the repaired chunk is clean when the scrub returns. */
static int repair_commit(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	int err = journal_commit(fs, 0);

	if (!err && ch->marked_dirty && ch->hdr.state == CFS_CHUNK_DIRTY)
		err = journal_commit(fs, 0);
	return err;
}

/*
 * The last resort, when the filesystem kept changing what the private
 * passes read: the check (and repair) under the lock, on the mounted
 * instance itself; every operation waits for it.  Before it, everything
 * is committed and the chunk's cached blocks are dropped, so the check
 * reads what is on the disk, and the chunk's cached inodes are reloaded
 * from it; the peers' link indexes are read live, through the cache.
 */
static int scrub_locked(struct cfs_fs *fs, struct cfs_chunk *ch, u32 k,
			int repair, struct cfs_check_result *res,
			struct plog *pl)
{
	int err = journal_commit(fs, 0);

	if (err)
		return err;
	drop_chunk_bufs(fs, k);
	fs->checking = 1;
	chunk_reread_hdr(fs, ch); /* damage to the header under us */
	/* the checker reaches inodes through the inode cache: it must see
	 * the disk's copies too (they equal the cache's, unless damaged) */
	reload_inodes(fs, NULL, k);
	if (pl)
		pl->n = pl->more = 0;
	err = check_chunk_locked(fs, k, repair ? CFS_CHECK_FIXALL :
				 CFS_CHECK_NOFIX, pl ? plog_cb : NULL, pl,
				 res);
	fs->checking = 0;
	if (repair) {
		int e = repair_commit(fs, ch);

		if (!err)
			err = e;
		ch->repair_pending = 0;
	}
	reload_inodes(fs, NULL, k);
	return err;
}

#define SCRUB_PASSES 3

/* The chunks other than k a pass wrote, added to peers[8] (chunk + 1). */
static void add_written_peers(struct cfs_fs *fs, struct cfs_shadow *sh,
			      u32 k, u32 *peers)
{
	struct shadow_block sb;
	u64 pos = 0;
	u32 i;

	while (shadow_each(sh, &pos, &sb)) {
		u32 c = chunk_of_blk(fs, sb.blk);

		if (!sb.written || c == CFS_NO_CHUNK || c == k)
			continue;
		for (i = 0; i < 8 && peers[i] && peers[i] != c + 1; i++)
			;
		if (i < 8 && !peers[i])
			peers[i] = c + 1;
	}
}

/*
 * The scrub of one chunk.  A private pass checks it without the lock
 * (check only: a look that a healthy chunk passes while operations go
 * on).  When it finds something and a repair is asked for, a second
 * private pass repairs it, while operations that change the chunk's
 * inodes wait (the chunk is frozen) and everything else goes on.  Under
 * the lock, each pass is accepted only if everything it read is still
 * current (shadow_current); then a repair's writes are installed and
 * committed at once, so what users see next is the repaired state.  A
 * pass whose reads went stale is run again; after SCRUB_PASSES, the
 * check runs under the lock (scrub_locked).
 */
static int scrub_one(struct cfs_fs *fs, struct chunkfs_scrub *s,
		     struct cfs_check_result *out)
{
	struct cfs_check_result res;
	struct cfs_shadow *sh;
	struct cfs_chunk *ch;
	struct plog *pl = host_alloc(sizeof(*pl)); /* (none: no details) */
	int repair = !!(s->flags & CHUNKFS_SCRUB_REPAIR), err = 0, done = 0;
	u32 mode = CFS_CHECK_NOFIX, stale = 0, peers[8] = { 0 };
	s64 t0s, tls;
	u64 since, r0;
	u32 t0n, tln;

	cfs_memset(&res, 0, sizeof(res));
	s->found = s->fixed = s->lost_found = s->peers = s->passes = 0;
	s->duration_ns = s->blocks_read = s->locked_ns = 0;
	host_now(&t0s, &t0n);
	host_mutex_lock(fs->lock);
	ch = chunk_get(fs, s->chunk);
	err = !ch ? -CFS_EINVAL : repair && fs->rdonly ? -CFS_EROFS : 0;
	host_mutex_unlock(fs->lock);
	if (err) {
		host_free(pl);
		return err;
	}
	/* (a mount without the journal writes in place at any time: no
	 * private pass could trust what it reads) */
	while (!done && stale < SCRUB_PASSES && (fs->journal || fs->rdonly)) {
		int fix = mode == CFS_CHECK_FIXALL;

		if (fix) /* operations changing the chunk wait from now on */
			host_mutex_lock(fs->freeze_lock);
		host_mutex_lock(fs->lock);
		if (fix) {
			fs->frozen = s->chunk + 1;
			cfs_memcpy(fs->frozen_peer, peers, sizeof(peers));
		}
		err = journal_commit(fs, 0); /* the disk holds what memory does */
		since = fs->cseq;
		host_mutex_unlock(fs->lock);
		if (!err) {
			s->passes++;
			err = private_pass(fs, s->chunk, mode, &sh, &res,
					   &s->blocks_read, pl);
		}
		if (err) { /* could not run there (a damaged header): locked */
			err = 0;
			sh = NULL;
			res.fatal = 1;
		}
		host_now(&tls, &tln);
		host_mutex_lock(fs->lock);
		fs->frozen = 0;
		cfs_memset(fs->frozen_peer, 0, sizeof(fs->frozen_peer));
		if (res.fatal) {
			stale = SCRUB_PASSES; /* cannot tell here: under the lock */
		} else {
			err = journal_commit(fs, 0);
			if (!err && !shadow_current(fs, sh, s->chunk, since)) {
				/* what it read changed: again, with the peers
				 * this repair writes frozen too */
				stale++;
				if (fix)
					add_written_peers(fs, sh, s->chunk,
							  peers);
			} else if (!err && !fix && (res.found ||
						      res.corrected) && repair) {
				mode = CFS_CHECK_FIXALL; /* now repair it */
			} else {
				if (!err && fix) {
					err = shadow_install(fs, sh, s->chunk);
					if (!err)
						err = repair_commit(fs, ch);
					ch->repair_pending = 0;
				}
				scrub_report(fs, ch, s, repair, fix, &res,
					     err, pl);
				done = 1;
			}
		}
		s->locked_ns += ns_since(tls, tln);
		host_mutex_unlock(fs->lock);
		if (fix)
			host_mutex_unlock(fs->freeze_lock);
		shadow_free(sh);
	}
	if (!done && !err) {
		/* the filesystem kept changing what the private passes read,
		 * or they could not run: under the lock */
		host_now(&tls, &tln);
		host_mutex_lock(fs->lock);
		r0 = fs->nreads;
		err = scrub_locked(fs, ch, s->chunk, repair, &res, pl);
		s->blocks_read += fs->nreads - r0;
		scrub_report(fs, ch, s, repair, repair, &res, err, pl);
		s->flags |= CHUNKFS_SCRUB_LOCKED;
		s->locked_ns += ns_since(tls, tln);
		host_mutex_unlock(fs->lock);
	}
	*out = res;
	s->duration_ns = ns_since(t0s, t0n);
	host_free(pl);
	return err;
}

/*
 * The data of chunk k (CHUNKFS_SCRUB_DATA): every block a written extent
 * of the chunk maps is read and compared with its checksum (datasum.c).
 * On the live filesystem, under the lock a batch of inodes at a time (a
 * file's blocks in one chunk at most), not on the private instance: the
 * data changes under a private pass (copies on write, blocks freed and
 * reused after a commit), and its blocks would fill the shadow's read
 * set.  Each damaged range is a problem event (CFS_PROBLEM_DATA_SUM, the
 * file and the bytes); the chunk's data_errors counts the blocks; a
 * chunk whose data was all read and found good is recorded as verified
 * (data_verified_gen and _time).
 */
struct sdata {
	struct cfs_fs *fs;
	u32 nev;
};

static void scrub_data_bad(void *ctx, u32 chunk, u64 ino, u64 off, u64 len,
			   u64 blk)
{
	struct sdata *sd = ctx;
	const struct cfs_problem_desc *d = cfs_problem(CFS_PROBLEM_DATA_SUM);
	char msg[96];

	if (sd->nev++ >= PLOG_MAX)
		return;
	cfs_format(msg, sizeof(msg), "chunk %u: %s block %llu [bytes "
		   "%llu-%llu] -- not fixed", chunk, d ? d->name : "data",
		   (unsigned long long)blk, (unsigned long long)off,
		   (unsigned long long)(off + len - 1));
	fs_event_problem(sd->fs, CHUNKFS_EV_ERROR, chunk, ino,
			 CFS_PROBLEM_DATA_SUM, msg, NULL);
}

#define SCRUB_DATA_BATCH 64   /* inodes per hold of the lock */

static int scrub_data(struct cfs_fs *fs, struct chunkfs_scrub *s)
{
	struct sdata sd = { fs, 0 };
	struct dsum_check dc;
	struct cfs_chunk *ch;
	u32 local = 1, ninodes = 1, nb;
	int err = 0;
	s64 sec;
	u32 ns;

	cfs_memset(&dc, 0, sizeof(dc));
	dc.bufsize = CFS_MAX((u64)fs->bs, 1ULL << 20);
	dc.buf = host_alloc(dc.bufsize);
	if (!dc.buf)
		return -CFS_ENOMEM;
	dc.fn = scrub_data_bad;
	dc.ctx = &sd;
	do {
		host_mutex_lock(fs->lock);
		ch = chunk_get(fs, s->chunk);
		if (!ch || !fs->datasum) {
			host_mutex_unlock(fs->lock);
			break;
		}
		ninodes = ch->hdr.ninodes;
		for (nb = 0; nb < SCRUB_DATA_BATCH && local < ninodes && !err;
		     nb++, local++) {
			struct cfs_inode *ip;

			/* table blocks never used hold no inode */
			if (local / (CFS_PAYLOAD(fs) / CFS_INODE_SIZE) >=
			    ch->hdr.itable_init) {
				local = ninodes;
				break;
			}
			if (inode_get(fs, CFS_MKINO(s->chunk, local), &ip))
				continue;
			err = dsum_check_inode(fs, ch, ip, &dc);
			inode_put(fs, ip);
		}
		if (local >= ninodes && !err && !fs->rdonly) {
			ch->hdr.data_errors += dc.nbad;
			if (!dc.nbad) {
				host_now(&sec, &ns);
				ch->hdr.data_verified_gen = fs->sb.mount_count;
				ch->hdr.data_verified_time = sec;
			}
			ch->hdr_dirty = 1;
			ch->changed = 1;
		}
		host_mutex_unlock(fs->lock);
	} while (local < ninodes && !err);
	dsum_check_done(&dc);
	host_free(dc.buf);
	s->data_bad += (u32)dc.nbad;
	s->blocks_read += dc.nread;
	s->found += sd.nev;
	return err;
}

/*
 * A repair can leave a peer chunk holding a link into this one that only
 * the peer's own check can cut (res.recheck): as fsck does, those peers
 * are checked and repaired next, and their figures added to the scrub's.
 */
int cfs_scrub(struct cfs_fs *fs, struct chunkfs_scrub *s)
{
	struct cfs_check_result res;
	u32 i;
	int err;

	if (s->flags & ~(u32)(CHUNKFS_SCRUB_REPAIR | CHUNKFS_SCRUB_DATA))
		return -CFS_EINVAL;
	cfs_memset(&res, 0, sizeof(res));
	s->data_bad = 0;
	err = scrub_one(fs, s, &res);
	if (!err && (s->flags & CHUNKFS_SCRUB_DATA)) {
		u32 found = s->found;

		err = scrub_data(fs, s);
		if (!err && s->found > found) {
			char msg[96];

			cfs_format(msg, sizeof(msg), "chunk %u scrubbed: %u "
				   "data blocks do not match their checksums",
				   s->chunk, s->data_bad);
			fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_DATA,
				 s->chunk, 0, msg);
		}
	}
	if (err || !(s->flags & CHUNKFS_SCRUB_REPAIR))
		return err;
	for (i = 0; i < res.nrecheck && i < 32; i++) {
		struct chunkfs_scrub p;
		struct cfs_check_result pr;

		if (res.recheck[i] == s->chunk)
			continue;
		cfs_memset(&p, 0, sizeof(p));
		p.chunk = res.recheck[i];
		p.flags = CHUNKFS_SCRUB_REPAIR;
		err = scrub_one(fs, &p, &pr);
		if (err)
			break;
		s->found += p.found;
		s->fixed += p.fixed;
		s->lost_found += p.lost_found;
		s->blocks_read += p.blocks_read;
		s->locked_ns += p.locked_ns;
		s->duration_ns += p.duration_ns;
		s->flags |= p.flags & CHUNKFS_SCRUB_LOCKED;
	}
	return err;
}

int cfs_health(struct cfs_fs *fs, struct chunkfs_health *h)
{
	u32 k, first = h->first;

	if (first > fs->nchunks)
		return -CFS_EINVAL;
	cfs_memset(h, 0, sizeof(*h)); /* (nothing of the caller's left) */
	h->first = first;
	host_mutex_lock(fs->lock);
	h->nchunks = fs->nchunks;
	h->flags = fs->rdonly ? CHUNKFS_HEALTH_RDONLY : 0;
	h->mount_gen = fs->sb.mount_count;
	h->block_size = fs->bs;
	h->errors_policy = fs->errors_policy;
	for (k = h->first; k < fs->nchunks && h->count < CHUNKFS_HEALTH_MAX;
	     k++) {
		struct cfs_chunk *ch = chunk_get(fs, k);
		struct chunkfs_chunk_health *c = &h->c[h->count];

		if (!ch)
			break;
		cfs_memset(c, 0, sizeof(*c));
		c->chunk = k;
		c->state = ch->hdr.state;
		if (ch->hdr_bad && c->state == CFS_CHUNK_CLEAN)
			c->state = CFS_CHUNK_SUSPECT;
		c->verified_gen = ch->hdr.verified_gen;
		c->verified_time = ch->hdr.verified_time;
		if (fs->datasum) {
			/* verified: its metadata and its data read (the
			 * older of the two) */
			c->verified_gen = CFS_MIN(c->verified_gen,
						  ch->hdr.data_verified_gen);
			c->verified_time = CFS_MIN(c->verified_time,
						   ch->hdr.data_verified_time);
		}
		c->errors_found = ch->hdr.errors_found;
		c->errors_fixed = ch->hdr.errors_fixed;
		c->errors_corrected = ch->hdr.errors_corrected;
		c->data_errors = ch->hdr.data_errors;
		c->nblocks = ch->hdr.nblocks;
		c->free_blocks = ch->hdr.free_blocks;
		c->ninodes = ch->hdr.ninodes;
		c->free_inodes = ch->hdr.free_inodes;
		h->count++;
	}
	host_mutex_unlock(fs->lock);
	return 0;
}

void errors_apply(struct cfs_fs *fs)
{
	u32 k = fs->ro_pending - 1;

	fs->ro_pending = 0;
	if (fs->rdonly)
		return;
	/* what is committed stays; nothing more is written */
	if (fs->journal)
		journal_commit(fs, 0);
	fs->rdonly = 1;
	fs->journal = 0;
	fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_READONLY, k, 0,
		 "errors=remount-ro: the filesystem is read-only now");
}
