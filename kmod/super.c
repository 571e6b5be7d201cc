// SPDX-License-Identifier: GPL-2.0
/*
 * super.c - the chunkfs filesystem type: mount a block device with
 * cfs_mount, the mount options, the superblock operations, the periodic
 * commit, the error notification, and the module.
 *
 * Mount options (as chunkfs-fuse's): commit=SECONDS (write dirty metadata
 * back every so often, 5; 0 only at sync and unmount), errors=continue|
 * remount-ro|repair, free_warn=PERCENT (an event when free space falls
 * below it, 5; 0 off).
 */
#include <linux/blkdev.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/fsnotify.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/posix_acl.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "cfs_k.h"

static struct kmem_cache *cfs_inode_cachep;

static struct inode *cfs_alloc_inode(struct super_block *sb)
{
	struct cfs_inode_info *ci;

	ci = alloc_inode_sb(sb, cfs_inode_cachep, GFP_KERNEL);
	if (!ci)
		return NULL;
	atomic64_set(&ci->nlookup, 0);
	ci->btime.tv_sec = 0;
	ci->btime.tv_nsec = 0;
	return &ci->vfs_inode;
}

static void cfs_free_inode(struct inode *inode)
{
	kmem_cache_free(cfs_inode_cachep, CFS_I(inode));
}

static void cfs_inode_init_once(void *p)
{
	struct cfs_inode_info *ci = p;

	inode_init_once(&ci->vfs_inode);
}

/* Lookup references an evicted inode held, not yet given back. */
struct cfs_forget {
	struct llist_node node;
	u64 ino, n;
};

static void cfs_forget_fn(struct work_struct *w)
{
	struct cfs_sb_info *sbi = container_of(w, struct cfs_sb_info,
					       forget_work);
	struct llist_node *l = llist_del_all(&sbi->forgets);
	struct cfs_forget *f, *t;

	llist_for_each_entry_safe(f, t, l, node) {
		cfs_forget(sbi->fs, f->ino, f->n);
		kfree(f);
	}
}

/*
 * Give an evicted inode's lookup references back: at once, but not from
 * memory reclaim (the inode shrinker, kswapd): the library's lock may be
 * held by a thread whose allocation waits for that very reclaim, so a
 * work item does it then (drained before unmount).
 */
static void cfs_forget_inode(struct inode *inode, u64 n)
{
	struct cfs_sb_info *sbi = CFS_SB(inode->i_sb);
	struct cfs_forget *f;

	if (current->flags & PF_MEMALLOC) {
		f = kmalloc(sizeof(*f), GFP_NOWAIT | __GFP_NOWARN);
		if (f) {
			f->ino = inode->i_ino;
			f->n = n;
			llist_add(&f->node, &sbi->forgets);
			queue_work(system_unbound_wq, &sbi->forget_work);
			return;
		}
	}
	cfs_forget(sbi->fs, inode->i_ino, n);
}

/*
 * The inode leaves the VFS cache: its dirty pages written first (a file
 * that still has a name keeps what was written through a mapping; the
 * VFS evicts only clean inodes from its cache, so this is for the rare
 * ways in), then its
 * lookup references given back.
 */
static void cfs_evict_inode(struct inode *inode)
{
	s64 n;

	if (inode->i_nlink && S_ISREG(inode->i_mode) &&
	    mapping_tagged(&inode->i_data, PAGECACHE_TAG_DIRTY)) {
		int err = filemap_write_and_wait(&inode->i_data);

		if (err)
			pr_err("chunkfs (%s): inode %lu: error %d writing its pages back at eviction\n",
			       inode->i_sb->s_id, inode->i_ino, err);
	}
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	n = atomic64_xchg(&CFS_I(inode)->nlookup, 0);
	if (n > 0)
		cfs_forget_inode(inode, (u64)n);
}

/* ---- the periodic commit: every commit= seconds while read-write, as
 * ext4's commit interval and chunkfs-fuse's write-back thread ---- */
