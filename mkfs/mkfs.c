// SPDX-License-Identifier: GPL-2.0
/*
 * mkfs.c - mkfs.chunkfs: make a chunkfs filesystem on an image file or a
 * block device, optionally copying a directory tree into it (-d).
 *
 *   mkfs.chunkfs [-b blocksize] [-C chunk-size] [-i bytes-per-inode]
 *                [-L label] [-U uuid] [-d dir] [-n] [-q] [-F] [-V]
 *                DEVICE-or-FILE [SIZE]
 */
#define _GNU_SOURCE
#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "../fs/chunkfs.h"
#include "../fs/user/user.h"

#define PROG "mkfs.chunkfs"
#define CFS_TOOLS_VERSION "1.0"
#define COPY_PIECE (1u << 20)

static int quiet;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-b blocksize] [-C chunk-size] [-i bytes-per-inode]\n"
		"       [-m dup|single] [-O [^]feature[,...]] [-L label]\n"
		"       [-U uuid|random|time] [-d root-directory] [-n] [-q] [-F] [-V]\n"
		"       device-or-file [size]\n"
		"Features (-O): metagen (generations in every reference), dup (second\n"
		"copies of metadata, also -m dup), pptr (parent pointers and the name\n"
		"backup), datasum (a checksum of every data block), xcont (an inode's\n"
		"xattrs spill into another chunk when its own is full), dirovf (names\n"
		"sharing a hash continue in overflow items), v1 (none of these); ^name\n"
		"leaves one out.\n");
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* -O test_hash_bits=N (tests only, not in the usage): directory hashes of
 * N bits, so that names collide at will (HASHBITS, FORMAT.md 16) */
static u32 test_hash_bits;

/* -O: format v2 features by name, ^name to leave one out (FORMAT.md 16) */
static void parse_features(const char *arg, u32 *no)
{
	char *s = strdup(arg), *tok, *save = NULL;

	if (!s)
		die("out of memory");
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int off = tok[0] == '^';
		const char *n = tok + off;

		if (!strcmp(n, "v1")) {
			if (off)
				die("-O ^v1 means nothing: name the features");
			*no = CFS_MKFS_V1;
		} else if (!strcmp(n, "metagen")) {
			*no = off ? CFS_MKFS_V1 : *no & ~CFS_MKFS_NO_METAGEN;
		} else if (!strcmp(n, "pptr")) {
			if (off)
				*no |= CFS_MKFS_NO_PPTR;
			else
				*no &= ~(CFS_MKFS_NO_PPTR | CFS_MKFS_NO_METAGEN);
		} else if (!strcmp(n, "dup")) {
			if (off)
				*no |= CFS_MKFS_NO_DUP;
			else
				*no &= ~(CFS_MKFS_NO_DUP | CFS_MKFS_NO_METAGEN);
		} else if (!strcmp(n, "dirovf")) {
			if (off)
				*no |= CFS_MKFS_NO_DIROVF;
			else
				*no &= ~(CFS_MKFS_NO_DIROVF |
					 CFS_MKFS_NO_METAGEN);
		} else if (!off && !strncmp(n, "test_hash_bits=", 15)) {
			char *end;
			unsigned long b = strtoul(n + 15, &end, 10);

			if (*end || b < 1 || b >= CFS_HASH_BITS)
				die("test_hash_bits: 1 to %d", CFS_HASH_BITS - 1);
			test_hash_bits = (u32)b;
		} else if (!strcmp(n, "datasum")) {
			if (off)
				*no |= CFS_MKFS_NO_DATASUM;
			else
				*no &= ~(CFS_MKFS_NO_DATASUM |
					 CFS_MKFS_NO_METAGEN);
		} else if (!strcmp(n, "xcont")) {
			if (off)
				*no |= CFS_MKFS_NO_XCONT;
			else
				*no &= ~CFS_MKFS_NO_XCONT;
		} else {
			die("unknown feature '%s' (-O): known are metagen, dup, "
			    "pptr, datasum, xcont, dirovf and v1", n);
		}
	}
	free(s);
}

