# SPDX-License-Identifier: GPL-2.0
# Data checksums in the kernel module (issue 13), sourced by run.sh (its
# helpers, $W, $CFS_BIN): an image made by mkfs.chunkfs -d, bits flipped
# in data blocks of three files (one in a continuation's range) found
# through the format (cfs_util.flip_data), not the checksum code.  A VM
# whose /init is written here (init.sh is left alone) mounts it with the
# module and checks: every undamaged file reads back byte-identical; a
# buffered read and an O_DIRECT read of a damaged block fail (EIO), the
# bytes before and after it read right; the module's event ring has a
# data event naming the file.  On the host after it: fsck.chunkfs -fn is
# clean, fsck -fn --data exits 4 and lists the damaged files.
# Also runs alone: sh tests/kmod/datasum.sh (builds the module).
DS_ALONE=0
if [ -z "${W:-}" ]; then
	DS_ALONE=1
	set -u
	cd "$(dirname "$0")/../.." || exit 2
	CFS_BIN=${CFS_BIN:-$PWD/build/san/bin}
	KMOD_TIMEOUT=${KMOD_TIMEOUT:-600}
	W=$(mktemp -d /tmp/cfs-kmod-ds.XXXXXX) || exit 2
	trap '[ "${KEEP:-0}" = 1 ] && echo "work directory: $W" || rm -rf "$W"' EXIT
	trap 'exit 2' INT TERM
	fail() { echo "FAIL: $*"; exit 1; }
	step() { echo "== $*"; }
	npass=0
	. tests/kmod/lib.sh
	kmod_setup
	kmod_build
fi
step "data checksums: bits flipped on the host, read through the module"
DSI=$W/datasum.img
rm -rf "$W/dstree" "$W/dsroot"
mkdir -p "$W/dstree" "$W/dsroot"
python3 - "$W/dstree" "$W/dsroot/expected" <<'EOF' || fail "datasum tree"
import hashlib, os, random, sys
t, out = sys.argv[1], sys.argv[2]
r = random.Random(13)
sizes = {"small": 3 * 4096 + 5, "medium": 300 * 1024, "big": 6 << 20}
for i in range(6):
    sizes["ok%d" % i] = r.randrange(1, 200000)
with open(out, "w") as e:
    for n, s in sizes.items():
        d = r.randbytes(s)
        open(os.path.join(t, n), "wb").write(d)
        e.write("%s %s\n" % (n, hashlib.md5(d).hexdigest()))
EOF
"$CFS_BIN/mkfs.chunkfs" -q -C 4M -d "$W/dstree" "$DSI" 48M || fail "mkfs.chunkfs -d (datasum)"
: >"$W/dsroot/damaged"
for fb in small:1 medium:10 big:1300; do
	f=${fb%:*} l=${fb#*:}
	"$CFS_BIN/chunkfs" stat --json "$DSI" "/$f" >"$W/ds-stat.json" || fail "chunkfs stat $f"
	PYTHONPATH=tests/fuse python3 - "$DSI" "$W/ds-stat.json" "$l" "$W/dstree/$f" <<'EOF' >>"$W/dsroot/damaged" || fail "flip $f"
import hashlib, json, sys
from cfs_util import flip_data
img, st, l, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
p = json.load(open(st))["paths"][0]
flip_data(img, p["chunk"], p["local"], l)
d = open(src, "rb").read()
before = hashlib.md5(d[:l * 4096]).hexdigest()
after = hashlib.md5(d[(l + 1) * 4096:]).hexdigest()
print(src.rsplit("/", 1)[1], l, (p["chunk"] << 32) | p["local"], before, after)
EOF
done
kmod_initramfs "$W/dsroot"
cat >"$W/dsroot/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
pass() { echo "KT PASS $*"; }
fail() { echo "KT FAIL $*"; }
finish() { echo "KT END"; sync; poweroff -f; }
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	 virtio_pci virtio_blk; do
	insmod /lib/modules/$m.ko || fail "insmod-$m"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
insmod /chunkfs.ko || { fail "insmod chunkfs.ko"; finish; }
mkdir -p /d
mount -t chunkfs /dev/vda /d || { fail "datasum: mount"; finish; }
while read -r n sum; do
	grep -q "^$n " /damaged && continue
	[ "$(md5sum </d/$n | cut -c1-32)" = "$sum" ] && pass "datasum: $n reads back" ||
		fail "datasum: $n differs"
done </expected
while read -r n l ino before after; do
	if dd if=/d/$n of=/dev/null bs=4096 skip=$l count=1 2>/tmp/dd; then
		fail "datasum: $n block $l read (buffered)"
	else
		grep -qi "input/output error" /tmp/dd && pass "datasum: $n block $l: EIO (buffered)" ||
			fail "datasum: $n buffered: $(cat /tmp/dd)"
	fi
	if dd if=/d/$n of=/dev/null bs=4096 skip=$l count=1 iflag=direct 2>/tmp/dd; then
		fail "datasum: $n block $l read (O_DIRECT)"
	else
		grep -qi "input/output error" /tmp/dd && pass "datasum: $n block $l: EIO (O_DIRECT)" ||
			fail "datasum: $n direct: $(cat /tmp/dd)"
	fi
	[ "$(dd if=/d/$n bs=4096 count=$l 2>/dev/null | md5sum | cut -c1-32)" = "$before" ] &&
		pass "datasum: $n before the damage" || fail "datasum: $n before the damage"
	[ "$(dd if=/d/$n bs=4096 skip=$((l + 1)) 2>/dev/null | md5sum | cut -c1-32)" = "$after" ] &&
		pass "datasum: $n after the damage" || fail "datasum: $n after the damage"
	/bin/kt ioctl events /d | grep -q "code 14 chunk [0-9]*: chunk [0-9]*: inode $ino bytes $((l * 4096))-" &&
		pass "datasum: event for inode $ino" || fail "datasum: no event for $ino: $(/bin/kt ioctl events /d | tail -n 3)"
done </damaged
dmesg | grep -q "data checksum mismatch" && pass "datasum: kernel log" || fail "datasum: kernel log"
umount /d && pass "datasum: umount" || fail "datasum: umount"
finish
EOF
chmod 755 "$W/dsroot/init"
kmod_cpio "$W/dsroot" "$W/dsinitrd.gz"
vm datasum "$W/dsinitrd.gz" "" "$DSI"
vm_wait datasum
vm_check datasum || fail "datasum"
npass=$((npass + $(grep -c '^KT PASS' "$W/datasum.txt")))
"$CFS_BIN/fsck.chunkfs" -fn "$DSI" >"$W/fsck-ds.log" 2>&1 || { cat "$W/fsck-ds.log"; fail "fsck.chunkfs -fn (datasum image)"; }
rc=0; "$CFS_BIN/fsck.chunkfs" -fn --data "$DSI" >"$W/fsck-ds2.log" 2>&1 || rc=$?
[ "$rc" = 4 ] || { cat "$W/fsck-ds2.log"; fail "fsck --data exit $rc, not 4"; }
while read -r n l ino rest; do
	grep -q "inode $ino .*file data does not match its checksum.* \[bytes $((l * 4096))-" "$W/fsck-ds2.log" ||
		{ cat "$W/fsck-ds2.log"; fail "fsck --data does not list $n"; }
done <"$W/dsroot/damaged"
echo "fsck.chunkfs -fn --data lists the $(wc -l <"$W/dsroot/damaged") damaged files; -fn alone is clean"
[ "$DS_ALONE" = 0 ] || echo "PASS: kmod datasum ($npass checks in the VM)"
