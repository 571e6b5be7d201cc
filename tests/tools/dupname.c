// SPDX-License-Identifier: GPL-2.0
/*
 * dupname.c - damage for t_dirovf_dup: two entries with one name under
 * one directory hash, in different items of it (DIROVF, FORMAT.md 16.9).
 * Built by `make san` as $CFS_BIN/dupname.
 *
 *   dupname IMAGE DIR MODE
 *
 * DIR is a directory's path in the unmounted IMAGE whose first hash with
 * overflow items has at least two of them.  Entry B, of another inode, is
 * renamed in place to the name of entry A (same length), through the
 * library's tree functions (so copies, generations and checksums are right:
 * only the duplicate is wrong); the parent pointers are left alone (B's
 * still names B).  MODE says where A and B are:
 *   entry-ovf   A in the hash's entry item, B in its first overflow item
 *   ovf-ovf     A in the first overflow item, B in the second
 *   ovf-entry   A in the first overflow item, B in the entry item (the
 *               earlier of the two entries is the false one)
 *   item        A the last entry of the entry item, B its first (one item;
 *               the earlier entry is the false one)
 *   list        nothing changed: the names of the entry item are printed,
 *               one a line (for a test that removes some through a mount)
 * Prints "A B" (the two original names) on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/chunkfs.h"
#include "../../fs/internal.h"
#include "../../fs/user/user.h"

static int die(const char *m, int e)
{
	fprintf(stderr, "dupname: %s (%d)\n", m, e);
	exit(1);
}

/* The first entry of item buf; with want_len, the first of that length;
 * with last, the last. */
static struct cfs_dirent *pick(u8 *buf, u32 len, u32 want_len, int last)
{
	struct cfs_dirent *got = NULL;
	u32 off = 0;

	while (off + sizeof(struct cfs_dirent) <= len) {
		struct cfs_dirent *de = (void *)(buf + off);

		if (!want_len || de->namelen == want_len) {
			got = de;
			if (!last)
				break;
		}
		off += (u32)sizeof(*de) + de->namelen;
	}
	return got;
}

int main(int argc, char **argv)
{
	struct cfs_bdev *d;
	struct cfs_fs *fs;
	struct cfs_inode *dp;
	struct cfs_attr a;
	struct cfs_tree t;
	struct cfs_dirent *da, *db;
	const char *why = NULL, *mode;
	char err[256], path[4096], *tok, *save = NULL, an[256], bn[256];
	u64 dir = CFS_ROOT_INO, h, key[3], ka, kb;
	u8 *buf[3];
	u32 len[3], i;
	int r;

	if (argc != 4)
		die("usage: dupname IMAGE DIR entry-ovf|ovf-ovf|ovf-entry|item|list", 0);
	mode = argv[3];
	r = cfs_user_open(argv[1], 0, &d, err, sizeof(err));
	if (r < 0)
		die(err, r);
	r = cfs_mount(d, 0, &fs, &why);
	if (r < 0)
		die(why ? why : "mount", r);
	snprintf(path, sizeof(path), "%s", argv[2]);
	for (tok = strtok_r(path, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		r = cfs_lookup(fs, dir, tok, (u32)strlen(tok), &a);
		if (r < 0)
			die("lookup", r);
		dir = a.ino;
	}
	r = inode_get(fs, dir, &dp);
	if (r < 0)
		die("inode_get", r);
	tree_of_inode(fs, dp, CFS_TREE_DIR, &t);
	for (i = 0; i < 3; i++)
		buf[i] = malloc(fs->bs);
	/* the first hash with overflow items; its entry item and the first
	 * two of them */
	r = bt_find_ge(&t, CFS_DKEY_OVF, &key[1], buf[1], fs->bs, &len[1]);
	if (r < 0 || key[1] >= CFS_DKEY_CONT)
		die("no overflow item", r);
	h = (key[1] >> 8) & ((1ULL << CFS_HASH_BITS) - 1);
	key[0] = h;
	r = bt_lookup(&t, h, buf[0], fs->bs, &len[0]);
	if (r < 0)
		die("no entry item", r);
	r = bt_find_ge(&t, key[1] + 1, &key[2], buf[2], fs->bs, &len[2]);
	if (r < 0 || key[2] > (CFS_DKEY_OVF | h << 8 | 0xff))
		die("one overflow item only", r);
	if (!strcmp(mode, "list")) {
		u32 off = 0;

		while (off + sizeof(struct cfs_dirent) <= len[0]) {
			struct cfs_dirent *de = (void *)(buf[0] + off);

			printf("%.*s\n", de->namelen, de->name);
			off += (u32)sizeof(*de) + de->namelen;
		}
		inode_put(fs, dp);
		cfs_unmount(fs);
		cfs_user_close(d);
		for (i = 0; i < 3; i++)
			free(buf[i]);
		return 0;
	}
	if (!strcmp(mode, "entry-ovf"))
		ka = 0, kb = 1;
	else if (!strcmp(mode, "ovf-ovf"))
		ka = 1, kb = 2;
	else if (!strcmp(mode, "ovf-entry") || !strcmp(mode, "item"))
		ka = mode[0] == 'o', kb = 0;
	else
		die("unknown mode", 0);
	da = pick(buf[ka], len[ka], 0, !ka);
	db = da ? pick(buf[kb], len[kb], da->namelen, 0) : NULL;
	if (!da || !db || da->ino == db->ino)
		die("no two entries of one name length", 0);
	memcpy(an, da->name, da->namelen);
	an[da->namelen] = 0;
	memcpy(bn, db->name, db->namelen);
	bn[db->namelen] = 0;
	memcpy(db->name, da->name, da->namelen);
	r = bt_update(&t, key[kb], buf[kb], len[kb]);
	if (r < 0)
		die("bt_update", r);
	r = inode_write(fs, dp);
	if (r < 0)
		die("inode_write", r);
	inode_put(fs, dp);
	r = cfs_unmount(fs);
	if (r < 0)
		die("unmount", r);
	cfs_user_close(d);
	for (i = 0; i < 3; i++)
		free(buf[i]);
	printf("%s %s\n", an, bn);
	return 0;
}
