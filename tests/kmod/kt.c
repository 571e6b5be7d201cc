// SPDX-License-Identifier: GPL-2.0
/*
 * kt.c - a small static helper for the kernel module tests inside the VM
 * (busybox has no xattr, statfs or mmap tools).  Built static on the host.
 *
 *   kt xget PATH NAME        print the xattr's value
 *   kt xlist PATH            print the xattr names, one a line
 *   kt statfs PATH           print f_type bsize blocks bfree bavail files ffree namelen
 *   kt mmapcmp PATH          compare an mmap of the file with read(2): "same" or exit 1
 *   kt walk DIR [SECONDS [quick]]  read everything under DIR (names,
 *                            attributes, data, links, xattrs), ignoring errors;
 *                            print counts (quick: 8 pieces of each file)
 *   kt xset PATH NAME VALUE [create|replace]   set an xattr
 *   kt xrm PATH NAME         remove an xattr
 *   kt rename OLD NEW [noreplace|exchange|whiteout]
 *                            renameat2; prints "ok" or the errno's name
 *   kt fops PATH SEED STEPS [lenient]  a random sequence of writes, truncates,
 *                            fallocate modes, mmap and O_DIRECT writes on
 *                            PATH, each checked against a model in memory
 *                            (content, size, SEEK_DATA/SEEK_HOLE), also
 *                            after the page cache is dropped (lenient:
 *                            a mode refused with EOPNOTSUPP is skipped, for
 *                            a FUSE mount on the host)
 *   kt mix PATH SEED STEPS MODEL  as fops, each operation on its own
 *                            open, with mmap writes never msynced,
 *                            copy_file_range, drop_caches 2 and 3 and memory
 *                            pressure between them; the model saved to MODEL
 *   kt mmapevict FILE SIZE SEED HOW [prealloc]  a new file written through
 *                            a shared mapping, closed unsynced, HOW (none,
 *                            drop2, drop3, sync-drop2, hog, open-drop2,
 *                            open-drop3), read back: the pattern of SEED
 *   kt pcheck FILE SIZE SEED  FILE is that pattern
 *   kt mmapfull FILE PAGES   on a full filesystem: SIGBUS at the write fault
 *                            that finds no space, the pages before it kept
 *   kt shift FILE MIB        COLLAPSE_RANGE / INSERT_RANGE on a new file of
 *                            MIB MiB with every other block punched,
 *                            against a model: "shift: N operations ok SIZE"
 *   kt hog                   memory pressure: most of MemAvailable taken
 *                            and given back
 *   kt ioctl health|events|journal|scrub[-repair] PATH [CHUNK]
 *                            the chunkfs ioctls (fs/chunkfs_ioctl.h)
 *   kt paths PATH CHUNK      the files with a part in CHUNK
 *                            (CHUNKFS_IOC_CHUNK_FILES), one line per name
 *                            (CHUNKFS_IOC_PATH): "KTP CHUNK INO PARTS PATH",
 *                            as the host makes from `chunkfs paths --json`
 *   kt fuzz BASE WORK SEED   WORK = BASE with metadata blocks damaged (as
 *                            fuzz.py; odd SEED: crcs fixed up)
 *   kt seqwrite FILE MIB     write FILE anew in 1 MiB writes, fsync;
 *                            print "MB/s seconds bytes"
 *   kt seqread FILE          read FILE in 1 MiB reads; the same
 *   kt fanwait MOUNT SECONDS  watch MOUNT's filesystem for FAN_FS_ERROR
 *                            (prints "armed" first), print each one
 *   kt as UID GID GROUPS CMD...  run CMD as UID/GID with the supplementary
 *                            GROUPS (comma-separated; "-": none), without
 *                            capabilities
 *   kt setacl PATH access|default ACL  set a POSIX ACL from its short text
 *                            (u::rw-,u:1000:r--,g::r--,m::r--,o::---; ""
 *                            an empty one) as the system.posix_acl_* xattr;
 *                            prints "ok" or the errno's name
 *   kt getacl PATH access|default  print the ACL in that text, "none" or
 *                            the errno's name
 *   kt op PATH write|otrunc|truncate|fallocate|mmap|copy SRC|chown UID GID|
 *            open-r|open-w|new-f MODE UMASK|new-d MODE UMASK|new-p MODE UMASK
 *                            one operation; prints "ok" or the errno's name
 *   kt euid                  print the effective uid (copied set-user-ID)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "../../fs/chunkfs_ioctl.h"

static long n_ent, n_err, n_bytes;
static time_t deadline;
static int quick;

static int xget(const char *path, const char *name)
{
	char buf[65536];
	ssize_t n = lgetxattr(path, name, buf, sizeof(buf) - 1);

	if (n < 0) {
		perror("lgetxattr");
		return 1;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	putchar('\n');
	return 0;
}

static int xlist(const char *path)
{
	char buf[65536];
	ssize_t n = llistxattr(path, buf, sizeof(buf)), i;

	if (n < 0) {
		perror("llistxattr");
		return 1;
	}
	for (i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		puts(buf + i);
	return 0;
}

static int do_statfs(const char *path)
{
	struct statfs s;

	if (statfs(path, &s)) {
		perror("statfs");
		return 1;
	}
	printf("%lx %ld %llu %llu %llu %llu %llu %ld\n", (unsigned long)s.f_type,
	       (long)s.f_bsize, (unsigned long long)s.f_blocks,
	       (unsigned long long)s.f_bfree, (unsigned long long)s.f_bavail,
	       (unsigned long long)s.f_files, (unsigned long long)s.f_ffree,
	       (long)s.f_namelen);
	return 0;
}

static int mmapcmp(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *m, *b;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		return 1;
	}
	if (!st.st_size) {
		puts("same");
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	b = malloc((size_t)st.st_size);
	if (m == MAP_FAILED || !b) {
		perror("mmap");
		return 1;
	}
	n = pread(fd, b, (size_t)st.st_size, 0);
	if (n != st.st_size || memcmp(m, b, (size_t)st.st_size)) {
		printf("differ (read %zd of %lld)\n", n, (long long)st.st_size);
		return 1;
	}
	puts("same");
	return 0;
}

static void walk(const char *path, int depth)
{
	char buf[65536];
	struct stat st;
	ssize_t n;

	if (depth > 64 || (deadline && time(NULL) > deadline))
		return;
	n_ent++;
	if (lstat(path, &st)) {
		n_err++;
		return;
	}
	n = llistxattr(path, buf, sizeof(buf));
	if (n < 0) {
		n_err++;
	} else {
		ssize_t i;
		char v[4096];

		for (i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
			if (lgetxattr(path, buf + i, v, sizeof(v)) < 0)
				n_err++;
	}
	if (S_ISLNK(st.st_mode)) {
		if (readlink(path, buf, sizeof(buf)) < 0)
			n_err++;
	} else if (S_ISREG(st.st_mode)) {
		int fd = open(path, O_RDONLY);

		if (fd < 0) {
			n_err++;
			return;
		}
		if (quick) { /* 4 KiB at 8 places: the block maps, not all data */
			int k;

			for (k = 0; k < 8; k++) {
				n = pread(fd, buf, 4096, st.st_size / 8 * k);
				if (n < 0)
					n_err++;
				else
					n_bytes += n;
			}
		} else {
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				n_bytes += n;
			if (n < 0)
				n_err++;
		}
		close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		long count = 0;

		if (!d) {
			n_err++;
			return;
		}
		errno = 0;
		while ((e = readdir(d)) && count++ < 100000) {
			char sub[4096];

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			walk(sub, depth + 1);
			errno = 0;
		}
		if (errno)
			n_err++;
		closedir(d);
	}
}