static void print_features(const struct cfs_geom *g)
{
	printf("Features:             journal%s%s%s%s%s%s\n",
	       g->feat_incompat & CFS_FEAT_INCOMPAT_METAGEN ? " metagen" : "",
	       g->feat_ro_compat & CFS_FEAT_RO_COMPAT_PPTR ? " pptr" : "",
	       g->feat_incompat & CFS_FEAT_INCOMPAT_DATASUM ? " datasum" : "",
	       g->feat_incompat & CFS_FEAT_INCOMPAT_XCONT ? " xcont" : "",
	       g->feat_incompat & CFS_FEAT_INCOMPAT_DIROVF ? " dirovf" : "",
	       g->feat_incompat & CFS_FEAT_INCOMPAT_DUP ?
	       " dup (two copies of metadata)" :
	       g->feat_incompat & CFS_FEAT_INCOMPAT_METAGEN ?
	       " (single copies of metadata)" : " (format v1)");
}

static void __attribute__((format(printf, 1, 2))) warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": warning: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- what is on the device already ----
 * libblkid's probes (every filesystem, RAID and partition table it
 * knows), and a chunkfs superblock, which libblkid does not know.  As
 * mke2fs and mkfs.xfs: name what is there, ask on a terminal, refuse
 * without -F otherwise; what is overwritten is wiped (blkid_do_wipe), so
 * that no tool finds the old filesystem's signature beside chunkfs. */
struct sigs {
	char what[1024];
	int n;
};

static void sig_add(struct sigs *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sig_add(struct sigs *g, const char *fmt, ...)
{
	size_t o = strlen(g->what);
	va_list ap;

	if (o + 8 >= sizeof(g->what))
		return;
	if (g->n)
		o += (size_t)snprintf(g->what + o, sizeof(g->what) - o, "; ");
	va_start(ap, fmt);
	vsnprintf(g->what + o, sizeof(g->what) - o, fmt, ap);
	va_end(ap);
	g->n++;
}

static void find_signatures(const char *devname, struct cfs_bdev *dev,
			    struct sigs *g)
{
	blkid_probe pr = blkid_new_probe_from_filename(devname);
	struct cfs_super sb;
	u64 blk;

	memset(g, 0, sizeof(*g));
	if (!cfs_read_super(dev, &sb, &blk)) {
		char label[sizeof(sb.g.label) + 1];

		memcpy(label, sb.g.label, sizeof(sb.g.label));
		label[sizeof(sb.g.label)] = 0;
		sig_add(g, "a chunkfs filesystem%s%s%s", label[0] ?
			" labelled '" : "", label, label[0] ? "'" : "");
	}
	if (!pr)
		return;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					  BLKID_SUBLKS_LABEL |
					  BLKID_SUBLKS_USAGE |
					  BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	while (blkid_do_probe(pr) == 0) {
		const char *type = NULL, *label = NULL, *use = NULL, *what;

		if (!blkid_probe_lookup_value(pr, "TYPE", &type, NULL)) {
			blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
			blkid_probe_lookup_value(pr, "USAGE", &use, NULL);
			what = !use ? "signature" :
			       !strcmp(use, "filesystem") ? "file system" :
			       !strcmp(use, "raid") ? "RAID member" :
			       !strcmp(use, "crypto") ? "encrypted volume" :
			       "signature";
			sig_add(g, "a%s %s %s%s%s%s", strchr("aeiou", type[0]) ?
				"n" : "", type, what, label ?
				" labelled '" : "", label ? label : "",
				label ? "'" : "");
		} else if (!blkid_probe_lookup_value(pr, "PTTYPE", &type,
						     NULL)) {
			sig_add(g, "a %s partition table", type);
		}
	}
	blkid_free_probe(pr);
}

/* Erases every signature libblkid finds (as wipefs -a). */
static void wipe_signatures(const char *devname)
{
	int fd = open(devname, O_RDWR | O_CLOEXEC);
	blkid_probe pr;

	if (fd < 0)
		return;
	pr = blkid_new_probe();
	if (pr && blkid_probe_set_device(pr, fd, 0, 0) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC |
						  BLKID_SUBLKS_BADCSUM);
		blkid_probe_enable_partitions(pr, 1);
		blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
		while (blkid_do_probe(pr) == 0)
			if (blkid_do_wipe(pr, 0))
				break;
	}
	if (pr)
		blkid_free_probe(pr);
	fsync(fd);
	close(fd);
}

/* 0: go on (nothing there, -F, or the user said yes); exits otherwise. */
static void check_signatures(const char *devname, struct cfs_bdev *dev,
			     int force)
{
	struct sigs g;
	char ans[16];

	find_signatures(devname, dev, &g);
	if (!g.n)
		return;
	fprintf(stderr, "%s contains %s\n", devname, g.what);
	if (force) {
		wipe_signatures(devname);
		return;
	}
	if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "Proceed anyway? (y,N) ");
		fflush(stderr);
		if (fgets(ans, sizeof(ans), stdin) &&
		    (ans[0] == 'y' || ans[0] == 'Y')) {
			wipe_signatures(devname);
			return;
		}
		exit(1);
	}
	fprintf(stderr, PROG ": will not overwrite it; use -F to make a "
		"chunkfs filesystem there anyway\n");
	exit(1);
}

