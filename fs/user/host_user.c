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
