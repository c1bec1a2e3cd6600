#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# LoadPin's trusted dm-verity root digests, end to end on real devices.
# Loads the digests with loadpin_set_digests, then checks that a module on
# the trusted verity device loads, that the same module on an unverified
# disk is refused, that the digests sit in a protected pmalloc pool
# (debugfs pmalloc/pools), that LKDTM's LOADPIN_WRITE_DIGEST faults, and
# that afterwards the digest is unchanged and the disk still refused.
#
# With an argument it tests one way of loading a bad file instead:
#   malformed  a digest, then a line that is not hex      -> EPROTO
#   overlong   a line that takes the file past 4 KiB      -> EFBIG
#   empty      the header and no digest                   -> EPROTO
# Each must leave no pool and no area behind, trust nothing, and refuse a
# good file afterwards.  A failed load disables the ioctl until reboot,
# so each of these needs a boot of its own.
#
# Needs root, debugfs, securityfs, a kernel booted with loadpin.enforce=1
# and panic_on_oops=0, CONFIG_LKDTM=y, and in the environment:
#   LOADPIN_VERITY_DEV   the dm-verity device, e.g. /dev/dm-0
#   LOADPIN_PLAIN_DEV    an unverified disk, e.g. /dev/vdc
#   LOADPIN_MODULE       a module file at the top of both filesystems
#   LOADPIN_ROOT_DIGEST  the verity device's root digest, in hex
# Output is KTAP; exits 0 only if every test passed, 4 if it cannot run.
set -e

KSFT_SKIP=4
HEADER="# LOADPIN_TRUSTED_VERITY_ROOT_DIGESTS"
POOLS=/sys/kernel/debug/pmalloc/pools
TRIGGER=/sys/kernel/debug/provoke-crash/DIRECT
SETTER=$(dirname "$0")
SETTER=${SETTER%/}/loadpin_set_digests
# LoadPin's pool is created when the digests are read, a function the
# compiler may inline into the ioctl handler.
CREATOR='(read_trusted_verity_root_digests|dm_verity_ioctl)\+'
WP_FAULT='supervisor write access|Unable to handle kernel write to read-only'
mode=${1:-scenario}

echo "TAP version 13"
skip() {
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

case $mode in
scenario) plan=8 ;;
malformed|overlong|empty) plan=4 ;;
*) echo "usage: $0 [malformed|overlong|empty]" >&2; exit 2 ;;
esac

for v in LOADPIN_VERITY_DEV LOADPIN_PLAIN_DEV LOADPIN_MODULE \
	 LOADPIN_ROOT_DIGEST; do
	eval "[ -n \"\${$v:-}\" ]" || skip "$v is not set"
done
[ -x "$SETTER" ] || skip "$SETTER is missing"
[ -d /sys/kernel/security/loadpin ] ||
	mount -t securityfs none /sys/kernel/security 2>/dev/null || true
[ -e /sys/kernel/security/loadpin/dm-verity ] ||
	skip "no LoadPin dm-verity file (CONFIG_SECURITY_LOADPIN_VERITY?)"
[ "$(cat /proc/sys/kernel/loadpin/enforce 2>/dev/null)" = 1 ] ||
	skip "LoadPin is not enforcing (boot with loadpin.enforce=1)"
[ -r "$POOLS" ] || skip "$POOLS is missing (CONFIG_PMALLOC, debugfs?)"
[ "$mode" != scenario ] || [ -w "$TRIGGER" ] ||
	skip "$TRIGGER is missing (CONFIG_LKDTM=y?)"

tmp=$(mktemp -d)
trap 'umount "$tmp/verity" "$tmp/plain" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/verity" "$tmp/plain"
mount -o ro "$LOADPIN_VERITY_DEV" "$tmp/verity"
mount -o ro "$LOADPIN_PLAIN_DEV" "$tmp/plain"
name=$(basename "$LOADPIN_MODULE" .ko | tr - _)
digest=$(echo "$LOADPIN_ROOT_DIGEST" | tr A-F a-f)

echo "1..$plan"
n=0
failed=0
verdict() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n $2"
	else
		failed=$((failed + 1))
		echo "not ok $n $2 # $3"
	fi
}

# run CMD...: show a command and its output as KTAP diagnostics; keep its
# status in $rc and its output in $tmp/out.
run() {
	echo "# \$ $*"
	rc=0
	"$@" >"$tmp/out" 2>&1 || rc=$?
	sed 's/^/#   /' "$tmp/out"
	echo "#   -> exit $rc"
}

# load WHERE: insmod the module from the verity or the plain mount and
# succeed if it loaded; unload it again.  The kernel's LoadPin lines are
# left in $tmp/klog.
load() {
	dmesg -c >/dev/null
	run insmod "$tmp/$1/$LOADPIN_MODULE"
	dmesg -c | grep 'LoadPin' >"$tmp/klog" || true
	sed 's/^/#   kernel: /' "$tmp/klog"
	[ "$rc" -eq 0 ] || return 1
	grep -q "^$name " /proc/modules && rmmod "$name"
}

# refused WHERE: the module was refused by LoadPin itself.
refused() {
	! load "$1" && grep -q "kernel-module denied obj=\"$tmp/$1/" "$tmp/klog"
}

