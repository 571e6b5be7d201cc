// SPDX-License-Identifier: GPL-2.0
/*
 * check_nlink.c - pass 4: connectivity and link counts, and pass 7: the
 * reattachment of orphans.
 *
 * Pass 4 checks, with the names counted by pass 3: every file's link count
 * equals its names; every directory but the root has exactly one name and
 * its parent pointer names the part holding it; a directory's link count is
 * 2 + its subdirectories (for directories without continuations; the cross
 * pass does the others); a directory continuation counts the subdirectories
 * in it.  A file with no name and a zero link count was unlinked while open
 * at a crash and is freed; one with no name but data lost its name and is
 * an orphan, as is a directory with no name.
 * Pass 7 moves orphans to this chunk's lost+found, /lost+found/chunk-K,
 * which mkfs made in chunk K (its entry lives in /lost+found's
 * continuation here), so attaching them writes nothing outside chunk K.
 * Hands on: c->ino[].orphan, the lost+found directory for the cross pass.
 */
#include "check_int.h"

static void free_inode_here(struct ck *c, struct cfs_inode *ip)
{
	cfs_memset(&ip->d, 0, sizeof(ip->d));
	inode_write(c->fs, ip);
	c->ino[ip->local].state = CI_FREE;
}

/* Write a fresh empty directory (or, with back set, a directory
 * continuation of back = {chunk, ino, gen}) at local inode `local`, with
 * generation gen (0: a new one). */
int ck_make_dir(struct ck *c, u32 local, u32 mode, u32 parent, u32 gen,
		u32 uid, u32 gid, const u32 *back)
{
	struct cfs_buf *b;
	struct cfs_dinode *di;
	u32 ipb = ck_ipb(c), blk = local / ipb;
	s64 sec;
	u32 ns;
	int err;

	/* the table blocks before it that are not initialised yet: zeroed
	 * (all their inodes free) */
	while (c->ch->hdr.itable_init < blk) {
		err = buf_new(c->fs, c->ch, c->ch->hdr.itable_start +
			      c->ch->hdr.itable_init, CFS_MAGIC_ITABLE, &b);
		if (err)
			return err;
		buf_put(c->fs, b);
		c->ch->hdr.itable_init++;
	}
	if (blk >= c->ch->hdr.itable_init)
		err = buf_new(c->fs, c->ch, c->ch->hdr.itable_start + blk,
			      CFS_MAGIC_ITABLE, &b);
	else
		err = ck_itable(c, blk, &b);
	if (err == -CFS_EUCLEAN)
		err = buf_new(c->fs, c->ch, c->ch->hdr.itable_start + blk,
			      CFS_MAGIC_ITABLE, &b);
	if (err)
		return err;
	if (blk >= c->ch->hdr.itable_init)
		c->ch->hdr.itable_init = blk + 1;
	di = (struct cfs_dinode *)(b->data + sizeof(struct cfs_bhdr)) +
	     local % ipb;
	cfs_memset(di, 0, sizeof(*di));
	host_now(&sec, &ns);
	di->mode = (u16)(CFS_S_IFDIR | (back ? 0 : mode & 07777));
	di->nlink = back ? 0 : 2;
	di->uid = uid;
	di->gid = gid;
	if (gen) {
		di->gen = gen;
		if (c->ch->hdr.next_gen <= gen)
			c->ch->hdr.next_gen = gen + 1;
	} else {
		di->gen = c->ch->hdr.next_gen++;
	}
	di->atime = di->mtime = di->ctime = di->btime = sec;
	di->parent = back ? 0 : parent;
	if (back) {
		di->flags = CFS_IF_CONT;
		di->back_chunk = back[0];
		di->back_ino = back[1];
		di->back_gen = back[2];
	}
	bt_init_node(di->root, c->fs->iroot_size);
	buf_dirty(c->fs, b);
	buf_put(c->fs, b);
	c->ch->hdr_dirty = 1;
	{	/* drop a stale cached copy */
		struct cfs_inode *ip = inode_cached(c->fs, ck_ino(c, local));

		if (ip)
			ip->d = *di;
	}
	c->ino[local].state = CI_INUSE;
	c->ino[local].ft = CFS_FT_DIR;
	c->ino[local].cont = !!back;
	c->ino[local].entry_part = parent;
	c->ino[local].refs = local == CFS_ROOT_LOCAL || back ? 0 : 1;
	return 0;
}

