#!/bin/sh
# Install the Debian packages chunkfs needs to build and test, when missing.
# As root it installs them; otherwise it prints the exact command.
PKGS="gcc make pkg-config libfuse3-dev fuse3 libext2fs-dev e2fsprogs uuid-dev zlib1g-dev libxxhash-dev python3 util-linux man-db libblkid-dev"
# The administrator's tests (issue 17): systemd-analyze verify/security of
# the scrub units, udevadm test of the udev rule, mkfs.xfs for the
# signature detection.
PKGS="$PKGS systemd udev xfsprogs"
# POSIX ACLs (issue 15): setfacl/getfacl for the FUSE ACL tests.
PKGS="$PKGS acl"
# The kernel module (kmod/) and its VM tests (tests/kmod/): Debian's kernel
# and its headers, qemu (software emulation), busybox for the initramfs.
# Installed without their recommendations (firmware, GUI, ROMs: not needed).
KPKGS="linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static cpio"
missing_of() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
	done
}
missing=$(missing_of $PKGS | tr '\n' ' ')
kmissing=$(missing_of $KPKGS | tr '\n' ' ')
[ -z "$missing$kmissing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing $missing$kmissing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
	if [ -n "$missing" ]; then
		apt-get install -y -qq $missing >/dev/null || {
			echo "deps: apt-get install failed" >&2; exit 1; }
	fi
	if [ -n "$kmissing" ]; then
		apt-get install -y -qq --no-install-recommends $kmissing >/dev/null || {
			echo "deps: apt-get install failed" >&2; exit 1; }
	fi
else
	echo "deps: missing packages: $missing$kmissing" >&2
	echo "deps: run: sudo apt-get install -y $missing$kmissing" >&2
	exit 1
fi
