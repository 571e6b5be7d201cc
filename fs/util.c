// SPDX-License-Identifier: GPL-2.0
/* util.c - small helpers fs/ needs and cannot take from libc. */
#include "internal.h"

u32 cfs_strnlen(const char *s, u32 max)
{
	u32 n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

u64 cfs_fnv1a(u64 h, const void *p, u32 len)
{
	const u8 *b = p;
	u32 i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
