#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the harness needs, only those missing, so a
# warm run never touches apt.  Expects root (CI and fresh machines are).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The second line is for harness/gates.sh: sparse for C=2, ply and git for
# checkpatch's SPDX check, Sphinx for htmldocs.  The kernel's default
# alabaster theme ships with Sphinx; the rest of what
# scripts/sphinx-pre-install suggests (graphviz, LaTeX) is for figures
# and PDF, which the core-api HTML does not need.
# The third line builds and boots arm64: the cross compiler and
# qemu-system-aarch64 (qemu-system-x86 has qemu-system-i386 too).  The
# fourth is for the LoadPin demo and kselftest: mke2fs for the module's
# images, veritysetup to format one with dm-verity, libc6-dev for the
# static ioctl helper.
PACKAGES="linux-source-6.12 qemu-system-x86 busybox-static ccache gcc make
flex bison bc libelf-dev libssl-dev cpio xz-utils python3 kmod git rsync perl
sparse python3-ply python3-git python3-sphinx
gcc-aarch64-linux-gnu qemu-system-arm
e2fsprogs cryptsetup-bin libc6-dev"

# The arm64 guest's busybox: Debian's busybox-static for arm64, unpacked
# into work/ rather than installed, since it would replace the host's
# /bin/busybox.  apt fetches it once arm64 is a foreign architecture.
arm64_busybox() {
	local dir=$WORK/busybox-arm64 tmp

	[ -x "$dir/bin/busybox" ] && return 0
	say "fetching busybox-static for arm64 into $dir"
	[ "$(id -u)" -eq 0 ] || die "need root to fetch busybox-static:arm64"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		apt-get update -q
	fi
	tmp=$(mktemp -d)
	# apt downloads as _apt where it can, and warns where it cannot.
	chown _apt "$tmp" 2>/dev/null || true
	if ! (cd "$tmp" && apt-get download -q busybox-static:arm64); then
		apt-get update -q
		(cd "$tmp" && apt-get download -q busybox-static:arm64)
	fi
	rm -rf "$dir"
	dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$dir"
	rm -rf "$tmp"
	[ -x "$dir/bin/busybox" ] || die "no bin/busybox in busybox-static:arm64"
}

missing=
for p in $PACKAGES; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing="$missing $p"
done

export DEBIAN_FRONTEND=noninteractive
if [ -z "$missing" ]; then
	say "all packages present"
else
	say "installing:$missing"
	[ "$(id -u)" -eq 0 ] || die "need root to install:$missing"
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
mkdir -p "$WORK"
arm64_busybox