/* A value "hex:HH..." is those bytes (binary values: a capability) */
static int xset(const char *path, const char *name, const char *val,
		const char *how)
{
	unsigned char bin[256];
	size_t len = strlen(val);
	int flags = 0;

	if (how && !strcmp(how, "create"))
		flags = XATTR_CREATE;
	else if (how && !strcmp(how, "replace"))
		flags = XATTR_REPLACE;
	if (!strncmp(val, "hex:", 4)) {
		const char *h = val + 4;

		for (len = 0; h[0] && h[1] && len < sizeof(bin); h += 2) {
			unsigned v;

			if (sscanf(h, "%2x", &v) != 1) {
				puts("EINVAL");
				return 1;
			}
			bin[len++] = (unsigned char)v;
		}
		val = (const char *)bin;
	}
	if (lsetxattr(path, name, val, len, flags)) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	puts("ok");
	return 0;
}

static int xrm(const char *path, const char *name)
{
	if (lremovexattr(path, name)) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	puts("ok");
	return 0;
}

static int do_rename(const char *a, const char *b, const char *how)
{
	unsigned int flags = 0;

	if (how && !strcmp(how, "noreplace"))
		flags = RENAME_NOREPLACE;
	else if (how && !strcmp(how, "exchange"))
		flags = RENAME_EXCHANGE;
	else if (how && !strcmp(how, "whiteout"))
		flags = RENAME_WHITEOUT;
	if (syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags)) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	puts("ok");
	return 0;
}

/* ---- fops: random file operations against a model ---- */
#define FMAX (3 << 20)
#define BLK 4096
static unsigned char *model, *got;
static size_t msize;
static unsigned long long rs;

static unsigned long rnd(unsigned long n)
{
	rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
	return n ? (unsigned long)((rs >> 33) % n) : 0;
}

static int fcheck_seeks(int fd, const char *when, int step, int seeks)
{
	struct stat st;
	off_t o;
	ssize_t n;

	if (fstat(fd, &st) || (size_t)st.st_size != msize) {
		printf("fops step %d (%s): size %lld, want %zu\n", step, when,
		       (long long)st.st_size, msize);
		return 1;
	}
	n = pread(fd, got, msize + 1, 0);
	if (n != (ssize_t)msize || memcmp(got, model, msize)) {
		size_t i = 0;

		while (n > 0 && i < (size_t)n && i < msize && got[i] == model[i])
			i++;
		printf("fops step %d (%s): content differs at %zu (read %zd of %zu)\n",
		       step, when, i, n, msize);
		return 1;
	}
	if (!seeks)
		return 0;
	/* every hole SEEK_HOLE finds reads as zeros; data is never skipped
	 * (lseek writes dirty pages back first) */
	for (o = 0; (size_t)o < msize;) {
		off_t d = lseek(fd, o, SEEK_DATA), h;
		size_t i;

		if (d < 0) {
			d = (off_t)msize; /* ENXIO: no data to the end */
		}
		for (i = (size_t)o; i < (size_t)d && i < msize; i++)
			if (model[i]) {
				printf("fops step %d (%s): SEEK_DATA from %lld skipped data at %zu\n",
				       step, when, (long long)o, i);
				return 1;
			}
		if ((size_t)d >= msize)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h <= d || (size_t)h > msize) {
			printf("fops step %d (%s): SEEK_HOLE from %lld gave %lld (size %zu)\n",
			       step, when, (long long)d, (long long)h, msize);
			return 1;
		}
		o = h;
	}
	if (lseek(fd, (off_t)msize, SEEK_DATA) != -1 || errno != ENXIO) {
		printf("fops step %d (%s): SEEK_DATA at the end is not ENXIO\n",
		       step, when);
		return 1;
	}
	return 0;
}

/*
 * One of the model's operations on fd (0 pwrite, 1 append, 2 truncate,
 * 3 fallocate, 4 keep-size, 5 punch, 6 zero, 7 collapse, 8 insert), the
 * model changed alike: 0 done, 1 failed (errno), 2 skipped.
 */
static int model_op(int fd, int op)
{
	size_t off, len, i;
	unsigned char *p;
	int r = 0;

	switch (op) {
	case 0: /* pwrite anywhere (may leave a hole) */
	case 1: /* append */
		len = 1 + rnd(op ? 9000 : 200000);
		off = op ? msize : rnd(FMAX / 2);
		if (off + len > FMAX)
			len = FMAX - off;
		if (!len)
			return 2;
		p = malloc(len);
		for (i = 0; i < len; i++)
			p[i] = (unsigned char)(rnd(255) + 1);
		r = pwrite(fd, p, len, (off_t)off) != (ssize_t)len;
		memcpy(model + off, p, len);
		free(p);
		if (off + len > msize)
			msize = off + len;
		break;
	case 2: /* truncate, shorter or longer */
		off = rnd(FMAX / 2);
		r = ftruncate(fd, (off_t)off);
		if (off < msize)
			memset(model + off, 0, msize - off);
		msize = off;
		break;
	case 3: /* allocate (may grow the size) */
	case 4: /* allocate, keep the size */
		off = rnd(FMAX / 2);
		len = 1 + rnd(100000);
		r = fallocate(fd, op == 4 ? FALLOC_FL_KEEP_SIZE : 0,
			      (off_t)off, (off_t)len);
		if (!r && op == 3 && off + len > msize)
			msize = off + len;
		break;
	case 5: /* punch a hole */
	case 6: /* zero a range (keeping the size) */
		if (!msize)
			return 2;
		off = rnd(msize);
		len = 1 + rnd(msize - off + 20000);
		r = fallocate(fd, (op == 5 ? FALLOC_FL_PUNCH_HOLE :
				   FALLOC_FL_ZERO_RANGE) | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, (off_t)len);
		if (!r && off < msize)
			memset(model + off, 0,
			       (off + len > msize ? msize : off + len) - off);
		break;
	case 7: /* collapse whole blocks */
		if (msize < 3 * BLK)
			return 2;
		off = rnd(msize / BLK - 2) * BLK;
		len = (1 + rnd((msize - off) / BLK - 1)) * BLK;
		if (off + len >= msize)
			return 2;
		r = fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, (off_t)off,
			      (off_t)len);
		if (r)
			break;
		memmove(model + off, model + off + len, msize - off - len);
		msize -= len;
		memset(model + msize, 0, len);
		break;
	case 8: /* insert whole blocks */
		if (!msize)
			return 2;
		off = rnd((msize - 1) / BLK + 1) * BLK;
		len = (1 + rnd(8)) * BLK;
		if (off >= msize || msize + len > FMAX)
			return 2;
		r = fallocate(fd, FALLOC_FL_INSERT_RANGE, (off_t)off,
			      (off_t)len);
		if (r)
			break;
		memmove(model + off + len, model + off, msize - off);
		memset(model + off, 0, len);
		msize += len;
		break;
	}
	return r ? 1 : 0;
}

