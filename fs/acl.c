// SPDX-License-Identifier: GPL-2.0
/*
 * acl.c - POSIX ACLs and the set-id rules, as Linux 6.1 applies them to
 * ext4, once for both front ends (issue 15).
 *
 * An ACL is the xattr system.posix_acl_access or system.posix_acl_default
 * in the kernel's posix_acl_xattr format (docs/FORMAT.md 10.3): a 4-byte
 * version (2), then 8-byte entries (tag u16, perm u16, id u32), little
 * endian.  The checks are the kernel's (posix_acl_from_xattr,
 * posix_acl_valid), the mode arithmetic its posix_acl_equiv_mode,
 * posix_acl_create_masq and __posix_acl_chmod_masq.  The permission checks
 * themselves are the kernel's in both front ends (FUSE_CAP_POSIX_ACL; the
 * module's generic_permission): the library only keeps the ACLs and the
 * mode in step, in one operation each.
 */
#include "internal.h"

#define ACL_VERSION 2
#define ACL_USER_OBJ 0x01
#define ACL_USER 0x02
#define ACL_GROUP_OBJ 0x04
#define ACL_GROUP 0x08
#define ACL_MASK 0x10
#define ACL_OTHER 0x20
#define ACL_UNDEFINED_ID 0xffffffffu
/* The largest value: what the FUSE kernel reads back in one page */
#define ACL_MAX_BYTES 4096u
#define ACL_MAX_ENTRIES ((ACL_MAX_BYTES - 4) / 8)

static const char acl_access_name[] = "system.posix_acl_access";
static const char acl_default_name[] = "system.posix_acl_default";

struct acl_e {
	u16 tag, perm;
	u32 id;
};

struct acl {
	u32 n;
	struct acl_e e[ACL_MAX_ENTRIES];
};

int acl_kind(const char *name)
{
	return acl_kind_n(name, cfs_strnlen(name, 64));
}

int acl_kind_n(const char *name, u32 n)
{
	if (n == sizeof(acl_access_name) - 1 &&
	    !cfs_memcmp(name, acl_access_name, n))
		return CFS_ACL_ACCESS;
	if (n == sizeof(acl_default_name) - 1 &&
	    !cfs_memcmp(name, acl_default_name, n))
		return CFS_ACL_DEFAULT;
	return 0;
}

static const char *acl_name(int kind)
{
	return kind == CFS_ACL_ACCESS ? acl_access_name : acl_default_name;
}

/* An xattr value into entries, checked as the kernel checks what it is
 * given: -EINVAL for anything it refuses (an empty ACL has 0 entries). */
static int acl_parse(const u8 *v, u32 size, struct acl *a)
{
	u32 i, ver, state = ACL_USER_OBJ;
	int needs_mask = 0;

	if (size < 4)
		return -CFS_EINVAL;
	cfs_memcpy(&ver, v, 4);
	if (ver != ACL_VERSION)
		return -CFS_EOPNOTSUPP; /* the kernel's answer to a version */
	if ((size - 4) % 8)
		return -CFS_EINVAL;
	if (size > ACL_MAX_BYTES)
		return -CFS_E2BIG;
	a->n = (size - 4) / 8;
	for (i = 0; i < a->n; i++) {
		struct acl_e *e = &a->e[i];

		cfs_memcpy(&e->tag, v + 4 + i * 8, 2);
		cfs_memcpy(&e->perm, v + 6 + i * 8, 2);
		cfs_memcpy(&e->id, v + 8 + i * 8, 4);
		if (e->perm & ~7u)
			return -CFS_EINVAL;
		switch (e->tag) {
		case ACL_USER_OBJ:
			if (state != ACL_USER_OBJ)
				return -CFS_EINVAL;
			state = ACL_USER;
			e->id = ACL_UNDEFINED_ID;
			break;
		case ACL_USER:
			if (state != ACL_USER || e->id == ACL_UNDEFINED_ID)
				return -CFS_EINVAL;
			needs_mask = 1;
			break;
		case ACL_GROUP_OBJ:
			if (state != ACL_USER)
				return -CFS_EINVAL;
			state = ACL_GROUP;
			e->id = ACL_UNDEFINED_ID;
			break;
		case ACL_GROUP:
			if (state != ACL_GROUP || e->id == ACL_UNDEFINED_ID)
				return -CFS_EINVAL;
			needs_mask = 1;
			break;
		case ACL_MASK:
			if (state != ACL_GROUP)
				return -CFS_EINVAL;
			state = ACL_OTHER;
			e->id = ACL_UNDEFINED_ID;
			break;
		case ACL_OTHER:
			if (state != ACL_OTHER &&
			    !(state == ACL_GROUP && !needs_mask))
				return -CFS_EINVAL;
			state = 0;
			e->id = ACL_UNDEFINED_ID;
			break;
		default:
			return -CFS_EINVAL;
		}
	}
	if (a->n && state)
		return -CFS_EINVAL;
	return 0;
}

