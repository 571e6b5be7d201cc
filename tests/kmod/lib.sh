# SPDX-License-Identifier: GPL-2.0
# tests/kmod/lib.sh - what tests/kmod/run.sh and tests/bench/kmod-bench.sh
# share: the kernel, the module build, the initramfs and the VM.  Sourced
# (POSIX sh) from the repository's top directory after fail() is defined;
# uses W (the work directory) and KMOD_TIMEOUT (seconds for a VM).
#
#   kmod_setup            KVER, VMLINUZ, KMODS; the tools are there
#   kmod_build            make kmod/chunkfs.ko, without warnings
#   kmod_initramfs DIR [MODULE...]  busybox, kt, ptool, GNU cp/getfacl/setfacl
#                         (/gnu), /init and its scripts,
#                         chunkfs.ko, virtio and loop, and the kernel's
#                         MODULEs (paths under kernel/, without .ko)
#   kmod_cpio DIR OUT     the initramfs image
#   vm NAME INITRD APPEND DRIVE...  boot (in the background; VM_MEM MiB)
#   vm_wait NAME          wait for it (killed after KMOD_TIMEOUT)
#   vm_check NAME [KILLED]  its console: kernel complaints, failed checks

kmod_setup() {
	KVER=${KVER:-$(make -s -C kmod kver)}
	[ -n "$KVER" ] || fail "no kernel headers in /lib/modules/*/build (sh tests/deps.sh)"
	VMLINUZ=/boot/vmlinuz-$KVER
	KMODS=/lib/modules/$KVER/kernel
	[ -r "$VMLINUZ" ] || fail "no $VMLINUZ (linux-image-amd64 for the headers' version $KVER)"
	for t in qemu-system-x86_64 cpio gzip python3 gcc; do
		command -v $t >/dev/null || fail "$t missing (sh tests/deps.sh)"
	done
	BUSYBOX=/bin/busybox   # busybox-static's: the initramfs has no libc
	[ -x "$BUSYBOX" ] || fail "no $BUSYBOX (busybox-static: sh tests/deps.sh)"
	echo "kernel $KVER"
}

kmod_build() {
	make -s -C kmod KVER="$KVER" >"$W/build.log" 2>&1 || { cat "$W/build.log"; fail "module build"; }
	if grep -E 'warning:|error:' "$W/build.log"; then fail "module build has warnings"; fi
	[ -f kmod/chunkfs.ko ] || fail "no kmod/chunkfs.ko"
}

