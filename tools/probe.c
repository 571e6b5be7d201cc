// SPDX-License-Identifier: GPL-2.0
/*
 * probe.c - what makes a chunkfs device known to the system's tools:
 *
 *   chunkfs probe [--udev] DEVICE...
 *	is DEVICE (a block device or an image) chunkfs?  Its type, UUID and
 *	label, as blkid prints them, or with --udev as the ID_FS_* properties
 *	udev imports (the rule 64-chunkfs.rules runs it for every block
 *	device libblkid does not recognise: lsblk -f, /dev/disk/by-uuid and
 *	by-label, and so mount LABEL=... and UUID=...).  Reads only the
 *	superblock (cfs_read_super), without a lock: a mounted device too.
 *	Exit 0 found, 2 not chunkfs (as blkid), 1 an error.
 *
 *   chunkfs tune [-L LABEL] [-U UUID|random|time] IMAGE
 *	change the label or the UUID of a filesystem that is not mounted,
 *	as tune2fs -L/-U.  The label lives in the superblock and in the
 *	geometry copy of every chunk header; the UUID in the header of every
 *	metadata block.  The image is first mounted and unmounted through
 *	the library (its journals replayed, everything written in place),
 *	then the blocks are rewritten: every chunk's metadata blocks (found
 *	as `chunkfs inject --list` finds them), the chunk headers, the
 *	superblock last, its journal map emptied (nothing of the old UUID is
 *	replayed).  A UUID change needs every chunk clean; interrupted, it
 *	is finished by running the same command again (blocks of either
 *	UUID are accepted then).
 */
#define _GNU_SOURCE
#include <blkid/blkid.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>
#include <zlib.h>

#include "chunkfs.h"
#include "../fs/check.h"

#define EX_FOUND 0
#define EX_ERR 1
#define EX_NONE 2

static void probe_usage(FILE *f)
{
	fprintf(f, "Usage: %s probe [--udev] DEVICE...\n"
		"Tell whether DEVICE (a block device or an image file) holds "
		"chunkfs, and its\nUUID and label: as blkid prints them, or "
		"with --udev as the ID_FS_* properties\nthe udev rule "
		"64-chunkfs.rules imports.  Exit status: 0 chunkfs, 2 not, 1 "
		"error.\n", tool_prog);
}

/* libblkid's encodings of a property value: _ENC keeps every byte
 * (unsafe ones as \xNN), the plain one replaces what udev cannot keep. */
static void print_udev(const struct cfs_super *sb)
{
	char uuid[40], label[sizeof(sb->g.label) + 1], enc[4 * sizeof(label)];
	char safe[sizeof(label)];

	uuid_unparse(sb->g.uuid, uuid);
	memcpy(label, sb->g.label, sizeof(sb->g.label));
	label[sizeof(sb->g.label)] = 0;
	printf("ID_FS_TYPE=chunkfs\nID_FS_USAGE=filesystem\n"
	       "ID_FS_VERSION=%u\nID_FS_UUID=%s\nID_FS_UUID_ENC=%s\n"
	       "ID_FS_BLOCKSIZE=%u\n", sb->g.version, uuid, uuid,
	       sb->g.block_size);
	if (label[0]) {
		snprintf(safe, sizeof(safe), "%s", label);
		blkid_safe_string(label, safe, sizeof(safe));
		blkid_encode_string(label, enc, sizeof(enc));
		printf("ID_FS_LABEL=%s\nID_FS_LABEL_ENC=%s\n", safe, enc);
	}
}