static int is_pow2(unsigned long long v)
{
	return v && !(v & (v - 1));
}

static void human(unsigned long long b, char *out, size_t n)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, n, "%llu B", b);
	else
		snprintf(out, n, "%.1f %s", v, u[i]);
}

/* ---- a device that is never written: for -n on a file not created yet ---- */
static int fake_read(struct cfs_bdev *d, u64 off, void *buf, u64 len)
{
	(void)d;
	(void)off;
	memset(buf, 0, len);
	return 0;
}

static int fake_write(struct cfs_bdev *d, u64 off, const void *buf, u64 len)
{
	(void)d;
	(void)off;
	(void)buf;
	(void)len;
	return -EROFS;
}

static int fake_flush(struct cfs_bdev *d)
{
	(void)d;
	return 0;
}

static const struct cfs_bdev_ops fake_ops = {
	.read = fake_read, .write = fake_write, .flush = fake_flush,
};

/* ---- -d: copy a directory tree in through the library API ---- */
struct hardlink {
	dev_t dev;
	ino_t ino;
	u64 cino;     /* we keep one lookup reference on it until the end */
};

struct copier {
	struct cfs_fs *fs;
	struct cfs_cred cred;
	struct hardlink *hl;
	size_t nhl, hlcap;
	char *buf;
	unsigned long long files, dirs, symlinks, specials, hardlinks, bytes;
	int xattr_warned;
	int errors;     /* problems reading the source: copy goes on */
	int fatal;      /* the new filesystem refused something: stop */
};

static const char *cfs_strerror(long e)
{
	return strerror((int)(e < 0 ? -e : e));
}

/* The new filesystem refused something: report it and stop copying. */
static int fserr(struct copier *c, const char *path, const char *what, long r)
{
	fprintf(stderr, PROG ": %s: cannot %s in the new filesystem: %s\n",
		path, what, cfs_strerror(r));
	c->fatal = 1;
	return (int)r;
}