static u32 acl_size(const struct acl *a)
{
	return 4 + 8 * a->n;
}

static void acl_encode(const struct acl *a, u8 *v)
{
	u32 i, ver = ACL_VERSION;

	cfs_memcpy(v, &ver, 4);
	for (i = 0; i < a->n; i++) {
		cfs_memcpy(v + 4 + i * 8, &a->e[i].tag, 2);
		cfs_memcpy(v + 6 + i * 8, &a->e[i].perm, 2);
		cfs_memcpy(v + 8 + i * 8, &a->e[i].id, 4);
	}
}

/* posix_acl_equiv_mode: *mode's permission bits from the ACL; returns 1
 * when the ACL says more than a mode can (named entries, a mask). */
static int acl_equiv_mode(const struct acl *a, u32 *mode)
{
	u32 i, m = 0;
	int not_equiv = 0;

	for (i = 0; i < a->n; i++) {
		const struct acl_e *e = &a->e[i];

		switch (e->tag) {
		case ACL_USER_OBJ:
			m |= (e->perm & 7u) << 6;
			break;
		case ACL_GROUP_OBJ:
			m |= (e->perm & 7u) << 3;
			break;
		case ACL_OTHER:
			m |= e->perm & 7u;
			break;
		case ACL_MASK:
			m = (m & ~070u) | ((e->perm & 7u) << 3);
			not_equiv = 1;
			break;
		default: /* ACL_USER, ACL_GROUP */
			not_equiv = 1;
			break;
		}
	}
	*mode = (*mode & ~0777u) | m;
	return not_equiv;
}

/* posix_acl_create_masq: the ACL a new inode of *mode gets from a default
 * ACL, and its mode; returns 1 when the ACL is to be kept (not equivalent
 * to the mode), or -EIO. */
static int acl_create_masq(struct acl *a, u32 *mode_p)
{
	struct acl_e *group_obj = NULL, *mask_obj = NULL;
	u32 i, mode = *mode_p;
	int not_equiv = 0;

	for (i = 0; i < a->n; i++) {
		struct acl_e *e = &a->e[i];

		switch (e->tag) {
		case ACL_USER_OBJ:
			e->perm &= (u16)((mode >> 6) | ~7u);
			mode &= (u32)(e->perm << 6) | ~0700u;
			break;
		case ACL_USER:
		case ACL_GROUP:
			not_equiv = 1;
			break;
		case ACL_GROUP_OBJ:
			group_obj = e;
			break;
		case ACL_OTHER:
			e->perm &= (u16)(mode | ~7u);
			mode &= e->perm | ~7u;
			break;
		case ACL_MASK:
			mask_obj = e;
			not_equiv = 1;
			break;
		default:
			return -CFS_EIO;
		}
	}
	if (!mask_obj)
		mask_obj = group_obj;
	if (!mask_obj)
		return -CFS_EIO;
	mask_obj->perm &= (u16)((mode >> 3) | ~7u);
	mode &= (u32)(mask_obj->perm << 3) | ~070u;
	*mode_p = (*mode_p & ~0777u) | (mode & 0777u);
	return not_equiv;
}

/* __posix_acl_chmod_masq: the ACL after a chmod to mode. */
static int acl_chmod_masq(struct acl *a, u32 mode)
{
	struct acl_e *group_obj = NULL, *mask_obj = NULL;
	u32 i;

	for (i = 0; i < a->n; i++) {
		struct acl_e *e = &a->e[i];

		switch (e->tag) {
		case ACL_USER_OBJ:
			e->perm = (u16)((mode & 0700u) >> 6);
			break;
		case ACL_GROUP_OBJ:
			group_obj = e;
			break;
		case ACL_MASK:
			mask_obj = e;
			break;
		case ACL_OTHER:
			e->perm = (u16)(mode & 7u);
			break;
		default:
			break;
		}
	}
	if (!mask_obj)
		mask_obj = group_obj;
	if (!mask_obj)
		return -CFS_EIO;
	mask_obj->perm = (u16)((mode & 070u) >> 3);
	return 0;
}

/* The stored ACL of kind on ip into *a: 0, -ENODATA when there is none,
 * -EIO when what is stored is no valid ACL (reported). */
static int acl_load(struct cfs_fs *fs, struct cfs_inode *ip, int kind,
		    struct acl *a, u8 *buf)
{
	s64 n = xattr_get(fs, ip, acl_name(kind), buf, ACL_MAX_BYTES);