static void print_blkid(const char *dev, const struct cfs_super *sb)
{
	char uuid[40], label[sizeof(sb->g.label) + 1];

	uuid_unparse(sb->g.uuid, uuid);
	memcpy(label, sb->g.label, sizeof(sb->g.label));
	label[sizeof(sb->g.label)] = 0;
	printf("%s:", dev);
	if (label[0]) {
		printf(" LABEL=\"");
		for (const char *p = label; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		printf("\"");
	}
	printf(" UUID=\"%s\" BLOCK_SIZE=\"%u\" TYPE=\"chunkfs\"\n", uuid,
	       sb->g.block_size);
}

/* 0 and *sb when dev holds a chunkfs superblock, 2 when not, 1 (message
 * printed unless quiet) when it cannot be read. */
static int probe_one(const char *dev, struct cfs_super *sb, int quiet)
{
	struct cfs_bdev *d = NULL;
	char err[512];
	u64 blk;
	int r;

	r = cfs_user_open(dev, CFS_OPEN_RDONLY | CFS_OPEN_NOLOCK, &d, err,
			  sizeof(err));
	if (r < 0) {
		if (!quiet)
			tool_err("%s", err);
		return EX_ERR;
	}
	r = cfs_read_super(d, sb, &blk);
	cfs_user_close(d);
	return r ? EX_NONE : EX_FOUND;
}

int cmd_probe(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "udev", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int udev = 0, opt, ret = EX_NONE, any_err = 0, i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "uh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			udev = 1;
			break;
		case 'h':
			probe_usage(stdout);
			return 0;
		default:
			probe_usage(stderr);
			return EX_ERR;
		}
	}
	if (optind >= argc) {
		tool_err("probe: no device given");
		probe_usage(stderr);
		return EX_ERR;
	}
	if (udev && optind + 1 != argc) {
		tool_err("probe: --udev takes one device");
		return EX_ERR;
	}
	for (i = optind; i < argc; i++) {
		struct cfs_super sb;
		int r = probe_one(argv[i], &sb, udev);

		if (r == EX_ERR)
			any_err = 1;
		if (r != EX_FOUND)
			continue;
		ret = EX_FOUND;
		if (udev)
			print_udev(&sb);
		else
			print_blkid(argv[i], &sb);
	}
	return ret == EX_FOUND ? EX_FOUND : any_err ? EX_ERR : EX_NONE;
}

/* ---- tune ---- */

static void tune_usage(FILE *f)
{
	fprintf(f, "Usage: %s tune [-L LABEL] [-U UUID|random|time] "
		"[-O xcont|dirovf[,...]] IMAGE\n"
		"Change the label (-L, at most 63 bytes) or the UUID (-U) of "
		"the chunkfs in\nIMAGE (an image file or a block device), "
		"which must not be mounted, as\ntune2fs -L/-U does.  A UUID "
		"change rewrites every metadata block and needs\nevery chunk "
		"clean (run fsck.chunkfs -f first); if it is interrupted, run "
		"the\nsame command again.  -O turns on a feature that needs "
		"nothing on disk but\nits bit: xcont (xattrs spill into other "
		"chunks), dirovf (names sharing a\ndirectory hash go on in "
		"overflow items); every chunk must be clean.  Nothing\ncan be "
		"turned off.\n", tool_prog);
}

/* -O: the features tune can turn on (a bit, no structure: FORMAT.md 5) */
static int tune_features(const char *arg, u32 *incompat)
{
	char *s = strdup(arg), *tok, *save = NULL;
	int ret = 0;

	if (!s)
		return -1;
	for (tok = strtok_r(s, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "xcont")) {
			*incompat |= CFS_FEAT_INCOMPAT_XCONT;
		} else if (!strcmp(tok, "dirovf")) {
			*incompat |= CFS_FEAT_INCOMPAT_DIROVF;
		} else if (tok[0] == '^') {
			tool_err("tune: -O %s: a feature cannot be turned off "
				 "(what it made may be on disk)", tok);
			ret = -1;
		} else {
			tool_err("tune: -O %s: only xcont and dirovf can be "
				 "turned on (the others change the layout of "
				 "every chunk: make the filesystem again with "
				 "mkfs.chunkfs -O)", tok);
			ret = -1;
		}
	}
	free(s);
	return ret;
}

static u32 blk_crc(const u8 *b, u32 bs)
{
	return (u32)crc32(0, b + 4, bs - 4);
}

/* Rewrites the block at abs with the new UUID (and label and the feature
 * bits incompat, for headers):
 * it must verify with the old UUID or, when finishing an interrupted
 * change, the new one.  Returns 0, or -1 (message printed). */
