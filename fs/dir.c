// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c - directories.
 *
 * A directory is a B+tree keyed by a 35-bit hash of the name; an item holds
 * the entries whose names share that hash.  Entries live with the inode
 * they name (invariant 4): an entry for an inode of another chunk goes into
 * the directory's continuation in that chunk, so entry inode numbers are
 * always local (32 bits) and link counts can be checked inside one chunk.
 * The home tree also holds the forward links to those continuations (keys
 * CFS_DKEY_CONT | chunk).
 *
 * A subdirectory's `parent` field names the directory part (home or
 * continuation) in its own chunk that holds its entry; ".." follows that
 * part's back link when it is a continuation.
 */
#include "internal.h"

#define HASH_MASK ((1ULL << CFS_HASH_BITS) - 1)
#define DIRENT_MAX (sizeof(struct cfs_dirent) + CFS_NAME_MAX)
/* Overflow items (DIROVF): key of item seq (1 .. 255) of hash h. */
#define OVF_KEY(h, seq) (CFS_DKEY_OVF | (h) << 8 | (u64)(seq))
#define OVF_SEQ_MAX 255u
/* Names one hash may have in one directory part: the readdir cookie
 * counts them in 8 bits. */
#define HASH_NAMES_MAX 256u

u64 dir_hash(const struct cfs_fs *fs, const char *name, u32 len)
{
	u64 h = cfs_fnv1a(0xcbf29ce484222325ULL ^ fs->g->hash_seed, name, len);

	return (h ^ (h >> 35)) & fs->hash_mask;
}

/* The items of hash h in tree t, in order: *seq 0 the hash's own item, then
 * its overflow items.  Call with *seq = 0 for the first; each call reads
 * the next into buf (up to bt_max_item) and sets *seq to it; -ENOENT
 * after the last. */
static int item_next(struct cfs_fs *fs, struct cfs_tree *t, u64 h, u32 *seq,
		     int first, u8 *buf, u32 *blen)
{
	u64 k;
	int err;

	if (first) {
		*seq = 0;
		err = bt_lookup(t, h, buf, bt_max_item(t), blen);
	} else {
		if (!fs->dirovf || *seq >= OVF_SEQ_MAX)
			return -CFS_ENOENT;
		err = bt_find_ge(t, OVF_KEY(h, *seq + 1), &k, buf,
				 bt_max_item(t), blen);
		if (!err && k > OVF_KEY(h, OVF_SEQ_MAX))
			err = -CFS_ENOENT;
		if (!err)
			*seq = (u32)(k & 0xff);
	}
	if (!err && *blen > bt_max_item(t))
		err = -CFS_EUCLEAN;
	return err;
}

static u64 item_key(u64 h, u32 seq)
{
	return seq ? OVF_KEY(h, seq) : h;
}

/* Entries in one item (-EUCLEAN if it does not parse). */
static int item_count(const u8 *buf, u32 blen)
{
	u32 off = 0;
	int n = 0;

	while (off + sizeof(struct cfs_dirent) <= blen) {
		off += (u32)sizeof(struct cfs_dirent) +
		       ((const struct cfs_dirent *)(buf + off))->namelen;
		n++;
	}
	return off == blen ? n : -CFS_EUCLEAN;
}

/* The directory part (home or continuation) in chunk ch; pinned. */
static int dir_part(struct cfs_fs *fs, struct cfs_inode *dir,
		    struct cfs_chunk *ch, int create, struct cfs_inode **out)
{
	if (dir->ch == ch) {
		dir->refs++;
		*out = dir;
		return 0;
	}
	return cont_get(fs, dir, ch, create, out);
}

/* Find name in one part's item for hash h.  Returns the entry's offset in
 * buf, or -ENOENT. */
