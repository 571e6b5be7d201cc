// SPDX-License-Identifier: GPL-2.0
/*
 * ptool.c - the POSIX checks of issue 15 that both front ends run: built
 * by `make san` as $CFS_BIN/ptool for the FUSE tests, and statically for
 * the kernel module's VM (tests/kmod/lib.sh), from this one source.
 *
 *   ptool fh save PATH HFILE   name_to_handle_at(PATH) into HFILE; prints
 *                              what it names: "ino N TYPE DIGEST" (a file's
 *                              content, or a directory's sorted names, and
 *                              for a directory " parent N": the inode of
 *                              its "..")
 *   ptool fh open MNT HFILE    open_by_handle_at(HFILE) on MNT's filesystem;
 *                              prints the same line of what it opened, or
 *                              the errno's name (ESTALE)
 *   ptool dio FILE KIB SECONDS SEED
 *                              asynchronous direct writes (io_submit on an
 *                              O_DIRECT descriptor) and O_DIRECT pwrite
 *                              from two threads, while two threads read
 *                              the blocks being written through the page
 *                              cache; after each write completes, a
 *                              buffered read of its block must return the
 *                              new bytes, and every few rounds every byte
 *                              of the file read through the page cache is
 *                              compared with the model
 *   ptool atime MODE FILE DIR  the access time rules of MODE (relatime,
 *                              strictatime, noatime) for reads of FILE and
 *                              listings of DIR, as ext4 applies them;
 *                              prints "atime MODE: ok" or what differs
 *   ptool times PATH           "atime SEC.NSEC mtime SEC.NSEC"
 *   ptool sb DEV               the superblock: "state S commit_group G
 *                              mount_count M" (S: 1 clean, 2 dirty)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/aio_abi.h>

#include "../../fs/format.h"

#define BLK 4096

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "ino N TYPE DIGEST[ parent N]" of an open file or directory */
static int describe(int fd, char *out, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct stat st, pst;
	char buf[65536];
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			h = fnv(h, buf, (size_t)n);
		if (n < 0)
			return -errno;
		snprintf(out, size, "ino %llu file %016llx",
			 (unsigned long long)st.st_ino, (unsigned long long)h);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = fdopendir(dup(fd));
		struct dirent *e;
		char **names = NULL;
		size_t nn = 0, cap = 0, i;

		if (!d)
			return -errno;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (nn == cap) {
				cap = cap ? cap * 2 : 64;
				names = realloc(names, cap * sizeof(*names));
				if (!names)
					return -ENOMEM;
			}
			names[nn++] = strdup(e->d_name);
		}
		closedir(d);
		qsort(names, nn, sizeof(*names), cmpstr);
		for (i = 0; i < nn; i++) {
			h = fnv(h, names[i], strlen(names[i]) + 1);
			free(names[i]);
		}
		free(names);
		/* ".." from the directory itself: its parent, found by the
		 * filesystem (get_parent for a handle's directory) */
		if (fstatat(fd, "..", &pst, AT_SYMLINK_NOFOLLOW))
			return -errno;
		snprintf(out, size, "ino %llu dir %016llx parent %llu",
			 (unsigned long long)st.st_ino, (unsigned long long)h,
			 (unsigned long long)pst.st_ino);
		return 0;
	}
	snprintf(out, size, "ino %llu other", (unsigned long long)st.st_ino);
	return 0;
}

static int fh_save(const char *path, const char *hfile)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	char line[256];
	int mid, fd, r;
	FILE *f;

	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mid, 0)) {
		printf("name_to_handle_at %s: %s\n", path, ename(errno));
		return 1;
	}
	f = fopen(hfile, "w");
	if (!f || fwrite(fh, sizeof(*fh) + fh->handle_bytes, 1, f) != 1 ||
	    fclose(f)) {
		perror(hfile);
		return 1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0 || (r = describe(fd, line, sizeof(line))) < 0) {
		printf("%s: %s\n", path, ename(errno));
		return 1;
	}
	close(fd);
	puts(line);
	free(fh);
	return 0;
}