static int retag(struct cfs_bdev *d, u8 *buf, u32 bs, u64 abs,
		 const u8 *old, const u8 *new, const char *label, int uuid,
		 u32 incompat)
{
	struct cfs_bhdr *h = (struct cfs_bhdr *)buf;
	int r = d->ops->read(d, abs * bs, buf, bs);

	if (r) {
		tool_err("tune: cannot read block %llu: %s",
			 (unsigned long long)abs, tool_strerror(r));
		return -1;
	}
	if (h->crc != blk_crc(buf, bs) || h->blkno != abs ||
	    (memcmp(h->uuid, old, 16) && memcmp(h->uuid, new, 16))) {
		tool_err("tune: block %llu does not verify; run fsck.chunkfs "
			 "-f first", (unsigned long long)abs);
		return -1;
	}
	if (uuid)
		memcpy(h->uuid, new, 16);
	if (h->magic == CFS_MAGIC_CHUNK || h->magic == CFS_MAGIC_SUPER) {
		struct cfs_geom *g = &((struct cfs_chunk_hdr *)buf)->g;

		if (h->magic == CFS_MAGIC_SUPER)
			g = &((struct cfs_super *)buf)->g;
		if (uuid)
			memcpy(g->uuid, new, 16);
		if (label) {
			memset(g->label, 0, sizeof(g->label));
			memcpy(g->label, label, strlen(label));
		}
		g->feat_incompat |= incompat;
		if (h->magic == CFS_MAGIC_SUPER) {
			struct cfs_super *s = (struct cfs_super *)buf;

			/* nothing of the old UUID or label is replayed */
			if (s->jmap_off == CFS_JMAP_OFF && bs > CFS_JMAP_OFF)
				memset(buf + CFS_JMAP_OFF, 0, bs - CFS_JMAP_OFF);
		}
	}
	h->crc = blk_crc(buf, bs);
	r = d->ops->write(d, abs * bs, buf, bs);
	if (r) {
		tool_err("tune: cannot write block %llu: %s",
			 (unsigned long long)abs, tool_strerror(r));
		return -1;
	}
	return 0;
}

