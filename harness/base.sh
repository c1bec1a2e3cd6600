#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source-6.12 into work/linux and commit it as tag
# "base" of a scratch git repository.  Done once; redone only when the tree
# is missing or the tarball changed (size and mtime in work/base.stamp).

set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$TARBALL" ] || die "$TARBALL missing (package linux-source-6.12)"
stamp=$(stat -c '%s %Y' "$TARBALL")

if [ -d "$TREE/.git" ] && [ "$(cat "$WORK/base.stamp" 2>/dev/null)" = "$stamp" ] &&
   git -C "$TREE" rev-parse -q --verify base >/dev/null; then
	say "base tree present: $TREE"
	exit 0
fi

say "unpacking $TARBALL into $TREE"
rm -rf "$TREE" "$TREE.new" "$WORK/base.stamp"
mkdir -p "$TREE.new"
tar -xJf "$TARBALL" -C "$TREE.new" --strip-components=1

cd "$TREE.new"
git init -q -b tree
git config user.name "pmalloc harness"
git config user.email "harness@pmalloc.invalid"
# Auto gc on a 90k-file repository would stall a build at random.
git config gc.auto 0
git config core.autocrlf false
say "committing the base tree"
# -f: track every file the tarball ships, even ones the kernel's
# .gitignore files would hide.
git add -A -f
git commit -q -m "Linux $(kernel_version "$TREE.new") from Debian linux-source-6.12"
git tag base

cd "$WORK"
mv "$TREE.new" "$TREE"
echo "$stamp" >"$WORK/base.stamp"
say "base: $(git -C "$TREE" rev-parse --short base) ($(kernel_version))"