static int make_dir_at(struct ck *c, u32 local, u32 mode, u32 parent)
{
	return ck_make_dir(c, local, mode, parent, 0, 0, 0, NULL);
}

/* Chunk 0: the root directory and /lost+found must exist. */
static int check_root(struct ck *c)
{
	struct ck_ino *r = &c->ino[CFS_ROOT_LOCAL];
	struct ck_ino *l = &c->ino[CFS_LOST_FOUND_LOCAL];
	struct cfs_inode *root, *lf;
	int err;

	if ((r->state != CI_INUSE || r->ft != CFS_FT_DIR || r->cont) &&
	    r->state != CI_UNKNOWN) {
		if (!ck_problem(c, PR_ROOT_GONE, CFS_ROOT_INO, 0, NULL))
			return 0;
		err = make_dir_at(c, CFS_ROOT_LOCAL, 0755, CFS_ROOT_LOCAL);
		if (err) {
			ck_fix_failed(c, CFS_ROOT_INO, err);
			return 0;
		}
	}
	if ((l->state == CI_INUSE && l->ft == CFS_FT_DIR && !l->cont &&
	     l->refs) || l->state == CI_UNKNOWN ||
	    r->state != CI_INUSE)
		return 0;
	if (!ck_problem(c, PR_LF_GONE, ck_ino(c, CFS_LOST_FOUND_LOCAL), 0, NULL))
		return 0;
	if (l->state == CI_INUSE && !l->refs && l->ft == CFS_FT_DIR && !l->cont) {
		/* it exists but lost its name: just name it again */
	} else {
		err = make_dir_at(c, CFS_LOST_FOUND_LOCAL, 0700, CFS_ROOT_LOCAL);
		if (err) {
			ck_fix_failed(c, 0, err);
			return 0;
		}
	}
	if (inode_get(c->fs, CFS_ROOT_INO, &root))
		return 0;
	if (!inode_get(c->fs, ck_ino(c, CFS_LOST_FOUND_LOCAL), &lf)) {
		u64 x;
		u32 t;

		if (dir_find(c->fs, root, "lost+found", 10, &x, &t) == -CFS_ENOENT)
			err = dir_add(c->fs, root, "lost+found", 10, lf);
		else
			err = -CFS_EEXIST;
		if (err) {
			ck_fix_failed(c, lf->ino, err);
		} else {
			l->refs = 1;
			l->entry_part = CFS_ROOT_LOCAL;
			r->subdirs++;
		}
		inode_put(c->fs, lf);
	}
	inode_put(c->fs, root);
	return 0;
}

int check_nlink(struct ck *c)
{
	u32 i;

	if (c->k == 0)
		check_root(c);

	for (i = 1; i < c->ninodes; i++) {
		struct ck_ino *ci = &c->ino[i];
		struct cfs_inode *ip;
		char d[64];
		int err;

		if (ci->state != CI_INUSE)
			continue;
		err = inode_get(c->fs, ck_ino(c, i), &ip);
		if (err == -CFS_ENOMEM)
			return err;
		if (err)
			continue;
		if (ci->cont) {
			if (ci->ft == CFS_FT_DIR && ip->d.nlink != ci->subdirs) {
				ck_fmt(d, sizeof(d), "% recorded, % found",
				       ip->d.nlink, ci->subdirs);
				if (ck_problem(c, PR_DIR_NLINK, ip->ino, 0, d)) {
					ip->d.nlink = ci->subdirs;
					inode_write(c->fs, ip);
					/* the origin counts these too */
					ck_recheck(c, ip->d.back_chunk);
				}
			}
		} else if (ci->ft == CFS_FT_DIR) {
			int root = c->k == 0 && i == CFS_ROOT_LOCAL;

			if (!root && !ci->refs && !ip->d.nlink) {
				/* removed while in use (a working
				 * directory): a listed orphan, as files */
			} else if (!root && !ci->refs) {
				if (ck_problem(c, PR_ORPHAN, ip->ino, 0,
					       "directory"))
					ci->orphan = 1;
			} else if (!root && ip->d.parent != ci->entry_part) {
				if (ck_problem(c, PR_DIR_PARENT, ip->ino, 0, NULL)) {
					ip->d.parent = ci->entry_part;
					inode_write(c->fs, ip);
				}
			} else if (root && ip->d.parent != CFS_ROOT_LOCAL) {
				if (ck_problem(c, PR_DIR_PARENT, ip->ino, 0, NULL)) {
					ip->d.parent = CFS_ROOT_LOCAL;
					inode_write(c->fs, ip);
				}
			}
			if (!ci->has_fwd && ip->d.nlink != 2 + ci->subdirs &&
			    (root || ci->refs || ip->d.nlink)) {
				ck_fmt(d, sizeof(d), "% recorded, % found",
				       ip->d.nlink, 2 + ci->subdirs);
				if (ck_problem(c, PR_DIR_NLINK, ip->ino, 0, d)) {
					ip->d.nlink = 2 + ci->subdirs;
					inode_write(c->fs, ip);
				}
			}
		} else if (!ci->refs) {
			if (!ip->d.nlink) {
				/* unlinked while in use: an orphan, listed in
				 * the link index (pass 5 checks the entry),
				 * freed by the next mount that uses the
				 * chunk; not a problem */
			} else if (!ip->d.size && !ip->d.blocks &&
				   !ip->d.xattr_root && !ip->d.nconts &&
				   !ci->local_blocks) {
				if (ck_problem(c, PR_ORPHAN_EMPTY, ip->ino, 0, NULL))
					free_inode_here(c, ip);
			} else if (ck_problem(c, PR_ORPHAN, ip->ino, 0, NULL)) {
				ci->orphan = 1;
			}
		} else if (ip->d.nlink != ci->refs) {
			ck_fmt(d, sizeof(d), "% recorded, % names", ip->d.nlink,
			       ci->refs);
			if (ck_problem(c, PR_NLINK, ip->ino, 0, d)) {
				ip->d.nlink = ci->refs;
				inode_write(c->fs, ip);
			}
		}
		inode_put(c->fs, ip);
	}
	return 0;
}