int cmd_tune(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "label", required_argument, NULL, 'L' },
		{ "uuid", required_argument, NULL, 'U' },
		{ "features", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *label = NULL, *uuid_arg = NULL, *image, *why = NULL;
	struct cfs_bdev *d = NULL;
	struct cfs_fs *fs = NULL;
	struct cfs_super sb;
	u8 new_uuid[16], old_uuid[16], *buf = NULL;
	char err[512], us[40];
	int opt, r, ret = 1;
	u64 sbblk;
	u32 k, bs, incompat = 0, had = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "L:U:O:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'L':
			label = optarg;
			if (strlen(label) > 63) {
				tool_err("tune: label '%s' is too long (%zu "
					 "bytes; at most 63)", label,
					 strlen(label));
				return 1;
			}
			break;
		case 'U':
			uuid_arg = optarg;
			break;
		case 'O':
			if (tune_features(optarg, &incompat))
				return 1;
			break;
		case 'h':
			tune_usage(stdout);
			return 0;
		default:
			tune_usage(stderr);
			return 1;
		}
	}
	if (optind + 1 != argc || (!label && !uuid_arg && !incompat)) {
		tool_err(optind + 1 != argc ? "tune: one image or device" :
			 "tune: nothing to change (-L, -U or -O)");
		tune_usage(stderr);
		return 1;
	}
	image = argv[optind];
	if (uuid_arg) {
		if (!strcmp(uuid_arg, "random")) {
			uuid_generate(new_uuid);
		} else if (!strcmp(uuid_arg, "time")) {
			uuid_generate_time(new_uuid);
		} else if (uuid_parse(uuid_arg, new_uuid) < 0) {
			tool_err("tune: invalid UUID '%s'", uuid_arg);
			return 1;
		}
	}
	if (cfs_user_is_mounted(image)) {
		tool_err("%s is mounted; unmount it first", image);
		return 1;
	}
	r = cfs_user_open(image, 0, &d, err, sizeof(err));
	if (r < 0) {
		tool_err("%s", r == -EBUSY ? "the image is in use (mounted?); "
			 "unmount it first" : err);
		return 1;
	}
	/* 1. Everything in place: the journals replayed, a clean unmount. */
	r = cfs_mount(d, 0, &fs, &why);
	if (r < 0) {
		tool_err("cannot mount %s: %s%s%s", image, tool_strerror(r),
			 why ? ": " : "", why ? why : "");
		goto out;
	}
	{
		struct cfs_journal_stats js;

		cfs_journal_stats(fs, &js);
		if (js.replay_failed) {
			tool_err("tune: a chunk's journal could not be "
				 "replayed; run fsck.chunkfs first");
			cfs_unmount(fs);
			goto out;
		}
	}
	if (uuid_arg || incompat) {
		for (k = 0; k < cfs_nchunks(fs); k++) {
			struct cfs_chunk_info ci;

			if (cfs_chunk_info(fs, k, &ci) < 0 ||
			    ci.state != CFS_CHUNK_CLEAN) {
				tool_err("tune: chunk %u is not clean (%s); run "
					 "fsck.chunkfs -f first", k,
					 tool_chunk_state(ci.state));
				cfs_unmount(fs);
				goto out;
			}
		}
	}
	r = cfs_unmount(fs);
	fs = NULL;
	if (r < 0) {
		tool_err("unmounting %s: %s", image, tool_strerror(r));
		goto out;
	}
	/* 2. The blocks. */
	if (cfs_read_super(d, &sb, &sbblk)) {
		tool_err("%s: no chunkfs superblock", image);
		goto out;
	}
	had = sb.g.feat_incompat & incompat;
	incompat &= ~had;
	if (had & CFS_FEAT_INCOMPAT_XCONT)
		printf("%s: xcont is on already\n", image);
	if (had & CFS_FEAT_INCOMPAT_DIROVF)
		printf("%s: dirovf is on already\n", image);
	if (!label && !uuid_arg && !incompat) {
		ret = 0;
		goto out;
	}
	bs = sb.g.block_size;
	memcpy(old_uuid, sb.g.uuid, 16);
	if (!uuid_arg)
		memcpy(new_uuid, old_uuid, 16);
	buf = malloc(bs);
	if (!buf) {
		tool_err("out of memory");
		goto out;
	}
	for (k = 0; k < sb.g.nchunks; k++) {
		u64 *blocks = NULL;
		long n, i;

		if (uuid_arg) {
			n = tool_chunk_metadata(d, k, old_uuid, new_uuid,
						&blocks);
			if (n < 0)
				goto out;
			for (i = 0; i < n; i++) {
				if (retag(d, buf, bs, blocks[i], old_uuid,
					  new_uuid, label, 1, incompat)) {
					free(blocks);
					goto out;
				}
			}
			free(blocks);
		} else if (label || incompat) {
			/* the label, the features: both header copies of the
			 * chunk */
			u64 first = CFS_FIRST_CHUNK_BLOCK +
				    (u64)k * sb.g.chunk_blocks;
			u64 nb = sb.g.total_blocks - first;

			if (nb > sb.g.chunk_blocks)
				nb = sb.g.chunk_blocks;
			if (retag(d, buf, bs, first, old_uuid, new_uuid,
				  label, 0, incompat) ||
			    retag(d, buf, bs, first + nb - 1, old_uuid,
				  new_uuid, label, 0, incompat))
				goto out;
		}
	}
	r = d->ops->flush(d);
	/* the superblock last: the copy, then the primary */
	if (!r && (retag(d, buf, bs, CFS_SB2_BLOCK, old_uuid, new_uuid, label,
			 !!uuid_arg, incompat) ||
		   retag(d, buf, bs, CFS_SB_BLOCK, old_uuid, new_uuid, label,
			 !!uuid_arg, incompat)))
		goto out;
	if (!r)
		r = d->ops->flush(d);
	if (r) {
		tool_err("tune: cannot flush %s: %s", image, tool_strerror(r));
		goto out;
	}
	uuid_unparse(new_uuid, us);
	if (label)
		printf("%s: label set to '%s'\n", image, label);
	if (uuid_arg)
		printf("%s: UUID set to %s\n", image, us);
	if (incompat & CFS_FEAT_INCOMPAT_XCONT)
		printf("%s: xcont turned on (xattr continuations)\n", image);
	if (incompat & CFS_FEAT_INCOMPAT_DIROVF)
		printf("%s: dirovf turned on (directory overflow items)\n",
		       image);
	ret = 0;
out:
	free(buf);
	cfs_user_close(d);
	return ret;
}