static u32 linux_encode_dev(dev_t d)
{
	unsigned ma = major(d), mi = minor(d);

	return (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
}

/* Is there clearly free space left (so an ENOSPC is about a size limit)? */
static int fs_has_room(struct copier *c)
{
	struct cfs_statfs sf;

	return cfs_statfs(c->fs, &sf) == 0 && sf.bfree > 64;
}

static void copy_xattrs(struct copier *c, const char *path, u64 ino)
{
	ssize_t ln, vn;
	char *list, *name;

	ln = llistxattr(path, NULL, 0);
	if (ln < 0) {
		if ((errno == ENOTSUP || errno == ENOSYS) && !c->xattr_warned) {
			warnx("%s: extended attributes not supported by the source; "
			      "skipping them", path);
			c->xattr_warned = 1;
		} else if (errno != ENOTSUP && errno != ENOSYS) {
			warnx("%s: listxattr: %s", path, strerror(errno));
		}
		return;
	}
	if (ln == 0)
		return;
	list = malloc((size_t)ln);
	if (!list)
		die("out of memory");
	ln = llistxattr(path, list, (size_t)ln);
	if (ln < 0) {
		warnx("%s: listxattr: %s", path, strerror(errno));
		free(list);
		return;
	}
	for (name = list; name < list + ln; name += strlen(name) + 1) {
		void *val;
		int r;

		vn = lgetxattr(path, name, NULL, 0);
		if (vn < 0) {
			warnx("%s: getxattr %s: %s", path, name, strerror(errno));
			continue;
		}
		val = malloc(vn ? (size_t)vn : 1);
		if (!val)
			die("out of memory");
		vn = lgetxattr(path, name, val, (size_t)vn);
		if (vn < 0) {
			warnx("%s: getxattr %s: %s", path, name, strerror(errno));
			free(val);
			continue;
		}
		r = cfs_setxattr(c->fs, ino, name, val, (u32)vn, 0);
		if (r == -CFS_EOPNOTSUPP || r == -CFS_ENOSYS) {
			warnx("%s: xattr %s not supported by chunkfs; skipped",
			      path, name);
		} else if (r == -CFS_E2BIG || r == -CFS_ERANGE ||
			   (r == -CFS_ENOSPC && fs_has_room(c))) {
			/* A value too large for chunkfs (ENOSPC with free
			 * space left: it must fit in part of a metadata
			 * block): skipped like an unsupported one. */
			warnx("%s: xattr %s (%zd bytes) is too large for chunkfs "
			      "(%s); skipped", path, name, vn, cfs_strerror(r));
		} else if (r < 0) {
			char what[300];

			snprintf(what, sizeof(what), "set xattr %s", name);
			fserr(c, path, what, r);
			free(val);
			break;
		}
		free(val);
	}
	free(list);
}

static int set_attrs(struct copier *c, const char *path, u64 ino,
		     const struct stat *st)
{
	struct cfs_setattr sa;
	struct cfs_attr a;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.valid = CFS_SET_UID | CFS_SET_GID;
	sa.uid = st->st_uid;
	sa.gid = st->st_gid;
	r = cfs_setattr(c->fs, ino, &sa, &a);
	if (r < 0)
		return fserr(c, path, "set the owner", r);
	/* Mode after the owner, in case a chown clears set-id bits. */
	memset(&sa, 0, sizeof(sa));
	sa.valid = CFS_SET_ATIME | CFS_SET_MTIME;
	if (!S_ISLNK(st->st_mode)) {
		sa.valid |= CFS_SET_MODE;
		sa.mode = st->st_mode & 07777;
	}
	sa.atime = st->st_atim.tv_sec;
	sa.atime_ns = (u32)st->st_atim.tv_nsec;
	sa.mtime = st->st_mtim.tv_sec;
	sa.mtime_ns = (u32)st->st_mtim.tv_nsec;
	r = cfs_setattr(c->fs, ino, &sa, &a);
	if (r < 0)
		return fserr(c, path, "set the mode and times", r);
	return 0;
}

static int copy_data(struct copier *c, const char *path, int fd, u64 ino,
		     const struct stat *st)
{
	off_t pos = 0, data, hole;
	int r;

	while (pos < st->st_size) {
		data = lseek(fd, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;  /* only a hole left */
			if (errno == EINVAL || errno == ENOTSUP) {
				data = pos;  /* no SEEK_DATA here: copy all */
				hole = st->st_size;
				goto copy;
			}
			r = errno;
			warnx("%s: lseek: %s", path, strerror(r));
			return -r;
		}
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = st->st_size;
copy:
		if (hole > st->st_size)
			hole = st->st_size;
		for (pos = data; pos < hole;) {
			size_t want = (size_t)(hole - pos) < COPY_PIECE ?
				      (size_t)(hole - pos) : COPY_PIECE;
			ssize_t n = pread(fd, c->buf, want, pos);
			u64 done;
			s64 w;

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = errno;
				warnx("%s: read: %s", path, strerror(r));
				return -r;
			}
			if (n == 0) {
				hole = pos;  /* file shrank under us */
				break;
			}
			for (done = 0; done < (u64)n; done += (u64)w) {
				/* A short write is retried: the retry
				 * reports why (ENOSPC, ...). */
				w = cfs_write(c->fs, ino, (u64)pos + done,
					      (u64)n - done, c->buf + done);
				if (w == 0)
					w = -CFS_ENOSPC;
				if (w < 0)
					return fserr(c, path, "write data", w);
			}
			pos += n;
			c->bytes += (unsigned long long)n;
		}
		pos = hole;
	}
	/* A trailing hole: set the size. */
	{
		struct cfs_setattr sa;
		struct cfs_attr a;

		memset(&sa, 0, sizeof(sa));
		sa.valid = CFS_SET_SIZE;
		sa.size = (u64)st->st_size;
		r = cfs_getattr(c->fs, ino, &a);
		if (r == 0 && a.size == sa.size)
			return 0;
		r = cfs_setattr(c->fs, ino, &sa, &a);
		if (r < 0)
			return fserr(c, path, "set the size", r);
	}
	return 0;
}

static struct hardlink *hl_find(struct copier *c, const struct stat *st)
{
	size_t i;

	for (i = 0; i < c->nhl; i++)
		if (c->hl[i].dev == st->st_dev && c->hl[i].ino == st->st_ino)
			return &c->hl[i];
	return NULL;
}

