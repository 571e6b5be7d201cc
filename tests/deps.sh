#!/bin/sh
# Install the Debian packages chunkfs needs to build and test, when missing.
# As root it installs them; otherwise it prints the exact command.
PKGS="gcc make pkg-config libfuse3-dev fuse3 libext2fs-dev e2fsprogs uuid-dev zlib1g-dev python3 util-linux man-db"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $missing >/dev/null || {
		echo "deps: apt-get install failed" >&2; exit 1; }
else
	echo "deps: missing packages:$missing" >&2
	echo "deps: run: sudo apt-get install -y$missing" >&2
	exit 1
fi