/* up to MOST random bytes written at a random place of the mapping m of
 * the whole file, and of the model */
static void model_mwrite(unsigned char *m, size_t most)
{
	size_t off = rnd(msize), len, i;

	len = 1 + rnd(msize - off < most ? msize - off : most);
	for (i = 0; i < len; i++)
		m[off + i] = model[off + i] = (unsigned char)(rnd(255) + 1);
}

static int fcheck(int fd, const char *when, int step)
{
	return fcheck_seeks(fd, when, step, 1);
}

static int fops(const char *path, unsigned long long seed, int steps,
		int lenient)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), dfd, step;
	static const char *names[] = { "pwrite", "append", "truncate",
		"falloc", "keep-size", "punch", "zero", "collapse", "insert",
		"mmap", "direct" };
	int counts[11] = { 0 };

	rs = seed;
	model = calloc(1, FMAX + BLK);
	got = malloc(FMAX + BLK);
	dfd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || dfd < 0 || !model || !got) {
		printf("fops: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	msize = 0;
	for (step = 0; step < steps; step++) {
		int op = (int)rnd(11);
		size_t off, len, i;
		int r = 0;

		if (op <= 8) {
			r = model_op(fd, op);
			if (r == 2)
				continue;
		}
		switch (op) {
		case 9: { /* a shared mapping, written, synced */
			unsigned char *m;

			if (!msize)
				continue;
			m = mmap(NULL, msize, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				r = 1;
				break;
			}
			model_mwrite(m, 20000);
			r = msync(m, msize, MS_SYNC) || munmap(m, msize);
			break;
		}
		case 10: { /* O_DIRECT: aligned write, then read back */
			void *buf;

			off = rnd(FMAX / BLK / 2) * BLK;
			len = (1 + rnd(16)) * BLK;
			if (posix_memalign(&buf, BLK, len))
				return 1;
			for (i = 0; i < len; i++)
				((unsigned char *)buf)[i] = (unsigned char)(rnd(255) + 1);
			r = pwrite(dfd, buf, len, (off_t)off) != (ssize_t)len;
			memcpy(model + off, buf, len);
			if (off + len > msize)
				msize = off + len;
			memset(buf, 0, len);
			if (!r)
				r = pread(dfd, buf, len, (off_t)off) != (ssize_t)len ||
				    memcmp(buf, model + off, len);
			free(buf);
			break;
		}
		}
		if (r && lenient && errno == EOPNOTSUPP && op >= 3 && op <= 8) {
			step--; /* FUSE's kernel side knows fewer modes */
			continue;
		}
		if (r) {
			printf("fops step %d: %s failed: %s\n", step, names[op],
			       strerror(errno));
			return 1;
		}
		counts[op]++;
		if (fcheck(fd, names[op], step))
			return 1;
		if (step % 16 == 15) {
			int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);

			if (fsync(fd) || dc < 0 || write(dc, "3", 1) != 1) {
				printf("fops: fsync or drop_caches failed\n");
				return 1;
			}
			close(dc);
			if (fcheck(fd, "after dropping the cache", step))
				return 1;
		}
	}
	printf("fops: %d steps ok, size %zu:", steps, msize);
	for (step = 0; step < 11; step++)
		printf(" %s %d", names[step], counts[step]);
	printf("\n");
	close(dfd);
	return close(fd) != 0;
}

/* ---- data written through a shared mapping, then the inode evicted ---- */

static double mono(void);

/* the byte at i of a pattern: never zero, different page to page */
static unsigned char pat(unsigned long seed, size_t i)
{
	return (unsigned char)((seed * 37 + (i >> 12) * 101 + i * 7) | 1);
}

static int drop_caches(const char *what)
{
	int dc = open("/proc/sys/vm/drop_caches", O_WRONLY), r;

	if (dc < 0)
		return -1;
	r = write(dc, what, strlen(what)) == (ssize_t)strlen(what) ? 0 : -1;
	close(dc);
	return r;
}

/* ---- shift: COLLAPSE_RANGE / INSERT_RANGE on a fragmented file ----
 * FILE written anew (MIB MiB of pat(3)), every other block punched (one
 * extent per block kept), then collapses and inserts near its start (every
 * extent past the point moves) and seeded ones anywhere, each checked
 * against a model, the page cache dropped before the last check (issue
 * 16: no such operation may make a transaction its journal cannot hold;
 * the caller asks CHUNKFS_IOC_JOURNAL).  Prints "shift: N operations ok
 * SIZE" or what differs. */
static int shift_check(int fd, const unsigned char *m, size_t size,
		       const char *what, int step)
{
	unsigned char *b = malloc(size + 1);
	ssize_t n;
	size_t i;

	if (!b)
		return 1;
	n = pread(fd, b, size + 1, 0);
	if (n != (ssize_t)size || memcmp(b, m, size)) {
		for (i = 0; n > 0 && i < (size_t)n && i < size && b[i] == m[i]; i++)
			;
		printf("shift: step %d (%s): read %zd of %zu, differs at %zu\n",
		       step, what, n, size, i);
		free(b);
		return 1;
	}
	free(b);
	return 0;
}