/* The part of /lost+found (chunk 0, local 2) that lives in this chunk:
 * its home in chunk 0, or its continuation here (found through our own
 * link index, which names it).  Pinned; NULL if there is none. */
static struct cfs_inode *lf_part(struct ck *c)
{
	struct cfs_inode *p;
	u32 i;

	if (c->k == 0)
		return inode_get(c->fs, CFS_MKINO(0, CFS_LOST_FOUND_LOCAL), &p)
		       ? NULL : p;
	for (i = 0; i < c->nexp; i++) {
		const struct ck_link *l = &c->links[i];

		if (l->peer == 0 && l->l.kind == CFS_LINK_BACK_DIR &&
		    l->l.peer_ino == CFS_LOST_FOUND_LOCAL &&
		    !inode_get(c->fs, ck_ino(c, l->local), &p))
			return p;
	}
	return NULL;
}

/* /lost+found has no part in this chunk (its continuation here was lost):
 * make a new one.  Outside this chunk that writes only the forward link to
 * it (the directory item, the index entry and the part count of
 * /lost+found in chunk 0).  Pinned; NULL on failure. */
static struct cfs_inode *lf_part_make(struct ck *c)
{
	struct cfs_chunk *c0 = chunk_get(c->fs, 0);
	struct cfs_inode *home, *ct;
	struct cfs_dcont dc, old;
	struct cfs_link fwd, back, have;
	struct cfs_tree t;
	u64 key = ((u64)c->k << 32) | CFS_LOST_FOUND_LOCAL;
	int had, err;

