// SPDX-License-Identifier: GPL-2.0
/* userdev.c - image files and block devices for the userspace programs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../host.h"
#include "user.h"

struct userdev {
	struct cfs_bdev bdev;
	int fd;
	int lockfd;   /* -1, or the read-only descriptor that holds the lock
		       * since cfs_user_set_rw opened fd read-write */
	unsigned flags;
	char *path;
};

static int ud_read(struct cfs_bdev *d, u64 off, void *buf, u64 len)
{
	struct userdev *u = d->priv;
	char *p = buf;

	while (len) {
		ssize_t n = pread(u->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* past the end of the file: reads as zeroes */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (u64)n;
		len -= (u64)n;
	}
	return 0;
}

static int ud_write(struct cfs_bdev *d, u64 off, const void *buf, u64 len)
{
	struct userdev *u = d->priv;
	const char *p = buf;

	if (d->readonly)
		return -EROFS;
	while (len) {
		ssize_t n = pwrite(u->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (u64)n;
		len -= (u64)n;
	}
	return 0;
}

static int ud_flush(struct cfs_bdev *d)
{
	struct userdev *u = d->priv;

	if (d->readonly)
		return 0;
	return fdatasync(u->fd) ? -errno : 0;
}

static const struct cfs_bdev_ops ud_ops = {
	.read = ud_read,
	.write = ud_write,
	.flush = ud_flush,
};

int cfs_user_open(const char *path, unsigned flags, struct cfs_bdev **out,
		  char *err, unsigned long errlen)
{
	int ro = flags & CFS_OPEN_RDONLY;
	struct userdev *u;
	struct stat st;
	int fd, e;

	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	if (!(flags & CFS_OPEN_NOLOCK) &&
	    flock(fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		e = errno;
		if (e == EWOULDBLOCK)
			snprintf(err, errlen,
				 "%s is in use by another process (is it mounted?)",
				 path);
		else
			snprintf(err, errlen, "cannot lock %s: %s", path,
				 strerror(e));
		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->fd = fd;
	u->lockfd = -1;
	u->flags = flags;
	/* absolute: a daemon changes to / (cfs_user_set_rw opens it again) */
	u->path = realpath(path, NULL);
	if (!u->path)
		u->path = strdup(path);
	if (!u->path) {
		close(fd);
		free(u);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->bdev.ops = &ud_ops;
	u->bdev.priv = u;
	u->bdev.readonly = ro;
	u->bdev.parallel_read = 1; /* pread: no shared offset */
	if (S_ISBLK(st.st_mode)) {
		unsigned long long sz = 0;

		if (ioctl(fd, BLKGETSIZE64, &sz) < 0) {
			e = errno;
			snprintf(err, errlen, "cannot size %s: %s", path,
				 strerror(e));
			close(fd);
			free(u->path);
			free(u);
			return -e;
		}
		u->bdev.size = sz;
	} else if (S_ISREG(st.st_mode)) {
		u->bdev.size = (u64)st.st_size;
	} else {
		snprintf(err, errlen, "%s is not a regular file or block device",
			 path);
		close(fd);
		free(u->path);
		free(u);
		return -ENODEV;
	}
	*out = &u->bdev;
	return 0;
}

void cfs_user_close(struct cfs_bdev *dev)
{
	struct userdev *u;

	if (!dev)
		return;
	u = dev->priv;
	close(u->fd); /* releases the flock */
	if (u->lockfd >= 0)
		close(u->lockfd);
	free(u->path);
	free(u);
}

int cfs_user_set_rw(struct cfs_bdev *dev, int rw, char *err,
		    unsigned long errlen)
{
	struct userdev *u = dev->priv;
	int fd, e;

	if (!rw) {
		/* (the lock stays exclusive: a conversion is not atomic) */
		if (!dev->readonly && fdatasync(u->fd) && errno != EINVAL) {
			e = errno;
			snprintf(err, errlen, "cannot write %s back: %s",
				 u->path, strerror(e));
			return -e;
		}
		dev->readonly = 1;
		return 0;
	}
	if (!dev->readonly)
		return 0;
	if ((fcntl(u->fd, F_GETFL) & O_ACCMODE) != O_RDONLY) {
		dev->readonly = 0; /* opened read-write, locked exclusively */
		return 0;
	}
	/* opened read-only with a shared lock: the lock made exclusive
	 * (none else may hold it), then a read-write descriptor */
	if (!(u->flags & CFS_OPEN_NOLOCK) &&
	    flock(u->fd, LOCK_EX | LOCK_NB) < 0) {
		e = errno;
		flock(u->fd, LOCK_SH | LOCK_NB); /* (released by the try) */
		if (e == EWOULDBLOCK)
			snprintf(err, errlen, "%s is in use by another process",
				 u->path);
		else
			snprintf(err, errlen, "cannot lock %s: %s", u->path,
				 strerror(e));
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	fd = open(u->path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot open %s read-write: %s", u->path,
			 strerror(e));
		if (!(u->flags & CFS_OPEN_NOLOCK))
			flock(u->fd, LOCK_SH | LOCK_NB);
		return -e;
	}
	/* the lock stays with the descriptor that holds it */
	u->lockfd = u->fd;
	u->fd = fd;
	dev->readonly = 0;
	return 0;
}

int cfs_user_is_mounted(const char *path)
{
	char real[4096], line[8192];
	FILE *f;
	int found = 0;

	if (!realpath(path, real))
		return 0;
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		char dev[4096];

		if (!sp)
			continue;
		*sp = 0;
		if (!realpath(line, dev)) {
			strncpy(dev, line, sizeof(dev) - 1);
			dev[sizeof(dev) - 1] = 0;
		}
		if (!strcmp(dev, real)) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

int cfs_parse_size(const char *s, unsigned long long *out)
{
	char *end;
	unsigned long long v, mul = 1;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case 't': case 'T': mul = 1ULL << 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return -1;
	if (v && mul > ~0ULL / v)
		return -1;
	*out = v * mul;
	return 0;
}
