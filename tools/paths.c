// SPDX-License-Identifier: GPL-2.0
/*
 * paths.c - "chunkfs paths IMAGE-or-MOUNT --chunk K [--json]": what losing
 * chunk K would cost.  The files that have any part in chunk K (their
 * inode, file data in a continuation, directory entries in the
 * directory's home or a continuation), one per line, with every name
 * (from parent pointers), the inode number and the parts.  Nothing is
 * repaired or written.  The list is the library's (cfs_chunk_files,
 * cfs_path_name), asked through CHUNKFS_IOC_CHUNK_FILES and
 * CHUNKFS_IOC_PATH on a mount (FUSE or the kernel module), or directly on
 * an image opened read-only: the same code and the same answer.  It is
 * the set fsck.chunkfs reports as the blast radius once chunk K is lost
 * and repaired.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunkfs.h"

static void paths_usage(FILE *f)
{
	fprintf(f, "Usage: %s paths IMAGE-or-MOUNT --chunk K [--json]\n"
		"List the files that have a part in chunk K - what losing "
		"chunk K would cost:\nthose whose inode is in K (with its "
		"attributes, xattrs and what the file keeps\nthere), whose "
		"data continues into K, and the directories with entries in "
		"K.\nOne line per file: the parts in K (inode, data, "
		"entries), its path and inode\nnumber, and its other names "
		"(hard links).  Paths come from parent pointers\n(format v2, "
		"the pptr feature); without them, inode numbers only.  "
		"Nothing is\nwritten.  MOUNT is any file or directory of a "
		"mounted chunkfs (root only); an\nIMAGE is opened read-only "
		"and must not be mounted (give the mount point then).\n"
		"--json: one JSON object.  Exit status: 0 listed, 1 error "
		"(or part of chunk K's\ninode table unreadable: the list is "
		"incomplete).\n", tool_prog);
}

/* Where the answers come from: a mount (fd) or an image (fs). */
struct src {
	int fd;
	struct tool_fs t;
	u32 nchunks;
};

static int src_files(struct src *s, struct chunkfs_chunk_files *cf)
{
	if (s->fd < 0)
		return cfs_chunk_files(s->t.fs, cf);
	return ioctl(s->fd, CHUNKFS_IOC_CHUNK_FILES, cf) < 0 ? -errno : 0;
}

static int src_path(struct src *s, struct chunkfs_path *p)
{
	if (s->fd < 0)
		return cfs_path_name(s->t.fs, p);
	return ioctl(s->fd, CHUNKFS_IOC_PATH, p) < 0 ? -errno : 0;
}

struct file {
	u64 ino;
	u32 parts, mode;
	char **paths;         /* npaths names */
	u32 npaths;
};

static int cmp_file(const void *a, const void *b)
{
	const struct file *x = a, *y = b;

	if (!x->npaths != !y->npaths)
		return x->npaths ? -1 : 1;
	if (x->npaths) {
		int c = strcmp(x->paths[0], y->paths[0]);

		if (c)
			return c;
	}
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_ino(const void *a, const void *b)
{
	const struct file *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		tool_err("out of memory");
		exit(1);
	}
	return p;
}

