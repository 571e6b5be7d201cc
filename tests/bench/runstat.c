// SPDX-License-Identifier: GPL-2.0
/*
 * runstat.c - run a command, report its wall time and peak memory.
 *
 *   runstat RESULTFILE COMMAND [ARG...]
 *
 * Runs COMMAND (its stdout and stderr are left as they are) and writes
 * one line to RESULTFILE:
 *
 *   ELAPSED_S MAXRSS_KIB USER_S SYS_S STATUS
 *
 * ELAPSED_S is the wall time from fork to the child's exit
 * (CLOCK_MONOTONIC, nanosecond resolution, where /usr/bin/time prints
 * only hundredths); MAXRSS_KIB is ru_maxrss of the child from wait4(),
 * the figure GNU time prints for %M; STATUS is the exit status (128 + N
 * for a signal).  Exits with the child's status.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	double t0, t1;
	int status, code;
	pid_t pid;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: runstat RESULTFILE COMMAND [ARG...]\n");
		return 2;
	}
	t0 = now();
	pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 125;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("runstat: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("runstat: wait4");
		return 125;
	}
	t1 = now();
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(argv[1], "w");
	if (!f) {
		perror("runstat: result file");
		return 125;
	}
	fprintf(f, "%.6f %ld %.3f %.3f %d\n", t1 - t0, ru.ru_maxrss,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, code);
	fclose(f);
	return code;
}
