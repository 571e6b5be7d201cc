// SPDX-License-Identifier: GPL-2.0
/*
 * super.c - the chunkfs filesystem type: mount a block device with
 * cfs_mount, the superblock operations, and the module.
 *
 * This stage of the module is read-only: a mount must say -o ro (a
 * read-write mount is refused with EROFS until the write side exists).
 */
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
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

/* The inode leaves the VFS cache: give its lookup references back. */
static void cfs_evict_inode(struct inode *inode)
{
	s64 n;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	n = atomic64_xchg(&CFS_I(inode)->nlookup, 0);
	if (n > 0)
		cfs_forget(CFS_FS(inode), inode->i_ino, (u64)n);
}

static void cfs_put_super(struct super_block *sb)
{
	struct cfs_sb_info *sbi = CFS_SB(sb);
	int err;

	if (!sbi)
		return;
	err = cfs_unmount(sbi->fs);
	if (err)
		pr_err("chunkfs (%s): unmount: error %d writing the filesystem back\n",
		       sb->s_id, err);
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

static int cfs_show_options(struct seq_file *m, struct dentry *root)
{
	return 0;
}

static const struct super_operations cfs_sops = {
	.alloc_inode = cfs_alloc_inode,
	.free_inode = cfs_free_inode,
	.evict_inode = cfs_evict_inode,
	.put_super = cfs_put_super,
	.statfs = cfs_vfs_statfs,
	.show_options = cfs_show_options,
};

static int cfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct cfs_sb_info *sbi;
	const struct cfs_geom *g;
	struct cfs_attr a;
	struct inode *root;
	const char *why = "";
	int err;

	if (!sb_rdonly(sb)) {
		errorfc(fc, "%s: this module mounts read-only only so far (use -o ro)",
			sb->s_id);
		return -EROFS;
	}
	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	cfs_kbdev_init(&sbi->kb, sb->s_bdev, sb_rdonly(sb));
	err = cfs_mount(&sbi->kb.dev, sb_rdonly(sb) ? CFS_MOUNT_RDONLY : 0,
			&sbi->fs, &why);
	if (err) {
		errorfc(fc, "%s: cannot mount: %s (error %d)",
			sb->s_id, why && *why ? why : "mount failed", err);
		kfree(sbi);
		return err; /* EUCLEAN for a corrupt filesystem, as ext4's */
	}
	sb->s_fs_info = sbi;
	g = cfs_geometry(sbi->fs);
	sb->s_magic = CFS_MAGIC_SUPER;
	sb->s_op = &cfs_sops;
	sb->s_xattr = cfs_xattr_handlers;
	sb->s_blocksize = g->block_size;
	sb->s_blocksize_bits = ilog2(g->block_size);
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_time_min = S64_MIN;
	sb->s_time_max = S64_MAX;
	sb->s_flags |= SB_NOATIME;

	/* the root, with one lookup reference, as any other inode */
	err = cfs_lookup(sbi->fs, CFS_ROOT_INO, ".", 1, &a);
	if (err) {
		errorfc(fc, "%s: root directory unreadable (error %d)",
			sb->s_id, err);
		return cfs_kerr(err);	/* put_super unmounts */
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
	return 0;
}

static int cfs_get_tree(struct fs_context *fc)
{
	return get_tree_bdev(fc, cfs_fill_super);
}

static int cfs_reconfigure(struct fs_context *fc)
{
	sync_filesystem(fc->root->d_sb);
	if (!(fc->sb_flags & SB_RDONLY)) {
		errorfc(fc, "this module mounts read-only only so far");
		return -EROFS;
	}
	return 0;
}

static const struct fs_context_operations cfs_context_ops = {
	.get_tree = cfs_get_tree,
	.reconfigure = cfs_reconfigure,
};

static int cfs_init_fs_context(struct fs_context *fc)
{
	fc->ops = &cfs_context_ops;
	return 0;
}

static struct file_system_type cfs_fs_type = {
	.owner = THIS_MODULE,
	.name = "chunkfs",
	.init_fs_context = cfs_init_fs_context,
	.kill_sb = kill_block_super,
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
}

module_init(cfs_init);
module_exit(cfs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("chunkfs: a filesystem of independently checkable chunks");