static int fh_open(const char *mnt, const char *hfile)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	char line[256];
	int mfd, fd, r;
	FILE *f = fopen(hfile, "r");

	if (!f || fread(fh, sizeof(*fh), 1, f) != 1 ||
	    fh->handle_bytes > MAX_HANDLE_SZ ||
	    fread(fh->f_handle, 1, fh->handle_bytes, f) != fh->handle_bytes) {
		perror(hfile);
		return 1;
	}
	fclose(f);
	mfd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (mfd < 0) {
		perror(mnt);
		return 1;
	}
	fd = open_by_handle_at(mfd, fh, O_RDONLY);
	free(fh);
	if (fd < 0) {
		puts(ename(errno));
		return 0;
	}
	r = describe(fd, line, sizeof(line));
	if (r < 0) {
		printf("describe: %s\n", ename(-r));
		return 1;
	}
	puts(line);
	close(fd);
	close(mfd);
	return 0;
}

/* ---- direct writes against buffered reads ---- */

static long io_setup_(unsigned n, aio_context_t *c)
{
	return syscall(__NR_io_setup, n, c);
}

static long io_submit_(aio_context_t c, long n, struct iocb **v)
{
	return syscall(__NR_io_submit, c, n, v);
}

static long io_getevents_(aio_context_t c, long min, long max,
			  struct io_event *ev, struct timespec *t)
{
	return syscall(__NR_io_getevents, c, min, max, ev, t);
}

struct dio {
	const char *path;
	uint32_t nblk;
	uint32_t *gen;            /* the model: generation of each block */
	/* held shared by a writer from its generation to its check,
	 * exclusively for a full read */
	pthread_rwlock_t lock;
	pthread_mutex_t glock;    /* gen[] */
	volatile uint32_t hot;    /* the block being written: readers read it */
	volatile int stop;
	volatile long reads, stale;
	time_t end;
};

static void pattern(uint64_t *w, uint32_t b, uint32_t g)
{
	uint32_t i;

	for (i = 0; i < BLK / 8; i++)
		w[i] = ((uint64_t)b << 40 | (uint64_t)g << 12 | i) *
		       0x9e3779b97f4a7c15ULL;
}

/* Is buf block b of generation g? */
static int is_gen(const void *buf, uint32_t b, uint32_t g)
{
	uint64_t w[BLK / 8];

	pattern(w, b, g);
	return !memcmp(buf, w, BLK);
}

static void *dio_reader(void *arg)
{
	struct dio *d = arg;
	char buf[BLK];
	int fd = open(d->path, O_RDONLY);
	unsigned r = (unsigned)(uintptr_t)&buf;

	if (fd < 0)
		return NULL;
	while (!d->stop) {
		uint32_t b = (r = r * 1103515245 + 12345) % 4 ?
			     d->hot : (r >> 8) % d->nblk;

		if (pread(fd, buf, BLK, (off_t)b * BLK) == BLK)
			__atomic_add_fetch(&d->reads, 1, __ATOMIC_RELAXED);
	}
	close(fd);
	return NULL;
}

/* After block b's write of generation g completed: a buffered read sees
 * it.  Returns 0 or 1 (stale, reported). */
static int dio_check(int bfd, uint32_t b, uint32_t g,
		     const char *how)
{
	char buf[BLK];

	if (pread(bfd, buf, BLK, (off_t)b * BLK) != BLK) {
		printf("dio: buffered read of block %u: %s\n", b, ename(errno));
		return 1;
	}
	if (is_gen(buf, b, g))
		return 0;
	printf("dio: block %u: a buffered read after the %s write of "
	       "generation %u returns %s\n", b, how, g,
	       g && is_gen(buf, b, g - 1) ? "the previous generation" :
	       "other bytes");
	return 1;
}

/* O_DIRECT pwrite from a thread: blocks b with b % 4 == its number + 2
 * (the aio writer takes b % 4 < 2) */