static int item_find(const u8 *buf, u32 blen, const char *name, u32 len)
{
	u32 off = 0;

	while (off + sizeof(struct cfs_dirent) <= blen) {
		const struct cfs_dirent *de = (const void *)(buf + off);
		u32 sz = (u32)sizeof(*de) + de->namelen;

		if (off + sz > blen)
			return -CFS_EUCLEAN;
		if (de->namelen == len && !cfs_memcmp(de->name, name, len))
			return (int)off;
		off += sz;
	}
	return -CFS_ENOENT;
}

static int part_find(struct cfs_fs *fs, struct cfs_inode *part, u64 h,
		     const char *name, u32 len, u64 *ino, u32 *type, u8 *buf)
{
	struct cfs_tree t;
	u32 blen, seq;
	int err, off, first = 1;

	tree_of_inode(fs, part, CFS_TREE_DIR, &t);
	do {
		err = item_next(fs, &t, h, &seq, first, buf, &blen);
		if (err)
			return err;
		first = 0;
		off = item_find(buf, blen, name, len);
	} while (off == -CFS_ENOENT);
	if (off < 0) {
		chunk_mark_suspect(fs, part->ch, "bad directory item");
		return off;
	}
	if (ino) {
		const struct cfs_dirent *de = (const void *)(buf + off);

		*ino = CFS_MKINO(part->ch->index, de->ino);
		*type = de->type;
	}
	return 0;
}

int dir_item_put(struct cfs_fs *fs, struct cfs_tree *t, u64 h, u32 ino,
		 u8 type, const char *name, u32 len, u8 *buf)
{
	u32 max = bt_max_item(t), sz = (u32)sizeof(struct cfs_dirent) + len;
	u32 seq, blen, used[(OVF_SEQ_MAX + 1) / 32], room = ~0u, n = 0;
	struct cfs_dirent *de;
	int err, c, first = 1;
	u64 key;

	cfs_memset(used, 0, sizeof(used));
	for (;; first = 0) {
		err = item_next(fs, t, h, &seq, first, buf, &blen);
		if (err == -CFS_ENOENT)
			break;
		if (err)
			return err;
		c = item_count(buf, blen);
		if (c < 0)
			return c;
		if (item_find(buf, blen, name, len) >= 0)
			return -CFS_EEXIST;
		n += (u32)c;
		used[seq / 32] |= 1u << (seq % 32);
		if (room == ~0u && blen + sz <= max)
			room = seq;
	}
	/* names sharing one hash: at most 256 (readdir cookies) */
	if (n >= HASH_NAMES_MAX)
		return -CFS_ENOSPC;
	blen = 0;
	if (room != ~0u) {
		key = item_key(h, room);
		err = bt_lookup(t, key, buf, max, &blen);
		if (err)
			return err;
	} else if (!(used[0] & 1)) {
		key = h;
	} else {
		if (!fs->dirovf)
			return -CFS_ENOSPC;
		for (seq = 1; seq <= OVF_SEQ_MAX; seq++)
			if (!(used[seq / 32] & (1u << (seq % 32))))
				break;
		if (seq > OVF_SEQ_MAX)
			return -CFS_ENOSPC;
		key = OVF_KEY(h, seq);
	}
	de = (struct cfs_dirent *)(buf + blen);
	de->ino = ino;
	de->type = type;
	de->namelen = (u8)len;
	cfs_memcpy(de->name, name, len);
	err = blen ? bt_update(t, key, buf, blen + sz)
		   : bt_insert(t, key, buf, sz);
	return err == -CFS_E2BIG ? -CFS_ENOSPC : err;
}

/* Remove name from the items of hash h in tree t (-ENOENT: none has it).
 * An emptied item goes; the hash's own item, emptied, takes the content
 * of its first overflow item instead (overflow items exist only beside
 * it).  buf: bt_max_item bytes. */
