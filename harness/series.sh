#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn series/* into commits on top of the base tree and write them, with
# a cover letter, to work/series/ with git format-patch.
#
# Each series file is a commit message, a line "---", then operations:
#   add PATH...        copy repository files to the same tree paths
#   kconfig SYMBOL...  add these stanzas of Kconfig.pmalloc to the end
#                      of mm/Kconfig's menu, in Kconfig.pmalloc's order
#   maintainers PATH...
#                      add "F:" lines for PATH to the MAINTAINERS entry
#                      that MAINTAINERS.patch adds, in sorted order
#   apply FILE...      apply a diff against the tree (hunks/x.patch)
#   unapply FILE...    apply a diff in reverse: right after "add", it
#                      takes a later patch's feature back out of the
#                      files just added, and that later patch applies
#                      the same diff forward
# Lines starting with "#" after "---" are comments.  UPTO=NN in the
# environment stops after series/NN-*, to test the first patches alone.
#
# "unapply" lets a feature that changes files added by an earlier patch
# (mm/pmalloc.c, say) arrive as patches of its own: the repository holds
# the files with the feature, and the diff hunks/F.patch holds the
# feature alone.  Without UPTO, every file that was added must end up
# identical to the repository's copy, or the run fails, so a diff that
# no longer matches the files is caught.  After an edit or a merge has
# changed such a file, "harness/rehunk.sh hunks/F.patch" writes the diff
# again from the current files.
#
# The commits are made with plumbing on a private index, so the checked
# out tree in work/linux is left alone; "tree.sh" applies the result.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

[ -d "$TREE/.git" ] || die "no base tree; run harness/base.sh first"

name=$(git -C "$ROOT" config user.name || true)
email=$(git -C "$ROOT" config user.email || true)
if [ -z "$name" ] || [ -z "$email" ]; then
	name=$(git -C "$ROOT" log -1 --format=%an 2>/dev/null || true)
	email=$(git -C "$ROOT" log -1 --format=%ae 2>/dev/null || true)
fi
[ -n "$name" ] && [ -n "$email" ] ||
	die "set git config user.name and user.email in $ROOT"
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email
# Date the commits as the repository's last commit, so the same
# sources give byte-identical patches from one run to the next.
date=$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || date -R)
export GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date