static int do_shift(const char *path, unsigned long mib)
{
	size_t max = (mib << 20) * 2, size = mib << 20, off, len, i;
	unsigned char *m = calloc(1, max);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), step = 0, done = 0;

	if (fd < 0 || !m) {
		perror(path);
		return 1;
	}
	for (i = 0; i < size; i++)
		m[i] = pat(3, i);
	if (pwrite(fd, m, size, 0) != (ssize_t)size) {
		perror("shift: write");
		return 1;
	}
	for (off = BLK; off < size; off += 2 * BLK) {
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)off, BLK)) {
			perror("shift: punch");
			return 1;
		}
		memset(m + off, 0, BLK);
	}
	fsync(fd);
	rs = 16;
	for (step = 0; step < 16; step++) {
		int ins = step % 2;
		size_t nb = size / BLK;

		if (step < 4) {         /* near the start: everything moves */
			off = (size_t)(step + 1) * 3 * BLK;
			len = (size_t)(step + 2) * 5 * BLK;
		} else {
			off = rnd(nb - 1) * BLK;
			len = (1 + rnd(step % 3 ? 64 : nb / 4)) * BLK;
		}
		if (ins ? size + len > max : off + len >= size)
			continue;
		if (fallocate(fd, ins ? FALLOC_FL_INSERT_RANGE :
			      FALLOC_FL_COLLAPSE_RANGE, (off_t)off,
			      (off_t)len)) {
			printf("shift: step %d: %s %zu+%zu: %s\n", step,
			       ins ? "insert" : "collapse", off, len,
			       strerrorname_np(errno));
			return 1;
		}
		if (ins) {
			memmove(m + off + len, m + off, size - off);
			memset(m + off, 0, len);
			size += len;
		} else {
			memmove(m + off, m + off + len, size - off - len);
			size -= len;
		}
		if (shift_check(fd, m, size, ins ? "insert" : "collapse",
				step))
			return 1;
		done++;
	}
	fsync(fd);
	if (drop_caches("3") || shift_check(fd, m, size, "reread", step))
		return 1;
	close(fd);
	free(m);
	printf("shift: %d operations ok %zu\n", done, size);
	return 0;
}

/* Memory pressure: most of the free memory (MemAvailable less 40 MiB)
 * taken by an anonymous mapping, every page touched, then given back;
 * twice.  No swap: the kernel reclaims the page cache, dentries and
 * inodes. */
static int hog1(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long kb = -1;
	size_t len;
	char *m;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (kb < 0)
		return -1;
	if (kb < 80 * 1024)
		return 0; /* nothing to take */
	len = (size_t)(kb - 40 * 1024) << 10;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < len; i += 4096)
		m[i] = 1; /* MAP_POPULATE may stop short */
	return munmap(m, len);
}

static int hog(void)
{
	return hog1() || hog1();
}

/* evict-step HOW: what happens between the writes and the check */
static int evict_step(const char *how)
{
	if (!strcmp(how, "none"))
		return 0;
	if (!strcmp(how, "drop2") || !strcmp(how, "open-drop2"))
		return drop_caches("2");
	if (!strcmp(how, "drop3") || !strcmp(how, "open-drop3"))
		return drop_caches("3");
	if (!strcmp(how, "sync-drop2")) {
		sync();
		return drop_caches("2");
	}
	if (!strcmp(how, "hog"))
		return hog();
	errno = EINVAL;
	return -1;
}

/* FILE's size and content are the pattern of SEED over SIZE bytes */
static int pcheck(const char *path, size_t size, unsigned long seed)
{
	int fd = open(path, O_RDONLY);
	unsigned char *b = malloc(size + 1);
	struct stat st;
	ssize_t n = -1;
	size_t i, done = 0;

	if (fd < 0 || !b || fstat(fd, &st)) {
		printf("%s: %s\n", path, strerror(errno));
		return 1;
	}
	while (done <= size && (n = read(fd, b + done, size + 1 - done)) > 0)
		done += (size_t)n;
	close(fd);
	if (n < 0 || (size_t)st.st_size != size || done != size) {
		printf("%s: size %lld, read %zu, want %zu\n", path,
		       (long long)st.st_size, done, size);
		return 1;
	}
	for (i = 0; i < size; i++)
		if (b[i] != pat(seed, i)) {
			size_t z = i;

			while (z < size && !b[z])
				z++;
			printf("%s: byte %zu is 0x%02x, want 0x%02x (%zu zero bytes there)\n",
			       path, i, b[i], pat(seed, i), z - i);
			free(b);
			return 1;
		}
	free(b);
	return 0;
}

/* A new file of SIZE bytes (sparse, or preallocated), mapped shared and
 * writable; its descriptor in *fdp.  NULL (said why) on failure. */
static unsigned char *map_new(const char *path, size_t size, int prealloc,
			      int *fdp)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	unsigned char *m;

	if (fd < 0 || (prealloc ? fallocate(fd, 0, 0, (off_t)size) :
		       ftruncate(fd, (off_t)size))) {
		printf("%s: create: %s\n", path, strerror(errno));
		return NULL;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("%s: mmap: %s\n", path, strerror(errno));
		return NULL;
	}
	*fdp = fd;
	return m;
}

/*
 * kt mmapevict FILE SIZE SEED HOW [prealloc]: a new file made SIZE bytes
 * long (ftruncate: sparse; prealloc: fallocate), written through a shared
 * mapping, unmapped and closed without msync or fsync; then HOW (none,
 * drop2, drop3, sync-drop2, hog, or open-drop2/open-drop3 with the file
 * still open); then read back with read(2).
 */
static int mmapevict(const char *path, size_t size, unsigned long seed,
		     const char *how, int prealloc)
{
	int keep_open = !strncmp(how, "open-", 5), fd;
	unsigned char *m = map_new(path, size, prealloc, &fd);
	size_t i;

	if (!m)
		return 1;
	for (i = 0; i < size; i++)
		m[i] = pat(seed, i);
	if (munmap(m, size) || (!keep_open && close(fd))) {
		printf("%s: munmap or close: %s\n", path, strerror(errno));
		return 1;
	}
	if (evict_step(how)) {
		printf("%s: %s: %s\n", path, how, strerror(errno));
		return 1;
	}
	if (pcheck(path, size, seed))
		return 1;
	if (keep_open && close(fd)) {
		printf("%s: close: %s\n", path, strerror(errno));
		return 1;
	}
	printf("mmapevict %zu %s%s: ok\n", size, how, prealloc ? " prealloc" : "");
	return 0;
}

/*
 * kt mmapfull FILE PAGES: on a full filesystem, a sparse file of PAGES
 * pages written through a shared mapping a page at a time: the write fault
 * that finds no space must raise SIGBUS (the data of the pages before it
 * is kept, checked after the mapping is gone and the caches dropped).
 */
static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

