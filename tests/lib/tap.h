/* SPDX-License-Identifier: GPL-2.0 */
/* tap.h - tiny assertion helpers for the unit tests. */
#ifndef CFS_TAP_H
#define CFS_TAP_H
#include <stdio.h>
#include <stdlib.h>

static int tap_fail;
#define CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); tap_fail++; \
	if (tap_fail > 20) exit(1); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	CHECK(_a == _b, "%s = %lld, expected %lld", #a, _a, _b); } while (0)
#define CHECK_OK(x) CHECK_EQ((x), 0)
#endif
