// SPDX-License-Identifier: GPL-2.0
/*
 * chunkfs.c - the chunkfs admin tool: "chunkfs SUBCOMMAND [ARGS...]".
 * Subcommands live in a table; each is in its own file (stat.c, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkfs.h"

const char *tool_prog = "chunkfs";

static int cmd_help(int argc, char **argv);

static const struct tool_cmd cmds[] = {
	{ "stat", cmd_stat, "[--json] IMAGE [PATH...]|MOUNT",
	  "report files, directories, continuations and per-chunk usage "
	  "(a mount: its journal activity)" },
	{ "inject", cmd_inject,
	  "IMAGE --chunk N --what KIND [--seed S] [--block LOCAL] "
	  "[--json] [--dry-run] [--force]",
	  "damage one chunk on purpose (tests, demos, trying repair)" },
	{ "scrub", cmd_scrub, "MOUNT [--chunk N[,M...]] [--repair] [--json]",
	  "check (and repair) chunks of a mounted filesystem online" },
	{ "status", cmd_status, "MOUNT-or-IMAGE [--json] [--color=WHEN]",
	  "the health of every chunk: a table and a chunk map" },
	{ "events", cmd_events, "MOUNT [--follow] [--json]",
	  "the health events of a mounted filesystem" },
	{ "cref", cmd_cref, "IMAGE --chunk-size S [--seek-ms MS] [--json]",
	  "estimate the cross-chunk links of an ext2/3/4 image's files" },
	{ "age", cmd_age,
	  "MOUNT [--seed S] [--fill PCT] [--rounds N] [--json]",
	  "age a mounted filesystem: fill, delete, rewrite in rounds" },
	{ "probe", cmd_probe, "[--udev] DEVICE...",
	  "is DEVICE chunkfs: type, UUID, label (blkid, udev)" },
	{ "tune", cmd_tune,
	  "[-L LABEL] [-U UUID|random|time] [-O xcont|dirovf] IMAGE",
	  "change the label or UUID of an unmounted filesystem, turn on "
	  "a feature" },
	{ "problems", cmd_problems, "[--markdown]",
	  "list the problem codes fsck and the scrub report" },
	{ "paths", cmd_paths, "IMAGE-or-MOUNT --chunk K [--json]",
	  "the files with a part in chunk K: what losing it would cost" },
	{ "help", cmd_help, "[SUBCOMMAND]", "show this help" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s SUBCOMMAND [ARGS...]\n\nSubcommands:\n",
		tool_prog);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %-26s %s\n", cmds[i].name, cmds[i].args,
			cmds[i].summary);
	fprintf(f, "\nRun '%s help SUBCOMMAND' for one subcommand's usage; "
		"see chunkfs(8).\n", tool_prog);
}

static const struct tool_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct tool_cmd *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		tool_err("unknown subcommand '%s'", argv[1]);
		usage(stderr);
		return 1;
	}
	if (c->run != cmd_help) {
		/* the subcommand's own --help: every option, one text */
		char *args[] = { argv[1], "--help", NULL };

		return c->run(2, args);
	}
	printf("Usage: %s %s %s\n  %s\n", tool_prog, c->name, c->args,
	       c->summary);
	return 0;
}

void tool_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *tool_strerror(long e)
{
	return strerror((int)(e < 0 ? -e : e));
}

int tool_open(struct tool_fs *t, const char *image, unsigned flags)
{
	int ro = flags & TOOL_RDONLY;
	const char *busy = flags & TOOL_USE_MOUNT ?
		"%s is mounted or in use: give its mount point instead" :
		"%s is mounted; unmount it first";
	const char *why = NULL;
	char err[512];
	int r;

	memset(t, 0, sizeof(*t));
	t->image = image;
	if (cfs_user_is_mounted(image)) {
		tool_err(busy, image);
		return -1;
	}
	r = cfs_user_open(image, ro ? CFS_OPEN_RDONLY : 0, &t->dev, err,
			  sizeof(err));
	if (r == -EBUSY) {
		tool_err(busy, image);
		return -1;
	}
	if (r < 0) {
		tool_err("%s", err);
		return -1;
	}
	r = cfs_mount(t->dev, ro ? CFS_MOUNT_RDONLY : 0, &t->fs, &why);
	if (r < 0) {
		tool_err("cannot mount %s: %s%s%s", image, tool_strerror(r),
			 why ? ": " : "", why ? why : "");
		cfs_user_close(t->dev);
		t->dev = NULL;
		return -1;
	}
	return 0;
}

int tool_close(struct tool_fs *t)
{
	int r = 0, ret = 0;

	if (t->fs)
		r = cfs_unmount(t->fs);
	if (r < 0) {
		tool_err("unmounting %s: %s", t->image, tool_strerror(r));
		ret = -1;
	}
	t->fs = NULL;
	cfs_user_close(t->dev);
	t->dev = NULL;
	return ret;
}

int tool_resolve(struct cfs_fs *fs, const char *path, struct cfs_attr *a)
{
	u64 cur = CFS_ROOT_INO;
	int have_ref = 0, r;
	const char *p = path, *e;

	r = cfs_getattr(fs, CFS_ROOT_INO, a);
	if (r < 0)
		return r;
	for (;;) {
		struct cfs_attr next;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		len = e ? (size_t)(e - p) : strlen(p);
		if (len > CFS_NAME_MAX) {
			r = -CFS_ENAMETOOLONG;
			goto fail;
		}
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (!CFS_ISDIR(a->mode)) {
			r = -CFS_ENOTDIR;
			goto fail;
		}
		r = cfs_lookup(fs, cur, p, (u32)len, &next);
		if (r < 0)
			goto fail;
		if (have_ref)
			cfs_forget(fs, cur, 1);
		have_ref = 1;
		cur = next.ino;
		*a = next;
		p += len;
	}
	return have_ref;
fail:
	if (have_ref)
		cfs_forget(fs, cur, 1);
	return r;
}

const char *tool_chunk_state(unsigned state)
{
	switch (state) {
	case CFS_CHUNK_CLEAN: return "clean";
	case CFS_CHUNK_DIRTY: return "dirty";
	case CFS_CHUNK_SUSPECT: return "suspect";
	case CFS_CHUNK_DAMAGED: return "damaged";
	case CFS_CHUNK_REPAIRING: return "repairing";
	default: return "unknown";
	}
}

void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	const struct tool_cmd *c;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s (chunkfs on-disk format %d)\n", tool_prog,
		       CFS_TOOLS_VERSION, CFS_VERSION);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c) {
		tool_err("unknown subcommand '%s'", argv[1]);
		usage(stderr);
		return 1;
	}
	return c->run(argc - 1, argv + 1);
}