static int item_remove(struct cfs_fs *fs, struct cfs_tree *t, u64 h,
		       const char *name, u32 len, u8 *buf)
{
	u32 seq, blen, sz, olen, oseq = 0;
	int err, off, first = 1;

	do {
		err = item_next(fs, t, h, &seq, first, buf, &blen);
		if (err)
			return err;
		first = 0;
		off = item_find(buf, blen, name, len);
	} while (off == -CFS_ENOENT);
	if (off < 0)
		return off;
	sz = (u32)sizeof(struct cfs_dirent) +
	     ((struct cfs_dirent *)(buf + off))->namelen;
	if (sz != blen) {
		cfs_memmove(buf + off, buf + off + sz, blen - (u32)off - sz);
		return bt_update(t, item_key(h, seq), buf, blen - sz);
	}
	if (seq)
		return bt_delete(t, OVF_KEY(h, seq));
	err = item_next(fs, t, h, &oseq, 0, buf, &olen);
	if (err == -CFS_ENOENT)
		return bt_delete(t, h);
	if (!err)
		err = bt_update(t, h, buf, olen);
	return err ? err : bt_delete(t, OVF_KEY(h, oseq));
}

/* Next continuation after chunk `after` (-1 for the first): its dcont. */
static int next_cont(struct cfs_fs *fs, struct cfs_inode *dir, s64 after,
		     struct cfs_dcont *dc)
{
	struct cfs_tree t;
	u64 k;
	int err;

	tree_of_inode(fs, dir, CFS_TREE_DIR, &t);
	err = bt_find_ge(&t, CFS_DKEY_CONT | (u64)(after + 1), &k, dc,
			 sizeof(*dc), NULL);
	if (err)
		return err;
	if (dc->chunk != (u32)(k & 0xffffffffu) || dc->chunk >= fs->nchunks) {
		chunk_mark_suspect(fs, dir->ch, "bad directory forward link");
		return -CFS_EIO;
	}
	/* callers use chunk_get(fs, dc->chunk): load it now */
	return chunk_get(fs, dc->chunk) ? 0 : -CFS_ENOMEM;
}

int dir_find(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	     u32 len, u64 *ino, u32 *type)
{
	u64 h = dir_hash(fs, name, len);
	struct cfs_dcont dc;
	s64 after = -1;
	u8 *buf = host_alloc(fs->bs);
	int err, bad = 0;

	if (!buf)
		return -CFS_ENOMEM;
	/* A part that cannot be read does not hide the names of the parts
	 * after it; if the name is in none of those read, the error of the
	 * unreadable part is the answer (the name may be there), not ENOENT. */
	err = part_find(fs, dir, h, name, len, ino, type, buf);
	if (err && err != -CFS_ENOENT) {
		bad = err;
		err = -CFS_ENOENT;
	}
	while (err == -CFS_ENOENT && dir->d.nconts) {
		struct cfs_inode *c;

		err = next_cont(fs, dir, after, &dc);
		if (err)
			break;
		after = dc.chunk;
		err = cont_get(fs, dir, chunk_get(fs, dc.chunk), 0, &c);
		if (!err) {
			err = part_find(fs, c, h, name, len, ino, type, buf);
			inode_put(fs, c);
		}
		if (err && err != -CFS_ENOENT) {
			if (!bad)
				bad = err;
			err = -CFS_ENOENT;
		}
	}
	host_free(buf);
	return err == -CFS_ENOENT && bad ? bad : err;
}

/* Is name in this one part of a directory? (1 yes, 0 no, or an error) */
int dir_part_has(struct cfs_fs *fs, struct cfs_inode *part, const char *name,
		 u32 len)
{
	u8 *buf = host_alloc(fs->bs);
	int err;

	if (!buf)
		return -CFS_ENOMEM;
	err = part_find(fs, part, dir_hash(fs, name, len), name, len, NULL,
			NULL, buf);
	host_free(buf);
	return err == -CFS_ENOENT ? 0 : err ? err : 1;
}

/* The entry name -> ip put into one part of a directory as it is (the
 * checker restoring a name from a parent pointer: the counts are its
 * own, the parent pointer exists). */