static void hl_add(struct copier *c, const struct stat *st, u64 cino)
{
	if (c->nhl == c->hlcap) {
		c->hlcap = c->hlcap ? c->hlcap * 2 : 64;
		c->hl = realloc(c->hl, c->hlcap * sizeof(*c->hl));
		if (!c->hl)
			die("out of memory");
	}
	c->hl[c->nhl].dev = st->st_dev;
	c->hl[c->nhl].ino = st->st_ino;
	c->hl[c->nhl].cino = cino;
	c->nhl++;
}

static int copy_dir(struct copier *c, const char *src, u64 dino);

/* Copy one entry "name" of the source directory src into cfs dir dino.
 * Problems with the source are counted in c->errors and the copy goes on;
 * an error from the new filesystem sets c->fatal and stops it. */
static void copy_entry(struct copier *c, const char *src, u64 dino,
		       const char *name)
{
	char *path;
	struct stat st;
	struct cfs_attr a;
	u32 len = (u32)strlen(name);
	int r = 0, fd = -1;

	if (asprintf(&path, "%s/%s", src, name) < 0)
		die("out of memory");
	if (lstat(path, &st) < 0) {
		warnx("%s: %s", path, strerror(errno));
		c->errors++;
		goto out;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		struct hardlink *h = hl_find(c, &st);

		if (h) {
			r = cfs_link(c->fs, h->cino, dino, name, len, &a);
			if (r < 0) {
				fserr(c, path, "make a hard link", r);
				goto out;
			}
			cfs_forget(c->fs, a.ino, 1);
			c->hardlinks++;
			goto out;
		}
	}

	if (S_ISDIR(st.st_mode)) {
		r = cfs_mknod(c->fs, dino, name, len,
			      CFS_S_IFDIR | (st.st_mode & 07777), 0, &c->cred,
			      &a);
	} else if (S_ISREG(st.st_mode)) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			warnx("%s: %s", path, strerror(errno));
			c->errors++;
			goto out;
		}
		r = cfs_mknod(c->fs, dino, name, len,
			      CFS_S_IFREG | (st.st_mode & 0777), 0, &c->cred,
			      &a);
	} else if (S_ISLNK(st.st_mode)) {
		char target[CFS_SYMLINK_MAX + 2];
		ssize_t n = readlink(path, target, sizeof(target));

		if (n < 0) {
			warnx("%s: readlink: %s", path, strerror(errno));
			c->errors++;
			goto out;
		}
		if (n > CFS_SYMLINK_MAX) {
			warnx("%s: symlink target longer than %d bytes; skipped",
			      path, CFS_SYMLINK_MAX);
			c->errors++;
			goto out;
		}
		r = cfs_symlink(c->fs, dino, name, len, target, (u32)n,
				&c->cred, &a);
	} else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
		   S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		u32 rdev = (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) ?
			   linux_encode_dev(st.st_rdev) : 0;

		r = cfs_mknod(c->fs, dino, name, len,
			      (st.st_mode & S_IFMT) | (st.st_mode & 07777), rdev,
			      &c->cred, &a);
	} else {
		warnx("%s: unknown file type 0%o; skipped", path,
		      (unsigned)(st.st_mode & S_IFMT));
		c->errors++;
		goto out;
	}
	if (r < 0) {
		fserr(c, path, "create it", r);
		goto out;
	}

	if (S_ISREG(st.st_mode)) {
		c->files++;
		if (copy_data(c, path, fd, a.ino, &st) < 0 && !c->fatal)
			c->errors++;
	} else if (S_ISDIR(st.st_mode)) {
		c->dirs++;
		copy_dir(c, path, a.ino);
	} else if (S_ISLNK(st.st_mode)) {
		c->symlinks++;
	} else {
		c->specials++;
	}
	if (!c->fatal)
		copy_xattrs(c, path, a.ino);
	if (!c->fatal)
		set_attrs(c, path, a.ino, &st);
	if (!c->fatal && !S_ISDIR(st.st_mode) && st.st_nlink > 1)
		hl_add(c, &st, a.ino);  /* keeps the lookup reference */
	else
		cfs_forget(c->fs, a.ino, 1);
	if (!quiet && !c->fatal && S_ISREG(st.st_mode) && c->files % 1000 == 0) {
		printf("  %llu files, %llu directories, %llu bytes so far\n",
		       c->files, c->dirs, c->bytes);
		fflush(stdout);
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int copy_dir(struct copier *c, const char *src, u64 dino)
{
	DIR *d = opendir(src);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (!d) {
		warnx("%s: %s", src, strerror(errno));
		c->errors++;
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				die("out of memory");
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			die("out of memory");
		n++;
	}
	closedir(d);
	/* A stable order makes images reproducible. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (!c->fatal)
			copy_entry(c, src, dino, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int populate(struct cfs_bdev *dev, const char *src)
{
	struct copier c;
	struct cfs_fs *fs;
	const char *why = NULL;
	struct stat st;
	size_t i;
	int r;

	if (stat(src, &st) < 0)
		die("%s: %s", src, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die("%s: not a directory", src);
	/* a bulk load: not journaled (a crash means running mkfs again) */
	r = cfs_mount(dev, CFS_MOUNT_NOJOURNAL, &fs, &why);
	if (r < 0)
		die("cannot mount the new filesystem to copy %s in: %s%s%s", src,
		    cfs_strerror(r), why ? ": " : "", why ? why : "");
	memset(&c, 0, sizeof(c));
	c.fs = fs;
	c.cred.uid = getuid();
	c.cred.gid = getgid();
	c.buf = malloc(COPY_PIECE);
	if (!c.buf)
		die("out of memory");
	if (!quiet) {
		printf("Copying files into the filesystem from %s\n", src);
		fflush(stdout);
	}
	copy_dir(&c, src, CFS_ROOT_INO);
	/* The root directory takes the source directory's attributes. */
	if (!c.fatal)
		copy_xattrs(&c, src, CFS_ROOT_INO);
	if (!c.fatal)
		set_attrs(&c, src, CFS_ROOT_INO, &st);
	for (i = 0; i < c.nhl; i++)
		cfs_forget(fs, c.hl[i].cino, 1);
	free(c.hl);
	free(c.buf);
	r = cfs_unmount(fs);
	if (r < 0) {
		fprintf(stderr, PROG ": cannot write the new filesystem out: %s\n",
			cfs_strerror(r));
		return -1;
	}
	if (c.fatal) {
		fprintf(stderr, PROG ": copying %s in failed after %llu files "
			"(%llu bytes); the filesystem holds a partial copy\n",
			src, c.files, c.bytes);
		return -1;
	}
	if (!quiet)
		printf("Copied %llu files (%llu bytes), %llu directories, "
		       "%llu symlinks, %llu special files, %llu hard links\n",
		       c.files, c.bytes, c.dirs, c.symlinks, c.specials,
		       c.hardlinks);
	if (c.errors) {
		fprintf(stderr, PROG ": %d error%s while copying %s\n",
			c.errors, c.errors == 1 ? "" : "s", src);
		return -1;
	}
	return 0;
}

/* ---- main ---- */
static unsigned long long parse_size_opt(const char *what, const char *s)
{
	unsigned long long v;

	if (cfs_parse_size(s, &v) < 0)
		die("invalid %s '%s' (expected a number like 4096, 64K, 64M, 10G)",
		    what, s);
	return v;
}

static void print_geom(const char *devname, const struct cfs_geom *g,
		       unsigned long long devbytes, int noaction)
{
	unsigned long long bs = g->block_size;
	unsigned long long chunk_bytes = (unsigned long long)g->chunk_blocks * bs;
	unsigned long long total = g->total_blocks * bs;
	unsigned long long last_blocks, inodes;
	char h1[32], h2[32], uu[40];

	uuid_unparse(g->uuid, uu);
	human(chunk_bytes, h1, sizeof(h1));
	human(total, h2, sizeof(h2));
	/* The inode count per chunk is not in cfs_geom: this mirrors the
	 * library's chunk layout (at least 16, rounded up to whole inode
	 * table blocks; local inode 0 is never used). */
	{
		unsigned long long ipb = (bs - sizeof(struct cfs_bhdr)) /
					 CFS_INODE_SIZE;

		inodes = g->inode_ratio ? chunk_bytes / g->inode_ratio : 0;
		if (inodes < 16)
			inodes = 16;
		if (ipb)
			inodes = (inodes + ipb - 1) / ipb * ipb;
	}
	if (noaction)
		printf("Would create a chunkfs filesystem on %s "
		       "(-n: nothing written)\n", devname);
	else
		printf("Creating chunkfs filesystem on %s\n", devname);
	printf("Block size:           %llu\n", bs);
	printf("Chunk size:           %llu bytes (%s, %u blocks)\n", chunk_bytes,
	       h1, g->chunk_blocks);
	printf("Chunks:               %u\n", g->nchunks);
	if (g->nchunks && g->total_blocks > CFS_FIRST_CHUNK_BLOCK) {
		last_blocks = g->total_blocks - CFS_FIRST_CHUNK_BLOCK -
			      (unsigned long long)(g->nchunks - 1) * g->chunk_blocks;
		if (last_blocks != g->chunk_blocks)
			printf("Last chunk:           %llu blocks\n", last_blocks);
	}
	printf("Bytes per inode:      %u\n", g->inode_ratio);
	printf("Inodes per chunk:     %llu\n", inodes);
	printf("Journal blocks/chunk: %u\n", g->journal_blocks);
	print_features(g);
	printf("Total size:           %llu bytes (%s, %llu blocks)\n", total, h2,
	       (unsigned long long)g->total_blocks);
	printf("UUID:                 %s\n", uu);
	printf("Label:                %s\n", g->label[0] ? g->label : "(none)");
	if (devbytes > total)
		printf("Unused at the end:    %llu bytes\n", devbytes - total);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned long long bsize = 0, chunk = 0, iratio = 0, size = 0;
	const char *label = NULL, *uuid_arg = NULL, *copy_dir_arg = NULL;
	const char *devname;
	int noaction = 0, force = 0, have_size = 0, opt, exists, created = 0;
	u32 no_features = 0;
	struct cfs_mkfs_opts o;
	struct cfs_geom geom;
	struct cfs_bdev fake, *dev = NULL;
	struct stat st;
	char err[512];
	const char *why = NULL;
	int r;

	while ((opt = getopt(argc, argv, "b:C:i:m:O:L:U:d:nqFVh")) != -1) {
		switch (opt) {
		case 'm':
			if (!strcmp(optarg, "dup"))
				no_features &= ~(CFS_MKFS_NO_DUP |
						 CFS_MKFS_NO_METAGEN);
			else if (!strcmp(optarg, "single"))
				no_features |= CFS_MKFS_NO_DUP;
			else
				die("invalid metadata profile '%s' (-m): dup or "
				    "single", optarg);
			break;
		case 'O':
			parse_features(optarg, &no_features);
			break;
		case 'b':
			bsize = parse_size_opt("block size", optarg);
			if (!is_pow2(bsize) || bsize < CFS_MIN_BLOCK_SIZE ||
			    bsize > CFS_MAX_BLOCK_SIZE)
				die("invalid block size %s: must be a power of two "
				    "from %d to %d", optarg, CFS_MIN_BLOCK_SIZE,
				    CFS_MAX_BLOCK_SIZE);
			break;
		case 'C':
			chunk = parse_size_opt("chunk size", optarg);
			break;
		case 'i':
			iratio = parse_size_opt("bytes-per-inode", optarg);
			if (iratio < 1024 || iratio > (64ULL << 20))
				die("invalid bytes-per-inode %s: must be from 1024 "
				    "to 64M", optarg);
			break;
		case 'L':
			label = optarg;
			if (strlen(label) > 63)
				die("label '%s' is too long (%zu bytes; at most 63)",
				    label, strlen(label));
			break;
		case 'U':
			uuid_arg = optarg;
			break;
		case 'd':
			copy_dir_arg = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'F':
			force++;
			break;
		case 'V':
			printf(PROG " " CFS_TOOLS_VERSION
			       " (chunkfs on-disk format %d)\n", CFS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no device or image file given\n");
		usage(stderr);
		return 1;
	}
	if (argc - optind > 2) {
		fprintf(stderr, PROG ": too many arguments ('%s')\n",
			argv[optind + 2]);
		usage(stderr);
		return 1;
	}
	devname = argv[optind];
	if (argc - optind == 2) {
		size = parse_size_opt("filesystem size", argv[optind + 1]);
		if (size == 0)
			die("invalid filesystem size '%s': must be above zero",
			    argv[optind + 1]);
		have_size = 1;
	}
	if (chunk) {
		unsigned long long eb = bsize ? bsize : 4096;

		if (chunk < CFS_MIN_CHUNK_BYTES)
			die("invalid chunk size %llu: below the minimum of 4 MiB",
			    chunk);
		if (chunk % eb)
			die("invalid chunk size %llu: not a multiple of the "
			    "block size %llu", chunk, eb);
		if (chunk / eb > 0xffffffffULL)
			die("invalid chunk size %llu: more than 2^32-1 blocks",
			    chunk);
	}
	memset(&o, 0, sizeof(o));
	o.block_size = (u32)bsize;
	o.chunk_bytes = chunk;
	o.inode_ratio = (u32)iratio;
	o.no_features = no_features;
	o.dir_hash_bits = test_hash_bits;
	o.root_uid = getuid();
	o.root_gid = getgid();
	o.now_sec = time(NULL);
	if (label)
		snprintf(o.label, sizeof(o.label), "%s", label);
	if (!uuid_arg || !strcmp(uuid_arg, "random")) {
		uuid_generate(o.uuid);
	} else if (!strcmp(uuid_arg, "time")) {
		uuid_generate_time(o.uuid);
	} else if (!strcmp(uuid_arg, "clear") || !strcmp(uuid_arg, "null")) {
		memset(o.uuid, 0, sizeof(o.uuid));
	} else if (uuid_parse(uuid_arg, o.uuid) < 0) {
		die("invalid UUID '%s'", uuid_arg);
	}
	if (copy_dir_arg) {
		if (stat(copy_dir_arg, &st) < 0)
			die("cannot copy from %s: %s", copy_dir_arg,
			    strerror(errno));
		if (!S_ISDIR(st.st_mode))
			die("cannot copy from %s: not a directory",
			    copy_dir_arg);
	}

	/* ---- the device ---- */
	exists = stat(devname, &st) == 0;
	if (!exists && errno != ENOENT)
		die("cannot access %s: %s", devname, strerror(errno));
	if (exists && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		die("%s is not a regular file or block device", devname);
	if (!exists && !have_size)
		die("%s does not exist; give a size to create it "
		    "(for instance: " PROG " %s 1G)", devname, devname);
	if (exists && cfs_user_is_mounted(devname))
		die("%s is mounted; will not make a filesystem here!", devname);

	if (exists) {
		r = cfs_user_open(devname, noaction ? CFS_OPEN_RDONLY : 0, &dev,
				  err, sizeof(err));
		if (r == -EBUSY)
			die("%s is in use (mounted by chunkfs-fuse or open in "
			    "another program); will not make a filesystem here!",
			    devname);
		if (r < 0)
			die("%s", err);
		if (have_size) {
			if (S_ISBLK(st.st_mode) && size > dev->size)
				die("size %llu is larger than the device %s "
				    "(%llu bytes)", size, devname,
				    (unsigned long long)dev->size);
			dev->size = size;  /* the fs covers SIZE bytes */
		}
	} else {
		memset(&fake, 0, sizeof(fake));
		fake.ops = &fake_ops;
		fake.size = size;
		fake.readonly = 1;
		dev = &fake;
	}
	if (dev->size == 0)
		die("%s is empty; give a size (for instance: " PROG " %s 1G)",
		    devname, devname);
	if (exists && !noaction)
		check_signatures(devname, dev, force);

	memset(&geom, 0, sizeof(geom));
	r = cfs_mkfs_check(dev, &o, &geom, &why);
	if (r < 0) {
		if (why)
			die("%s", why);
		die("%s: %s", devname, cfs_strerror(r));
	}
	if (!quiet || noaction)
		print_geom(devname, &geom, dev->size, noaction);
	if (noaction) {
		if (dev != &fake)
			cfs_user_close(dev);
		return 0;
	}

	/* ---- create or grow the image file ---- */
	if (!exists || (S_ISREG(st.st_mode) &&
			(unsigned long long)st.st_size < size)) {
		int fd = open(devname, O_WRONLY | O_CREAT | O_CLOEXEC |
				       (exists ? 0 : O_EXCL), 0666);

		if (fd < 0)
			die("cannot create %s: %s", devname, strerror(errno));
		created = !exists;
		if (ftruncate(fd, (off_t)size) < 0) {
			int e = errno;

			close(fd);
			if (created)
				unlink(devname);
			die("cannot set the size of %s to %llu: %s", devname,
			    size, strerror(e));
		}
		close(fd);
		if (!exists) {
			r = cfs_user_open(devname, 0, &dev, err, sizeof(err));
			if (r < 0) {
				unlink(devname);
				die("%s", err);
			}
		}
		dev->size = size;
	}

	r = cfs_mkfs(dev, &o);
	if (r < 0) {
		cfs_user_close(dev);
		if (created)
			unlink(devname);
		die("cannot make the filesystem on %s: %s", devname,
		    cfs_strerror(r));
	}
	if (copy_dir_arg && populate(dev, copy_dir_arg) < 0) {
		cfs_user_close(dev);
		return 1;
	}
	r = dev->ops->flush(dev);
	cfs_user_close(dev);
	if (r < 0)
		die("cannot flush %s: %s", devname, cfs_strerror(r));
	if (!quiet)
		printf("Done.\n");
	return 0;
}