struct dio_thr {
	struct dio *d;
	int k;
	long writes, bad;
};

static void *dio_pwriter(void *arg)
{
	struct dio_thr *t = arg;
	struct dio *d = t->d;
	uint64_t *w;
	int fd = open(d->path, O_WRONLY | O_DIRECT);
	int bfd = open(d->path, O_RDONLY);
	unsigned r = 77u + (unsigned)t->k;

	if (fd < 0 || bfd < 0 || posix_memalign((void **)&w, BLK, BLK)) {
		t->bad++;
		return NULL;
	}
	while (!d->stop && time(NULL) < d->end) {
		uint32_t b = ((r = r * 1103515245 + 12345) >> 4) % d->nblk, g;

		b = b - b % 4 + 2 + (uint32_t)t->k;
		if (b >= d->nblk)
			continue;
		pthread_rwlock_rdlock(&d->lock);
		pthread_mutex_lock(&d->glock);
		g = ++d->gen[b];
		pthread_mutex_unlock(&d->glock);
		pattern(w, b, g);
		d->hot = b;
		if (pwrite(fd, w, BLK, (off_t)b * BLK) != BLK) {
			printf("dio: O_DIRECT pwrite of block %u: %s\n", b,
			       ename(errno));
			pthread_rwlock_unlock(&d->lock);
			t->bad++;
			break;
		}
		t->writes++;
		t->bad += dio_check(bfd, b, g, "O_DIRECT pwrite");
		pthread_rwlock_unlock(&d->lock);
	}
	free(w);
	close(fd);
	close(bfd);
	return NULL;
}

/* Every byte of the file through the page cache against the model; the
 * O_DIRECT pwrite threads are held off meanwhile (d->lock). */
static int dio_full(struct dio *d, int bfd)
{
	char buf[BLK];
	uint32_t b;
	int bad = 0;

	for (b = 0; b < d->nblk; b++) {
		if (pread(bfd, buf, BLK, (off_t)b * BLK) != BLK) {
			printf("dio: full read, block %u: %s\n", b, ename(errno));
			return 1;
		}
		if (!is_gen(buf, b, d->gen[b])) {
			if (bad++ < 5)
				printf("dio: full read: block %u is not "
				       "generation %u\n", b, d->gen[b]);
		}
	}
	return bad != 0;
}