	if (n == -CFS_ERANGE)
		n = -CFS_EINVAL; /* larger than any ACL: not one */
	if (n >= 0)
		n = acl_parse(buf, (u32)n, a);
	if (!n && !a->n)
		return -CFS_ENODATA; /* an empty ACL is none */
	if (n == -CFS_ENODATA || !n)
		return (int)n;
	if (n < 0 && n != -CFS_EIO && n != -CFS_EUCLEAN && n != -CFS_ENOMEM) {
		host_log(CFS_LOG_ERR, "inode %llu: its %s is no valid ACL",
			 (unsigned long long)ip->ino, acl_name(kind));
		n = -CFS_EIO;
	}
	return (int)n;
}

/* Memory for one ACL and one value: a->e is too large for a kernel
 * stack. */
struct acl_buf {
	struct acl a;
	u8 v[ACL_MAX_BYTES];
};

static int acl_store(struct cfs_fs *fs, struct cfs_inode *ip, int kind,
		     struct acl_buf *b)
{
	acl_encode(&b->a, b->v);
	return xattr_set(fs, ip, acl_name(kind), b->v, acl_size(&b->a), 0);
}

/* Removing an ACL that is not there is no error (ext4's set_acl(NULL)). */
static int acl_drop(struct cfs_fs *fs, struct cfs_inode *ip, int kind)
{
	int err = xattr_remove(fs, ip, acl_name(kind));

	return err == -CFS_ENODATA ? 0 : err;
}

int acl_set(struct cfs_fs *fs, struct cfs_inode *ip, int kind,
	    const void *value, u32 size, u32 flags)
{
	struct acl_buf *b;
	u32 mode = ip->d.mode;
	int err;

	b = host_alloc(sizeof(*b));
	if (!b)
		return -CFS_ENOMEM;
	/* in the kernel's order: the value, then what it is set on */
	err = acl_parse(value, size, &b->a);
	if (err)
		goto out;
	if (CFS_ISLNK(ip->d.mode)) {
		err = -CFS_EOPNOTSUPP; /* no ACLs on symlinks (ext4) */
		goto out;
	}
	if (kind == CFS_ACL_DEFAULT && !CFS_ISDIR(ip->d.mode)) {
		err = b->a.n ? -CFS_EACCES : 0;
		goto out;
	}
	if (!b->a.n) { /* the empty ACL: none (posix_acl_from_xattr) */
		err = acl_drop(fs, ip, kind);
		goto out;
	}
	if (kind == CFS_ACL_DEFAULT) {
		err = acl_store(fs, ip, kind, b);
		goto out;
	}
	/* posix_acl_update_mode: the mode follows; an ACL the mode says
	 * all of is not kept */
	if (acl_equiv_mode(&b->a, &mode))
		err = acl_store(fs, ip, kind, b);
	else
		err = acl_drop(fs, ip, kind);
	if (err)
		goto out;
	if (flags & CFS_XATTR_ACL_KILL_SGID)
		mode &= ~(u32)CFS_S_ISGID;
	if (mode != ip->d.mode) {
		ip->d.mode = (u16)mode;
		err = pptr_set_attrs(fs, ip);
	}
out:
	host_free(b);
	return err;
}

int acl_remove(struct cfs_fs *fs, struct cfs_inode *ip, int kind)
{
	if (CFS_ISLNK(ip->d.mode))
		return -CFS_EOPNOTSUPP;
	return acl_drop(fs, ip, kind);
}

int acl_chmod(struct cfs_fs *fs, struct cfs_inode *ip, u32 mode)
{
	struct acl_buf *b;
	int err;

	if (fs->noacl || CFS_ISLNK(ip->d.mode) || !ip->d.xattr_root ||
	    !((ip->d.mode ^ mode) & 0777u))
		return 0;
	b = host_alloc(sizeof(*b));
	if (!b)
		return -CFS_ENOMEM;
	err = acl_load(fs, ip, CFS_ACL_ACCESS, &b->a, b->v);
	if (err == -CFS_ENODATA)
		err = 0;
	else if (!err && !(err = acl_chmod_masq(&b->a, mode)))
		err = acl_store(fs, ip, CFS_ACL_ACCESS, b);
	host_free(b);
	return err;
}

/* Copy of a value given by the front end, checked. */
static int acl_take(const void *v, u32 len, u8 **out, u32 *out_len,
		    struct acl_buf *b)
{
	int err = acl_parse(v, len, &b->a);

	if (err || !b->a.n)
		return err;
	*out = host_alloc(acl_size(&b->a));
	if (!*out)
		return -CFS_ENOMEM;
	acl_encode(&b->a, *out);
	*out_len = acl_size(&b->a);
	return 0;
}