kmod_initramfs() {
	_r=$1
	shift
	mkdir -p "$_r/bin" "$_r/lib/modules" "$_r/proc" "$_r/sys" "$_r/dev" "$_r/tmp" "$_r/mnt"
	cp "$BUSYBOX" "$_r/bin/busybox" || fail "busybox"
	gcc -static -O2 -Wall -Wextra -Werror -o "$_r/bin/kt" tests/kmod/kt.c || fail "kt.c"
	# the POSIX checks the FUSE tests run too
	gcc -static -O2 -Wall -Wextra -Werror -o "$_r/bin/ptool" tests/fuse/ptool.c -lpthread ||
		fail "ptool.c"
	cp tests/kmod/init.sh "$_r/init" && chmod 755 "$_r/init" &&
		cp tests/kmod/rw.sh tests/kmod/damage.sh tests/kmod/evict.sh tests/kmod/crash.sh \
		   tests/kmod/bench.sh tests/kmod/perm.sh tests/kmod/posix.sh tests/kmod/heal.sh "$_r/" ||
		fail "init"
	# GNU cp, getfacl and setfacl with their libraries, under /gnu (busybox
	# has no ACLs): posix.sh's cp -a and ACL round trip
	mkdir -p "$_r/gnu"
	for _b in /bin/cp /usr/bin/getfacl /usr/bin/setfacl; do
		[ -x "$_b" ] || fail "no $_b (sh tests/deps.sh: coreutils, acl)"
		cp "$_b" "$_r/gnu/" || fail "$_b"
		for _l in $(ldd "$_b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
			mkdir -p "$_r$(dirname "$_l")" && cp -L "$_l" "$_r$_l" || fail "$_l"
		done
	done
	cp kmod/chunkfs.ko "$_r/chunkfs.ko" && strip --strip-debug "$_r/chunkfs.ko" || fail "chunkfs.ko"
	for m in drivers/virtio/virtio_ring drivers/virtio/virtio \
		 drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev \
		 drivers/virtio/virtio_pci drivers/block/virtio_blk drivers/block/loop "$@"; do
		f=$KMODS/$m.ko
		if [ -f "$f" ]; then cp "$f" "$_r/lib/modules/"
		elif [ -f "$f.xz" ]; then xz -dc "$f.xz" >"$_r/lib/modules/$(basename "$m").ko"
		else fail "no $f"; fi
	done
}

kmod_cpio() {
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2" || fail "cpio"
}

# vm NAME INITRD APPEND DRIVE...: boot the VM in the background, the
# console to $W/NAME.log; QPID is qemu's
vm() {
	_name=$1 _initrd=$2 _append=$3
	shift 3
	_drives=
	for d in "$@"; do _drives="$_drives -drive file=$d,if=virtio,format=raw"; done
	# shellcheck disable=SC2086
	qemu-system-x86_64 -m "${VM_MEM:-512}" -smp 1 -nographic -no-reboot \
		-nic none -monitor none -serial "file:$W/$_name.log" \
		-kernel "$VMLINUZ" -initrd "$_initrd" \
		-append "console=ttyS0 panic=-1 oops=panic panic_on_warn=1 quiet loglevel=4 $_append" \
		$_drives </dev/null >"$W/qemu-$_name.log" 2>&1 &
	QPID=$!
	VM_START=$(date +%s)
}

# vm_wait NAME: wait for qemu (killed after KMOD_TIMEOUT); VM_RC its status
vm_wait() {
	( n=0; while kill -0 "$QPID" 2>/dev/null; do
		sleep 1; n=$((n + 1)); [ $n -ge "$KMOD_TIMEOUT" ] && kill -9 "$QPID"
	done ) >/dev/null 2>&1 &
	_guard=$!
	VM_RC=0
	wait "$QPID" || VM_RC=$?
	wait "$_guard" || :
	echo "VM $1 ran $(( $(date +%s) - VM_START ))s, qemu exit $VM_RC"
}

# vm_check NAME [KILLED]: the console as $W/NAME.txt; 1 on a kernel
# complaint, a failed check, a missing KT END (unless KILLED) or a timeout
vm_check() {
	_bad=0
	[ -f "$W/$1.log" ] || { cat "$W/qemu-$1.log"; fail "$1: no console output"; }
	# a result line may follow other console output on the same line
	tr -d '\r' <"$W/$1.log" | sed 's/^.*KT \(PASS\|FAIL\|END\|CRASHPOINT\)/KT \1/' >"$W/$1.txt"
	grep -E '^KT [A-Z]|^v?fuzz |^statfs|^walk|^fops' "$W/$1.txt"
	if grep -nE 'BUG:|Oops|WARNING:|KASAN|general protection|Kernel panic|Call Trace|UBSAN|kmemleak|allocations leaked|Busy inodes' "$W/$1.txt"; then
		echo "the kernel complained; console:"; tail -n 80 "$W/$1.txt"; _bad=1
	fi
	if [ -z "${2:-}" ]; then
		[ "$VM_RC" = 137 ] && { echo "timeout: the VM did not finish in ${KMOD_TIMEOUT}s"; tail -n 30 "$W/$1.txt"; _bad=1; }
		grep -q '^KT END' "$W/$1.txt" || { echo "no final marker (KT END)"; tail -n 30 "$W/$1.txt"; _bad=1; }
	fi
	if grep -q '^KT FAIL' "$W/$1.txt"; then
		# what the VM printed before each failure (its echo lines)
		echo "console before each failure:"
		grep -B 8 '^KT FAIL' "$W/$1.txt" | grep -v '^KT PASS'
		_bad=1
	fi
	return $_bad
}
