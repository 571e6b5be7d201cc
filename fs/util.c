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

/* A small snprintf for messages: %s %u %d %x %llu %lld %c %%.  Always
 * NUL-terminates (size > 0); returns the length written. */
u32 cfs_format(char *buf, u32 size, const char *fmt, ...)
{
	__builtin_va_list ap;
	u32 n = 0;

	if (!size)
		return 0;
	__builtin_va_start(ap, fmt);
	while (*fmt && n + 1 < size) {
		char tmp[24];
		const char *s = tmp;
		u32 len = 0;
		int ll = 0;

		if (*fmt != '%') {
			buf[n++] = *fmt++;
			continue;
		}
		fmt++;
		if (fmt[0] == 'l' && fmt[1] == 'l') {
			ll = 1;
			fmt += 2;
		}
		switch (*fmt) {
		case 's':
			s = __builtin_va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			len = cfs_strnlen(s, size);
			break;
		case 'c':
			tmp[0] = (char)__builtin_va_arg(ap, int);
			len = 1;
			break;
		case 'u':
		case 'd':
		case 'x': {
			u64 v;
			int neg = 0;
			u32 base = *fmt == 'x' ? 16 : 10, i = sizeof(tmp);

			if (*fmt == 'd') {
				s64 sv = ll ? __builtin_va_arg(ap, s64) :
					      __builtin_va_arg(ap, int);

				neg = sv < 0;
				v = neg ? (u64)-sv : (u64)sv;
			} else {
				v = ll ? __builtin_va_arg(ap, u64) :
					 __builtin_va_arg(ap, u32);
			}
			do {
				tmp[--i] = "0123456789abcdef"[v % base];
				v /= base;
			} while (v);
			if (neg)
				tmp[--i] = '-';
			s = tmp + i;
			len = (u32)sizeof(tmp) - i;
			break;
		}
		case '%':
			tmp[0] = '%';
			len = 1;
			break;
		default:
			tmp[0] = '?';
			len = 1;
			break;
		}
		if (*fmt)
			fmt++;
		while (len-- && n + 1 < size)
			buf[n++] = *s++;
	}
	buf[n] = 0;
	__builtin_va_end(ap);
	return n;
}
