// SPDX-License-Identifier: GPL-2.0
/*
 * mounted.c - what the subcommands that talk to a mounted chunkfs share:
 * opening a file of the mount for the ioctls of chunkfs_ioctl.h, finding
 * where an image is mounted, names of states, severities and codes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunkfs.h"

int tool_mount_open(const char *path, struct chunkfs_health *h, int quiet)
{
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		if (!quiet)
			tool_err("cannot open %s: %s", path, strerror(e));
		return -e;
	}
	memset(h, 0, sizeof(*h));
	if (ioctl(fd, CHUNKFS_IOC_HEALTH, h) < 0) {
		e = errno;
		close(fd);
		if (!quiet) {
			if (e == ENOTTY || e == EINVAL || e == ENOSYS)
				tool_err("%s is not on a mounted chunkfs "
					 "filesystem", path);
			else
				tool_err("%s: reading the health of the "
					 "chunks: %s", path, strerror(e));
		}
		return -e;
	}
	return fd;
}

int tool_health_all(int fd, struct chunkfs_health *first,
		    struct chunkfs_chunk_health **out)
{
	struct chunkfs_chunk_health *v;
	struct chunkfs_health *h;
	u32 n = first->nchunks, got = 0;

	v = calloc(n ? n : 1, sizeof(*v));
	h = malloc(sizeof(*h));
	if (!v || !h) {
		free(v);
		free(h);
		tool_err("out of memory");
		return -ENOMEM;
	}
	memcpy(h, first, sizeof(*h));
	for (;;) {
		u32 i;

		for (i = 0; i < h->count && got < n; i++)
			v[got++] = h->c[i];
		if (got >= n || !h->count)
			break;
		memset(h, 0, sizeof(*h));
		h->first = got;
		if (ioctl(fd, CHUNKFS_IOC_HEALTH, h) < 0) {
			int e = errno;

			tool_err("reading the health of the chunks: %s",
				 strerror(e));
			free(v);
			free(h);
			return -e;
		}
	}
	free(h);
	*out = v;
	return (int)got;
}

int tool_mount_find(const char *path, char *dir, size_t size,
		    struct chunkfs_health *h)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) < 0)
		return -ENODEV;  /* (opening it as an image says why) */
	if (S_ISDIR(sb.st_mode)) {
		fd = tool_mount_open(path, h, 0);
		if (fd >= 0 && !realpath(path, dir))
			snprintf(dir, size, "%s", path);
		return fd;
	}
	if (tool_find_mount(path, dir, size))  /* a mounted image */
		return tool_mount_open(dir, h, 0);
	fd = tool_mount_open(path, h, 1);
	if (fd >= 0) {  /* a file on a mount */
		snprintf(dir, size, "%s", path);
		return fd;
	}
	return -ENODEV;
}

/* /proc/self/mounts escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

/* The file a loop device (/dev/loopN) serves, from sysfs: a fuseblk
 * mount of an image file (chunkfs-fuse -o blkdev) names its loop device. */
static int loop_backing(const char *dev, char *out, size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	if (strncmp(dev, "/dev/loop", 9))
		return 0;
	snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
		 dev + 5);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fgets(out, (int)size, f) ? strlen(out) : 0;
	fclose(f);
	if (n && out[n - 1] == '\n')
		out[--n] = 0;
	return n > 0;
}

int tool_find_mount(const char *image, char *dir, size_t size)
{
	char real[PATH_MAX], line[3 * PATH_MAX];
	FILE *f;
	int found = 0;

	if (!realpath(image, real))
		return 0;
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *src = strtok(line, " "), *mnt = strtok(NULL, " "),
		     *type = strtok(NULL, " ");

		char back[PATH_MAX];

		if (!src || !mnt || !type || (strcmp(type, "fuse.chunkfs") &&
					      strcmp(type, "fuseblk.chunkfs") &&
					      strcmp(type, "chunkfs")))
			continue;
		unescape(src);
		unescape(mnt);
		if ((!strcmp(src, real) || (loop_backing(src, back, sizeof(back))
					    && !strcmp(back, real))) &&
		    strlen(mnt) < size) {
			strcpy(dir, mnt);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

volatile sig_atomic_t tool_stop;

static void on_stop(int sig)
{
	tool_stop = sig;
}

void tool_catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: poll() and ioctl() return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

const char *tool_errors_policy(unsigned p)
{
	switch (p) {
	case CHUNKFS_ERRORS_CONTINUE: return "continue";
	case CHUNKFS_ERRORS_REMOUNT_RO: return "remount-ro";
	case CHUNKFS_ERRORS_REPAIR: return "repair";
	default: return "unknown";
	}
}
