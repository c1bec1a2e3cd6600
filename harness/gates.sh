#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gates.sh source|objects|bisect|configs: the checks a maintainer's
# scripts would run on the series, each one a counted result of
# "make check".
#
#   source   needs work/series and work/linux holding the series:
#              checkpatch  scripts/checkpatch.pl --strict, one result per
#                          patch (not the cover letter)
#              kernel-doc  scripts/kernel-doc -none -Wall on every .c and
#                          .h file the series adds
#              sphinx      "make SPHINXDIRS=core-api htmldocs" into
#                          work/build-docs, failing on any warning that
#                          names a file of ours
#   objects  needs the kernel kunit.sh built in work/build-x86_64:
#              objects     sparse (C=2) and W=1 over every .c file the
#                          series adds or changes that this config builds,
#                          failing on warnings in our files or our lines
#
#   bisect   needs the same kernel: every earlier commit of the series
#            built on its own with that .config (olddefconfig drops what
#            the commit does not know yet), one result per commit, newest
#            first, in one incremental folder, work/build-bisect/x86_64,
#            from a git worktree of work/linux in work/build-bisect/linux
#   configs  x86_64 builds from tinyconfig plus a fragment of
#            harness/configs/, one result each, in work/build-NAME:
#              tiny-pmalloc     CONFIG_PMALLOC=y; vmlinux
#              pmalloc-n-users  CONFIG_PMALLOC=n and every user of pmalloc
#                               enabled, built in; vmlinux
#
# Each gate prints "gate NAME [WHAT]: ok (Ns)" or "... FAILED (Ns)" and
# then what it found, and records "PASS|FAIL gate NAME [WHAT]" in
# $RESULTS/gates-MODE for check.sh to count.  A failed gate does not make
# this script fail; only a harness error does.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

mode=${1:?usage: gates.sh source|objects|bisect|configs}
case $mode in
source|objects|bisect|configs) ;;
*) die "unknown mode $mode" ;;
esac

# checkpatch runs scripts/spdxcheck.py through "python3" from PATH; it
# needs the ply and git modules deps.sh installs for Debian's python3,
# which a python3 found earlier in PATH may lack.
export PATH=/usr/bin:$PATH