static int dio(const char *path, long kib, int secs, unsigned seed)
{
	struct dio d;
	pthread_t rd[2], wt[2];
	struct dio_thr th[2];
	aio_context_t ctx = 0;
	uint64_t *w;
	unsigned r = seed;
	long awrites = 0, bad = 0, fulls = 0, i;
	int fd, afd, bfd;

	memset(&d, 0, sizeof(d));
	d.path = path;
	d.nblk = (uint32_t)(kib * 1024 / BLK);
	d.gen = calloc(d.nblk, sizeof(*d.gen));
	pthread_rwlock_init(&d.lock, NULL);
	pthread_mutex_init(&d.glock, NULL);
	if (!d.gen || d.nblk < 16 || posix_memalign((void **)&w, BLK, BLK)) {
		puts("dio: bad size");
		return 1;
	}
	/* generation 0 everywhere, written and synced through the cache */
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (i = 0; i < d.nblk; i++) {
		pattern(w, (uint32_t)i, 0);
		if (pwrite(fd, w, BLK, (off_t)i * BLK) != BLK) {
			perror("pwrite");
			return 1;
		}
	}
	fsync(fd);
	close(fd);
	afd = open(path, O_RDWR | O_DIRECT);
	bfd = open(path, O_RDONLY);
	if (afd < 0 || bfd < 0 || io_setup_(8, &ctx)) {
		printf("dio: O_DIRECT open or io_setup: %s\n", ename(errno));
		return 1;
	}
	if (dio_full(&d, bfd))
		return 1;
	d.end = time(NULL) + secs;
	for (i = 0; i < 2; i++)
		pthread_create(&rd[i], NULL, dio_reader, &d);
	for (i = 0; i < 2; i++) {
		th[i].d = &d;
		th[i].k = (int)i;
		th[i].writes = th[i].bad = 0;
		pthread_create(&wt[i], NULL, dio_pwriter, &th[i]);
	}
	while (time(NULL) < d.end && bad < 5) {
		struct iocb cb, *cbs[1] = { &cb };
		struct io_event ev;
		uint32_t b = ((r = r * 1103515245 + 12345) >> 4) % d.nblk, g;

		b = b - b % 4 + (r >> 20) % 2; /* b % 4 < 2: the aio's */
		pthread_mutex_lock(&d.glock);
		g = ++d.gen[b];
		pthread_mutex_unlock(&d.glock);
		pattern(w, b, g);
		memset(&cb, 0, sizeof(cb));
		cb.aio_fildes = (uint32_t)afd;
		cb.aio_lio_opcode = IOCB_CMD_PWRITE;
		cb.aio_buf = (uint64_t)(uintptr_t)w;
		cb.aio_nbytes = BLK;
		cb.aio_offset = (int64_t)b * BLK;
		d.hot = b;
		if (io_submit_(ctx, 1, cbs) != 1) {
			printf("dio: io_submit: %s\n", ename(errno));
			bad++;
			break;
		}
		if (io_getevents_(ctx, 1, 1, &ev, NULL) != 1 ||
		    ev.res != BLK) {
			printf("dio: aio write of block %u: res %lld\n", b,
			       (long long)ev.res);
			bad++;
			break;
		}
		awrites++;
		bad += dio_check(bfd, b, g, "asynchronous direct");
		if (awrites % 500 == 0) {
			/* every byte, with the other writers held off */
			pthread_rwlock_wrlock(&d.lock);
			bad += dio_full(&d, bfd);
			pthread_rwlock_unlock(&d.lock);
			fulls++;
		}
	}
	d.stop = 1;
	for (i = 0; i < 2; i++) {
		pthread_join(wt[i], NULL);
		pthread_join(rd[i], NULL);
		bad += th[i].bad;
	}
	bad += dio_full(&d, bfd);
	printf("dio: %ld asynchronous direct writes, %ld + %ld O_DIRECT "
	       "pwrites, %ld buffered reads beside them, %ld full reads: %s\n",
	       awrites, th[0].writes, th[1].writes, d.reads, fulls + 1,
	       bad ? "STALE" : "ok");
	if (!awrites || !th[0].writes || !th[1].writes || !d.reads)
		bad++;
	close(afd);
	close(bfd);
	free(w);
	free(d.gen);
	return bad != 0;
}

/* ---- access times ---- */

static long long ns_of(struct timespec t)
{
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int times_of(const char *path, long long *a, long long *m)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*a = ns_of(st.st_atim);
	if (m)
		*m = ns_of(st.st_mtim);
	return 0;
}