static const char *type_name(u32 mode)
{
	switch (mode & CFS_S_IFMT) {
	case CFS_S_IFREG: return "file";
	case CFS_S_IFDIR: return "directory";
	case CFS_S_IFLNK: return "symlink";
	case CFS_S_IFCHR: return "char";
	case CFS_S_IFBLK: return "block";
	case CFS_S_IFIFO: return "fifo";
	case CFS_S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

static void parts_str(u32 parts, char *buf, size_t size)
{
	static const char *names[] = { "inode", "data", "entries", "orphan",
				       "xattrs" };
	size_t o = 0, i;

	buf[0] = 0;
	for (i = 0; i < 5; i++)
		if (parts & (1u << i))
			o += (size_t)snprintf(buf + o, size - o, "%s%s",
					      o ? "," : "", names[i]);
}

/* Every name of f (sorted; the first is the one the line shows). */
static int get_names(struct src *s, struct file *f, struct chunkfs_path *p)
{
	u32 i, count = 1;
	int r;

	for (i = 0; i < count; i++) {
		memset(p, 0, sizeof(*p));
		p->ino = f->ino;
		p->index = i;
		r = src_path(s, p);
		if (r == -ENOENT) /* no name known (or one went meanwhile) */
			break;
		if (r < 0) {
			tool_err("the names of inode %llu: %s",
				 (unsigned long long)f->ino, strerror(-r));
			return r;
		}
		count = p->count;
		f->paths = xrealloc(f->paths, (f->npaths + 1) * sizeof(char *));
		f->paths[f->npaths] = strdup(p->path);
		if (!f->paths[f->npaths]) {
			tool_err("out of memory");
			exit(1);
		}
		f->npaths++;
	}
	if (f->npaths > 1)
		qsort(f->paths, f->npaths, sizeof(char *), cmp_str);
	return 0;
}

static void print_text(const char *source, u32 k, const struct file *v,
		       size_t n, int pptr, int incomplete)
{
	size_t i, npart[5] = { 0 };
	u32 j, b;

	for (i = 0; i < n; i++)
		for (b = 0; b < 5; b++)
			npart[b] += !!(v[i].parts & (1u << b));
	printf("Chunk %u of %s: %zu file%s with a part in it (what losing "
	       "it would cost)\n", k, source, n, n == 1 ? "" : "s");
	printf("  %zu inode%s, %zu with data, %zu with directory entries"
	       "%s\n", npart[0], npart[0] == 1 ? "" : "s", npart[1], npart[2],
	       incomplete ? "; INCOMPLETE: part of its inode table is "
	       "unreadable" : "");
	if (npart[3])
		printf("  %zu continuation%s whose file is gone (fsck would "
		       "move %s to lost+found)\n", npart[3],
		       npart[3] == 1 ? "" : "s", npart[3] == 1 ? "it" : "them");
	if (!pptr)
		printf("  (no paths: this filesystem has no parent pointers, "
		       "made with mkfs -O ^pptr\n  or -O v1; inode numbers "
		       "only)\n");
	for (i = 0; i < n; i++) {
		char pb[64];

		parts_str(v[i].parts, pb, sizeof(pb));
		printf("  %-14s %s (inode %llu", pb,
		       v[i].npaths ? v[i].paths[0] :
		       pptr ? "(no name known)" : "-",
		       (unsigned long long)v[i].ino);
		for (j = 1; j < v[i].npaths; j++)
			printf("%s%s", j == 1 ? "; also " : ", ", v[i].paths[j]);
		printf(")\n");
	}
}

static void print_json(const char *source, int mounted, u32 k, u32 nchunks,
		       const struct file *v, size_t n, int pptr,
		       int incomplete)
{
	static const char *names[] = { "inode", "data", "entries", "orphan",
				       "xattrs" };
	size_t i;
	u32 j, b;

	printf("{\"source\": ");
	json_str(stdout, source);
	printf(", \"mounted\": %s, \"chunk\": %u, \"nchunks\": %u, "
	       "\"pptr\": %s, \"complete\": %s, \"count\": %zu, \"files\": [",
	       mounted ? "true" : "false", k, nchunks,
	       pptr ? "true" : "false", incomplete ? "false" : "true", n);
	for (i = 0; i < n; i++) {
		int o = 0;

		printf("%s\n  {\"ino\": %llu, \"type\": \"%s\", \"mode\": %u, "
		       "\"parts\": [", i ? "," : "",
		       (unsigned long long)v[i].ino, type_name(v[i].mode),
		       v[i].mode);
		for (b = 0; b < 5; b++)
			if (v[i].parts & (1u << b))
				printf("%s\"%s\"", o++ ? ", " : "", names[b]);
		printf("], \"paths\": [");
		for (j = 0; j < v[i].npaths; j++) {
			printf("%s", j ? ", " : "");
			json_str(stdout, v[i].paths[j]);
		}
		printf("]}");
	}
	printf("%s]}\n", n ? "\n" : "");
}

/* Opens what path names: a mount (or a file of one), else an image that
 * is not mounted.  Returns 0, or 1 with a message. */
static int src_open(struct src *s, const char *path, u32 k)
{
	struct chunkfs_health h;
	char dir[PATH_MAX];
	struct stat sb;

	s->fd = -1;
	if (stat(path, &sb) < 0) {
		tool_err("cannot stat %s: %s", path, strerror(errno));
		return 1;
	}
	if (S_ISDIR(sb.st_mode)) {
		s->fd = tool_mount_open(path, &h, 0);
		if (s->fd < 0)
			return 1;
		s->nchunks = h.nchunks;
		return 0;
	}
	if (tool_find_mount(path, dir, sizeof(dir))) {
		tool_err("%s is mounted on %s (its daemon holds it); ask the "
			 "mount: %s paths %s --chunk %u", path, dir, tool_prog,
			 dir, k);
		return 1;
	}
	s->fd = tool_mount_open(path, &h, 1);
	if (s->fd >= 0) { /* a file on a mount */
		s->nchunks = h.nchunks;
		return 0;
	}
	if (tool_open(&s->t, path, TOOL_RDONLY | TOOL_USE_MOUNT) < 0)
		return 1;
	s->nchunks = cfs_geometry(s->t.fs)->nchunks;
	return 0;
}

int cmd_paths(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "chunk", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct chunkfs_chunk_files *cf = NULL;
	struct chunkfs_path *p = NULL;
	struct file *v = NULL;
	size_t n = 0, cap = 0, i, j;
	int json = 0, opt, have_k = 0, r, pptr = 1, incomplete = 0, ret = 0;
	unsigned long long kv = 0;
	struct src s;
	char *end;
	u32 k;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:jh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			errno = 0;
			kv = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || errno || *end ||
			    kv >= CHUNKFS_NO_CHUNK) {
				tool_err("paths: --chunk: '%s' is not a chunk "
					 "number", optarg);
				return 1;
			}
			have_k = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			paths_usage(stdout);
			return 0;
		default:
			paths_usage(stderr);
			return 1;
		}
	}
	if (optind >= argc || !have_k || argc - optind > 1) {
		tool_err("paths: %s", optind >= argc ? "no image or mount given" :
			 !have_k ? "--chunk K is required" :
			 "one image or mount only");
		paths_usage(stderr);
		return 1;
	}
	k = (u32)kv;
	if (src_open(&s, argv[optind], k))
		return 1;
	if (k >= s.nchunks) {
		tool_err("paths: no chunk %u: %s has %u chunk%s (0-%u)", k,
			 argv[optind], s.nchunks, s.nchunks == 1 ? "" : "s",
			 s.nchunks - 1);
		ret = 1;
		goto out;
	}
	cf = malloc(sizeof(*cf));
	p = malloc(sizeof(*p));
	if (!cf || !p) {
		tool_err("out of memory");
		ret = 1;
		goto out;
	}
	/* do paths work here? (the root always has one) */
	memset(p, 0, sizeof(*p));
	p->ino = CFS_ROOT_INO;
	r = src_path(&s, p);
	if (r == -EOPNOTSUPP) {
		pptr = 0;
		tool_err("note: %s has no parent pointers (mkfs -O ^pptr or "
			 "-O v1): inode numbers only, no paths", argv[optind]);
	} else if (r < 0) {
		tool_err("%s: naming the root: %s", argv[optind], strerror(-r));
		ret = 1;
		goto out;
	}
	memset(cf, 0, sizeof(*cf));
	cf->chunk = k;
	for (;;) {
		u64 cursor;

		r = src_files(&s, cf);
		if (r < 0) {
			tool_err("%s: listing chunk %u: %s", argv[optind], k,
				 strerror(-r));
			ret = 1;
			goto out;
		}
		if (n + cf->count > cap) {
			cap = (n + cf->count) * 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		for (i = 0; i < cf->count; i++) {
			memset(&v[n], 0, sizeof(v[n]));
			v[n].ino = cf->f[i].ino;
			v[n].mode = cf->f[i].mode;
			v[n++].parts = cf->f[i].parts;
		}
		incomplete |= !!(cf->flags & CHUNKFS_CF_INCOMPLETE);
		if (cf->flags & CHUNKFS_CF_END)
			break;
		cursor = cf->cursor;
		memset(cf, 0, sizeof(*cf));
		cf->chunk = k;
		cf->cursor = cursor;
	}
	/* one file twice (only on a damaged chunk): its parts merged */
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_ino);
	for (i = j = 0; i < n; i++) {
		if (j && v[j - 1].ino == v[i].ino)
			v[j - 1].parts |= v[i].parts;
		else
			v[j++] = v[i];
	}
	n = j;
	for (i = 0; pptr && i < n; i++)
		if (get_names(&s, &v[i], p) < 0) {
			ret = 1;
			goto out;
		}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_file);
	if (json)
		print_json(argv[optind], s.fd >= 0, k, s.nchunks, v, n, pptr,
			   incomplete);
	else
		print_text(argv[optind], k, v, n, pptr, incomplete);
	if (incomplete) {
		tool_err("warning: part of chunk %u's inode table could not be "
			 "read: the list is incomplete (fsck.chunkfs -n --chunk "
			 "%u tells more)", k, k);
		ret = 1;
	}
out:
	for (i = 0; i < n; i++) {
		for (j = 0; j < v[i].npaths; j++)
			free(v[i].paths[j]);
		free(v[i].paths);
	}
	free(v);
	free(cf);
	free(p);
	if (s.fd >= 0)
		close(s.fd);
	else if (tool_close(&s.t))
		ret = 1;
	return ret;
}
