// SPDX-License-Identifier: GPL-2.0
/*
 * gentree.c - write a deterministic file tree for tests/bench/fsck.sh.
 *
 *   gentree DIR NFILES NDIRS NBIG BIGMIN_MIB BIGMAX_MIB SMALLMAX SEED
 *
 * DIR (must not exist) gets NDIRS directories, 50 top directories
 * d00..d49 each holding NDIRS/50 leaves (d00/l0000, ...), NFILES small files
 * f000000 ... spread round-robin over the leaves, with sizes uniform in
 * [0, SMALLMAX] bytes, and NBIG large files big/b0000 ... of
 * BIGMIN_MIB..BIGMAX_MIB MiB.  Sizes and contents come from a xorshift64*
 * generator seeded with SEED, so the same arguments give the same tree.
 * Prints "files dirs bytes" on stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t st;

static uint64_t rnd(void)
{
	st ^= st >> 12;
	st ^= st << 25;
	st ^= st >> 27;
	return st * 0x2545F4914F6CDD1DULL;
}

static void fill(uint64_t *buf, size_t words)
{
	for (size_t i = 0; i < words; i++)
		buf[i] = rnd();
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "gentree: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void write_all(int fd, const void *p, size_t n, const char *path)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write", path);
		}
		c += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: gentree DIR NFILES NDIRS NBIG BIGMIN_MIB BIGMAX_MIB SMALLMAX SEED\n");
		return 2;
	}
	const char *root = argv[1];
	long nfiles = atol(argv[2]), ndirs = atol(argv[3]), nbig = atol(argv[4]);
	long bigmin = atol(argv[5]), bigmax = atol(argv[6]), smallmax = atol(argv[7]);
	uint64_t seed = strtoull(argv[8], NULL, 0);
	long ntop = ndirs >= 50 ? 50 : 1, nleaf = ndirs / ntop;
	char path[4096];
	uint64_t *buf;
	size_t bufsz = (size_t)(bigmax > 0 ? bigmax : 1) << 20;
	uint64_t bytes = 0;
	long dirs = 1;

	if (nleaf < 1)
		nleaf = 1;
	if (bufsz < (size_t)smallmax + 8)
		bufsz = (size_t)smallmax + 8;
	st = seed * 0x9E3779B97F4A7C15ULL + 1;
	buf = malloc(bufsz + 8);
	if (!buf)
		return 1;
	if (mkdir(root, 0755))
		die("mkdir", root);
	for (long t = 0; t < ntop; t++) {
		snprintf(path, sizeof(path), "%s/d%02ld", root, t);
		if (mkdir(path, 0755))
			die("mkdir", path);
		dirs++;
		for (long l = 0; l < nleaf; l++) {
			snprintf(path, sizeof(path), "%s/d%02ld/l%04ld", root, t, l);
			if (mkdir(path, 0755))
				die("mkdir", path);
			dirs++;
		}
	}
	/* one random block of data reused with a per-file rotation keeps the
	 * small files cheap to make while no two are the same */
	fill(buf, bufsz / 8);
	for (long i = 0; i < nfiles; i++) {
		long leaf = i % (ntop * nleaf);
		size_t sz = (size_t)(rnd() % (uint64_t)(smallmax + 1));
		size_t off = (size_t)(rnd() % (bufsz - sz - 7)) & ~(size_t)7;
		int fd;

		snprintf(path, sizeof(path), "%s/d%02ld/l%04ld/f%06ld", root,
			 leaf / nleaf, leaf % nleaf, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create", path);
		if (sz)
			write_all(fd, (char *)buf + off, sz, path);
		close(fd);
		bytes += sz;
	}
	if (nbig > 0) {
		snprintf(path, sizeof(path), "%s/big", root);
		if (mkdir(path, 0755))
			die("mkdir", path);
		dirs++;
	}
	for (long i = 0; i < nbig; i++) {
		size_t mib = (size_t)bigmin + (size_t)(rnd() % (uint64_t)(bigmax - bigmin + 1));
		size_t sz = (mib << 20) - (size_t)(rnd() % 4096);
		int fd;

		snprintf(path, sizeof(path), "%s/big/b%04ld", root, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create", path);
		fill(buf, (sz + 7) / 8);
		write_all(fd, buf, sz, path);
		close(fd);
		bytes += sz;
	}
	printf("%ld %ld %" PRIu64 "\n", nfiles + nbig, dirs, bytes);
	return 0;
}