static void cfs_commit_fn(struct work_struct *w)
{
	struct cfs_sb_info *sbi = container_of(to_delayed_work(w),
					       struct cfs_sb_info, commit_work);
	int err;

	if (sb_rdonly(sbi->sb))
		return;
	err = cfs_sync(sbi->fs);
	if (err)
		pr_err("chunkfs (%s): periodic commit failed (error %d)\n",
		       sbi->sb->s_id, err);
	cfs_commit_arm(sbi);
}

void cfs_commit_arm(struct cfs_sb_info *sbi)
{
	if (sbi->commit_secs && !sb_rdonly(sbi->sb))
		queue_delayed_work(system_long_wq, &sbi->commit_work,
				   sbi->commit_secs * HZ);
}

/* ---- events: the library logs each one (printk); errors also go to the
 * kernel's filesystem error notification (fanotify FAN_FS_ERROR), which
 * may not be called under the library's lock: a work item does it.  So
 * does the VFS side of errors=remount-ro, and errors=repair's scrub. ---- */
static void cfs_event_hook(void *ctx, const struct chunkfs_event *e)
{
	struct cfs_sb_info *sbi = ctx;
	int error_work = 0, repair = 0, inval = 0;

	spin_lock(&sbi->ev_lock);
	if (!sbi->ev_dead) {
		if (e->severity == CHUNKFS_EV_ERROR) {
			sbi->ev_errors++;
			error_work = 1;
		}
		if (e->code == CHUNKFS_E_READONLY) {
			sbi->ev_readonly = 1;
			error_work = 1;
		}
		repair = e->code == CHUNKFS_E_SUSPECT &&
			 sbi->errors_policy == CHUNKFS_ERRORS_REPAIR;
		inval = e->code == CHUNKFS_E_REPAIRED;
	}
	spin_unlock(&sbi->ev_lock);
	if (error_work)
		schedule_work(&sbi->error_work);
	if (repair)
		schedule_work(&sbi->repair_work);
	if (inval)
		schedule_work(&sbi->inval_work);
}

/* After an online repair: the VFS's caches of what it changed are stale.
 * Each changed inode still cached gets its clean pages dropped and its
 * attributes read again (one the repair freed keeps failing with ESTALE
 * from the library, and loses its dentries); each name the repair took
 * out of a directory leaves the dentry cache.  Too many to list: every
 * unused dentry goes. */
static void cfs_inval_fn(struct work_struct *w)
{
	struct cfs_sb_info *sbi = container_of(w, struct cfs_sb_info,
					       inval_work);
	struct super_block *sb = sbi->sb;
	char name[CFS_NAME_MAX + 1];
	u64 inos[32], parent;
	u32 n, i;
	int lost = 0;

	while ((n = cfs_inval_take(sbi->fs, inos, ARRAY_SIZE(inos), &lost))) {
		for (i = 0; i < n; i++) {
			struct inode *inode = ilookup(sb, (unsigned long)inos[i]);

			if (!inode)
				continue;
			inode_lock(inode);
			if (S_ISREG(inode->i_mode))
				invalidate_inode_pages2(inode->i_mapping);
			if (cfs_refresh(inode))
				d_prune_aliases(inode);
			forget_all_cached_acls(inode);
			inode_unlock(inode);
			iput(inode);
		}
	}
	while ((n = cfs_inval_take_name(sbi->fs, &parent, name))) {
		struct inode *dir = ilookup(sb, (unsigned long)parent);
		struct dentry *dd = dir ? d_find_alias(dir) : NULL;

		if (dd) {
			struct qstr q = QSTR_INIT(name, n);
			struct dentry *d = d_hash_and_lookup(dd, &q);

			if (!IS_ERR_OR_NULL(d)) {
				d_invalidate(d);
				dput(d);
			}
			dput(dd);
		}
		iput(dir);
	}
	if (lost)
		shrink_dcache_sb(sb);
}

static void cfs_error_fn(struct work_struct *w)
{
	struct cfs_sb_info *sbi = container_of(w, struct cfs_sb_info,
					       error_work);
	unsigned int n;
	int ro;

	spin_lock(&sbi->ev_lock);
	n = sbi->ev_errors;
	ro = sbi->ev_readonly;
	sbi->ev_errors = 0;
	sbi->ev_readonly = 0;
	spin_unlock(&sbi->ev_lock);
	if (n)
		fsnotify_sb_error(sbi->sb, NULL, -EIO);
	if (ro && !sb_rdonly(sbi->sb)) {
		/* the library writes nothing more: neither may the VFS */
		sbi->sb->s_flags |= SB_RDONLY;
		pr_crit("chunkfs (%s): errors=remount-ro: remounted read-only\n",
			sbi->sb->s_id);
	}
}