tmp=$(mktemp -d "$WORK/series.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Repository paths (and globs in "add") are relative to the root.
cd "$ROOT"
export GIT_DIR=$TREE/.git
export GIT_INDEX_FILE=$tmp/index

# Kconfig.pmalloc restricted to the symbols in $1 (space separated), in
# the file's own order, without the header before the first stanza and
# without leading or trailing blank lines.
kconfig_subset() {
	awk -v want=" $1 " '
	/^(menu)?config[ \t]+/ {
		started = 1
		keep = index(want, " " $2 " ") > 0
	}
	started && keep {
		if ($0 ~ /^[ \t]*$/) { blank++; next }
		for (; blank > 0 && printed; blank--) print ""
		blank = 0
		printed = 1
		print
	}' "$ROOT/Kconfig.pmalloc"
}

# mm/Kconfig from stdin with the file $1 inserted, after a blank line,
# before the "endmenu" that closes it.  The stanzas live in mm/Kconfig
# itself: a separate mm/Kconfig.pmalloc would need a source line naming
# it, which checkpatch reports as the file naming itself.
kconfig_insert() {
	awk -v block="$1" '
	{ line[NR] = $0 }
	/^endmenu$/ { last = NR }
	END {
		if (!last) exit 1
		for (i = 1; i < last; i++) print line[i]
		while ((getline l < block) > 0) print l
		print ""
		for (i = last; i <= NR; i++) print line[i]
	}'
}

# MAINTAINERS from stdin with "F:<tab>PATH" added for every PATH after $1
# to the entry titled $1, its F: lines kept in byte order, which is what
# checkpatch checks.
maintainers_add() {
	perl -e '
	my $title = shift @ARGV;
	my $text = do { local $/; <STDIN> };
	my $done = $text =~ s{^\Q$title\E\n(?:.+\n)*}{
		my @lines = split /^/m, $&;
		my @f = grep { /^F:\t/ } @lines;
		my @rest = grep { !/^F:\t/ } @lines;
		my ($at) = grep { $lines[$_] =~ /^F:\t/ } 0 .. $#lines;
		die "entry $title has no F: lines\n" unless defined $at;
		my %seen;
		@f = grep { !$seen{$_}++ } sort(@f, map { "F:\t$_\n" } @ARGV);
		join "", @rest[0 .. $at - 1], @f, @rest[$at .. $#rest];
	}me;
	die "no MAINTAINERS entry titled $title\n" unless $done;
	print $text;
	' "$@"
}

kconfig_has() {
	grep -Eq "^(menu)?config[ \t]+$1[ \t]*\$" "$ROOT/Kconfig.pmalloc"
}

git read-tree base
parent=$(git rev-parse base)
symbols=
added=
kconfig_blob=$(git rev-parse base:mm/Kconfig)
# The entry's title: the first line MAINTAINERS.patch adds that is not
# a field ("X:<tab>...").
maint_entry=$(sed -n '/^+++ /d; /^+[A-Z]:\t/d; /^+[A-Z]/{s/^+//p;q;}' \
	"$ROOT/MAINTAINERS.patch" 2>/dev/null || true)
n=0

for f in "$ROOT"/series/*; do
	[ -f "$f" ] || continue
	rel=${f#"$ROOT"/}
	num=${rel#series/}
	num=${num%%-*}
	if [ -n "${UPTO:-}" ] && [ "$((10#$num))" -gt "$((10#$UPTO))" ]; then
		say "  $rel: skipped, after UPTO=$UPTO"
		continue
	fi
	grep -qx -- '---' "$f" || die "$rel: no '---' line before the operations"
	sed '/^---$/,$d' "$f" >"$tmp/msg"
	subject=$(head -n1 "$tmp/msg")
	[ -n "$subject" ] || die "$rel: empty subject line"
	[ "$(sed -n 2p "$tmp/msg")" = "" ] || die "$rel: line 2 must be blank"
	awk -v f="$rel" 'length > 72 && NR > 1 {
		printf "warning: %s:%d: over 72 columns\n", f, NR }' "$tmp/msg"

	while read -r op args; do
		case $op in
		''|'#'*) continue ;;
		add)
			for p in $args; do
				[ -f "$ROOT/$p" ] || die "$rel: add: no file $p"
				added="$added $p"
				mode=100644
				[ -x "$ROOT/$p" ] && mode=100755
				blob=$(git hash-object -w "$ROOT/$p")
				git update-index --add --cacheinfo "$mode,$blob,$p"
			done
			;;
		kconfig)
			[ -f "$ROOT/Kconfig.pmalloc" ] || die "$rel: no file Kconfig.pmalloc"
			for s in $args; do
				kconfig_has "$s" ||
					die "$rel: kconfig: no 'config $s' in Kconfig.pmalloc"
				symbols="$symbols $s"
			done
			# Rebuilt from base each time, so mm/Kconfig must not
			# have changed since the last kconfig operation.
			[ "$(git rev-parse :mm/Kconfig)" = "$kconfig_blob" ] ||
				die "$rel: kconfig: mm/Kconfig changed by another operation"
			kconfig_subset "$symbols" >"$tmp/stanzas"
			git cat-file blob base:mm/Kconfig |
				kconfig_insert "$tmp/stanzas" >"$tmp/Kconfig" ||
				die "$rel: kconfig: no endmenu in mm/Kconfig"
			kconfig_blob=$(git hash-object -w "$tmp/Kconfig")
			git update-index --cacheinfo "100644,$kconfig_blob,mm/Kconfig"
			;;
		maintainers)
			[ -n "$maint_entry" ] ||
				die "$rel: maintainers: no entry title in MAINTAINERS.patch"
			# shellcheck disable=SC2086
			git cat-file blob :MAINTAINERS |
				maintainers_add "$maint_entry" $args >"$tmp/MAINTAINERS" ||
				die "$rel: maintainers: cannot add $args"
			blob=$(git hash-object -w "$tmp/MAINTAINERS")
			git update-index --cacheinfo "100644,$blob,MAINTAINERS"
			;;
		apply)
			for p in $args; do
				[ -f "$ROOT/$p" ] || die "$rel: apply: no file $p"
				git apply --cached "$ROOT/$p" ||
					die "$rel: apply: $p does not apply"
			done
			;;
		unapply)
			for p in $args; do
				[ -f "$ROOT/$p" ] || die "$rel: unapply: no file $p"
				git apply --cached -R "$ROOT/$p" ||
					die "$rel: unapply: $p does not reverse; run harness/rehunk.sh $p"
			done
			;;
		*)
			die "$rel: unknown operation '$op'"
			;;
		esac
	done < <(sed '1,/^---$/d' "$f")

	tree=$(git write-tree)
	[ "$tree" != "$(git rev-parse "$parent^{tree}")" ] ||
		die "$rel: the commit changes nothing"
	{
		sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp/msg"
		printf '\nSigned-off-by: %s <%s>\n' "$name" "$email"
	} >"$tmp/msg.full"
	parent=$(git commit-tree "$tree" -p "$parent" -F "$tmp/msg.full")
	n=$((n + 1))
	say "  $rel: $subject"
done

[ "$n" -gt 0 ] || die "no commits in $ROOT/series/"
if [ -z "${UPTO:-}" ]; then
	for p in $added; do
		[ "$(git rev-parse ":$p")" = "$(git hash-object "$ROOT/$p")" ] ||
			die "$p: the series does not end with the repository's file; an unapply diff and its apply do not match"
	done
fi
git update-ref refs/heads/series "$parent"
unset GIT_INDEX_FILE

rm -rf "$SERIES_OUT"
mkdir -p "$SERIES_OUT"
git format-patch -q --cover-letter -o "$SERIES_OUT" base..series

# Fill in the cover letter: first line of cover-letter.txt is the subject,
# the rest the blurb, followed by the base it applies to.
cover=$SERIES_OUT/0000-cover-letter.patch
letter=$ROOT/harness/cover-letter.txt
[ -f "$letter" ] || die "no file harness/cover-letter.txt"
{
	sed '1,2d' "$letter"
	printf '\nThe series applies to Linux %s as shipped in Debian'"'"'s\n' \
		"$(kernel_version)"
	printf 'linux-source-6.12 package.\n'
} >"$tmp/blurb"
SUBJECT=$(head -n1 "$letter") BLURB=$tmp/blurb perl -0pi -e '
	s/\*\*\* SUBJECT HERE \*\*\*/$ENV{SUBJECT}/;
	open(my $b, "<", $ENV{BLURB}) or die;
	my $t = do { local $/; <$b> };
	chomp $t;
	s/\*\*\* BLURB HERE \*\*\*/$t/;
' "$cover"

# Address the cover letter to everyone scripts/get_maintainer.pl names for
# any patch: maintainers in To:, reviewers and lists in Cc:.  It reads
# MAINTAINERS as the series leaves it, because the series adds pmalloc's
# own entry and work/linux need not hold the series yet.
git cat-file blob series:MAINTAINERS >"$tmp/MAINTAINERS"
patches=()
for p in "$SERIES_OUT"/0*.patch; do
	[ "${p##*/}" = 0000-cover-letter.patch ] || patches+=("$p")
done
recipients() {
	(cd "$TREE" && perl scripts/get_maintainer.pl --mpath "$tmp/MAINTAINERS" \
		--no-rolestats --no-git --no-git-fallback "$@" "${patches[@]}")
}
to=$(recipients --m --no-r --no-l)
cc=$(recipients --no-m --r --l)
[ -n "$to" ] || die "get_maintainer.pl names no maintainer for the series"
TO=$to CC=$cc perl -0pi -e '
	sub field {
		my @addr = grep { length } split /\n/, $_[1];
		return @addr ? "$_[0]: " . join(",\n    ", @addr) . "\n" : "";
	}
	my $h = field("To", $ENV{TO}) . field("Cc", $ENV{CC});
	s/\n\n/\n$h\n/;
' "$cover"
say "  cover letter: To: $(echo "$to" | wc -l), Cc: $(echo "$cc" | grep -c . || true) from get_maintainer.pl"

say "series: $n patches and a cover letter in $SERIES_OUT"