static void nap(void)
{
	struct timespec t = { 0, 20 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

static int read_all(const char *path)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	return n < 0 ? -1 : 0;
}

static int list_all(const char *path)
{
	DIR *d = opendir(path);

	if (!d)
		return -errno;
	while (readdir(d))
		;
	closedir(d);
	return 0;
}

/* One access (a read of a file, a listing of a directory) and what MODE
 * does to the access time then: want 1 updated (to at least the time
 * before the access), 0 unchanged. */
static int access_step(const char *mode, const char *what, const char *path,
		       int isdir, int want)
{
	long long a0, a1;
	struct timespec now;

	if (times_of(path, &a0, NULL))
		return 1;
	nap();
	clock_gettime(CLOCK_REALTIME, &now);
	if (isdir ? list_all(path) : read_all(path)) {
		printf("atime %s: %s: cannot access %s\n", mode, what, path);
		return 1;
	}
	if (times_of(path, &a1, NULL))
		return 1;
	/* (the filesystem's clock may round down to its granularity) */
	if (want ? a1 != a0 && a1 >= ns_of(now) - 1000000000LL : a1 == a0)
		return 0;
	printf("atime %s: %s: atime %lld.%09lld -> %lld.%09lld (%s)\n", mode,
	       what, a0 / 1000000000LL, a0 % 1000000000LL, a1 / 1000000000LL,
	       a1 % 1000000000LL, want ? "not updated" : "updated");
	return 1;
}

static int atime(const char *mode, const char *file, const char *dir)
{
	int relat = !strcmp(mode, "relatime"), strict = !strcmp(mode, "strictatime");
	int none = !strcmp(mode, "noatime"), bad = 0, fd;
	struct timespec ts[2];
	char path[4096];

	if (!relat && !strict && !none) {
		printf("atime: unknown mode %s\n", mode);
		return 1;
	}
	/* an access time older than the modification time */
	clock_gettime(CLOCK_REALTIME, &ts[1]);
	ts[0] = ts[1];
	ts[0].tv_sec -= 3600;
	ts[1].tv_sec -= 60;
	if (utimensat(AT_FDCWD, file, ts, 0) || utimensat(AT_FDCWD, dir, ts, 0)) {
		printf("atime: utimensat: %s\n", ename(errno));
		return 1;
	}
	bad += access_step(mode, "read, atime older than mtime", file, 0, !none);
	bad += access_step(mode, "read again", file, 0, strict);
	bad += access_step(mode, "and again", file, 0, strict);
	/* a change: the next read updates it again (relatime: once) */
	fd = open(file, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd)) {
		printf("atime: append to %s: %s\n", file, ename(errno));
		return 1;
	}
	bad += access_step(mode, "read after a write", file, 0, !none);
	bad += access_step(mode, "read after that", file, 0, strict);
	/* directories: a listing is their read */
	bad += access_step(mode, "listing, atime older than mtime", dir, 1, !none);
	bad += access_step(mode, "listing again", dir, 1, strict);
	snprintf(path, sizeof(path), "%s/atime-new", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || close(fd)) {
		printf("atime: create %s: %s\n", path, ename(errno));
		return 1;
	}
	bad += access_step(mode, "listing after a new entry", dir, 1, !none);
	bad += access_step(mode, "listing after that", dir, 1, strict);
	unlink(path);
	if (!bad)
		printf("atime %s: ok\n", mode);
	return bad != 0;
}

static int times(const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		printf("%s\n", ename(errno));
		return 1;
	}
	printf("atime %lld.%09ld mtime %lld.%09ld\n",
	       (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return 0;
}

static int sb(const char *dev)
{
	union {
		struct cfs_super s;
		char b[1024];
	} u;
	int fd = open(dev, O_RDONLY);

	if (fd < 0 || pread(fd, &u, sizeof(u), 0) != sizeof(u)) {
		perror(dev);
		return 1;
	}
	close(fd);
	if (u.s.h.magic != CFS_MAGIC_SUPER) {
		printf("%s: no chunkfs superblock\n", dev);
		return 1;
	}
	printf("state %u commit_group %llu mount_count %llu\n", u.s.state,
	       (unsigned long long)u.s.commit_group,
	       (unsigned long long)u.s.mount_count);
	return 0;
}

static int usage(void)
{
	fputs("usage: ptool fh save PATH HFILE | fh open MNT HFILE |\n"
	      "       ptool dio FILE KIB SECONDS SEED |\n"
	      "       ptool atime relatime|strictatime|noatime FILE DIR |\n"
	      "       ptool times PATH | sb DEV\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "fh") && !strcmp(argv[2], "save"))
		return fh_save(argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "fh") && !strcmp(argv[2], "open"))
		return fh_open(argv[3], argv[4]);
	if (argc == 6 && !strcmp(argv[1], "dio"))
		return dio(argv[2], atol(argv[3]), atoi(argv[4]),
			   (unsigned)atoi(argv[5]));
	if (argc == 5 && !strcmp(argv[1], "atime"))
		return atime(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "times"))
		return times(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "sb"))
		return sb(argv[2]);
	return usage();
}