/* errors=repair: scrub, with repair, each chunk the library names */
static void cfs_repair_fn(struct work_struct *w)
{
	struct cfs_sb_info *sbi = container_of(w, struct cfs_sb_info,
					       repair_work);
	int rounds = 0;
	u32 k;

	while (!sb_rdonly(sbi->sb) && rounds++ < 64 &&
	       (k = cfs_repair_pending(sbi->fs)) != CHUNKFS_NO_CHUNK) {
		struct chunkfs_scrub s = { .chunk = k,
					   .flags = CHUNKFS_SCRUB_REPAIR };
		int err = cfs_scrub(sbi->fs, &s);

		if (err) {
			pr_err("chunkfs (%s): errors=repair: chunk %u: scrub failed (error %d)\n",
			       sbi->sb->s_id, k, err);
			break;
		}
	}
}

/* No work runs or is queued afterwards (the forgets from memory reclaim:
 * none while the VFS holds s_umount, as at unmount and remount). */
static void cfs_stop_work(struct cfs_sb_info *sbi)
{
	spin_lock(&sbi->ev_lock);
	sbi->ev_dead = 1;
	spin_unlock(&sbi->ev_lock);
	cfs_set_event_hook(sbi->fs, NULL, NULL);
	cancel_delayed_work_sync(&sbi->commit_work);
	cancel_work_sync(&sbi->repair_work);
	cancel_work_sync(&sbi->error_work);
	cancel_work_sync(&sbi->inval_work);
	flush_work(&sbi->forget_work);
}

static void cfs_put_super(struct super_block *sb);

/* The work items end before the VFS lets go of the inodes (an
 * invalidation holds inode references).  A mount that failed after the
 * library's (no root dentry) gets no put_super from the VFS: it is
 * unmounted here. */
static void cfs_kill_sb(struct super_block *sb)
{
	if (CFS_SB(sb)) {
		cfs_stop_work(CFS_SB(sb));
		if (!sb->s_root)
			cfs_put_super(sb);
	}
	kill_block_super(sb);
}

static void cfs_put_super(struct super_block *sb)
{
	struct cfs_sb_info *sbi = CFS_SB(sb);
	struct cfs_journal_stats js;
	int err;

	if (!sbi)
		return;
	cfs_stop_work(sbi);
	err = cfs_unmount_stats(sbi->fs, &js);
	if (err)
		pr_err("chunkfs (%s): unmount: error %d writing the filesystem back\n",
		       sb->s_id, err);
	else if (!sb_rdonly(sb))
		/* as chunkfs-fuse logs it: no transaction may outgrow its
		 * journal (issue 16; tests/kmod reads this line) */
		pr_info("chunkfs (%s): journal: %llu commits, %llu splits, %llu in place\n",
			sb->s_id, js.commits, js.splits, js.overflows);
	kfree(sbi);
	sb->s_fs_info = NULL;
}

static int cfs_vfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct cfs_statfs st;
	int err;

	err = cfs_statfs(CFS_SB(sb)->fs, &st);
	if (err)
		return cfs_kerr(err);
	buf->f_type = CFS_MAGIC_SUPER;
	buf->f_bsize = st.bsize;
	buf->f_frsize = st.bsize;
	buf->f_blocks = st.blocks;
	buf->f_bfree = st.bfree;
	buf->f_bavail = st.bavail;
	buf->f_files = st.files;
	buf->f_ffree = st.ffree;
	buf->f_namelen = st.namemax;
	buf->f_fsid = uuid_to_fsid(st.uuid);
	return 0;
}

static int cfs_sync_fs(struct super_block *sb, int wait)
{
	struct cfs_sb_info *sbi = CFS_SB(sb);

	if (!wait || sb_rdonly(sb))
		return 0;
	return cfs_kerr(cfs_sync(sbi->fs));
}