static int mmapfull(const char *path, size_t pages)
{
	size_t size = pages * 4096, i;
	volatile size_t page = 0;
	int fd;
	unsigned char *m = map_new(path, size, 0, &fd);

	if (!m)
		return 1;
	signal(SIGBUS, on_sigbus);
	if (!sigsetjmp(bus_jmp, 1))
		for (; page < pages; page++)
			for (i = 0; i < 4096; i++)
				m[page * 4096 + i] = pat(9, page * 4096 + i);
	signal(SIGBUS, SIG_DFL);
	if (page == pages) {
		printf("mmapfull: no SIGBUS in %zu pages\n", pages);
		return 1;
	}
	if (munmap(m, size) || close(fd) || drop_caches("2")) {
		printf("%s: munmap, close or drop: %s\n", path, strerror(errno));
		return 1;
	}
	/* the pages before the fault have their data, the rest reads 0 */
	fd = open(path, O_RDONLY);
	m = malloc(size);
	if (fd < 0 || !m || pread(fd, m, size, 0) != (ssize_t)size) {
		printf("%s: read back: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	for (i = 0; i < size; i++)
		if (m[i] != (i < page * 4096 ? pat(9, i) : 0)) {
			printf("mmapfull: byte %zu is 0x%02x after SIGBUS at page %zu\n",
			       i, m[i], (size_t)page);
			return 1;
		}
	printf("mmapfull: SIGBUS at page %zu of %zu, the pages before it kept\n",
	       (size_t)page, pages);
	return 0;
}

/*
 * kt mix PATH SEED STEPS MODEL: a random sequence of writes, appends,
 * truncates, fallocate modes, writes through shared mappings without
 * msync (some with the mapping held across a cache drop), O_DIRECT
 * writes, copy_file_range, drop_caches 2 and 3 and memory pressure, each
 * operation on its own open (so the inode can leave the cache between
 * two), the file checked against a model after every step (content, size,
 * SEEK_DATA/SEEK_HOLE).  The model is saved to MODEL at the end, for a
 * check after a remount.
 */
static int mix(const char *path, unsigned long long seed, int steps,
	       const char *mpath)
{
	static const char *names[] = { "pwrite", "append", "truncate",
		"falloc", "keep-size", "punch", "zero", "collapse", "insert",
		"mmap", "mmap-held", "direct", "copy_range", "drop2", "drop3",
		"pressure" };
	enum { NOPS = 16, SRC = 256 << 10 };
	int counts[NOPS] = { 0 }, step, fd, sfd;
	double t0;
	char src[4096];
	unsigned char *sbuf;
	size_t i;

	rs = seed;
	model = calloc(1, FMAX + BLK);
	got = malloc(FMAX + BLK);
	sbuf = malloc(SRC);
	snprintf(src, sizeof(src), "%s.src", path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	sfd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || sfd < 0 || !model || !got || !sbuf) {
		printf("mix: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < SRC; i++)
		sbuf[i] = (unsigned char)(rnd(255) + 1);
	if (write(sfd, sbuf, SRC) != SRC || close(sfd) || close(fd)) {
		printf("mix: %s: %s\n", src, strerror(errno));
		return 1;
	}
	msize = 0;
	for (step = 0; step < steps; step++) {
		int op = (int)rnd(NOPS), r = 0;
		size_t off, len;

		/* memory pressure is slow in the VM: one step in 40 */
		if (op == 15 && rnd(3))
			op = 13;
		t0 = mono();
		fd = open(path, O_RDWR);
		if (fd < 0) {
			printf("mix step %d: open: %s\n", step, strerror(errno));
			return 1;
		}
		if (op <= 8) {
			r = model_op(fd, op);
			if (r == 2)
				r = 0; /* skipped, checked all the same */
		}
		switch (op) {
		case 9: /* written through a shared mapping, no msync */
		case 10: { /* the same, the mapping held across a drop */
			unsigned char *m;
			int k;

			if (!msize)
				break;
			m = mmap(NULL, msize, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				r = 1;
				break;
			}
			for (k = 0; k < (op == 10 ? 2 : 1) && !r; k++) {
				model_mwrite(m, 40000);
				if (op == 10 && !k)
					r = drop_caches(rnd(2) ? "2" : "3");
			}
			if (munmap(m, msize))
				r = 1;
			break;
		}
		case 11: { /* O_DIRECT: an aligned write */
			int dfd = open(path, O_RDWR | O_DIRECT);
			void *buf;

			off = rnd(FMAX / BLK / 2) * BLK;
			len = (1 + rnd(16)) * BLK;
			if (dfd < 0 || posix_memalign(&buf, BLK, len)) {
				r = 1;
				break;
			}
			for (i = 0; i < len; i++)
				((unsigned char *)buf)[i] = (unsigned char)(rnd(255) + 1);
			r = pwrite(dfd, buf, len, (off_t)off) != (ssize_t)len;
			memcpy(model + off, buf, len);
			if (off + len > msize)
				msize = off + len;
			free(buf);
			close(dfd);
			break;
		}
		case 12: { /* copy_file_range from the source file */
			loff_t so, doff;
			ssize_t n;

			sfd = open(src, O_RDONLY);
			so = (loff_t)rnd(SRC - 1);
			len = 1 + rnd(SRC - (size_t)so);
			doff = (loff_t)rnd(FMAX / 2);
			off = (size_t)doff;
			if (sfd < 0) {
				r = 1;
				break;
			}
			while (len && !r) {
				n = copy_file_range(sfd, &so, fd, &doff, len, 0);
				if (n <= 0) {
					r = 1;
					break;
				}
				memcpy(model + off, sbuf + so - n, (size_t)n);
				off += (size_t)n;
				len -= (size_t)n;
				if (off > msize)
					msize = off;
			}
			close(sfd);
			break;
		}
		case 13:
		case 14:
			close(fd); /* the inode may go */
			fd = -1;
			r = drop_caches(op == 13 ? "2" : "3");
			break;
		case 15:
			close(fd);
			fd = -1;
			r = hog();
			break;
		}
		if (r) {
			printf("mix step %d: %s failed: %s\n", step, names[op],
			       strerror(errno));
			return 1;
		}
		if (fd >= 0 && close(fd)) {
			printf("mix step %d: %s: close: %s\n", step, names[op],
			       strerror(errno));
			return 1;
		}
		counts[op]++;
		if (mono() - t0 > 5) /* for the console: where the time went */
			printf("mix step %d: %s took %.1f s\n", step, names[op],
			       mono() - t0);
		/* SEEK_DATA and SEEK_HOLE write dirty pages back: one step
		 * in 8 only, so that most drops find dirty pages */
		fd = open(path, O_RDONLY);
		if (fd < 0 || fcheck_seeks(fd, names[op], step, step % 8 == 7))
			return 1;
		close(fd);
	}
	fd = open(mpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, model, msize) != (ssize_t)msize || close(fd)) {
		printf("mix: %s: %s\n", mpath, strerror(errno));
		return 1;
	}
	printf("mix: %d steps ok, size %zu:", steps, msize);
	for (step = 0; step < NOPS; step++)
		printf(" %s %d", names[step], counts[step]);
	printf("\n");
	free(sbuf);
	return 0;
}

/* ---- the chunkfs ioctls ---- */
static int do_ioctl(const char *what, const char *path, unsigned int chunk)
{
	static union {
		struct chunkfs_health h;
		struct chunkfs_events e;
		struct chunkfs_scrub s;
		struct chunkfs_journal j;
	} u;
	int fd = open(path, O_RDONLY);
	unsigned long cmd;
	unsigned long long after;
	unsigned int i;

	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(&u, 0, sizeof(u));
	if (!strcmp(what, "health")) {
		cmd = CHUNKFS_IOC_HEALTH;
	} else if (!strcmp(what, "events")) {
		cmd = CHUNKFS_IOC_EVENTS;
	} else if (!strcmp(what, "journal")) {
		cmd = CHUNKFS_IOC_JOURNAL;
	} else if (!strcmp(what, "scrub") || !strcmp(what, "scrub-repair")) {
		cmd = CHUNKFS_IOC_SCRUB;
		u.s.chunk = chunk;
		u.s.flags = strcmp(what, "scrub") ? CHUNKFS_SCRUB_REPAIR : 0;
	} else {
		return 2;
	}
	if (ioctl(fd, cmd, &u)) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	close(fd);
	if (cmd == CHUNKFS_IOC_HEALTH) {
		printf("health: %u chunks, flags %u, mount_gen %llu\n",
		       u.h.nchunks, u.h.flags, (unsigned long long)u.h.mount_gen);
		for (i = 0; i < u.h.count; i++)
			printf("chunk %u state %u errors %llu fixed %llu\n",
			       u.h.c[i].chunk, u.h.c[i].state,
			       (unsigned long long)u.h.c[i].errors_found,
			       (unsigned long long)u.h.c[i].errors_fixed);
	} else if (cmd == CHUNKFS_IOC_EVENTS) {
		/* every event kept: batches of CHUNKFS_EVENTS_MAX, each
		 * asked for after the last one seen */
		for (;;) {
			for (i = 0; i < u.e.count; i++)
				printf("event %llu sev %u code %u chunk %d: %s%s%s\n",
				       (unsigned long long)u.e.e[i].seq,
				       u.e.e[i].severity, u.e.e[i].code,
				       (int)u.e.e[i].chunk, u.e.e[i].msg,
				       u.e.e[i].path[0] ? " path " : "",
				       u.e.e[i].path);
			if (u.e.count < CHUNKFS_EVENTS_MAX)
				break;
			after = u.e.e[u.e.count - 1].seq;
			memset(&u, 0, sizeof(u));
			u.e.after = after;
			fd = open(path, O_RDONLY);
			if (fd < 0 || ioctl(fd, cmd, &u)) {
				printf("%s\n", strerrorname_np(errno));
				return 1;
			}
			close(fd);
		}
	} else if (cmd == CHUNKFS_IOC_JOURNAL) {
		/* as the unmount line of chunkfs-fuse and the module */
		printf("journal: %llu commits, %llu splits, %llu in place\n",
		       (unsigned long long)u.j.commits,
		       (unsigned long long)u.j.splits,
		       (unsigned long long)u.j.overflows);
	} else {
		printf("scrub: chunk %u found %u fixed %u state %u lost_found %u\n",
		       u.s.chunk, u.s.found, u.s.fixed, u.s.state,
		       u.s.lost_found);
	}
	return 0;
}

static int do_paths(const char *path, unsigned int chunk)
{
	static struct chunkfs_chunk_files cf;
	static struct chunkfs_path p;
	int fd = open(path, O_RDONLY);
	unsigned int i, n, names = 0, files = 0;

	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(&cf, 0, sizeof(cf));
	cf.chunk = chunk;
	for (;;) {
		unsigned long long cursor;

		if (ioctl(fd, CHUNKFS_IOC_CHUNK_FILES, &cf)) {
			printf("chunk files: %s\n", strerrorname_np(errno));
			return 1;
		}
		for (i = 0; i < cf.count; i++, files++) {
			char parts[40] = "";

			if (cf.f[i].parts & CHUNKFS_PART_INODE)
				strcat(parts, ",inode");
			if (cf.f[i].parts & CHUNKFS_PART_DATA)
				strcat(parts, ",data");
			if (cf.f[i].parts & CHUNKFS_PART_ENTRIES)
				strcat(parts, ",entries");
			if (cf.f[i].parts & CHUNKFS_PART_ORPHAN)
				strcat(parts, ",orphan");
			for (n = 0;; n++) {
				memset(&p, 0, sizeof(p));
				p.ino = cf.f[i].ino;
				p.index = n;
				if (ioctl(fd, CHUNKFS_IOC_PATH, &p)) {
					if (errno == ENOENT)
						break;
					printf("path: %s\n", strerrorname_np(errno));
					return 1;
				}
				printf("KTP %u %llu %s %s\n", chunk,
				       (unsigned long long)p.ino, parts + 1,
				       p.path);
				names++;
				if (n + 1 >= p.count)
					break;
			}
		}
		if (cf.flags & CHUNKFS_CF_END)
			break;
		cursor = cf.cursor;
		memset(&cf, 0, sizeof(cf));
		cf.chunk = chunk;
		cf.cursor = cursor;
	}
	close(fd);
	printf("paths: chunk %u: %u files, %u names\n", chunk, files, names);
	return 0;
}

/* ---- fuzzed images, as tests/kmod/fuzz.py makes them ---- */
static unsigned int crc32_zlib(const unsigned char *p, size_t n)
{
	static unsigned int tab[256];
	unsigned int c = 0xffffffffu;
	size_t i;

	if (!tab[1])
		for (i = 0; i < 256; i++) {
			unsigned int v = (unsigned int)i;
			int k;

			for (k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			tab[i] = v;
		}
	for (i = 0; i < n; i++)
		c = tab[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

static int is_meta(const unsigned char *b)
{
	static const unsigned int magics[] = { 0x53534643, 0x48434643,
		0x42424643, 0x42494643, 0x54494643, 0x54424643, 0x4c4a4643 };
	unsigned int m;
	size_t i;

	memcpy(&m, b + 4, 4);
	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (m == magics[i])
			return 1;
	return 0;
}

/* WORK = BASE with 1-4 metadata blocks damaged (random bytes, an extreme
 * value, a swap with another metadata block, a run of 0s or 1s); for an
 * odd SEED the damaged blocks' crcs are fixed up: a hostile image. */
static int fuzz(const char *base, const char *work, int seed)
{
	static const unsigned int extreme[] = { 0, 1, 0x7fffffff, 0x80000000,
						0xffffffff, 0xfffffffe };
	int fd = open(base, O_RDONLY), out, nt = 0, i, k;
	unsigned long nblk, nmeta = 0, *meta, touched[8];
	unsigned char *img;
	struct stat st;

	if (fd < 0 || fstat(fd, &st)) {
		perror(base);
		return 1;
	}
	nblk = (unsigned long)st.st_size / BLK;
	img = malloc((size_t)st.st_size);
	meta = malloc(nblk * sizeof(*meta));
	if (!img || !meta || pread(fd, img, (size_t)st.st_size, 0) != st.st_size)
		return 1;
	close(fd);
	for (i = 0; (unsigned long)i < nblk; i++)
		if (is_meta(img + (size_t)i * BLK))
			meta[nmeta++] = (unsigned long)i;
	if (!nmeta)
		return 1;
	rs = (unsigned long long)seed * 2654435761ULL + 1;
	for (k = 1 + (int)rnd(4); k > 0; k--) {
		unsigned long b = meta[rnd(nmeta)];
		unsigned char *p = img + b * BLK;

		switch (rnd(4)) {
		case 0:
			for (i = 1 + (int)rnd(16); i > 0; i--)
				p[rnd(BLK)] = (unsigned char)rnd(256);
			break;
		case 1:
			memcpy(p + 4 * (4 + rnd(60)), &extreme[rnd(6)], 4);
			break;
		case 2: {
			unsigned long c = meta[rnd(nmeta)];
			unsigned char tmp[BLK];

			memcpy(tmp, p, BLK);
			memcpy(p, img + c * BLK, BLK);
			memcpy(img + c * BLK, tmp, BLK);
			touched[nt++] = c;
			break;
		}
		default:
			memset(p + 64 + rnd(BLK - 128), rnd(2) ? 0xff : 0, 64);
			break;
		}
		touched[nt++] = b;
	}
	if (seed % 2)
		for (i = 0; i < nt; i++) {
			unsigned char *p = img + touched[i] * BLK;
			unsigned int c = crc32_zlib(p + 4, BLK - 4);

			memcpy(p, &c, 4);
		}
	out = open(work, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || write(out, img, (size_t)st.st_size) != st.st_size ||
	    close(out)) {
		perror(work);
		return 1;
	}
	free(img);
	free(meta);
	return 0;
}

/* ---- sequential I/O for tests/bench/kmod-bench.sh (the VM has no fio):
 * 1 MiB writes of a new file and an fsync at the end, or 1 MiB reads to
 * the end; prints "MB/s seconds bytes" (MB = 10^6 bytes) ---- */
static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int seqio(const char *path, long mib, int write_it)
{
	static char b[1 << 20];
	long long bytes = 0;
	double t0 = mono(), dt;
	int fd = write_it ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) :
		 open(path, O_RDONLY);
	ssize_t n;
	long i;

	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(b, 0x5a, sizeof(b));
	if (write_it) {
		for (i = 0; i < mib; i++) {
			b[i % 4096] = (char)i; /* not all pages alike */
			if (write(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
				perror("write");
				return 1;
			}
			bytes += sizeof(b);
		}
		if (fsync(fd)) {
			perror("fsync");
			return 1;
		}
	} else {
		while ((n = read(fd, b, sizeof(b))) > 0)
			bytes += n;
		if (n < 0) {
			perror("read");
			return 1;
		}
	}
	close(fd);
	dt = mono() - t0;
	printf("%.2f %.3f %lld\n", (double)bytes / 1e6 / dt, dt, bytes);
	return 0;
}

/* ---- the kernel's filesystem error notification ---- */
static int fanwait(const char *mnt, int secs)
{
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID, O_RDONLY), n = 0;
	time_t end = time(NULL) + secs;
	char buf[4096] __attribute__((aligned(8)));

	if (fd < 0 || fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
				    FAN_FS_ERROR, AT_FDCWD, mnt)) {
		printf("fanotify: %s\n", strerror(errno));
		return 1;
	}
	printf("armed\n");
	fflush(stdout);
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct fanotify_event_metadata *m;
		ssize_t len;

		if (poll(&p, 1, 200) <= 0)
			continue;
		len = read(fd, buf, sizeof(buf));
		for (m = (void *)buf; FAN_EVENT_OK(m, len);
		     m = FAN_EVENT_NEXT(m, len)) {
			char *i = (char *)(m + 1);

			if (!(m->mask & FAN_FS_ERROR))
				continue;
			while (i < (char *)m + m->event_len) {
				struct fanotify_event_info_header *h = (void *)i;

				if (h->info_type == FAN_EVENT_INFO_TYPE_ERROR) {
					struct fanotify_event_info_error *e = (void *)h;

					printf("fs-error error=%d count=%u\n",
					       e->error, e->error_count);
					n++;
				}
				if (!h->len)
					break;
				i += h->len;
			}
		}
		if (n)
			break;
	}
	if (!n)
		printf("no fs-error\n");
	return !n;
}

/* ---- permissions: ACLs, set-id bits (issue 15) ---- */

static int as_user(char **argv)
{
	gid_t groups[64];
	int n = 0;

	if (strcmp(argv[2], "-")) {
		char *s = argv[2], *e;

		while (*s && n < 64) {
			groups[n++] = (gid_t)strtoul(s, &e, 10);
			s = *e == ',' ? e + 1 : e;
		}
	}
	if (setgroups((size_t)n, groups) ||
	    setresgid((gid_t)atoi(argv[1]), (gid_t)atoi(argv[1]),
		      (gid_t)atoi(argv[1])) ||
	    setresuid((uid_t)atoi(argv[0]), (uid_t)atoi(argv[0]),
		      (uid_t)atoi(argv[0]))) {
		perror("kt as");
		return 2;
	}
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 2;
}

#define KT_ACL_MAX 64

static const char *acl_xname(const char *kind)
{
	return !strcmp(kind, "default") ? "system.posix_acl_default" :
	       "system.posix_acl_access";
}

/* u::rw-,u:1000:r--,g::r--,g:5:rwx,m::r--,o::--- into the xattr format */
static int setacl(const char *path, const char *kind, const char *text)
{
	unsigned char v[4 + 8 * KT_ACL_MAX];
	char buf[4096], *tok, *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", text);
	v[0] = 2, v[1] = v[2] = v[3] = 0;
	for (tok = strtok_r(buf, ",", &save); tok && n < KT_ACL_MAX;
	     tok = strtok_r(NULL, ",", &save), n++) {
		unsigned char *e = v + 4 + 8 * n;
		char *id = strchr(tok, ':'), *perm = id ? strchr(id + 1, ':') : NULL;
		unsigned tag = 0, p = 0, uid = 0xffffffffu;

		if (!perm) {
			fprintf(stderr, "kt setacl: bad entry %s\n", tok);
			return 2;
		}
		switch (tok[0]) {
		case 'u': tag = id[1] != ':' ? 2 : 1; break;
		case 'g': tag = id[1] != ':' ? 8 : 4; break;
		case 'm': tag = 0x10; break;
		case 'o': tag = 0x20; break;
		}
		if (id[1] != ':')
			uid = (unsigned)strtoul(id + 1, NULL, 10);
		p = (perm[1] == 'r' ? 4 : 0) | (perm[1] && perm[2] == 'w' ? 2 : 0) |
		    (perm[1] && perm[2] && perm[3] == 'x' ? 1 : 0);
		e[0] = (unsigned char)tag, e[1] = (unsigned char)(tag >> 8);
		e[2] = (unsigned char)p, e[3] = 0;
		memcpy(e + 4, &uid, 4);
	}
	if (lsetxattr(path, acl_xname(kind), v, 4 + 8 * n, 0))
		printf("%s\n", strerrorname_np(errno));
	else
		printf("ok\n");
	return 0;
}

static int getacl(const char *path, const char *kind)
{
	unsigned char v[4 + 8 * 512];
	ssize_t len = lgetxattr(path, acl_xname(kind), v, sizeof(v)), i;

	if (len < 0) {
		printf("%s\n", errno == ENODATA ? "none" : strerrorname_np(errno));
		return 0;
	}
	for (i = 4; i + 8 <= len; i += 8) {
		unsigned tag = v[i] | v[i + 1] << 8, p = v[i + 2], id;

		memcpy(&id, v + i + 4, 4);
		printf("%s%c:", i > 4 ? "," : "",
		       tag <= 2 ? 'u' : tag <= 8 ? 'g' : tag == 0x10 ? 'm' : 'o');
		if (tag == 2 || tag == 8)
			printf("%u", id);
		printf(":%c%c%c", p & 4 ? 'r' : '-', p & 2 ? 'w' : '-',
		       p & 1 ? 'x' : '-');
	}
	printf("\n");
	return 0;
}

static int op(int argc, char **argv)
{
	const char *path = argv[2], *what = argv[3];
	int r = -1, fd;

	if (!strcmp(what, "write") || !strcmp(what, "otrunc") ||
	    !strcmp(what, "open-w")) {
		fd = open(path, O_WRONLY | (!strcmp(what, "otrunc") ? O_TRUNC :
					    !strcmp(what, "write") ? O_APPEND : 0));
		r = fd < 0 ? -1 : !strcmp(what, "write") ?
			(write(fd, "w", 1) == 1 ? 0 : -1) : 0;
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(what, "open-r")) {
		char b[16];

		fd = open(path, O_RDONLY);
		r = fd < 0 || read(fd, b, sizeof(b)) < 0 ? -1 : 0;
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(what, "truncate")) {
		r = truncate(path, 3);
	} else if (!strcmp(what, "fallocate")) {
		fd = open(path, O_WRONLY);
		r = fd < 0 ? -1 : fallocate(fd, 0, 0, 8192);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(what, "mmap")) {
		char *m;

		fd = open(path, O_RDWR);
		m = fd < 0 ? MAP_FAILED : mmap(NULL, 1, PROT_READ | PROT_WRITE,
					       MAP_SHARED, fd, 0);
		if (m != MAP_FAILED) {
			m[0] = 'm';
			r = msync(m, 1, MS_SYNC);
			munmap(m, 1);
		}
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(what, "copy") && argc == 5) {
		int src = open(argv[4], O_RDONLY);
		loff_t off = 0;

		fd = open(path, O_WRONLY);
		r = src < 0 || fd < 0 ? -1 :
		    copy_file_range(src, NULL, fd, &off, 4, 0) == 4 ? 0 : -1;
		if (src >= 0)
			close(src);
		if (fd >= 0)
			close(fd);
	} else if (!strcmp(what, "chown") && argc == 6) {
		r = chown(path, (uid_t)atoi(argv[4]), (gid_t)atoi(argv[5]));
	} else if (!strncmp(what, "new-", 4) && argc == 6) {
		mode_t m = (mode_t)strtoul(argv[4], NULL, 8);

		umask((mode_t)strtoul(argv[5], NULL, 8));
		if (what[4] == 'f') {
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, m);
			r = fd < 0 ? -1 : close(fd);
		} else if (what[4] == 'd') {
			r = mkdir(path, m);
		} else {
			r = mknod(path, S_IFIFO | m, 0);
		}
	} else {
		fprintf(stderr, "kt op: what %s?\n", what);
		return 2;
	}
	printf("%s\n", r ? strerrorname_np(errno) : "ok");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "as"))
		return as_user(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "setacl"))
		return setacl(argv[2], argv[3], argv[4]);
	if (argc == 4 && !strcmp(argv[1], "getacl"))
		return getacl(argv[2], argv[3]);
	if (argc >= 4 && !strcmp(argv[1], "op"))
		return op(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "euid"))
		return printf("%u\n", (unsigned)geteuid()) < 0;
	if (argc == 4 && !strcmp(argv[1], "seqwrite"))
		return seqio(argv[2], atol(argv[3]), 1);
	if (argc == 3 && !strcmp(argv[1], "seqread"))
		return seqio(argv[2], 0, 0);
	if (argc == 4 && !strcmp(argv[1], "fanwait"))
		return fanwait(argv[2], atoi(argv[3]));
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "xset"))
		return xset(argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	if (argc == 4 && !strcmp(argv[1], "xrm"))
		return xrm(argv[2], argv[3]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "rename"))
		return do_rename(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "fops"))
		return fops(argv[2], strtoull(argv[3], NULL, 0), atoi(argv[4]),
			    argc == 6 && !strcmp(argv[5], "lenient"));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "mmapevict"))
		return mmapevict(argv[2], strtoul(argv[3], NULL, 0),
				 strtoul(argv[4], NULL, 0), argv[5],
				 argc == 7 && !strcmp(argv[6], "prealloc"));
	if (argc == 5 && !strcmp(argv[1], "pcheck"))
		return pcheck(argv[2], strtoul(argv[3], NULL, 0),
			      strtoul(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "mmapfull"))
		return mmapfull(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "mix"))
		return mix(argv[2], strtoull(argv[3], NULL, 0), atoi(argv[4]),
			   argv[5]);
	if (argc == 4 && !strcmp(argv[1], "shift"))
		return do_shift(argv[2], strtoul(argv[3], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "hog"))
		return hog() != 0;
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "ioctl"))
		return do_ioctl(argv[2], argv[3],
				argc == 5 ? (unsigned int)atoi(argv[4]) : 0);
	if (argc == 4 && !strcmp(argv[1], "paths"))
		return do_paths(argv[2], (unsigned int)atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "xget"))
		return xget(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "xlist"))
		return xlist(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "statfs"))
		return do_statfs(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "mmapcmp"))
		return mmapcmp(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "fuzz"))
		return fuzz(argv[2], argv[3], atoi(argv[4]));
	if ((argc >= 3 && argc <= 5) && !strcmp(argv[1], "walk")) {
		if (argc >= 4)
			deadline = time(NULL) + atoi(argv[3]);
		quick = argc == 5 && !strcmp(argv[4], "quick");
		walk(argv[2], 0);
		printf("walk: %ld entries, %ld errors, %ld bytes\n", n_ent,
		       n_err, n_bytes);
		return 0;
	}
	fprintf(stderr, "usage: kt xget|xlist|statfs|mmapcmp|walk|xset|xrm|rename|fops|mix|mmapevict|pcheck|mmapfull|hog|ioctl|paths|fanwait|fuzz|seqwrite|seqread|as|setacl|getacl|op|euid ...\n");
	return 2;
}
