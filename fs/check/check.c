// SPDX-License-Identifier: GPL-2.0
/*
 * check.c - the checker's driver: runs the passes over one chunk (see
 * check_int.h for their order), reports problems through the caller's
 * callback, and records the outcome in the chunk's header: CLEAN with the
 * verified generation and time when nothing is left, DAMAGED otherwise.
 */
#include "check_int.h"

int ck_fixing(const struct ck *c)
{
	return c->mode != CFS_CHECK_NOFIX && !c->fs->rdonly && !c->halted;
}

/* Preen (-p) stops at the first problem that needs a person's decision,
 * as e2fsck's preen does: that problem is reported (not fixed), nothing
 * after it is reported or repaired (ck_fixing is 0 from then on, and the
 * driver runs no further pass), since later repairs may depend on how it
 * would be decided (a name removed for an inode not cleared, the blocks
 * of such an inode freed). */
static int ck_halts(struct ck *c, const struct cfs_problem_desc *d)
{
	if (c->mode != CFS_CHECK_PREEN || !ck_fixing(c) ||
	    (d && d->policy == CFS_FIX_PREEN))
		return 0;
	c->halted = 1;
	c->res->halted = 1;
	return 1;
}

/* The path of inode ino, climbing parent pointers (format v2); for a
 * continuation of this chunk, its file's.  Reads of other chunks' blocks
 * for it are not the check's: no copy comparison, no heal reports. */
const char *ck_path(struct ck *c, u64 ino)
{
	struct cfs_fs *fs = c->fs;
	void (*heal)(void *, u32, u32, const char *) = fs->on_heal;
	int vc = fs->verify_copies, n = -CFS_ENOENT;
	u32 i;

	if (!ino || !fs->pptr || CFS_LOCAL(ino) == 0)
		return NULL;
	if (!c->path) {
		c->path = host_alloc(CK_PATH_MAX);
		if (!c->path)
			return NULL;
	}
	fs->on_heal = NULL;
	fs->verify_copies = 0;
	if (CFS_CHUNK_OF(ino) == c->k && c->ino &&
	    CFS_LOCAL(ino) < c->ninodes && c->ino[CFS_LOCAL(ino)].cont) {
		/* a continuation: its origin's path, from its back link */
		for (i = 0; i < c->nlinks; i++)
			if (c->links[i].local == CFS_LOCAL(ino) &&
			    (c->links[i].l.kind == CFS_LINK_BACK_FILE ||
			     c->links[i].l.kind == CFS_LINK_BACK_DIR ||
			     c->links[i].l.kind == CFS_LINK_BACK_XATTR))
				break;
		if (i < c->nlinks)
			n = pptr_path(fs, CFS_MKINO(c->links[i].peer,
						    c->links[i].l.peer_ino),
				      c->path, CK_PATH_MAX);
	} else {
		n = pptr_path(fs, ino, c->path, CK_PATH_MAX);
	}
	fs->on_heal = heal;
	fs->verify_copies = vc;
	return n > 0 ? c->path : NULL;
}

int ck_problem(struct ck *c, u32 code, u64 ino, u64 blk, const char *detail)
{
	return ck_problem_path(c, code, ino, blk, detail, NULL);
}

int ck_problem_path(struct ck *c, u32 code, u64 ino, u64 blk,
		    const char *detail, const char *path)
{
	const struct cfs_problem_desc *d = cfs_problem(code);
	struct cfs_problem_report r;
	int fix;

	if (c->halted)
		return 0;
	ck_halts(c, d);
	fix = ck_fixing(c) && d &&
	      (c->mode == CFS_CHECK_FIXALL || d->policy == CFS_FIX_PREEN);
	c->res->found++;
	if (fix)
		c->res->fixed++;
	r.code = code;
	r.chunk = c->k;
	r.ino = ino;
	r.blk = blk;
	r.fixed = fix;
	r.detail = detail;
	r.path = path ? path : c->fn ? ck_path(c, ino) : NULL;
	if (c->fn)
		c->fn(c->ctx, &r);
	return fix;
}

void ck_unfixable(struct ck *c, u32 code, u64 ino, const char *detail)
{
	struct cfs_problem_report r;

	if (c->halted)
		return;
	ck_halts(c, NULL);
	c->res->found++;
	r.code = code;
	r.chunk = c->k;
	r.ino = ino;
	r.blk = 0;
	r.fixed = 0;
	r.detail = detail;
	r.path = c->fn ? ck_path(c, ino) : NULL;
	if (c->fn)
		c->fn(c->ctx, &r);
}

