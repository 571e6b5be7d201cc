// SPDX-License-Identifier: GPL-2.0
/*
 * test_acl.c - the library's POSIX ACL and set-id rules (fs/acl.c, issue
 * 15), through the API on a memory device:
 *
 * 1. An access ACL sets the mode (its equivalent mode) and is kept only
 *    when the mode cannot say it; chmod rewrites its owner, mask and
 *    other entries; the checks the kernel makes (order, tags, perm bits,
 *    version, size); default ACLs on directories only; removal; S_ISGID
 *    cleared on request (CFS_XATTR_ACL_KILL_SGID).
 * 2. A new inode in a directory with a default ACL (CFS_CRED_ACL_INHERIT):
 *    the ACL masked by the mode, no umask; a directory inherits the
 *    default too; without one the umask; symlinks neither; ACLs given by
 *    the front end stored as given; the parent pointer carries the final
 *    mode (fsck clean).
 * 3. Set-id bits: cfs_kill_suidgid and CFS_SET_KILL_* for every mode of
 *    the issue, as a member of the file's group, another user and a
 *    privileged one; a setgid directory's group and S_ISGID
 *    (mode_strip_sgid).
 * 4. ACLs off: both names EOPNOTSUPP, not listed, nothing inherited.
 * Everything survives a remount; fsck finds nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/chunkfs.h"
#include "../lib/chunkimg.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define ACC "system.posix_acl_access"
#define DEF "system.posix_acl_default"

/* An ACL from "u::6,u:1000:4,g::4,g:4242:6,m::6,o::0" (perm digits). */
static u32 acl(const char *text, u8 *v)
{
	char buf[512], *tok, *save = NULL;
	u32 n = 0, ver = 2;

	memcpy(v, &ver, 4);
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), n++) {
		u16 tag = 0, perm;
		u32 id = 0xffffffffu;
		char *p = strrchr(tok, ':');

		switch (tok[0]) {
		case 'u': tag = tok[2] == ':' ? 1 : 2; break;
		case 'g': tag = tok[2] == ':' ? 4 : 8; break;
		case 'm': tag = 0x10; break;
		case 'o': tag = 0x20; break;
		case 'x': tag = 0x40; break;
		}
		if (tok[2] != ':')
			id = (u32)strtoul(tok + 2, NULL, 10);
		perm = (u16)strtoul(p + 1, NULL, 10);
		memcpy(v + 4 + 8 * n, &tag, 2);
		memcpy(v + 6 + 8 * n, &perm, 2);
		memcpy(v + 8 + 8 * n, &id, 4);
	}
	return 4 + 8 * n;
}

/* The stored ACL as that text, "none", or "error N". */
static const char *getacl(struct cfs_fs *fs, u64 ino, const char *name)
{
	static char out[512];
	u8 v[4096];
	s64 n = cfs_getxattr(fs, ino, name, v, sizeof(v));
	u32 i, len = 0;

	if (n == -CFS_ENODATA)
		return "none";
	if (n < 0) {
		snprintf(out, sizeof(out), "error %lld", -(long long)n);
		return out;
	}
	out[0] = 0;
	for (i = 4; i + 8 <= n; i += 8) {
		u16 tag, perm;
		u32 id;

		memcpy(&tag, v + i, 2);
		memcpy(&perm, v + i + 2, 2);
		memcpy(&id, v + i + 4, 4);
		len += snprintf(out + len, sizeof(out) - len, "%s%c:", i > 4 ?
				"," : "", tag <= 2 ? 'u' : tag <= 8 ? 'g' :
				tag == 0x10 ? 'm' : 'o');
		if (tag == 2 || tag == 8)
			len += snprintf(out + len, sizeof(out) - len, "%u:", id);
		else
			len += snprintf(out + len, sizeof(out) - len, ":");
		len += snprintf(out + len, sizeof(out) - len, "%u", perm);
	}
	return out;
}

#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b); \
	CHECK(!strcmp(_a, _b), "%s = \"%s\", expected \"%s\"", #a, _a, _b); \
	} while (0)

