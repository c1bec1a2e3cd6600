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
# and PDF, which the core-api HTML does not need.  The third line is for
# the LoadPin demo and kselftest: mke2fs for the module's ext4 images,
# veritysetup to format one with dm-verity, libc6-dev for the static
# ioctl helper.
PACKAGES="linux-source-6.12 qemu-system-x86 busybox-static ccache gcc make
flex bison bc libelf-dev libssl-dev cpio xz-utils python3 kmod git rsync perl
sparse python3-ply python3-git python3-sphinx
e2fsprogs cryptsetup-bin libc6-dev"

missing=
for p in $PACKAGES; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$s" = "install ok installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	say "all packages present"
	exit 0
fi

say "installing:$missing"
[ "$(id -u)" -eq 0 ] || die "need root to install:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
