#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check out the base in work/linux and apply work/series/*.patch with
# git am, which is the test that the series applies as mailed.
#
# Files the series touches get rewritten by the reset and by git am; their
# old mtime is put back when their content did not change, so an unchanged
# include/linux/vmalloc.h does not make the next build recompile half the
# kernel.  When HEAD already holds the tree the series produces, nothing is
# touched at all.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

cd "$TREE"
want=$(git rev-parse --verify -q 'series^{tree}') ||
	die "no series built; run harness/series.sh first"
ls "$SERIES_OUT"/0*.patch >/dev/null 2>&1 || die "no patches in $SERIES_OUT"

# Every commit's tree, not only the last: moving a hunk from one patch to
# another leaves the end result alone, and the bisect gate must then see
# the new commits.
commit_trees() {
	git log --format=%T "base..$1"
}

git update-index -q --refresh >/dev/null || true
if [ "$(git rev-parse 'HEAD^{tree}')" = "$want" ] &&
   [ "$(commit_trees HEAD)" = "$(commit_trees series)" ] &&
   git diff-index --quiet HEAD --; then
	say "tree already holds the series"
	exit 0
fi

git am --abort >/dev/null 2>&1 || true
git diff-index --quiet HEAD -- ||
	say "discarding local changes to tracked files in $TREE"

# path, blob and mtime of every file the current HEAD changed from base.
saved=$WORK/tree.mtimes
git diff --name-only -z base HEAD | while IFS= read -r -d '' p; do
	[ -f "$p" ] || continue
	printf '%s %s %s\n' "$(stat -c %Y "$p")" \
		"$(git hash-object "$p")" "$p"
done >"$saved"

git checkout -q -f -B tree base
patches=$(ls "$SERIES_OUT"/0*.patch | grep -v '/0000-cover-letter.patch$')
# shellcheck disable=SC2086
if ! git am -q $patches; then
	git am --abort || true
	die "the series does not apply to base (see git am output above)"
fi

kept=0
while read -r mtime blob p; do
	[ -f "$p" ] || continue
	[ "$(git hash-object "$p")" = "$blob" ] || continue
	touch -m -d "@$mtime" "$p"
	kept=$((kept + 1))
done <"$saved"
git update-index -q --refresh >/dev/null || true

say "applied $(echo "$patches" | wc -l) patches; kept the mtime of $kept unchanged files"
