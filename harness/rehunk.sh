#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rehunk.sh DIFF...: write each "unapply" diff (see series.sh) again from
# the repository's files as they are now.  Such a diff holds one feature
# alone: the files it names, as the repository has them, against the same
# files without the feature.  After those files changed, by an edit or a
# merge, the old diff may no longer reverse cleanly.  This reverses it
# with patch(1), which finds hunks whose lines moved and, with -F3,
# ignores changed context around them (the lines a hunk adds must still
# be there as they are), and diffs the result against the files again.
# When patch cannot place a hunk, it stops and names it: take the feature
# out of that file by hand into the path it prints and run diff yourself.

set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: harness/rehunk.sh hunks/NAME.patch..."
command -v patch >/dev/null || die "needs patch(1): apt-get install patch"
cd "$ROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for diff in "$@"; do
	[ -f "$diff" ] || die "no file $diff"
	: >"$tmp/new"
	for p in $(sed -n 's|^+++ b/||p' "$diff"); do
		[ -f "$p" ] || die "$diff names $p, which the repository lacks"
		base=$tmp/base/$p
		mkdir -p "$(dirname "$base")"
		cp "$p" "$base"
		# Only this file's part of the diff, reversed onto the copy.
		awk -v f="$p" '
			/^diff --git / { keep = ($3 == "a/" f) }
			keep' "$diff" >"$tmp/part"
		patch -s -R -p1 -F3 --no-backup-if-mismatch -r - -d "$tmp/base" \
			<"$tmp/part" ||
			die "$diff: cannot take the feature out of $p; edit $base and diff it by hand"
		printf 'diff --git a/%s b/%s\n' "$p" "$p" >>"$tmp/new"
		diff -u --label "a/$p" --label "b/$p" "$base" "$p" >>"$tmp/new" &&
			die "$diff: $p no longer holds the feature"
	done
	# A diff that loses most of its lines has lost the feature, not
	# been rewritten: that happened once and left patch 2 holding all of
	# write-rare.  Say so rather than write it.
	was=$(grep -c '^+[^+]' "$diff" || true)
	now=$(grep -c '^+[^+]' "$tmp/new" || true)
	[ "$((now * 2))" -ge "$was" ] ||
		die "$diff: would shrink from $was added lines to $now; take the feature out by hand and diff it"
	if cmp -s "$tmp/new" "$diff"; then
		say "$diff: unchanged"
	else
		cp "$tmp/new" "$diff"
		say "$diff: written again from the current files"
	fi
done