int dir_part_insert(struct cfs_fs *fs, struct cfs_inode *part,
		    const char *name, u32 len, struct cfs_inode *ip)
{
	struct cfs_tree t;
	u8 *buf = host_alloc(fs->bs + DIRENT_MAX);
	int err;

	if (!buf)
		return -CFS_ENOMEM;
	tree_of_inode(fs, part, CFS_TREE_DIR, &t);
	err = dir_item_put(fs, &t, dir_hash(fs, name, len), ip->local,
			   (u8)mode_to_ft(ip->d.mode), name, len, buf);
	if (!err)
		err = inode_write(fs, part);
	host_free(buf);
	return err;
}

int dir_add(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	    u32 len, struct cfs_inode *ip)
{
	return dir_add_from(fs, dir, name, len, ip, NULL, NULL, 0);
}

int dir_add_from(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
		 u32 len, struct cfs_inode *ip, struct cfs_inode *odir,
		 const char *oname, u32 olen)
{
	u64 h = dir_hash(fs, name, len);
	struct cfs_inode *part;
	struct cfs_tree t;
	u8 *buf;
	int err;

	buf = host_alloc(fs->bs + DIRENT_MAX);
	if (!buf)
		return -CFS_ENOMEM;
	err = dir_part(fs, dir, ip->ch, 1, &part);
	if (err)
		goto out_free;
	tree_of_inode(fs, part, CFS_TREE_DIR, &t);
	err = dir_item_put(fs, &t, h, ip->local, (u8)mode_to_ft(ip->d.mode),
			   name, len, buf);
	if (err)
		goto out;
	if (CFS_ISDIR(ip->d.mode)) {
		ip->d.parent = part->local;
		err = inode_write(fs, ip);
		if (part != dir) {
			part->d.nlink++;
			inode_write(fs, part);
		}
		dir->d.nlink++;
		inode_write(fs, dir);
	}
	/* its parent pointer, in the same transaction (format v2) */
	if (odir)
		err = pptr_move(fs, odir, oname, olen, dir, name, len, ip);
	else
		err = pptr_add(fs, dir, name, len, ip);
	if (err) { /* no name without it: the entry goes again */
		item_remove(fs, &t, h, name, len, buf);
		if (CFS_ISDIR(ip->d.mode)) {
			if (part != dir && part->d.nlink)
				part->d.nlink--;
			if (dir->d.nlink > 2)
				dir->d.nlink--;
			inode_write(fs, dir);
		}
	}
out:
	if (part != dir && !err)
		inode_write(fs, part);
	inode_put(fs, part);
out_free:
	host_free(buf);
	return err;
}

static int part_is_empty(struct cfs_fs *fs, struct cfs_inode *part)
{
	struct cfs_tree t;
	u64 k;
	int err;

	tree_of_inode(fs, part, CFS_TREE_DIR, &t);
	err = bt_find_ge(&t, 0, &k, NULL, 0, NULL);
	if (err == -CFS_ENOENT)
		return 1;
	if (err)
		return err;
	return 0;
}

int dir_remove(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	       u32 len, struct cfs_inode *ip)
{
	return dir_remove_pp(fs, dir, name, len, ip, 1);
}