mkdir -p "$RESULTS"
results=$RESULTS/gates-$mode
: >"$results"
tmp=$(mktemp -d "$WORK/gates.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# verdict STATUS LABEL T0 [FILE]: report one gate and record it; on a
# failure FILE, if given, holds what the gate found.
verdict() {
	local status=$1 label=$2 t=$((SECONDS - $3)) out=${4:-}

	if [ "$status" = PASS ]; then
		say "gate $label: ok (${t}s)"
	else
		say "gate $label: FAILED (${t}s)"
		[ -n "$out" ] && [ -s "$out" ] && sed 's/^/    /' "$out"
	fi
	printf '%s gate %s\n' "$status" "$label" >>"$results"
}

cd "$TREE"
git rev-parse -q --verify base >/dev/null || die "no base in $TREE"

# Files the series adds (A) or changes (M), relative to the tree.
series_files() {
	git diff --name-only --diff-filter="$1" base HEAD -- "${@:2}"
}

gate_checkpatch() {
	local p name t0 found=0

	for p in "$SERIES_OUT"/0*.patch; do
		name=${p##*/}
		[ "$name" = 0000-cover-letter.patch ] && continue
		[ -f "$p" ] || continue
		found=1
		t0=$SECONDS
		# Quiet mode prints nothing for a clean patch, so any output
		# is a finding, a python traceback from spdxcheck included.
		if scripts/checkpatch.pl --strict --quiet "$p" >"$tmp/out" 2>&1 &&
		   [ ! -s "$tmp/out" ]; then
			verdict PASS "checkpatch $name" "$t0"
		else
			verdict FAIL "checkpatch $name" "$t0" "$tmp/out"
		fi
	done
	if [ "$found" = 0 ]; then
		echo "no patches in $SERIES_OUT" >"$tmp/out"
		verdict FAIL checkpatch "$SECONDS" "$tmp/out"
	fi
}

gate_kernel_doc() {
	local t0=$SECONDS files

	mapfile -t files < <(series_files A '*.c' '*.h')
	if [ "${#files[@]}" -eq 0 ]; then
		echo "the series adds no .c or .h file" >"$tmp/out"
		verdict FAIL kernel-doc "$t0" "$tmp/out"
		return
	fi
	# kernel-doc exits 0 after warnings unless -Werror, so judge by
	# its output as well.
	if scripts/kernel-doc -none -Wall "${files[@]}" >"$tmp/out" 2>&1 &&
	   [ ! -s "$tmp/out" ]; then
		verdict PASS "kernel-doc ${#files[@]} files" "$t0"
	else
		verdict FAIL "kernel-doc ${#files[@]} files" "$t0" "$tmp/out"
	fi
}

gate_sphinx() {
	local t0=$SECONDS docs=$WORK/build-docs ours rc=0 rst
	local html=$docs/Documentation/output/core-api/pmalloc.html

	# Sphinx rereads only documents newer than its saved environment,
	# and warns only about what it rereads.  Touching our rst files
	# makes it read them, with the kernel-doc they pull in, every time
	# (seconds) without reading the whole book again (a minute).
	mapfile -t rst < <(series_files AM 'Documentation/*.rst')
	[ "${#rst[@]}" -eq 0 ] || touch "${rst[@]}"
	rm -f "$html"
	make -C "$TREE" O="$docs" SPHINXDIRS=core-api htmldocs \
		>"$tmp/log" 2>&1 || rc=$?

	# Ours: the rst and the sources its kernel-doc directives read,
	# which all have "pmalloc" in their names, and any other file the
	# series adds.
	ours=$(series_files A | sed 's/[.[\*^$]/\\&/g' | paste -sd'|')
	grep -E '(WARNING|ERROR|CRITICAL|SEVERE)' "$tmp/log" |
		grep -iE "(pmalloc${ours:+|$ours})" >"$tmp/out" || true
	if [ "$rc" -ne 0 ]; then
		{ echo "make htmldocs exited $rc:"; tail -n 30 "$tmp/log"; } >>"$tmp/out"
	elif [ ! -s "$html" ]; then
		echo "no $html after the build" >>"$tmp/out"
	fi
	if [ -s "$tmp/out" ]; then
		verdict FAIL "sphinx core-api" "$t0" "$tmp/out"
	else
		verdict PASS "sphinx core-api" "$t0"
	fi
}

# The make options kunit.sh gives kunit.py.  They must match exactly: an
# object's saved command line changes otherwise, and the next kernel
# build recompiles it and relinks vmlinux.
kmake() {
	make -C "$TREE" ARCH=x86_64 O="$BUILD" "CC=ccache gcc" "$@"
}

gate_objects() {
	local t0=$SECONDS f objs=() srcs=() skipped=() changed=() rc=0

	[ -f "$BUILD/.config" ] || die "no kernel in $BUILD; build it first"
	if ! command -v sparse >/dev/null; then
		echo "sparse is not installed (harness/deps.sh installs it)" >"$tmp/out"
		verdict FAIL objects "$t0" "$tmp/out"
		return
	fi
	while IFS= read -r f; do
		if [ -f "$BUILD/${f%.c}.o" ]; then
			objs+=("${f%.c}.o")
			srcs+=("${f%.c}.s")
		else
			skipped+=("$f")
		fi
	done < <(series_files AM '*.c')
	[ "${#skipped[@]}" -eq 0 ] ||
		say "objects: not built in this config: ${skipped[*]}"
	if [ "${#objs[@]}" -eq 0 ]; then
		echo "none of the series' .c files is built in $BUILD" >"$tmp/out"
		verdict FAIL objects "$t0" "$tmp/out"
		return
	fi

	# sparse: C=2 checks the named objects whether or not they need
	# compiling, and with unchanged options none of them does.  W=1
	# compiles to assembly instead, so the objects and their saved
	# command lines stay as the kernel build left them.  W=1 does reach
	# the prepare stage, so the next build redoes kernel/bounds.s,
	# asm-offsets.s and modpost (seconds, and no relink of vmlinux).
	{
		kmake C=2 "${objs[@]}" || rc=$?
		kmake W=1 "${srcs[@]}" || rc=$?
	} >"$tmp/log" 2>&1
	for f in "${srcs[@]}"; do
		rm -f "$BUILD/$f" "$BUILD/$(dirname "$f")/.$(basename "$f").cmd"
	done

	# Warnings count when they point into a file the series adds, or at
	# a line it adds to a file it changes: the base has its own.
	series_files A >"$tmp/added"
	mapfile -t changed < <(series_files M)
	: >"$tmp/diff"
	[ "${#changed[@]}" -eq 0 ] ||
		git diff -U0 base HEAD -- "${changed[@]}" >"$tmp/diff"
	python3 - "$TREE" "$BUILD" "$tmp/added" "$tmp/diff" "$tmp/log" \
		>"$tmp/out" <<'PY'
import os, re, sys

tree, build, added, diff, log = sys.argv[1:]
ours = set(open(added).read().split())
lines = {}
path = None
for l in open(diff):
    if l.startswith("+++ "):
        path = l[6:].strip() if l.startswith("+++ b/") else None
    m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", l)
    if m and path:
        start, n = int(m[1]), int(m[2] or 1)
        lines.setdefault(path, set()).update(range(start, start + n))

# The object and the assembly compile print the same gcc warnings.
diag = re.compile(r"^(\S+?):(\d+):(?:\d+:)? +(warning|error)\b")
seen = set()
for l in open(log, errors="replace"):
    m = diag.match(l)
    if not m or l in seen:
        continue
    seen.add(l)
    f = os.path.relpath(os.path.normpath(os.path.join(build, m[1])), tree)
    if f in ours or int(m[2]) in lines.get(f, ()):
        print(l.rstrip())
PY
	if [ "$rc" -ne 0 ]; then
		{ echo "make exited $rc:"; grep -E 'error|Error' "$tmp/log" | tail -n 30; } >>"$tmp/out"
	fi
	if [ -s "$tmp/out" ]; then
		verdict FAIL "objects sparse+W=1 ${#objs[@]} files" "$t0" "$tmp/out"
	else
		verdict PASS "objects sparse+W=1 ${#objs[@]} files" "$t0"
	fi
}

# The compiler cache as kunit.sh sets it up.  A build folder next to a
# source folder named "linux" hashes like work/build-x86_64 does, so a
# commit whose sources and .config match the KUnit kernel's is served
# from the cache.
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/pmalloc-ccache}
export CCACHE_BASEDIR=$ROOT
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

# kbuild SRC OUT ARGS...: make in SRC with O=OUT, as kunit.sh makes.
kbuild() {
	local src=$1 out=$2
	shift 2
	make -C "$src" ARCH=x86_64 O="$out" "CC=ccache gcc" "$@"
}

# build_failed LOG: what a failed build's LOG says first, and where it is.
build_failed() {
	grep -E '(error|Error [0-9]+|ERROR|undefined reference|undefined!)' "$1" |
		head -n 20
	echo "log: $1"
}

gate_bisect() {
	local dir=$WORK/build-bisect src out commits=() patches=() n i
	local name log t0 rc

	src=$dir/linux
	out=$dir/x86_64
	[ -f "$BUILD/.config" ] || die "no kernel in $BUILD; build it first"
	mapfile -t commits < <(git rev-list --reverse base..HEAD)
	mapfile -t patches < <(cd "$SERIES_OUT" && ls 0*.patch |
		grep -v '^0000-cover-letter\.patch$' | sed 's/\.patch$//')
	n=${#commits[@]}
	[ "${#patches[@]}" -eq "$n" ] ||
		die "$n commits on base in $TREE but ${#patches[@]} patches in $SERIES_OUT"
	if [ "$n" -lt 2 ]; then
		say "bisect: a single commit, the kernel kunit.sh built"
		return 0
	fi
	say "bisect: ${patches[n - 1]} is the kernel kunit.sh built; building the $((n - 1)) commits before it in $out"

	# Detached, so that tree.sh can reset the branch "tree" at will.
	mkdir -p "$out"
	if ! git -C "$src" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		rm -rf "$src"
		git worktree prune
		git worktree add -q --detach "$src" "${commits[n - 2]}"
	fi

	# Newest first: the first build differs from the KUnit kernel in a
	# few files only, and each older commit takes out a little more.
	# vmlinux catches a link failure and modules runs modpost; the
	# bzImage would only compress vmlinux once more per commit.
	for ((i = n - 2; i >= 0; i--)); do
		name=${patches[i]}
		log=$dir/$name.log
		t0=$SECONDS
		rc=0
		{
			git -C "$src" checkout -q -f --detach "${commits[i]}" &&
			cp "$BUILD/.config" "$out/.config" &&
			kbuild "$src" "$out" olddefconfig &&
			kbuild "$src" "$out" --jobs="$(nproc)" vmlinux modules
		} >"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ]; then
			verdict PASS "bisect $name" "$t0"
		else
			build_failed "$log" >"$tmp/out"
			verdict FAIL "bisect $name" "$t0" "$tmp/out"
		fi
	done
}

# fragment_misses FRAGMENT CONFIG: each line of FRAGMENT that CONFIG does
# not hold as written, and what CONFIG has instead.
fragment_misses() {
	local line sym have

	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*}
			grep -qxF "$line" "$2" && continue
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$2" || continue
			;;
		*)
			continue
			;;
		esac
		have=$(grep -E "^(# )?$sym[= ]" "$2" || true)
		echo "${1##*/}: \"$line\" did not hold; .config has ${have:-nothing for $sym (a dependency is missing)}"
	done <"$1"
}

