/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host.h - the only window from fs/ to the world.
 *
 * fs/ is compiled unchanged into the userspace programs (fs/user/), the test
 * programs (tests/) and the kernel module (kmod/).  Each host supplies the
 * functions declared here.  Nothing in fs/ includes any other header from
 * outside fs/, and fs/ has no kernel-only conditionals at all.
 *
 * Types are spelled so that they are identical to the kernel's own u8..u64
 * typedefs (asm-generic/int-ll64.h), so the kernel glue can include both.
 */
#ifndef CFS_HOST_H
#define CFS_HOST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

#ifndef NULL
#define NULL ((void *)0)
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "chunkfs v1 stores little-endian fields and needs a little-endian host"
#endif

/* Compiler builtins: they need no header in any host. */
#define cfs_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define cfs_memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define cfs_memset(d, c, n) __builtin_memset((d), (c), (n))
#define cfs_memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#define CFS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CFS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CFS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CFS_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#define CFS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Error numbers: fs/ returns their negatives.  The values are Linux's, which
 * both the kernel and glibc use, so front ends only negate them. */
#define CFS_EPERM 1
#define CFS_ENOENT 2
#define CFS_EIO 5
#define CFS_ENXIO 6
#define CFS_E2BIG 7
#define CFS_EBADF 9
#define CFS_EAGAIN 11
#define CFS_ENOMEM 12
#define CFS_EACCES 13
#define CFS_EBUSY 16
#define CFS_EEXIST 17
#define CFS_EXDEV 18
#define CFS_ENODEV 19
#define CFS_ENOTDIR 20
#define CFS_EISDIR 21
#define CFS_EINVAL 22
#define CFS_EFBIG 27
#define CFS_ENOSPC 28
#define CFS_ESPIPE 29
#define CFS_EROFS 30
#define CFS_EMLINK 31
#define CFS_ERANGE 34
#define CFS_ENAMETOOLONG 36
#define CFS_ENOSYS 38
#define CFS_ENOTEMPTY 39
#define CFS_ELOOP 40
#define CFS_ENODATA 61
#define CFS_EOVERFLOW 75
#define CFS_EOPNOTSUPP 95
#define CFS_ESTALE 116  /* an inode a repair has freed */
#define CFS_EUCLEAN 117 /* structure needs cleaning: corrupt metadata */

/* ---- block device: a table of callbacks, one per open device ---- */
struct cfs_bdev;
struct cfs_bdev_ops {
	/* Byte-addressed I/O; return 0 or a negative errno.  A short read or
	 * write is an error (-CFS_EIO). */
	int (*read)(struct cfs_bdev *dev, u64 off, void *buf, u64 len);
	int (*write)(struct cfs_bdev *dev, u64 off, const void *buf, u64 len);
	/* Make every completed write durable. */
	int (*flush)(struct cfs_bdev *dev);
};
struct cfs_bdev {
	const struct cfs_bdev_ops *ops;
	u64 size;     /* bytes */
	int readonly; /* writes are refused with -CFS_EROFS */
	int parallel_read; /* reads may come from two threads at once */
	void *priv;   /* the host's */
};

/* ---- memory ---- */
void *host_alloc(u64 size);  /* zeroed; NULL when out of memory */
void host_free(void *p);     /* NULL is fine */

/* ---- locks ---- */
struct host_mutex;
struct host_mutex *host_mutex_new(void);
void host_mutex_free(struct host_mutex *m);
void host_mutex_lock(struct host_mutex *m);
void host_mutex_unlock(struct host_mutex *m);

/* ---- a helper thread: work that overlaps the caller's own (hashing
 * data while the next data is read or written).  host_job_new() may
 * return NULL (a host without helper threads: the kernel module, or out
 * of memory): the caller then does the work itself.  One job at a time
 * per helper: host_job_start() runs fn(arg) on it, host_job_wait() returns
 * when that is done (at once when none was started). ---- */
struct host_job;
struct host_job *host_job_new(void);
void host_job_free(struct host_job *j); /* NULL is fine; waits first */
void host_job_start(struct host_job *j, void (*fn)(void *arg), void *arg);
void host_job_wait(struct host_job *j);

/* ---- time: wall clock, nanoseconds since the epoch ---- */
void host_now(s64 *sec, u32 *nsec);

/* ---- crc32: zlib's polynomial and conventions: crc32(0, buf, len) ---- */
u32 host_crc32(u32 crc, const void *buf, u64 len);

/* ---- xxHash64 (XXH64), as libxxhash and the kernel's xxh64() compute
 * it: the data checksums (FORMAT.md 16.6) ---- */
u64 host_xxh64(const void *buf, u64 len, u64 seed);
/* The low 32 bits of XXH64 (seed 0) of each of n blocks of bs bytes that
 * lie one after another from buf: out[i] for block i.  bs is a multiple
 * of 32.  A host may hash several blocks at once (the same sums). */
void host_xxh64_blocks(const void *buf, u64 bs, u64 n, u32 *out);

/* ---- logging ---- */
#define CFS_LOG_ERR 3
#define CFS_LOG_WARN 4
#define CFS_LOG_INFO 6
#define CFS_LOG_DEBUG 7
void host_log(int level, const char *fmt, ...) CFS_PRINTF(2, 3);

#endif
