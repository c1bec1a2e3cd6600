#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Proves that protected pmalloc memory refuses real writes.  For each LKDTM
# crash type below it makes the write, then reads the kernel log: the write
# must have been stopped with the expected report, and the protected object
# must still hold its value (PMALLOC_CHECK).  Needs root, debugfs and a
# kernel with CONFIG_LKDTM, CONFIG_PMALLOC and CONFIG_HARDENED_USERCOPY,
# booted with panic_on_oops=0, since every passing test oopses the writer.
# A kernel that refuses to protect pools, as documented (arm64 booted
# without rodata=full), makes LKDTM report XFAIL: the tests that need a
# protected object are then skipped with that reason.
# Output is KTAP; exits 0 only if no test failed, 4 if it cannot run.
set -e

TRIGGER=/sys/kernel/debug/provoke-crash/DIRECT
KSFT_SKIP=4

# The report of a store to read-only kernel memory, on x86 and on arm64.
WP_FAULT='supervisor write access|Unable to handle kernel write to read-only'

# name, then the extended regular expression its report must match
TESTS="PMALLOC_WRITE_VMALLOC $WP_FAULT
PMALLOC_WRITE_LINEAR $WP_FAULT
PMALLOC_WR_WRITE $WP_FAULT
PMALLOC_USERCOPY Kernel memory overwrite attempt detected to pmalloc .protected.
PMALLOC_USERCOPY_EDGE Kernel memory exposure attempt detected from pmalloc .area edge.
PMALLOC_USERCOPY_READ ok: copy_to_user\\(\\) from a protected pmalloc object works"

echo "TAP version 13"
if [ ! -w "$TRIGGER" ]; then
	echo "1..0 # SKIP $TRIGGER is missing (no CONFIG_LKDTM or debugfs?)"
	exit $KSFT_SKIP
fi

ntests=$(echo "$TESTS" | wc -l)
echo "1..$((ntests + 1))"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

n=0
failed=0
skipped=0
# Start from an empty kernel log; each test reads and clears what it adds.
dmesg -c > /dev/null

verdict() {
	n=$((n + 1))
	case $1 in
	ok)
		echo "ok $n $2"
		;;
	skip)
		skipped=$((skipped + 1))
		echo "ok $n $2 # SKIP $3"
		;;
	*)
		failed=$((failed + 1))
		echo "not ok $n $2 # $3"
		;;
	esac
}

echo "$TESTS" | {
	while read -r name expect; do
		# The writer is expected to die: run it in a child shell.
		( echo "$name" > "$TRIGGER" ) 2>/dev/null || true
		dmesg -c > "$log"
		if grep -q "XFAIL:" "$log"; then
			verdict skip "$name" "$(grep -m1 -o 'XFAIL:.*' "$log")"
		elif grep -q "FAIL:" "$log"; then
			verdict fail "$name" "$(grep -m1 'FAIL:' "$log")"
		elif grep -Eq "$expect" "$log"; then
			verdict ok "$name"
		else
			verdict fail "$name" "no report matching: $expect"
		fi
	done

	echo PMALLOC_CHECK > "$TRIGGER"
	dmesg -c > "$log"
	if grep -q "ok: protected pmalloc object unchanged" "$log"; then
		verdict ok PMALLOC_CHECK
	elif grep -q "XFAIL:" "$log"; then
		verdict skip PMALLOC_CHECK "$(grep -m1 -o 'XFAIL:.*' "$log")"
	else
		why=$(grep -m1 'FAIL:' "$log" || echo 'no verdict in the log')
		verdict fail PMALLOC_CHECK "$why"
	fi

	echo "# totals: $((n - failed - skipped)) passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}
