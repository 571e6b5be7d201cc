// SPDX-License-Identifier: GPL-2.0
/* host_user.c - fs/host.h for userspace: libc memory, pthreads, zlib crc32,
 * clock_gettime, and logging to stderr (or syslog when asked). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "../host.h"
#include "user.h"

static int log_min = CFS_LOG_WARN;
static int log_syslog;

void cfs_user_set_log(int min_level, int use_syslog)
{
	log_min = min_level;
	log_syslog = use_syslog;
}

void *host_alloc(u64 size)
{
	return calloc(1, size ? size : 1);
}

void host_free(void *p)
{
	free(p);
}

struct host_mutex {
	pthread_mutex_t m;
};

struct host_mutex *host_mutex_new(void)
{
	struct host_mutex *m = malloc(sizeof(*m));

	if (m)
		pthread_mutex_init(&m->m, NULL);
	return m;
}

void host_mutex_free(struct host_mutex *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->m);
	free(m);
}

void host_mutex_lock(struct host_mutex *m)
{
	pthread_mutex_lock(&m->m);
}

void host_mutex_unlock(struct host_mutex *m)
{
	pthread_mutex_unlock(&m->m);
}

struct host_job {
	pthread_t t;
	pthread_mutex_t m;
	pthread_cond_t cv;
	void (*fn)(void *arg); /* the work started, NULL when none */
	void *arg;
	int busy, quit, alive;
	pid_t pid; /* the helper's process: after a fork (chunkfs-fuse
		    * detaching) the child has no helper and works alone */
};

static void *job_main(void *p)
{
	struct host_job *j = p;

	pthread_mutex_lock(&j->m);
	for (;;) {
		while (!j->busy && !j->quit)
			pthread_cond_wait(&j->cv, &j->m);
		if (!j->busy)
			break;
		pthread_mutex_unlock(&j->m);
		j->fn(j->arg);
		pthread_mutex_lock(&j->m);
		j->busy = 0;
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->m);
	return NULL;
}

/* Start j's helper thread in this process: 0, or -1 (none: the caller
 * works alone). */
static int job_thread(struct host_job *j)
{
	pthread_mutex_init(&j->m, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->busy = j->quit = 0;
	j->pid = getpid();
	j->alive = !pthread_create(&j->t, NULL, job_main, j);
	if (!j->alive) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->m);
	}
	return j->alive ? 0 : -1;
}

/* A fork (chunkfs-fuse detaching after the mount) leaves the child without
 * the helper: it gets its own. */
static int job_here(struct host_job *j)
{
	if (j->pid != getpid())
		job_thread(j);
	return j->alive;
}

struct host_job *host_job_new(void)
{
	struct host_job *j = calloc(1, sizeof(*j));

	if (j && job_thread(j)) {
		free(j);
		j = NULL;
	}
	return j;
}

void host_job_free(struct host_job *j)
{
	if (!j)
		return;
	if (j->pid == getpid() && j->alive) {
		pthread_mutex_lock(&j->m);
		while (j->busy)
			pthread_cond_wait(&j->cv, &j->m);
		j->quit = 1;
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->m);
		pthread_join(j->t, NULL);
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->m);
	}
	free(j);
}

void host_job_start(struct host_job *j, void (*fn)(void *arg), void *arg)
{
	if (!job_here(j)) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&j->m);
	while (j->busy)
		pthread_cond_wait(&j->cv, &j->m);
	j->fn = fn;
	j->arg = arg;
	j->busy = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->m);
}

void host_job_wait(struct host_job *j)
{
	if (j->pid != getpid() || !j->alive)
		return;
	pthread_mutex_lock(&j->m);
	while (j->busy)
		pthread_cond_wait(&j->cv, &j->m);
	pthread_mutex_unlock(&j->m);
}

void host_now(s64 *sec, u32 *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec;
	*nsec = (u32)ts.tv_nsec;
}