void ck_fix_failed(struct ck *c, u64 ino, int err)
{
	char d[32];

	ck_fmt(d, sizeof(d), "error %", (u64)(-err), 0);
	if (c->res->fixed)
		c->res->fixed--; /* the problem just reported stays */
	ck_unfixable(c, PR_FIX_FAILED, ino, d);
}

void ck_recheck(struct ck *c, u32 p)
{
	u32 i;

	for (i = 0; i < c->res->nrecheck; i++)
		if (c->res->recheck[i] == p)
			return;
	if (c->res->nrecheck < CFS_ARRAY_SIZE(c->res->recheck))
		c->res->recheck[c->res->nrecheck++] = p;
}

u64 ck_ino(const struct ck *c, u32 local)
{
	return CFS_MKINO(c->k, local);
}

void ck_mark(struct ck *c, u32 blk)
{
	if (blk < c->nblocks)
		c->used[blk / 8] |= (u8)(1u << (blk % 8));
}

/* The chunk's fixed metadata: header, maps, inode table, generation
 * table, journal, the mirror region (DUP), the header copy. */
void ck_mark_meta(struct ck *c)
{
	u32 i;

	for (i = 0; i < c->ch->hdr.data_start; i++)
		ck_mark(c, i);
	for (i = chunk_data_end(c->ch); i < c->nblocks; i++)
		ck_mark(c, i);
}

int ck_test(const struct ck *c, u32 blk)
{
	return blk < c->nblocks && (c->used[blk / 8] & (1u << (blk % 8)));
}