static const char *const cfs_errors_names[] = {
	[CHUNKFS_ERRORS_CONTINUE] = "continue",
	[CHUNKFS_ERRORS_REMOUNT_RO] = "remount-ro",
	[CHUNKFS_ERRORS_REPAIR] = "repair",
};

static int cfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct cfs_sb_info *sbi = CFS_SB(root->d_sb);

	seq_printf(m, ",commit=%u,errors=%s,free_warn=%u", sbi->commit_secs,
		   cfs_errors_names[sbi->errors_policy], sbi->free_warn);
	if (!(root->d_sb->s_flags & SB_POSIXACL))
		seq_puts(m, ",noacl");
	return 0;
}

static const struct super_operations cfs_sops = {
	.alloc_inode = cfs_alloc_inode,
	.free_inode = cfs_free_inode,
	.evict_inode = cfs_evict_inode,
	.put_super = cfs_put_super,
	.sync_fs = cfs_sync_fs,
	.statfs = cfs_vfs_statfs,
	.show_options = cfs_show_options,
};

/* ---- mount options ---- */
struct cfs_fs_opts {
	unsigned int commit_secs, errors, free_warn;
	int acl;      /* POSIX ACLs: acl (the default) or noacl */
};

enum { Opt_commit, Opt_errors, Opt_free_warn, Opt_acl };

static const struct constant_table cfs_param_errors[] = {
	{ "continue", CHUNKFS_ERRORS_CONTINUE },
	{ "remount-ro", CHUNKFS_ERRORS_REMOUNT_RO },
	{ "repair", CHUNKFS_ERRORS_REPAIR },
	{}
};

static const struct fs_parameter_spec cfs_param_spec[] = {
	fsparam_u32("commit", Opt_commit),
	fsparam_enum("errors", Opt_errors, cfs_param_errors),
	fsparam_u32("free_warn", Opt_free_warn),
	fsparam_flag_no("acl", Opt_acl),
	{}
};

static int cfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct cfs_fs_opts *o = fc->fs_private;
	struct fs_parse_result r;
	int opt = fs_parse(fc, cfs_param_spec, param, &r);

	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_commit:
		if (r.uint_32 > 24 * 3600)
			return invalf(fc, "chunkfs: commit=%u: at most a day",
				      r.uint_32);
		o->commit_secs = r.uint_32;
		break;
	case Opt_errors:
		o->errors = r.uint_32;
		break;
	case Opt_free_warn:
		if (r.uint_32 > 100)
			return invalf(fc, "chunkfs: free_warn=%u: a percentage",
				      r.uint_32);
		o->free_warn = r.uint_32;
		break;
	case Opt_acl:
		/* SB_POSIXACL: the VFS's ACL checks and posix_acl_create.  A
		 * remount sets it in cfs_reconfigure, as ext4 does:
		 * reconfigure_super refuses an sb_flags_mask beyond
		 * MS_RMT_MASK (EINVAL for remount,acl and remount,noacl) */
		o->acl = !r.negated;
		if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
			break;
		if (o->acl)
			fc->sb_flags |= SB_POSIXACL;
		else
			fc->sb_flags &= ~SB_POSIXACL;
		break;
	}
	return 0;
}

static void cfs_apply_opts(struct cfs_sb_info *sbi,
			   const struct cfs_fs_opts *o)
{
	sbi->commit_secs = o->commit_secs;
	sbi->errors_policy = o->errors;
	sbi->free_warn = o->free_warn;
	cfs_set_errors_policy(sbi->fs, o->errors);
	cfs_set_free_warn(sbi->fs, o->free_warn);
	/* noacl: the library refuses the ACL xattrs (EOPNOTSUPP) */
	cfs_set_acl(sbi->fs, o->acl);
}

static u32 cfs_mount_flags(struct super_block *sb)
{
	return (sb_rdonly(sb) ? CFS_MOUNT_RDONLY : 0) |
	       ((sb->s_flags & SB_SYNCHRONOUS) ? CFS_MOUNT_SYNC : 0);
}

