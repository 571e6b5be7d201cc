#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A replace of a large xattr value (stored in parts) that gets ENOSPC
# keeps the old value, through a real mount: on an image without xattr
# continuations (-O ^xcont, so the chunk's room runs out), /f gets a
# 20000-byte value, then 4000-byte values until ENOSPC, then small ones
# until ENOSPC; replacing the large value with 64 KiB must fail with
# ENOSPC and leave the old value readable (the old parts went before the
# new ones were stored: the old value read back as the new one's first
# parts), after a remount too, and fsck -fn finds nothing.
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 0; }

mkimg "$IMG" 16M -C 4M -O ^xcont
mount_fs "$IMG" "$MNT"
: >"$MNT/f"
py "$MNT/f" <<'EOF'
import os, sys, errno
from cfs_util import *
f = sys.argv[1]
old = bytes((i * 13 + 5) & 255 for i in range(20000))
os.setxattr(f, "user.big", old)
def fill(prefix, size):
    for i in range(2000):
        try:
            os.setxattr(f, "user.%s%d" % (prefix, i), bytes([i & 255]) * size)
        except OSError as e:
            check(e.errno == errno.ENOSPC, "%s: %s" % (prefix, e))
            return i
    check(False, "%s: no ENOSPC" % prefix)
print("4000-byte values: %d, small: %d" % (fill("a", 4000), fill("s", 100)))
try:
    os.setxattr(f, "user.big", b"\x01" * 65536, os.XATTR_REPLACE)
    check(False, "the 64 KiB replace succeeded on a full chunk")
except OSError as e:
    check(e.errno == errno.ENOSPC, "replace: %s" % e)
check(os.getxattr(f, "user.big") == old, "the old value after a failed replace")
EOF
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck" 2>&1 || { cat "$T/fsck"; fail "fsck -fn after the failed replace"; }
mount_fs "$IMG" "$MNT"
py "$MNT/f" <<'EOF'
import os, sys
from cfs_util import *
old = bytes((i * 13 + 5) & 255 for i in range(20000))
check(os.getxattr(sys.argv[1], "user.big") == old, "the old value after a remount")
EOF
umount_fs "$MNT"
finish