u32 host_crc32(u32 crc, const void *buf, u64 len)
{
	const unsigned char *p = buf;

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (u32)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

u64 host_xxh64(const void *buf, u64 len, u64 seed)
{
	return (u64)XXH64(buf, (size_t)len, (XXH64_hash_t)seed);
}

/* ---- XXH64 of many blocks at once, with AVX-512 ----
 * One XXH64 is a chain of dependent 64-bit multiplies in four lanes, so a
 * CPU hashes one block at the speed of its multiplier's latency (about
 * 7.5 GB/s here).  With AVX-512 a register holds the four lanes of two
 * blocks, and eight registers (sixteen blocks) make eight independent
 * chains: about 20 GB/s.  The stripes are the same as in libxxhash's
 * XXH64_round; the merge and the avalanche are done per block as there,
 * with no tail (bs is a multiple of 32), so the sums are XXH64's
 * (test_datasum compares them with libxxhash's). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define X_P1 0x9E3779B185EBCA87ULL
#define X_P2 0xC2B2AE3D27D4EB4FULL
#define X_P3 0x165667B19E3779F9ULL
#define X_P4 0x85EBCA77C2B2AE63ULL

static inline u64 x_rotl(u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline u64 x_round(u64 acc, u64 in)
{
	acc += in * X_P2;
	return x_rotl(acc, 31) * X_P1;
}

static u32 x_final(const u64 *v, u64 len)
{
	u64 h = x_rotl(v[0], 1) + x_rotl(v[1], 7) + x_rotl(v[2], 12) +
		x_rotl(v[3], 18);
	int i;

	for (i = 0; i < 4; i++) {
		h ^= x_round(0, v[i]);
		h = h * X_P1 + X_P4;
	}
	h += len;
	h ^= h >> 33;
	h *= X_P2;
	h ^= h >> 29;
	h *= X_P3;
	h ^= h >> 32;
	return (u32)h;
}

#define X_TARGET __attribute__((target("avx512f,avx512dq")))

/* 2*K blocks from b: acc[k] holds the lanes of blocks 2k and 2k+1 */
static inline __attribute__((always_inline)) X_TARGET
void x_group(const u8 *b, u64 bs, u32 *out, const int K)
{
	const __m512i p1 = _mm512_set1_epi64((long long)X_P1);
	const __m512i p2 = _mm512_set1_epi64((long long)X_P2);
	const __m512i init = _mm512_set_epi64(
		(long long)(0 - X_P1), 0, (long long)X_P2,
		(long long)(X_P1 + X_P2), (long long)(0 - X_P1), 0,
		(long long)X_P2, (long long)(X_P1 + X_P2));
	__m512i acc[8];
	u64 v[8], s;
	int k;

	for (k = 0; k < K; k++)
		acc[k] = init;
	for (s = 0; s < bs; s += 32) {
		/* unrolled: the accumulators stay in registers (without it
		 * they go through the stack, 14 GB/s instead of 20) */
#pragma GCC unroll 8
		for (k = 0; k < K; k++) {
			const u8 *a = b + (u64)(2 * k) * bs + s;
			__m512i in = _mm512_inserti64x4(
				_mm512_castsi256_si512(_mm256_loadu_si256(
					(const __m256i *)a)),
				_mm256_loadu_si256((const __m256i *)(a + bs)),
				1);

			in = _mm512_mullo_epi64(in, p2);
			acc[k] = _mm512_mullo_epi64(_mm512_rol_epi64(
				_mm512_add_epi64(acc[k], in), 31), p1);
		}
	}
	for (k = 0; k < K; k++) {
		_mm512_storeu_si512(v, acc[k]);
		out[2 * k] = x_final(v, bs);
		out[2 * k + 1] = x_final(v + 4, bs);
	}
}

static X_TARGET void x_group16(const u8 *b, u64 bs, u32 *out)
{
	x_group(b, bs, out, 8);
}

static X_TARGET void x_group8(const u8 *b, u64 bs, u32 *out)
{
	x_group(b, bs, out, 4);
}

/* __builtin_cpu_supports reads what libgcc found at start-up: no cache
 * here (one written by several threads would be a data race) */
int cfs_user_xxh_simd(void)
{
	return __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512dq");
}
#else
int cfs_user_xxh_simd(void)
{
	return 0;
}
#endif

void host_xxh64_blocks(const void *buf, u64 bs, u64 n, u32 *out)
{
	const u8 *b = buf;
	u64 i = 0;

#if defined(__x86_64__) && defined(__GNUC__)
	if (bs >= 32 && !(bs % 32) && cfs_user_xxh_simd()) {
		for (; n - i >= 16; i += 16)
			x_group16(b + i * bs, bs, out + i);
		for (; n - i >= 8; i += 8)
			x_group8(b + i * bs, bs, out + i);
	}
#endif
	for (; i < n; i++)
		out[i] = (u32)XXH64(b + i * bs, (size_t)bs, 0);
}

void host_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_min)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		fputs("chunkfs: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
