// SPDX-License-Identifier: GPL-2.0
/*
 * bench-ops.c - the metadata workloads of tests/bench/fuse-bench.sh, as one
 * small program so that every contender pays the same (tiny) per-operation
 * overhead.  Compiled by the script into its temp dir; not part of `make`.
 *
 *   bench-ops smallfiles DIR N SIZE
 *       mkdir DIR and DIR.r; create N files of SIZE bytes in DIR (open
 *       O_CREAT|O_EXCL, one write, close); stat each; rename each into
 *       DIR.r (another directory: its parent pointer changes); unlink each
 *       there; rmdir both.
 *       Prints "total_s create_s stat_s unlink_s rename_s", total_s
 *       without the renames (the figure of earlier versions).
 *   bench-ops mktree DIR NFILES SIZE
 *       DIR/dNN/sNN/fNNN: 100 files per leaf dir, 10 leaf dirs per top dir,
 *       files of SIZE bytes.  Prints "files dirs".
 *   bench-ops walk DIR
 *       readdir every directory below DIR and fstatat() every entry
 *       (no symlink following), recursing into directories.
 *       Prints "seconds files dirs".
 *
 * Exit status 0 on success; any failed call prints errno and exits 1.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "bench-ops: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static char buf[1 << 16];

static void write_file(int dfd, const char *name, size_t size, const char *shown)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
	size_t done = 0;

	if (fd < 0)
		die("create", shown);
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
		ssize_t w = write(fd, buf, n);

		if (w <= 0)
			die("write", shown);
		done += (size_t)w;
	}
	if (close(fd))
		die("close", shown);
}

static int smallfiles(const char *dir, long n, size_t size)
{
	char name[32], rdir[4096];
	struct stat st;
	double t0, t1, t2, tr, t3;
	int dfd, rfd;
	long i;

	snprintf(rdir, sizeof(rdir), "%s.r", dir);
	if (mkdir(dir, 0755))
		die("mkdir", dir);
	if (mkdir(rdir, 0755))
		die("mkdir", rdir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		die("open", dir);
	rfd = open(rdir, O_RDONLY | O_DIRECTORY);
	if (rfd < 0)
		die("open", rdir);
	t0 = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%07ld", i);
		write_file(dfd, name, size, name);
	}
	t1 = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%07ld", i);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
			die("stat", name);
		if ((size_t)st.st_size != size) {
			fprintf(stderr, "bench-ops: %s: size %lld, expected %zu\n",
				name, (long long)st.st_size, size);
			return 1;
		}
	}
	t2 = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%07ld", i);
		if (renameat(dfd, name, rfd, name))
			die("rename", name);
	}
	tr = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%07ld", i);
		if (unlinkat(rfd, name, 0))
			die("unlink", name);
	}
	t3 = now();
	close(dfd);
	close(rfd);
	if (rmdir(dir))
		die("rmdir", dir);
	if (rmdir(rdir))
		die("rmdir", rdir);
	printf("%.6f %.6f %.6f %.6f %.6f\n", t3 - t0 - (tr - t2), t1 - t0,
	       t2 - t1, t3 - tr, tr - t2);
	return 0;
}

static int mktree(const char *dir, long nfiles, size_t size)
{
	char path[4096];
	long files = 0, dirs = 0, top, leaf, f;

	if (mkdir(dir, 0755))
		die("mkdir", dir);
	for (top = 0; files < nfiles; top++) {
		snprintf(path, sizeof(path), "%s/d%03ld", dir, top);
		if (mkdir(path, 0755))
			die("mkdir", path);
		dirs++;
		for (leaf = 0; leaf < 10 && files < nfiles; leaf++) {
			int dfd;

			snprintf(path, sizeof(path), "%s/d%03ld/s%02ld", dir, top, leaf);
			if (mkdir(path, 0755))
				die("mkdir", path);
			dirs++;
			dfd = open(path, O_RDONLY | O_DIRECTORY);
			if (dfd < 0)
				die("open", path);
			for (f = 0; f < 100 && files < nfiles; f++, files++) {
				char name[16];

				snprintf(name, sizeof(name), "f%03ld", f);
				write_file(dfd, name, size, path);
			}
			close(dfd);
		}
	}
	printf("%ld %ld\n", files, dirs);
	return 0;
}

static long wfiles, wdirs;

static void walk(int pfd, const char *name, const char *shown)
{
	int dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY);
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		die("open", shown);
	d = fdopendir(dfd);
	if (!d)
		die("fdopendir", shown);
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			die("stat", de->d_name);
		if (S_ISDIR(st.st_mode)) {
			wdirs++;
			walk(dfd, de->d_name, de->d_name);
		} else {
			wfiles++;
		}
	}
	if (errno)
		die("readdir", shown);
	closedir(d);
}

int main(int argc, char **argv)
{
	memset(buf, 'x', sizeof(buf));
	if (argc == 5 && !strcmp(argv[1], "smallfiles"))
		return smallfiles(argv[2], atol(argv[3]), (size_t)atol(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "mktree"))
		return mktree(argv[2], atol(argv[3]), (size_t)atol(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "walk")) {
		double t0 = now(), t1;

		walk(AT_FDCWD, argv[2], argv[2]);
		t1 = now();
		printf("%.6f %ld %ld\n", t1 - t0, wfiles, wdirs);
		return 0;
	}
	fprintf(stderr, "usage: bench-ops smallfiles DIR N SIZE | "
		"mktree DIR NFILES SIZE | walk DIR\n");
	return 2;
}