int acl_new_prepare(struct cfs_fs *fs, struct cfs_inode *dir, u32 *mode,
		    const struct cfs_cred *cr, struct acl_new *an)
{
	struct acl_buf *b;
	int err;

	cfs_memset(an, 0, sizeof(*an));
	an->owned = 1;
	if (CFS_ISLNK(*mode))
		return 0; /* symlinks: 0777, no ACL, no umask */
	if (cr->acl_access || cr->acl_default) {
		if (fs->noacl)
			return -CFS_EOPNOTSUPP;
		b = host_alloc(sizeof(*b));
		if (!b)
			return -CFS_ENOMEM;
		err = 0;
		if (cr->acl_access)
			err = acl_take(cr->acl_access, cr->acl_access_len,
				       &an->access, &an->access_len, b);
		if (!err && cr->acl_default && CFS_ISDIR(*mode))
			err = acl_take(cr->acl_default, cr->acl_default_len,
				       &an->dflt, &an->dflt_len, b);
		host_free(b);
		if (err)
			acl_new_free(an);
		return err;
	}
	if (fs->noacl || !(cr->flags & CFS_CRED_ACL_INHERIT) ||
	    !dir->d.xattr_root) { /* (no xattrs: no default ACL) */
		*mode &= ~(cr->umask & 0777u);
		return 0;
	}
	b = host_alloc(sizeof(*b));
	if (!b)
		return -CFS_ENOMEM;
	/* posix_acl_create */
	err = acl_load(fs, dir, CFS_ACL_DEFAULT, &b->a, b->v);
	if (err == -CFS_ENODATA) {
		*mode &= ~(cr->umask & 0777u);
		err = 0;
		goto out;
	}
	if (err)
		goto out;
	if (CFS_ISDIR(*mode)) {
		an->dflt = host_alloc(acl_size(&b->a));
		if (!an->dflt) {
			err = -CFS_ENOMEM;
			goto out;
		}
		acl_encode(&b->a, an->dflt);
		an->dflt_len = acl_size(&b->a);
	}
	err = acl_create_masq(&b->a, mode);
	if (err == 1) {
		an->access = host_alloc(acl_size(&b->a));
		if (!an->access) {
			err = -CFS_ENOMEM;
			goto out;
		}
		acl_encode(&b->a, an->access);
		an->access_len = acl_size(&b->a);
		err = 0;
	}
out:
	host_free(b);
	if (err)
		acl_new_free(an);
	return err;
}

int acl_new_store(struct cfs_fs *fs, struct cfs_inode *ip,
		  const struct acl_new *an)
{
	int err = 0;

	if (an->access)
		err = xattr_set(fs, ip, acl_access_name, an->access,
				an->access_len, 0);
	if (!err && an->dflt)
		err = xattr_set(fs, ip, acl_default_name, an->dflt,
				an->dflt_len, 0);
	return err;
}

void acl_new_free(struct acl_new *an)
{
	if (an->owned) {
		host_free(an->access);
		host_free(an->dflt);
	}
	an->access = an->dflt = NULL;
}

static int in_group(const struct cfs_cred *cr, u32 gid)
{
	return cr->gid == gid || (cr->in_group && cr->in_group(cr, gid));
}

/* in_group_or_capable */
static int group_or_fsetid(const struct cfs_cred *cr, u32 gid)
{
	return (cr->flags & CFS_CRED_FSETID) || in_group(cr, gid);
}

/* setattr_should_drop_sgid */
static int drop_sgid(const struct cfs_inode *ip, const struct cfs_cred *cr)
{
	if (!(ip->d.mode & CFS_S_ISGID))
		return 0;
	return (ip->d.mode & CFS_S_IXGRP) || !group_or_fsetid(cr, ip->d.gid);
}

u32 setid_kill(const struct cfs_inode *ip, const struct cfs_cred *cr,
	       int chown)
{
	u32 kill = 0;

	if (chown) {
		/* chown_common: any non-directory, privileged or not */
		if (CFS_ISDIR(ip->d.mode))
			return 0;
		kill = ip->d.mode & CFS_S_ISUID;
		if (drop_sgid(ip, cr))
			kill |= CFS_S_ISGID;
		return kill;
	}
	/* setattr_should_drop_suidgid: a write or truncate */
	if (!CFS_ISREG(ip->d.mode) || (cr->flags & CFS_CRED_FSETID))
		return 0;
	kill = ip->d.mode & CFS_S_ISUID;
	if (drop_sgid(ip, cr))
		kill |= CFS_S_ISGID;
	return kill;
}

u32 setid_create(const struct cfs_inode *dir, u32 mode,
		 const struct cfs_cred *cr)
{
	/* mode_strip_sgid */
	if ((mode & (CFS_S_ISGID | CFS_S_IXGRP)) != (CFS_S_ISGID | CFS_S_IXGRP))
		return 0;
	if (CFS_ISDIR(mode) || !(dir->d.mode & CFS_S_ISGID))
		return 0;
	return group_or_fsetid(cr, dir->d.gid) ? 0 : CFS_S_ISGID;
}