static u32 mode_of(struct cfs_fs *fs, u64 ino)
{
	struct cfs_attr a;

	CHECK_OK(cfs_getattr(fs, ino, &a));
	return a.mode & 07777;
}

static int setacl(struct cfs_fs *fs, u64 ino, const char *name,
		  const char *text, u32 flags)
{
	u8 v[1024];

	return cfs_setxattr(fs, ino, name, v, acl(text, v), flags);
}

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode,
	      const struct cfs_cred *cr)
{
	struct cfs_attr a;
	int err = (mode & CFS_S_IFMT) == CFS_S_IFLNK ?
		cfs_symlink(fs, dir, name, strlen(name), "t", 1, cr, &a) :
		cfs_mknod(fs, dir, name, strlen(name), mode, 0, cr, &a);

	CHECK(!err, "create %s: %d", name, err);
	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

/* groups the test's callers are in: the group of the cred (priv) */
static int in_group(const struct cfs_cred *cr, u32 gid)
{
	return cr->priv && gid == *(const u32 *)cr->priv;
}

static u64 f_acl, d_acl, d_def, d_def2, d_none, f_inh, d_inh, d_given;

static void part1(struct cfs_fs *fs, const struct cfs_cred *root)
{
	u8 v[64];

	f_acl = mk(fs, CFS_ROOT_INO, "f", CFS_S_IFREG | 0640, root);
	d_acl = mk(fs, CFS_ROOT_INO, "d", CFS_S_IFDIR | 0750, root);
	CHECK_OK(setacl(fs, f_acl, ACC, "u::6,u:1000:6,u:1001:4,g::4,g:4242:6,m::7,o::0", 0));
	CHECK_EQ(mode_of(fs, f_acl), 0670);
	CHECK_STR(getacl(fs, f_acl, ACC), "u::6,u:1000:6,u:1001:4,g::4,g:4242:6,m::7,o::0");
	/* chmod: owner, mask, other; named entries stay */
	{
		struct cfs_setattr sa = { .valid = CFS_SET_MODE, .mode = 0751 };
		struct cfs_attr a;

		CHECK_OK(cfs_setattr(fs, f_acl, &sa, &a));
		CHECK_STR(getacl(fs, f_acl, ACC), "u::7,u:1000:6,u:1001:4,g::4,g:4242:6,m::5,o::1");
		sa.mode = 04600;
		CHECK_OK(cfs_setattr(fs, f_acl, &sa, &a));
		CHECK_EQ(a.mode & 07777, 04600);
		CHECK_STR(getacl(fs, f_acl, ACC), "u::6,u:1000:6,u:1001:4,g::4,g:4242:6,m::0,o::0");
	}
	/* an ACL of the base entries is the mode */
	CHECK_OK(setacl(fs, f_acl, ACC, "u::7,g::5,o::4", 0));
	CHECK_EQ(mode_of(fs, f_acl), 04754);
	CHECK_STR(getacl(fs, f_acl, ACC), "none");
	/* the kernel's checks */
	CHECK_EQ(setacl(fs, f_acl, ACC, "u::6,x::4,g::4,o::0", 0), -CFS_EINVAL);
	CHECK_EQ(setacl(fs, f_acl, ACC, "u::6,u:7:4,g::4,o::0", 0), -CFS_EINVAL);
	CHECK_EQ(setacl(fs, f_acl, ACC, "g::4,u::6,o::0", 0), -CFS_EINVAL);
	CHECK_EQ(setacl(fs, f_acl, ACC, "u::6,g::4,g::4,o::0", 0), -CFS_EINVAL);
	CHECK_EQ(setacl(fs, f_acl, ACC, "u::8,g::4,o::0", 0), -CFS_EINVAL);
	CHECK_EQ(setacl(fs, f_acl, ACC, "u::6,g::4", 0), -CFS_EINVAL);
	CHECK_EQ(setacl(fs, f_acl, ACC, "u::6,u:4294967295:4,g::4,m::4,o::0", 0),
		 -CFS_EINVAL);
	acl("u::6,g::4,o::0", v);
	v[0] = 1;
	CHECK_EQ(cfs_setxattr(fs, f_acl, ACC, v, 28, 0), -CFS_EOPNOTSUPP);
	v[0] = 2;
	CHECK_EQ(cfs_setxattr(fs, f_acl, ACC, v, 27, 0), -CFS_EINVAL);
	CHECK_EQ(cfs_setxattr(fs, f_acl, ACC, v, 3, 0), -CFS_EINVAL);
	CHECK_EQ(mode_of(fs, f_acl), 04754);
	/* default ACLs: directories only; empty ones are none */
	CHECK_EQ(setacl(fs, f_acl, DEF, "u::7,g::5,o::0", 0), -CFS_EACCES);
	CHECK_OK(cfs_setxattr(fs, f_acl, DEF, v, 4, 0));
	CHECK_OK(setacl(fs, d_acl, DEF, "u::7,u:1000:5,g::5,m::7,o::0", 0));
	CHECK_STR(getacl(fs, d_acl, DEF), "u::7,u:1000:5,g::5,m::7,o::0");
	CHECK_EQ(mode_of(fs, d_acl), 0750);
	CHECK_OK(cfs_setxattr(fs, d_acl, DEF, v, 4, 0));
	CHECK_STR(getacl(fs, d_acl, DEF), "none");
	CHECK_OK(cfs_removexattr(fs, d_acl, DEF));
	/* removal keeps the mode; S_ISGID on request */
	CHECK_OK(setacl(fs, f_acl, ACC, "u::6,u:1000:6,g::4,m::6,o::0", 0));
	CHECK_OK(cfs_removexattr(fs, f_acl, ACC));
	CHECK_STR(getacl(fs, f_acl, ACC), "none");
	CHECK_EQ(mode_of(fs, f_acl), 04660);
	{
		struct cfs_setattr sa = { .valid = CFS_SET_MODE, .mode = 02750 };
		struct cfs_attr a;

		CHECK_OK(cfs_setattr(fs, f_acl, &sa, &a));
	}
	CHECK_OK(setacl(fs, f_acl, ACC, "u::7,u:1000:6,g::5,m::7,o::0", 0));
	CHECK_EQ(mode_of(fs, f_acl), 02770);
	CHECK_OK(setacl(fs, f_acl, ACC, "u::7,u:1000:6,g::5,m::5,o::0",
			CFS_XATTR_ACL_KILL_SGID));
	CHECK_EQ(mode_of(fs, f_acl), 0750);
	/* a directory's ACL and its mode (its parent pointer carries it) */
	CHECK_OK(setacl(fs, d_acl, ACC, "u::7,u:1000:7,g::0,m::7,o::5", 0));
	CHECK_EQ(mode_of(fs, d_acl), 0775);
}

static void part2(struct cfs_fs *fs, const struct cfs_cred *root)
{
	struct cfs_cred cr = *root;
	u8 v1[128], v2[128];
	u64 x;

	cr.flags |= CFS_CRED_ACL_INHERIT;
	cr.umask = 077;
	d_def = mk(fs, CFS_ROOT_INO, "def", CFS_S_IFDIR | 0777, &cr);
	CHECK_EQ(mode_of(fs, d_def), 0700);
	d_def2 = mk(fs, CFS_ROOT_INO, "def2", CFS_S_IFDIR | 0777, root);
	d_none = mk(fs, CFS_ROOT_INO, "none", CFS_S_IFDIR | 0777, root);
	CHECK_OK(setacl(fs, d_def, DEF, "u::7,u:1000:7,g::5,g:4242:6,m::7,o::5", 0));
	CHECK_OK(setacl(fs, d_def2, DEF, "u::7,g::7,o::0", 0));
	f_inh = mk(fs, d_def, "f", CFS_S_IFREG | 0666, &cr);
	CHECK_EQ(mode_of(fs, f_inh), 0664);
	CHECK_STR(getacl(fs, f_inh, ACC), "u::6,u:1000:7,g::5,g:4242:6,m::6,o::4");
	CHECK_STR(getacl(fs, f_inh, DEF), "none");
	d_inh = mk(fs, d_def, "d", CFS_S_IFDIR | 0750, &cr);
	CHECK_EQ(mode_of(fs, d_inh), 0750);
	CHECK_STR(getacl(fs, d_inh, ACC), "u::7,u:1000:7,g::5,g:4242:6,m::5,o::0");
	CHECK_STR(getacl(fs, d_inh, DEF), "u::7,u:1000:7,g::5,g:4242:6,m::7,o::5");
	x = mk(fs, d_inh, "deeper", CFS_S_IFIFO | 0600, &cr);
	CHECK_EQ(mode_of(fs, x), 0600);
	CHECK_STR(getacl(fs, x, ACC), "u::6,u:1000:7,g::5,g:4242:6,m::0,o::0");
	x = mk(fs, d_def2, "f", CFS_S_IFREG | 0666, &cr);
	CHECK_EQ(mode_of(fs, x), 0660);
	CHECK_STR(getacl(fs, x, ACC), "none");
	x = mk(fs, d_none, "f", CFS_S_IFREG | 0666, &cr);
	CHECK_EQ(mode_of(fs, x), 0600);
	x = mk(fs, d_def, "l", CFS_S_IFLNK | 0777, &cr);
	CHECK_EQ(mode_of(fs, x), 0777);
	CHECK_STR(getacl(fs, x, ACC), "none");
	/* without CFS_CRED_ACL_INHERIT: the mode as given */
	x = mk(fs, d_def, "plain", CFS_S_IFREG | 0666, root);
	CHECK_EQ(mode_of(fs, x), 0666);
	CHECK_STR(getacl(fs, x, ACC), "none");
	/* ACLs the front end computed (the kernel module's posix_acl_create) */
	cr = *root;
	cr.acl_access = v1;
	cr.acl_access_len = acl("u::6,u:5:4,g::4,m::4,o::0", v1);
	cr.acl_default = v2;
	cr.acl_default_len = acl("u::7,u:5:7,g::5,m::7,o::0", v2);
	d_given = mk(fs, d_none, "given", CFS_S_IFDIR | 0640, &cr);
	CHECK_EQ(mode_of(fs, d_given), 0640);
	CHECK_STR(getacl(fs, d_given, ACC), "u::6,u:5:4,g::4,m::4,o::0");
	CHECK_STR(getacl(fs, d_given, DEF), "u::7,u:5:7,g::5,m::7,o::0");
	cr.acl_access_len = acl("u::6,u:5:4,g::4,o::0", v1);
	CHECK_EQ(cfs_mknod(fs, d_none, "bad", 3, CFS_S_IFREG | 0640, 0, &cr,
			   NULL), -CFS_EINVAL);
}

/* Linux 6.1: a write or truncate (setattr_should_drop_suidgid) or a chown */
static u32 want(u32 m, int chown, int member, int priv)
{
	int drop_sgid = (m & 02000) && ((m & 010) || !(member || priv));

	if (!chown && priv)
		return m;
	return m & ~(04000u | (drop_sgid ? 02000u : 0));
}

static void part3(struct cfs_fs *fs, const struct cfs_cred *root)
{
	static const u32 modes[] = { 06755, 02755, 02666, 06666, 04755,
				     02644, 0755 };
	u32 g4242 = 4242, i, how, who;
	u64 sg, x, d = mk(fs, CFS_ROOT_INO, "setid", CFS_S_IFDIR | 0777, root);

	for (i = 0; i < CFS_ARRAY_SIZE(modes); i++) {
		for (how = 0; how < 3; how++) {
			for (who = 0; who < 3; who++) {
				struct cfs_cred cr = { .uid = 1000, .gid = 1000,
						       .in_group = in_group };
				struct cfs_setattr sa = { .valid = 0 };
				struct cfs_attr a;
				char name[64];
				int killed = -1;

				if (who == 0)
					cr.priv = &g4242; /* a member */
				if (who == 2)
					cr.flags = CFS_CRED_FSETID;
				snprintf(name, sizeof(name), "f%o-%u-%u",
					 modes[i], how, who);
				x = mk(fs, d, name, CFS_S_IFREG | 0600, root);
				sa.valid = CFS_SET_UID | CFS_SET_GID |
					   CFS_SET_MODE;
				sa.uid = 1000;
				sa.gid = 4242;
				sa.mode = modes[i];
				CHECK_OK(cfs_setattr(fs, x, &sa, &a));
				memset(&sa, 0, sizeof(sa));
				sa.cr = &cr;
				if (how == 0) {
					CHECK_OK(cfs_kill_suidgid(fs, x, &cr,
								  &killed));
				} else if (how == 1) {
					sa.valid = CFS_SET_SIZE |
						   CFS_SET_KILL_SUIDGID;
					sa.size = 1;
					CHECK_OK(cfs_setattr(fs, x, &sa, &a));
				} else {
					sa.valid = CFS_SET_UID | CFS_SET_KILL_CHOWN;
					sa.uid = 1000;
					CHECK_OK(cfs_setattr(fs, x, &sa, &a));
				}
				CHECK(mode_of(fs, x) == want(modes[i], how == 2,
							     who == 0, who == 2),
				      "%s: mode %o, want %o", name,
				      mode_of(fs, x), want(modes[i], how == 2,
							   who == 0, who == 2));
				if (how == 0)
					CHECK_EQ(killed, mode_of(fs, x) !=
						 modes[i]);
			}
		}
	}
	/* a setgid directory */
	sg = mk(fs, CFS_ROOT_INO, "sg", CFS_S_IFDIR | 0777, root);
	{
		struct cfs_setattr sa = { .valid = CFS_SET_GID | CFS_SET_MODE,
					  .gid = 4242, .mode = 02777 };
		struct cfs_attr a;
		struct cfs_cred other = { .uid = 1001, .gid = 1001,
					  .in_group = in_group };
		struct cfs_cred member = { .uid = 1000, .gid = 1000,
					   .in_group = in_group,
					   .priv = &g4242 };
		struct cfs_cred priv = { .flags = CFS_CRED_FSETID };

		CHECK_OK(cfs_setattr(fs, sg, &sa, &a));
		x = mk(fs, sg, "o2755", CFS_S_IFREG | 02755, &other);
		CHECK_EQ(mode_of(fs, x), 0755);
		CHECK_OK(cfs_getattr(fs, x, &a));
		CHECK_EQ(a.gid, 4242);
		CHECK_EQ(a.uid, 1001);
		x = mk(fs, sg, "o2644", CFS_S_IFREG | 02644, &other);
		CHECK_EQ(mode_of(fs, x), 02644);
		x = mk(fs, sg, "od", CFS_S_IFDIR | 0755, &other);
		CHECK_EQ(mode_of(fs, x), 02755);
		x = mk(fs, sg, "m2755", CFS_S_IFREG | 02755, &member);
		CHECK_EQ(mode_of(fs, x), 02755);
		x = mk(fs, sg, "p2755", CFS_S_IFREG | 02755, &priv);
		CHECK_EQ(mode_of(fs, x), 02755);
		/* (a zeroed cred is gid 0, not privileged) */
		x = mk(fs, sg, "r2755", CFS_S_IFREG | 02755, root);
		CHECK_EQ(mode_of(fs, x), 0755);
		/* not a setgid directory: the caller's group, mode as asked */
		x = mk(fs, d, "o2755", CFS_S_IFREG | 02755, &other);
		CHECK_EQ(mode_of(fs, x), 02755);
		CHECK_OK(cfs_getattr(fs, x, &a));
		CHECK_EQ(a.gid, 1001);
	}
}

static void part4(struct cfs_fs *fs, const struct cfs_cred *root)
{
	struct cfs_cred cr = *root;
	char list[4096];
	s64 n, i;
	u64 x;
	int seen = 0;

	cfs_set_acl(fs, 0);
	CHECK_EQ(cfs_acl_enabled(fs), 0);
	CHECK_EQ(setacl(fs, d_inh, ACC, "u::7,u:3:7,g::5,m::7,o::0", 0),
		 -CFS_EOPNOTSUPP);
	CHECK_EQ(setacl(fs, d_inh, DEF, "u::7,u:3:7,g::5,m::7,o::0", 0),
		 -CFS_EOPNOTSUPP);
	CHECK_EQ(cfs_getxattr(fs, d_inh, ACC, NULL, 0), -CFS_EOPNOTSUPP);
	CHECK_EQ(cfs_removexattr(fs, d_inh, DEF), -CFS_EOPNOTSUPP);
	CHECK_OK(cfs_setxattr(fs, d_inh, "user.k", "v", 1, 0));
	n = cfs_listxattr(fs, d_inh, list, sizeof(list));
	CHECK_EQ(n, 7);
	for (i = 0; i < n; i += (s64)strlen(list + i) + 1)
		seen += !strcmp(list + i, "user.k");
	CHECK_EQ(seen, 1);
	cr.flags |= CFS_CRED_ACL_INHERIT;
	cr.umask = 027;
	x = mk(fs, d_def, "noacl", CFS_S_IFREG | 0666, &cr);
	CHECK_EQ(mode_of(fs, x), 0640);
	{
		struct cfs_setattr sa = { .valid = CFS_SET_MODE, .mode = 0700 };
		struct cfs_attr a;

		CHECK_OK(cfs_setattr(fs, f_inh, &sa, &a));
	}
	cfs_set_acl(fs, 1);
	CHECK_STR(getacl(fs, x, ACC), "none");
	/* the chmod on the noacl mount left the ACL alone */
	CHECK_STR(getacl(fs, f_inh, ACC), "u::6,u:1000:7,g::5,g:4242:6,m::6,o::4");
	n = cfs_listxattr(fs, d_inh, list, sizeof(list));
	CHECK(n > 7, "ACL names listed again: %lld bytes", (long long)n);
}

static void verify(struct cfs_fs *fs)
{
	CHECK_EQ(mode_of(fs, f_acl), 0750);
	CHECK_STR(getacl(fs, f_acl, ACC), "u::7,u:1000:6,g::5,m::5,o::0");
	CHECK_EQ(mode_of(fs, d_acl), 0775);
	CHECK_STR(getacl(fs, d_inh, DEF), "u::7,u:1000:7,g::5,g:4242:6,m::7,o::5");
	CHECK_STR(getacl(fs, d_given, ACC), "u::6,u:5:4,g::4,m::4,o::0");
	CHECK_EQ(mode_of(fs, d_inh), 0750);
}

int main(void)
{
	struct membdev *m = membdev_new(64u << 20);
	struct cfs_cred root = { .uid = 0, .gid = 0 };
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	u32 found;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "acl--test-uuid-1", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_EQ(cfs_acl_enabled(fs), 1);
	part1(fs, &root);
	printf("# access ACLs and the mode\n");
	part2(fs, &root);
	printf("# default ACLs at create\n");
	part3(fs, &root);
	printf("# set-id bits\n");
	part4(fs, &root);
	printf("# ACLs off\n");
	verify(fs);
	CHECK_OK(cfs_unmount(fs));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	verify(fs);
	CHECK_OK(cfs_unmount(fs));
	found = ci_offline_problems(m, NULL);
	CHECK(!found, "fsck found %u problems", found);
	printf("# after a remount; fsck clean\n");
	membdev_free(m);
	if (tap_fail)
		printf("FAIL: %d checks\n", tap_fail);
	else
		printf("PASS: test_acl\n");
	return tap_fail != 0;
}