	if (c->k == 0 || !ck_fixing(c) || !c0 ||
	    inode_get(c->fs, CFS_MKINO(0, CFS_LOST_FOUND_LOCAL), &home))
		return NULL;
	if (!CFS_ISDIR(home->d.mode) || (home->d.flags & CFS_IF_CONT) ||
	    !home->d.nlink) {
		inode_put(c->fs, home);
		return NULL;
	}
	err = inode_alloc(c->fs, c->ch, CFS_S_IFDIR | 0700, &ct);
	if (err) {
		inode_put(c->fs, home);
		return NULL;
	}
	ct->d.flags = CFS_IF_CONT;
	ct->d.back_chunk = 0;
	ct->d.back_ino = home->local;
	ct->d.back_gen = home->d.gen;
	ct->d.uid = home->d.uid;
	ct->d.gid = home->d.gid;
	inode_write(c->fs, ct);
	back = (struct cfs_link){ CFS_LINK_BACK_DIR, home->local, home->d.gen,
				  ct->d.gen };
	link_add(c->fs, c->ch, 0, ct->local, &back);
	/* chunk 0: the forward link, replacing a stale one */
	fwd = (struct cfs_link){ CFS_LINK_FWD_DIR, ct->local, ct->d.gen,
				 home->d.gen };
	link_tree(c->fs, c0, &t);
	if (!bt_lookup(&t, key, &have, sizeof(have), NULL)) {
		bt_update(&t, key, &fwd, sizeof(fwd));
	} else if (!bt_insert(&t, key, &fwd, sizeof(fwd))) {
		c0->hdr.link_count++;
		c0->hdr_dirty = 1;
	}
	dc = (struct cfs_dcont){ c->k, ct->local, ct->d.gen, 0 };
	tree_of_inode(c->fs, home, CFS_TREE_DIR, &t);
	had = !bt_lookup(&t, CFS_DKEY_CONT | c->k, &old, sizeof(old), NULL);
	if (had)
		bt_update(&t, CFS_DKEY_CONT | c->k, &dc, sizeof(dc));
	else
		bt_insert(&t, CFS_DKEY_CONT | c->k, &dc, sizeof(dc));
	if (!had) {
		home->d.nconts++;
		home->d.nlink++; /* chunk-K, about to be named in the part */
	}
	inode_write(c->fs, home);
	inode_put(c->fs, home);
	if (ct->local < c->ninodes) {
		c->ino[ct->local].state = CI_INUSE;
		c->ino[ct->local].ft = CFS_FT_DIR;
		c->ino[ct->local].cont = 1;
	}
	return ct;
}

/* This chunk's lost+found (/lost+found/chunk-K), remade inside the part
 * of /lost+found in this chunk if it is gone; pinned.  NULL if that part is
 * gone too: then orphans stay where they are and the problem is reported. */
static struct cfs_inode *lost_found(struct ck *c)
{
	struct cfs_chunk_hdr *h = &c->ch->hdr;
	struct cfs_inode *lf = NULL, *part;
	struct cfs_tree t;
	char name[24];
	u32 len;
	int err;

	struct cfs_inode *cand = NULL;