/* After a crash, as ext4's "recovery complete": what the mount replayed. */
static void cfs_log_replay(struct super_block *sb, struct cfs_fs *fs)
{
	struct cfs_journal_stats js;

	cfs_journal_stats(fs, &js);
	if (js.replayed_chunks || js.replay_failed)
		pr_info("chunkfs (%s): journals replayed: %llu chunks, %llu blocks, %llu failed\n",
			sb->s_id, js.replayed_chunks, js.replayed_blocks,
			js.replay_failed);
}

static int cfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct cfs_fs_opts *o = fc->fs_private;
	struct cfs_sb_info *sbi;
	const struct cfs_geom *g;
	struct cfs_attr a;
	struct inode *root;
	const char *why = "";
	int err;

	if (o->errors == CHUNKFS_ERRORS_REPAIR && sb_rdonly(sb)) {
		errorfc(fc, "%s: errors=repair needs a read-write mount",
			sb->s_id);
		return -EINVAL;
	}
	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->sb = sb;
	spin_lock_init(&sbi->ev_lock);
	INIT_DELAYED_WORK(&sbi->commit_work, cfs_commit_fn);
	INIT_WORK(&sbi->error_work, cfs_error_fn);
	INIT_WORK(&sbi->repair_work, cfs_repair_fn);
	INIT_WORK(&sbi->inval_work, cfs_inval_fn);
	INIT_WORK(&sbi->forget_work, cfs_forget_fn);
	init_llist_head(&sbi->forgets);
	cfs_kbdev_init(&sbi->kb, sb->s_bdev, sb_rdonly(sb));
	err = cfs_mount(&sbi->kb.dev, cfs_mount_flags(sb), &sbi->fs, &why);
	if (err) {
		errorfc(fc, "%s: cannot mount: %s (error %d)",
			sb->s_id, why && *why ? why : "mount failed", err);
		kfree(sbi);
		return err; /* EUCLEAN for a corrupt filesystem, as ext4's */
	}
	sb->s_fs_info = sbi;
	cfs_log_replay(sb, sbi->fs);
	cfs_apply_opts(sbi, o);
	cfs_set_event_hook(sbi->fs, cfs_event_hook, sbi);
	g = cfs_geometry(sbi->fs);
	sb->s_magic = CFS_MAGIC_SUPER;
	sb->s_op = &cfs_sops;
	sb->s_xattr = cfs_xattr_handlers;
	sb->s_export_op = &cfs_export_ops;
	sb->s_blocksize = g->block_size;
	sb->s_blocksize_bits = ilog2(g->block_size);
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_time_min = S64_MIN;
	sb->s_time_max = S64_MAX;

	/* the root, with one lookup reference, as any other inode */
	err = cfs_lookup(sbi->fs, CFS_ROOT_INO, ".", 1, &a);
	if (err) {
		errorfc(fc, "%s: root directory unreadable (error %d)",
			sb->s_id, err);
		return cfs_kerr(err);	/* cfs_kill_sb unmounts */
	}
	root = cfs_iget(sb, &a, 1);
	if (IS_ERR(root))
		return PTR_ERR(root);
	if (!S_ISDIR(root->i_mode)) {
		iput(root);
		errorfc(fc, "%s: root is not a directory", sb->s_id);
		return -EIO;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	cfs_commit_arm(sbi);
	if (cfs_repair_pending(sbi->fs) != CHUNKFS_NO_CHUNK)
		schedule_work(&sbi->repair_work);
	return 0;
}

static int cfs_get_tree(struct fs_context *fc)
{
	return get_tree_bdev(fc, cfs_fill_super);
}

/*
 * Remount.  To read-only (the VFS has refused it with EBUSY already
 * while a file is open for writing, as for ext4): the library commits
 * everything, leaves the disk clean as an unmount would and writes
 * nothing more.  To read-write: the library becomes writable again, in
 * place (a filesystem mounted read-only replays its journals then), with
 * its cached inodes and their lookup references, so files may be in use
 * meanwhile.
 */