# pools: LoadPin's lines in the pool listing; areas: its vmalloc areas.
pools() {
	grep -E " $CREATOR" "$POOLS" || true
}
areas() {
	grep -w pmalloc /proc/vmallocinfo | grep -E " $CREATOR" || true
}

# LoadPin pins the filesystem of the first file it sees.  Make that the
# root filesystem, where the digest files are, by loading a copy of the
# module from there: a bad file may be refused before LoadPin looks at it.
echo "# pin LoadPin to the root filesystem"
mkdir "$tmp/root"
cp "$tmp/plain/$LOADPIN_MODULE" "$tmp/root/"
load root || echo "# could not load the module from the root filesystem"

good="$HEADER
$digest"
printf '%s\n' "$good" >"$tmp/good"

if [ "$mode" = scenario ]; then
	run "$SETTER" "$tmp/good"
	if [ "$rc" -eq 0 ]; then
		verdict ok "trusted digests loaded"
	else
		verdict fail "trusted digests loaded" "$(cat "$tmp/out")"
	fi

	if load verity; then
		verdict ok "module on the verity device allowed"
	else
		verdict fail "module on the verity device allowed" "insmod failed"
	fi

	if refused plain; then
		verdict ok "module on the unverified disk refused"
	else
		verdict fail "module on the unverified disk refused" \
			"not refused by LoadPin"
	fi

	echo "# \$ cat $POOLS"
	sed 's/^/#   /' "$POOLS"
	if [ "$(pools | wc -l)" -eq 1 ] &&
	   [ "$(pools | awk '{ print $5 }')" = protected ]; then
		verdict ok "LoadPin's pool listed, protected"
	else
		verdict fail "LoadPin's pool listed, protected" \
			"$(pools | wc -l) pool(s): $(pools | tr -s ' ')"
	fi

	run "$SETTER" "$tmp/good"
	if grep -q '^EPERM ' "$tmp/out" && [ "$(pools | wc -l)" -eq 1 ]; then
		verdict ok "second load refused, still one pool"
	else
		verdict fail "second load refused, still one pool" \
			"$(cat "$tmp/out"), $(pools | wc -l) pool(s)"
	fi

	dmesg -c >/dev/null
	echo "# \$ echo LOADPIN_WRITE_DIGEST > $TRIGGER"
	# The writer is expected to die: run it in a child shell.
	( echo LOADPIN_WRITE_DIGEST >"$TRIGGER" ) 2>/dev/null || true
	dmesg -c >"$tmp/crash"
	grep -E 'lkdtm|BUG:|Oops|supervisor' "$tmp/crash" | sed 's/^/#   kernel: /'
	if grep -q 'FAIL:' "$tmp/crash"; then
		verdict fail "write to the trusted digest faults" \
			"$(grep -m1 'FAIL:' "$tmp/crash")"
	elif grep -Eq "$WP_FAULT" "$tmp/crash"; then
		verdict ok "write to the trusted digest faults"
	else
		verdict fail "write to the trusted digest faults" \
			"no report matching: $WP_FAULT"
	fi

	before=$(sed -n 's/.*lkdtm: trusted digest \([0-9a-f]*\).*/\1/p' \
		 "$tmp/crash")
	if [ "$before" = "$digest" ] && load verity; then
		verdict ok "digest unchanged: the verity device is still trusted"
	else
		verdict fail "digest unchanged: the verity device is still trusted" \
			"digest before the write '$before', module refused or missing"
	fi

	if refused plain; then
		verdict ok "unverified disk still refused"
	else
		verdict fail "unverified disk still refused" "not refused by LoadPin"
	fi
else
	case $mode in
	malformed)
		printf '%s\n%s\n' "$good" "not-a-hex-digest" >"$tmp/bad"
		want=EPROTO ;;
	overlong)
		{
			echo "$HEADER"
			head -c 4200 /dev/zero | tr '\0' a
			echo
		} >"$tmp/bad"
		want=EFBIG ;;
	empty)
		echo "$HEADER" >"$tmp/bad"
		want=EPROTO ;;
	esac

	run "$SETTER" "$tmp/bad"
	if [ "$rc" -eq 1 ] && grep -q "^$want " "$tmp/out"; then
		verdict ok "$mode file refused with $want"
	else
		verdict fail "$mode file refused with $want" "$(cat "$tmp/out")"
	fi

	echo "# \$ cat $POOLS"
	sed 's/^/#   /' "$POOLS"
	if [ -z "$(pools)" ] && [ -z "$(areas)" ]; then
		verdict ok "no pool and no area left behind"
	else
		verdict fail "no pool and no area left behind" \
			"$(pools | wc -l) pool(s), $(areas | wc -l) area(s)"
	fi

	if refused verity; then
		verdict ok "the verity device is not trusted"
	else
		verdict fail "the verity device is not trusted" \
			"not refused by LoadPin"
	fi

	run "$SETTER" "$tmp/good"
	if grep -q '^EPERM ' "$tmp/out" && [ -z "$(pools)" ] && refused verity
	then
		verdict ok "a good file afterwards is refused, nothing trusted"
	else
		verdict fail "a good file afterwards is refused, nothing trusted" \
			"$(head -n 1 "$tmp/out"), $(pools | wc -l) pool(s)"
	fi
fi

echo "# totals: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