	if (h->lost_found && h->lost_found < c->ninodes &&
	    c->ino[h->lost_found].state == CI_INUSE &&
	    !c->ino[h->lost_found].cont &&
	    !inode_get(c->fs, ck_ino(c, h->lost_found), &lf)) {
		if (CFS_ISDIR(lf->d.mode) && !(lf->d.flags & CFS_IF_CONT) &&
		    lf->d.nlink && !c->ino[lf->local].orphan)
			return lf;
		if (CFS_ISDIR(lf->d.mode) && !(lf->d.flags & CFS_IF_CONT))
			cand = lf; /* it lost its name: name it again below */
		else
			inode_put(c->fs, lf);
		lf = NULL;
	}
	part = lf_part(c);
	if (!part)
		part = lf_part_make(c);
	if (!part || !CFS_ISDIR(part->d.mode)) {
		if (part)
			inode_put(c->fs, part);
		if (cand)
			inode_put(c->fs, cand);
		ck_unfixable(c, PR_LOST_FOUND, 0, "/lost+found has no part "
			     "in this chunk");
		return NULL;
	}
	len = chunk_dir_name(name, c->k);
	{	/* still there, only the header forgot it (rebuilt header)? */
		u32 max, blen, off = 0;
		u8 *buf;

		tree_of_inode(c->fs, part, CFS_TREE_DIR, &t);
		max = bt_max_item(&t);
		buf = host_alloc(max);
		if (buf && !bt_lookup(&t, dir_hash(c->fs, name, len), buf, max,
				      &blen)) {
			blen = CFS_MIN(blen, max);
			while (off + sizeof(struct cfs_dirent) <= blen) {
				struct cfs_dirent *de = (void *)(buf + off);
				u32 sz = (u32)sizeof(*de) + de->namelen;

				if (off + sz > blen)
					break;
				if (de->namelen == len &&
				    !cfs_memcmp(de->name, name, len) &&
				    de->ino < c->ninodes &&
				    c->ino[de->ino].state == CI_INUSE &&
				    c->ino[de->ino].ft == CFS_FT_DIR &&
				    !c->ino[de->ino].cont &&
				    !inode_get(c->fs, ck_ino(c, de->ino), &lf)) {
					host_free(buf);
					inode_put(c->fs, part);
					if (cand)
						inode_put(c->fs, cand);
					h->lost_found = lf->local;
					c->ch->hdr_dirty = 1;
					return lf;
				}
				off += sz;
			}
		}
		host_free(buf);
		lf = NULL;
	}
	if (cand) {
		lf = cand;
		c->ino[lf->local].orphan = 0;
		err = 0;
	} else {
		err = inode_alloc(c->fs, c->ch, CFS_S_IFDIR | 0700, &lf);
		if (!err)
			lf->d.nlink = 2;
	}
	if (!err) {
		lf->d.parent = part->local;
		inode_write(c->fs, lf);
		/* the entry goes straight into the local part, so that nothing
		 * outside this chunk is written (dir_add would update the
		 * link count of /lost+found's home in chunk 0; the check of
		 * chunk 0 settles that count) */
		{
			u64 key = dir_hash(c->fs, name, len);
			u8 buf[sizeof(struct cfs_dirent) + 24];
			struct cfs_dirent *de = (struct cfs_dirent *)buf;

			tree_of_inode(c->fs, part, CFS_TREE_DIR, &t);
			de->ino = lf->local;
			de->type = CFS_FT_DIR;
			de->namelen = (u8)len;
			cfs_memcpy(de->name, name, len);
			err = bt_insert(&t, key, buf, (u32)sizeof(*de) + len);
			if (err == -CFS_EEXIST) {
				ck_fmt(name + len, 8, ".%", c->res->found, 0);
				len = cfs_strnlen(name, 24);
				de->namelen = (u8)len;
				cfs_memcpy(de->name, name, len);
				err = bt_insert(&t, dir_hash(c->fs, name, len),
						buf, (u32)sizeof(*de) + len);
			}
		}
		if (!err) {
			part->d.nlink++;
			inode_write(c->fs, part);
			if (part->local < c->ninodes)
				c->ino[part->local].subdirs++;
		}
	}
	inode_put(c->fs, part);
	if (err) {
		if (lf) {
			cfs_memset(&lf->d, 0, sizeof(lf->d));
			inode_write(c->fs, lf);
			free_inode_nr(c->fs, c->ch, lf->local);
			inode_put(c->fs, lf);
		}
		ck_unfixable(c, PR_LOST_FOUND, 0, "no space");
		return NULL;
	}
	h->lost_found = lf->local;
	c->ch->hdr_dirty = 1;
	if (lf->local < c->ninodes) {
		c->ino[lf->local].state = CI_INUSE;
		c->ino[lf->local].ft = CFS_FT_DIR;
	}
	return lf;
}

int ck_reattach(struct ck *c, struct cfs_inode *ip, const char *prefix,
		u64 a, u64 b)
{
	struct cfs_inode *lf = lost_found(c);
	char name[64];
	u64 x;
	u32 t, n;
	int err;

	if (!lf)
		return -CFS_ENOSPC;
	for (n = 0; n < 100; n++) {
		ck_fmt(name, sizeof(name), prefix, a, b);
		if (n) {
			u32 l = cfs_strnlen(name, sizeof(name));

			ck_fmt(name + l, (u32)sizeof(name) - l, ".%", n, 0);
		}
		if (dir_find(c->fs, lf, name, cfs_strnlen(name, 64), &x, &t) ==
		    -CFS_ENOENT)
			break;
	}
	if (!CFS_ISDIR(ip->d.mode))
		ip->d.nlink = 1;
	inode_write(c->fs, ip);
	err = dir_add(c->fs, lf, name, cfs_strnlen(name, 64), ip);
	if (!err) {
		inode_touch(lf, 0, 1, 1);
		inode_write(c->fs, lf);
		c->res->lost_found++;
	}
	inode_put(c->fs, lf);
	return err;
}

int check_reattach(struct ck *c)
{
	u32 i;

	if (!ck_fixing(c))
		return 0;
	{	/* this chunk's lost+found must exist, orphans or not */
		struct cfs_inode *lf = lost_found(c);

		if (lf)
			inode_put(c->fs, lf);
	}
	for (i = 1; i < c->ninodes; i++) {
		struct cfs_inode *ip;
		int err;

		if (!c->ino[i].orphan)
			continue;
		err = inode_get(c->fs, ck_ino(c, i), &ip);
		if (err)
			continue;
		err = ck_reattach(c, ip, "#%", i, 0);
		if (err)
			ck_fix_failed(c, ip->ino, err);
		inode_put(c->fs, ip);
	}
	return 0;
}