/* A tiny formatter: "%" is replaced by a, then b (decimal). */
void ck_fmt(char *buf, u32 size, const char *s, u64 a, u64 b)
{
	u32 o = 0, n = 0;

	while (*s && o + 1 < size) {
		if (*s == '%') {
			char tmp[24];
			u64 v = n++ ? b : a;
			int t = 0;

			do {
				tmp[t++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			while (t && o + 1 < size)
				buf[o++] = tmp[--t];
			s++;
			continue;
		}
		buf[o++] = *s++;
	}
	buf[o] = 0;
}

int ck_add_link(struct ck *c, u32 peer, u32 local, const struct cfs_link *l)
{
	u32 i;

	/* Links of one inode are added together: look back over all of
	 * them (not a fixed window: a file's range items may name the same
	 * continuation thousands of items apart, and counting it twice made
	 * a right index look wrong; issue 16). */
	for (i = c->nlinks; i-- > 0 && c->links[i].local == local; ) {
		if (c->links[i].peer == peer) {
			if (c->links[i].l.kind == l->kind &&
			    c->links[i].l.peer_ino == l->peer_ino &&
			    c->links[i].l.peer_gen == l->peer_gen)
				return 0;   /* the same link again */
			return 1;           /* a conflicting second link */
		}
	}
	if (c->nlinks == c->caplinks) {
		u32 cap = c->caplinks ? c->caplinks * 2 : 64;
		struct ck_link *n = host_alloc((u64)cap * sizeof(*n));

		if (!n)
			return -CFS_ENOMEM;
		if (c->links)
			cfs_memcpy(n, c->links, c->nlinks * sizeof(*n));
		host_free(c->links);
		c->links = n;
		c->caplinks = cap;
	}
	if (local < c->ninodes && (l->kind == CFS_LINK_FWD_FILE ||
				   l->kind == CFS_LINK_FWD_DIR))
		c->ino[local].has_fwd = 1;
	c->links[c->nlinks].peer = peer;
	c->links[c->nlinks].local = local;
	c->links[c->nlinks].l = *l;
	c->nlinks++;
	return 0;
}

u32 ck_ipb(const struct ck *c)
{
	return CFS_PAYLOAD(c->fs) / CFS_INODE_SIZE;
}

int ck_itable(struct ck *c, u32 blk, struct cfs_buf **b)
{
	return buf_read(c->fs, c->ch, c->ch->hdr.itable_start + blk,
			CFS_MAGIC_ITABLE, b);
}

/* The bottom layer healed a bad copy (or found one, read-only). */
static void ck_healed(void *ctx, u32 chunk, u32 local, const char *why)
{
	struct ck *c = ctx;
	struct cfs_problem_report r;
	char d[112];

	c->res->corrected++;
	r.code = PR_COPY_BAD;
	r.chunk = chunk;
	r.ino = 0;
	r.blk = c->fs->chunks[chunk] ? cfs_abs(c->fs->chunks[chunk], local) : 0;
	/* the absolute block, as the report's (local %u in the chunk) */
	cfs_format(d, sizeof(d), "%s (local block %u)", why, local);
	r.fixed = !c->fs->rdonly && !c->fs->no_heal;
	r.detail = d;
	r.path = NULL;
	if (c->fn)
		c->fn(c->ctx, &r);
}

/* ---- the data pass (CFS_CHECK_DATA): every data block of the chunk's
 * files read and compared with its checksum (datasum.c) ---- */
static void ck_data_bad(void *ctx, u32 chunk, u64 ino, u64 off, u64 len,
			u64 blk)
{
	struct ck *c = ctx;
	struct cfs_problem_report r;
	char d[64];

	cfs_format(d, sizeof(d), "bytes %llu-%llu", (unsigned long long)off,
		   (unsigned long long)(off + len - 1));
	r.code = CFS_PROBLEM_DATA_SUM;
	r.chunk = chunk;
	r.ino = ino;
	r.blk = blk;
	r.fixed = 0;
	r.detail = d;
	r.path = c->fn ? ck_path(c, ino) : NULL;
	if (c->fn)
		c->fn(c->ctx, &r);
}

static int check_data(struct ck *c)
{
	struct dsum_check dc;
	u32 local;
	int err = 0;

	if (!c->fs->datasum)
		return 0;
	cfs_memset(&dc, 0, sizeof(dc));
	dc.bufsize = CFS_MAX((u64)c->fs->bs, 1ULL << 20);
	dc.buf = host_alloc(dc.bufsize);
	if (!dc.buf)
		return -CFS_ENOMEM;
	dc.fn = ck_data_bad;
	dc.ctx = c;
	for (local = 1; local < c->ninodes && !err; local++) {
		struct cfs_inode *ip;

		if (c->ino[local].state != CI_INUSE ||
		    inode_get(c->fs, ck_ino(c, local), &ip))
			continue;
		err = dsum_check_inode(c->fs, c->ch, ip, &dc);
		inode_put(c->fs, ip);
	}
	dsum_check_done(&dc);
	host_free(dc.buf);
	c->res->data_blocks_read = dc.nread;
	c->res->data_bad = (u32)dc.nbad;
	if (dc.nbad && ck_fixing(c))
		c->ch->hdr.data_errors += dc.nbad;
	return err;
}

static void ck_free(struct ck *c)
{
	host_free(c->restores);
	host_free(c->path);
	host_free(c->used);
	host_free(c->ino);
	host_free(c->links);
}

int cfs_check_chunk(struct cfs_fs *fs, u32 chunk, u32 mode, cfs_report_fn fn,
		    void *ctx, struct cfs_check_result *res)
{
	int err;

	cfs_memset(res, 0, sizeof(*res));
	if (chunk >= fs->nchunks)
		return -CFS_EINVAL;
	host_mutex_lock(fs->lock);
	err = check_chunk_locked(fs, chunk, mode, fn, ctx, res);
	host_mutex_unlock(fs->lock);
	return err;
}

/* The check of one chunk, fs->lock held (fsck through cfs_check_chunk, the
 * online scrub through cfs_scrub). */
int check_chunk_locked(struct cfs_fs *fs, u32 chunk, u32 mode,
		       cfs_report_fn fn, void *ctx,
		       struct cfs_check_result *res)
{
	struct ck c;
	int err = 0, data = !!(mode & CFS_CHECK_DATA);

	mode &= ~(u32)CFS_CHECK_DATA;
	cfs_memset(res, 0, sizeof(*res));
	cfs_memset(&c, 0, sizeof(c));
	c.fs = fs;
	c.ch = chunk_get(fs, chunk);
	if (!c.ch)
		return -CFS_ENOMEM;
	c.k = chunk;
	c.mode = mode;
	c.fn = fn;
	c.ctx = ctx;
	c.res = res;
	c.nblocks = c.ch->hdr.nblocks;
	c.ninodes = c.ch->hdr.ninodes;
	c.used = host_alloc(c.nblocks / 8 + 1);
	c.ino = host_alloc((u64)c.ninodes * sizeof(*c.ino));
	if (!c.used || !c.ino) {
		err = -CFS_ENOMEM;
		goto out;
	}
	if (ck_fixing(&c) && c.ch->hdr.state != CFS_CHUNK_REPAIRING) {
		chunk_mark_dirty(fs, c.ch);
	}
	/* every block visited is read in both copies; a bad one is healed */
	fs->verify_copies = 1;
	fs->no_heal = mode == CFS_CHECK_NOFIX;
	fs->on_heal = ck_healed;
	fs->on_heal_ctx = &c;
	{
		static int (*const pass[])(struct ck *) = {
			check_hdr, check_inodes, check_heal_links,
			check_resurrect, check_dirs, check_pptr_restore,
			check_nlink, check_index,
			check_alloc, check_csum, check_index_rebuild,
			check_pptr_apply,
			check_reattach,
			check_cross, check_pptr_sync,
		};
		u32 i;

		for (i = 0; i < CFS_ARRAY_SIZE(pass) && !err && !c.halted; i++)
			err = pass[i](&c);
		if (data && !err && !c.halted)
			err = check_data(&c);
	}
	fs->verify_copies = 0;
	fs->no_heal = 0;
	fs->on_heal = NULL;
	fs->on_heal_ctx = NULL;
	if (err) {
		res->fatal = 1;
		host_log(CFS_LOG_ERR, "chunk %u: check stopped: error %d",
			 chunk, err);
	}
	if (!fs->rdonly && ck_fixing(&c)) {
		s64 sec;
		u32 ns;

		host_now(&sec, &ns);
		c.ch->hdr.errors_found += res->found;
		c.ch->hdr.errors_fixed += res->fixed;
		if (!err && res->found == res->fixed) {
			c.ch->hdr.state = CFS_CHUNK_CLEAN;
			c.ch->hdr.verified_gen = fs->sb.mount_count;
			c.ch->hdr.verified_time = sec;
			if (data && !res->data_bad) {
				c.ch->hdr.data_verified_gen =
					fs->sb.mount_count;
				c.ch->hdr.data_verified_time = sec;
			}
		} else {
			c.ch->hdr.state = CFS_CHUNK_DAMAGED;
		}
		c.ch->marked_dirty = 0; /* the state is the checker's now */
		c.ch->keep_state = 1;
		c.ch->hdr_dirty = 1;
		{
			int e = fs_sync_locked(fs);

			if (e && !err)
				err = e;
			if (!e) /* both header copies are written now */
				c.ch->hdr_bad = c.ch->hdr_stale = 0;
		}
	}
out:
	ck_free(&c);
	return err;
}

int cfs_check_super(struct cfs_fs *fs, u32 mode, cfs_report_fn fn, void *ctx,
		    struct cfs_check_result *res)
{
	struct ck c;
	int fix = 0, err = 0;

	cfs_memset(res, 0, sizeof(*res));
	cfs_memset(&c, 0, sizeof(c));
	c.fs = fs;
	c.k = CFS_NO_CHUNK;
	c.mode = mode;
	c.fn = fn;
	c.ctx = ctx;
	c.res = res;
	host_mutex_lock(fs->lock);
	if (fs->sb_bad & 4) {
		fix |= ck_problem(&c, PR_SB_REBUILT, 0, CFS_SB_BLOCK, NULL);
	} else if (fs->metagen && (fs->sb_bad & (1 | 2 | 8 | 16))) {
		/* format v2: one bad or stale copy is a corrected error */
		struct cfs_problem_report r;

		res->corrected++;
		r.code = PR_COPY_BAD;
		r.chunk = CFS_NO_CHUNK;
		r.ino = 0;
		r.blk = (fs->sb_bad & (1 | 8)) ? CFS_SB_BLOCK : CFS_SB2_BLOCK;
		r.fixed = ck_fixing(&c);
		r.detail = (fs->sb_bad & (8 | 16)) ? "stale superblock copy" :
			   "damaged superblock copy";
		r.path = NULL;
		if (fn)
			fn(ctx, &r);
		fix = ck_fixing(&c);
	} else if (fs->sb_bad & (1 | 8)) {
		fix |= ck_problem(&c, PR_SB_PRIMARY, 0, CFS_SB_BLOCK, NULL);
	} else if (fs->sb_bad & (2 | 16)) {
		fix |= ck_problem(&c, PR_SB_COPY, 0, CFS_SB2_BLOCK, NULL);
	}
	if (fix) {
		err = super_write(fs);
		if (!err)
			err = fs->dev->ops->flush(fs->dev);
		if (!err)
			fs->sb_bad = 0;
	}
	host_mutex_unlock(fs->lock);
	return err;
}