static int cfs_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;
	struct cfs_sb_info *sbi = CFS_SB(sb);
	struct cfs_fs_opts *o = fc->fs_private;
	int to_ro = (fc->sb_flags & SB_RDONLY) && !sb_rdonly(sb);
	int to_rw = !(fc->sb_flags & SB_RDONLY) && sb_rdonly(sb);
	u32 sync = (fc->sb_flags & SB_SYNCHRONOUS) ? CFS_MOUNT_SYNC : 0;
	const char *why = "";
	int err;

	sync_filesystem(sb);
	if (o->errors == CHUNKFS_ERRORS_REPAIR && (fc->sb_flags & SB_RDONLY))
		return invalf(fc, "chunkfs: errors=repair needs a read-write mount");
	if (to_rw) {
		if (bdev_read_only(sb->s_bdev))
			return -EACCES;
		sbi->kb.dev.readonly = 0;
		err = cfs_remount(sbi->fs, sync, &why);
		if (err) {
			sbi->kb.dev.readonly = 1;
			errorfc(fc, "%s: cannot remount read-write: %s (error %d)",
				sb->s_id, why && *why ? why : "failed", err);
			return cfs_kerr(err);
		}
	}
	if (to_ro) {
		cancel_delayed_work_sync(&sbi->commit_work);
		err = cfs_remount(sbi->fs, CFS_MOUNT_RDONLY | sync, &why);
		if (err) {
			cfs_commit_arm(sbi);
			errorfc(fc, "%s: cannot remount read-only: %s (error %d)",
				sb->s_id, why && *why ? why : "failed", err);
			return cfs_kerr(err);
		}
		sbi->kb.dev.readonly = 1;
	}
	cfs_apply_opts(sbi, o);
	sb->s_flags = (sb->s_flags & ~SB_POSIXACL) | (o->acl ? SB_POSIXACL : 0);
	if (to_rw) {
		/* cfs_commit_arm looks at the flags the VFS sets after us */
		sb->s_flags &= ~SB_RDONLY;
		cfs_commit_arm(sbi);
	}
	return 0;
}

static void cfs_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

static const struct fs_context_operations cfs_context_ops = {
	.parse_param = cfs_parse_param,
	.get_tree = cfs_get_tree,
	.reconfigure = cfs_reconfigure,
	.free = cfs_free_fc,
};

static int cfs_init_fs_context(struct fs_context *fc)
{
	struct cfs_fs_opts *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return -ENOMEM;
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE && fc->root) {
		struct cfs_sb_info *sbi = CFS_SB(fc->root->d_sb);

		o->commit_secs = sbi->commit_secs;
		o->errors = sbi->errors_policy;
		o->free_warn = sbi->free_warn;
		o->acl = !!(fc->root->d_sb->s_flags & SB_POSIXACL);
	} else {
		o->commit_secs = 5;
		o->errors = CHUNKFS_ERRORS_CONTINUE;
		o->free_warn = 5;
		/* ACLs on by default, as ext4's */
		o->acl = 1;
		fc->sb_flags |= SB_POSIXACL;
	}
	fc->fs_private = o;
	fc->ops = &cfs_context_ops;
	return 0;
}

static struct file_system_type cfs_fs_type = {
	.owner = THIS_MODULE,
	.name = "chunkfs",
	.init_fs_context = cfs_init_fs_context,
	.parameters = cfs_param_spec,
	.kill_sb = cfs_kill_sb,
	.fs_flags = FS_REQUIRES_DEV,
};
MODULE_ALIAS_FS("chunkfs");

static int __init cfs_init(void)
{
	int err;

	cfs_inode_cachep = kmem_cache_create("chunkfs_inode_cache",
					     sizeof(struct cfs_inode_info), 0,
					     SLAB_RECLAIM_ACCOUNT |
					     SLAB_MEM_SPREAD | SLAB_ACCOUNT,
					     cfs_inode_init_once);
	if (!cfs_inode_cachep)
		return -ENOMEM;
	err = register_filesystem(&cfs_fs_type);
	if (err)
		kmem_cache_destroy(cfs_inode_cachep);
	return err;
}

static void __exit cfs_exit(void)
{
	unregister_filesystem(&cfs_fs_type);
	rcu_barrier(); /* inodes freed by RCU callbacks first */
	kmem_cache_destroy(cfs_inode_cachep);
	cfs_check_leaks();
}

module_init(cfs_init);
module_exit(cfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("chunkfs: a filesystem of independently checkable chunks");