# gate_config NAME TARGET...: tinyconfig plus harness/configs/NAME.config,
# then make TARGET... in work/build-NAME.
gate_config() {
	local name=$1 frag=$ROOT/harness/configs/$1.config out=$WORK/build-$1
	local log label t0=$SECONDS rc=0

	shift
	label="config $name ($*)"
	[ -f "$frag" ] || die "no $frag"
	mkdir -p "$out"
	log=$out/gate.log
	{
		kbuild "$TREE" "$out" tinyconfig &&
		scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "$frag" &&
		kbuild "$TREE" "$out" olddefconfig
	} >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		build_failed "$log" >"$tmp/out"
		verdict FAIL "$label" "$t0" "$tmp/out"
		return
	fi
	fragment_misses "$frag" "$out/.config" >"$tmp/out"
	if [ -s "$tmp/out" ]; then
		echo "log: $log" >>"$tmp/out"
		verdict FAIL "$label" "$t0" "$tmp/out"
		return
	fi
	if kbuild "$TREE" "$out" --jobs="$(nproc)" "$@" >>"$log" 2>&1; then
		verdict PASS "$label" "$t0"
	else
		build_failed "$log" >"$tmp/out"
		verdict FAIL "$label" "$t0" "$tmp/out"
	fi
}

case $mode in
source)
	gate_checkpatch
	gate_kernel_doc
	gate_sphinx
	;;
objects)
	gate_objects
	;;
bisect)
	gate_bisect
	;;
configs)
	gate_config tiny-pmalloc vmlinux
	gate_config pmalloc-n-users vmlinux
	;;
esac
