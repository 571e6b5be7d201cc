// SPDX-License-Identifier: GPL-2.0
/*
 * kt.c - a small static helper for the kernel module tests inside the VM
 * (busybox has no xattr, statfs or mmap tools).  Built static on the host.
 *
 *   kt xget PATH NAME        print the xattr's value
 *   kt xlist PATH            print the xattr names, one a line
 *   kt statfs PATH           print f_type bsize blocks bfree bavail files ffree namelen
 *   kt mmapcmp PATH          compare an mmap of the file with read(2): "same" or exit 1
 *   kt walk DIR [SECONDS]    read everything under DIR (names, attributes,
 *                            data, links, xattrs), ignoring errors; print counts
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static long n_ent, n_err, n_bytes;
static time_t deadline;

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
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			n_bytes += n;
		if (n < 0)
			n_err++;
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

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "xget"))
		return xget(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "xlist"))
		return xlist(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "statfs"))
		return do_statfs(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "mmapcmp"))
		return mmapcmp(argv[2]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "walk")) {
		if (argc == 4)
			deadline = time(NULL) + atoi(argv[3]);
		walk(argv[2], 0);
		printf("walk: %ld entries, %ld errors, %ld bytes\n", n_ent,
		       n_err, n_bytes);
		return 0;
	}
	fprintf(stderr, "usage: kt xget|xlist|statfs|mmapcmp|walk ...\n");
	return 2;
}
