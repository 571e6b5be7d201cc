/* SPDX-License-Identifier: GPL-2.0 */
/* chunkfs.h (tools) - shared by the subcommands of the chunkfs admin tool. */
#ifndef CFS_TOOLS_H
#define CFS_TOOLS_H

#include <signal.h>
#include <stdio.h>

#include "../fs/chunkfs.h"
#include "../fs/user/user.h"

#define CFS_TOOLS_VERSION "1.0"

struct tool_cmd {
	const char *name;
	int (*run)(int argc, char **argv);  /* argv[0] is the subcommand */
	const char *args;                   /* usage after the name */
	const char *summary;
};

extern const char *tool_prog;

void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *tool_strerror(long e);

/* An opened and mounted image. */
struct tool_fs {
	const char *image;
	struct cfs_bdev *dev;
	struct cfs_fs *fs;
};
#define TOOL_RDONLY 0x1
#define TOOL_USE_MOUNT 0x2 /* a mounted image: say to ask its mount point */
/* Opens and mounts image; prints a message and returns -1 on failure. */
int tool_open(struct tool_fs *t, const char *image, unsigned flags);
/* Unmounts and closes; returns -1 (message printed) on failure. */
int tool_close(struct tool_fs *t);

/* Resolves an absolute or root-relative path with cfs_lookup.  Returns 1
 * when *a holds the attributes and a lookup reference was taken on a->ino
 * (drop it with cfs_forget), 0 for the root (no reference taken), or a
 * negative errno. */
int tool_resolve(struct cfs_fs *fs, const char *path, struct cfs_attr *a);

const char *tool_chunk_state(unsigned state);
void json_str(FILE *f, const char *s);

/* mounted.c: a mounted chunkfs through its ioctls.  tool_mount_open opens
 * path (any file or directory of the mount) and reads the first page of
 * chunk health into *h; returns the fd, or a negative errno (message
 * printed unless quiet).  tool_health_all: every chunk's health, from the
 * first page on; returns the count and sets *out (free it), or -errno. */
int tool_mount_open(const char *path, struct chunkfs_health *h, int quiet);
int tool_health_all(int fd, struct chunkfs_health *first,
		    struct chunkfs_chunk_health **out);
/* Where image is mounted (fuse.chunkfs by its fsname, or the kernel
 * module's chunkfs by its device): 1 and dir set. */
int tool_find_mount(const char *image, char *dir, size_t size);
/* What path names, for the subcommands that take a MOUNT or an IMAGE: a
 * directory of a mount, an image that is mounted or a file on a mount:
 * the fd (as tool_mount_open) and in dir the mount point (or the file);
 * -ENODEV: none of those (an image to open, or nothing there: opening
 * it says so); another negative errno: a message was printed. */
int tool_mount_find(const char *path, char *dir, size_t size,
		    struct chunkfs_health *h);
const char *tool_errors_policy(unsigned policy);
/* SIGINT and SIGTERM set tool_stop (the signal) instead of killing. */
extern volatile sig_atomic_t tool_stop;
void tool_catch_stop(void);

/* inject.c: the metadata blocks of a chunk (absolute numbers; header and
 * its copy, bitmaps, the initialised inode table, every tree node
 * reachable), those that verify with uuid (or alt_uuid, if not NULL).
 * Returns the count with *out (free it), or -1 (message printed). */
long tool_chunk_metadata(struct cfs_bdev *dev, u32 chunk, const u8 *uuid,
			 const u8 *alt_uuid, u64 **out);

int cmd_stat(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_scrub(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_inject(int argc, char **argv);
int cmd_problems(int argc, char **argv);
int cmd_cref(int argc, char **argv);
int cmd_age(int argc, char **argv);
int cmd_paths(int argc, char **argv);

#endif