int dir_remove_pp(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
		  u32 len, struct cfs_inode *ip, int pptr)
{
	u64 h = dir_hash(fs, name, len);
	struct cfs_inode *part;
	struct cfs_tree t;
	u8 *buf;
	int err;

	buf = host_alloc(fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	err = dir_part(fs, dir, ip->ch, 0, &part);
	if (err)
		goto out_free;
	tree_of_inode(fs, part, CFS_TREE_DIR, &t);
	err = item_remove(fs, &t, h, name, len, buf);
	if (err)
		goto out;
	if (CFS_ISDIR(ip->d.mode)) {
		if (part != dir && part->d.nlink)
			part->d.nlink--;
		if (dir->d.nlink > 2)
			dir->d.nlink--;
		inode_write(fs, dir);
	}
	if (pptr)
		err = pptr_remove(fs, dir, name, len, ip);
	if (part != dir) {
		inode_write(fs, part);
		if (!err && part_is_empty(fs, part) == 1)
			err = cont_remove(fs, dir, part);
	}
out:
	inode_put(fs, part);
out_free:
	host_free(buf);
	return err;
}

int dir_is_empty(struct cfs_fs *fs, struct cfs_inode *dir)
{
	return part_is_empty(fs, dir);
}

int dir_free_all(struct cfs_fs *fs, struct cfs_inode *dir)
{
	struct cfs_tree t;
	struct cfs_dcont dc;
	int err;

	while (!(dir->d.flags & CFS_IF_CONT) && dir->d.nconts) {
		struct cfs_inode *c;

		err = next_cont(fs, dir, -1, &dc);
		if (err)
			break;
		err = cont_get(fs, dir, chunk_get(fs, dc.chunk), 0, &c);
		if (err)
			break;
		err = cont_remove(fs, dir, c);
		inode_put(fs, c);
		if (err)
			return err;
	}
	tree_of_inode(fs, dir, CFS_TREE_DIR, &t);
	return bt_destroy(&t);
}

int dir_parent(struct cfs_fs *fs, struct cfs_inode *ip, u64 *parent)
{
	struct cfs_inode *part;
	int err;

	if (ip->ino == CFS_ROOT_INO) {
		*parent = CFS_ROOT_INO;
		return 0;
	}
	err = inode_get(fs, CFS_MKINO(ip->ch->index, ip->d.parent), &part);
	if (err)
		return err;
	if (part->d.flags & CFS_IF_CONT)
		*parent = CFS_MKINO(part->d.back_chunk, part->d.back_ino);
	else
		*parent = part->ino;
	if (!CFS_ISDIR(part->d.mode))
		err = -CFS_EIO;
	inode_put(fs, part);
	return err;
}

/* ---- readdir ----
 * A cookie names the last entry returned: 1 ".", 2 "..", else 3 + (part
 * << 43 | hash << 8 | index in item), part 0 = home, chunk + 1 = the
 * continuation in that chunk. */
#define CK_PART_SHIFT 43

struct rd_state {
	cfs_filldir_t fn;
	void *ctx;
	int stopped;
};

static int part_readdir(struct cfs_fs *fs, struct cfs_inode *part, u64 pcode,
			u64 h0, u32 idx0, struct rd_state *rs, u8 *buf)
{
	struct cfs_tree t;
	u64 k = h0;
	int err;

	tree_of_inode(fs, part, CFS_TREE_DIR, &t);
	for (;; k++) {
		u32 blen, seq, idx = 0;
		int first = 1;

		err = bt_find_ge(&t, k, &k, NULL, 0, NULL);
		if (err == -CFS_ENOENT || (!err && k >= CFS_DKEY_OVF))
			return 0;
		if (err)
			return err;
		/* the hash's item, then its overflow items: idx counts
		 * the names of the hash */
		for (;; first = 0) {
			u32 off = 0;

			err = item_next(fs, &t, k, &seq, first, buf, &blen);
			if (err == -CFS_ENOENT)
				break;
			if (err && err != -CFS_EUCLEAN)
				return err;
			if (err || item_count(buf, blen) < 0 ||
			    idx + (u32)item_count(buf, blen) > HASH_NAMES_MAX) {
				chunk_mark_suspect(fs, part->ch,
						   "bad directory item");
				return -CFS_EIO;
			}
			while (off < blen) {
				struct cfs_dirent *de = (void *)(buf + off);

				if (k != h0 || idx >= idx0) {
					u64 ck = 3 + ((pcode << CK_PART_SHIFT) |
						       (k << 8) | idx);

					if (rs->fn(rs->ctx, de->name,
						   de->namelen,
						   CFS_MKINO(part->ch->index,
							     de->ino),
						   de->type, ck)) {
						rs->stopped = 1;
						return 0;
					}
				}
				off += (u32)sizeof(*de) + de->namelen;
				idx++;
			}
		}
	}
}

int cfs_readdir_locked(struct cfs_fs *fs, struct cfs_inode *dir, u64 cookie,
		       cfs_filldir_t fn, void *ctx)
{
	struct rd_state rs = { fn, ctx, 0 };
	u64 pcode = 0, h = 0, parent;
	u32 idx = 0;
	u8 *buf;
	int err;

	if (cookie < 1) {
		if (fn(ctx, ".", 1, dir->ino, CFS_FT_DIR, 1))
			return 0;
	}
	if (cookie < 2) {
		err = dir_parent(fs, dir, &parent);
		if (err)
			return err;
		if (fn(ctx, "..", 2, parent, CFS_FT_DIR, 2))
			return 0;
	}
	if (cookie > 2) {
		u64 c = cookie - 3;

		pcode = c >> CK_PART_SHIFT;
		h = (c >> 8) & HASH_MASK;
		idx = (u32)(c & 0xff) + 1;
	}
	buf = host_alloc(fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	err = 0;
	if (pcode == 0) {
		err = part_readdir(fs, dir, 0, h, idx, &rs, buf);
		h = 0;
		idx = 0;
		pcode = 1;
	}
	while (!err && !rs.stopped && dir->d.nconts) {
		struct cfs_dcont dc;
		struct cfs_inode *c;

		err = next_cont(fs, dir, (s64)pcode - 2, &dc);
		if (err == -CFS_ENOENT) {
			err = 0;
			break;
		}
		if (err)
			break;
		if (dc.chunk + 1 != pcode) {
			h = 0;
			idx = 0;
		}
		pcode = dc.chunk + 1;
		err = cont_get(fs, dir, chunk_get(fs, dc.chunk), 0, &c);
		if (err)
			break;
		err = part_readdir(fs, c, pcode, h, idx, &rs, buf);
		inode_put(fs, c);
		h = 0;
		idx = 0;
		pcode++;
	}
	host_free(buf);
	return err;
}

int dir_links(struct cfs_fs *fs, struct cfs_inode *dir,
	      struct cfs_ino_links *out)
{
	struct cfs_dcont dc;
	s64 after = -1;
	int err;

	while (dir->d.nconts) {
		struct cfs_inode *c;
		struct cfs_tree ct;
		u64 nb;

		err = next_cont(fs, dir, after, &dc);
		if (err == -CFS_ENOENT)
			return 0;
		if (err)
			return err;
		after = dc.chunk;
		if (out->nconts < 64)
			out->chunks[out->nconts] = dc.chunk;
		out->nconts++;
		if (!cont_get(fs, dir, chunk_get(fs, dc.chunk), 0, &c)) {
			out->cont_blocks += c->d.blocks;
			tree_of_inode(fs, c, CFS_TREE_DIR, &ct);
			if (!bt_count_blocks(&ct, &nb))
				out->cont_tree_blocks += nb;
			inode_put(fs, c);
		}
	}
	return 0;
}

/* Placement: among the chunks where dir already has a continuation, the
 * one with room and the most free blocks (NULL if none).  New entries that
 * go there need no new continuation. */
struct cfs_chunk *dir_cont_chunk_with_room(struct cfs_fs *fs,
					   struct cfs_inode *dir)
{
	struct cfs_chunk *best = NULL;
	struct cfs_dcont dc;
	s64 after = -1;

	while (dir->d.nconts && !next_cont(fs, dir, after, &dc)) {
		struct cfs_chunk *ch = chunk_get(fs, dc.chunk);

		after = dc.chunk;
		if (chunk_has_room(ch) &&
		    (!best || ch->hdr.free_blocks > best->hdr.free_blocks))
			best = ch;
	}
	return best;
}
