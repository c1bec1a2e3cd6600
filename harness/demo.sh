#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: boot the patched kernel under QEMU with a busybox initramfs and
# show pmalloc protecting lines that user space writes into the sample
# module (samples/pmalloc).  "make demo" runs it after the build with
# PMALLOC_KERNEL (bzImage), PMALLOC_BUILD (its O= folder) and PMALLOC_WORK
# set; run alone, it goes through "make demo" to get them.
#
# Every step in the guest prints its commands, what they returned and a
# PASS or FAIL line computed there; the guest ends with
# "pmalloc demo: N passed, N failed" and reboots, which ends QEMU.  This
# script keeps the raw console in work/demo/console.log, prints the
# guest's part of it and exits 0 only if all STEPS steps passed and the
# kernel logged no splat.
#
# A second boot shows pmalloc's first real user: LoadPin, enforcing, with
# its trusted dm-verity root digests in a protected pool.  The same
# module sits on a dm-verity disk and on an unverified one (made by
# harness/loadpin.sh); the guest runs the LoadPin kselftest
# (tools/testing/selftests/loadpin/loadpin_verity.sh), which prints each
# command and its outcome, and all LOADPIN_STEPS results must be "ok".
# Its console is kept in work/demo/loadpin/console.log.
#
# The QEMU accelerator comes from the harness (PMALLOC_QEMU_ACCEL), which
# checks that KVM really runs a guest here.
#
# Needs: qemu-system-x86_64, /bin/busybox (busybox-static), cpio, and for
# the LoadPin boot mke2fs, veritysetup and a static libc.

set -euo pipefail

if [ -z "${PMALLOC_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run" demo
fi

STEPS=10
LOADPIN_STEPS=8
TIMEOUT=300
MODULE=$PMALLOC_BUILD/samples/pmalloc/pmalloc_sample.ko
OUT=$PMALLOC_WORK/demo
STAGE=$OUT/initramfs
CPIO=$OUT/initramfs.cpio
LOG=$OUT/console.log
CMDLINE="console=ttyS0 panic=-1 kunit.enable=0"

die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

[ -f "$PMALLOC_KERNEL" ] || die "no kernel at $PMALLOC_KERNEL"
[ -f "$MODULE" ] ||
	die "no $MODULE; is CONFIG_SAMPLE_PMALLOC=m in $PMALLOC_BUILD/.config?"
. "$(dirname "$0")/guest.sh"
TREE=$PMALLOC_TREE
. "$(dirname "$0")/loadpin.sh"
guest_stage "$STAGE"
cp "$MODULE" "$STAGE/pmalloc_sample.ko"

cat >"$STAGE/main" <<'EOF'
# The pmalloc demo: each step prints its commands and a verdict.

# Kernel messages stay in the log; the demo shows the ones that matter.
dmesg -n 1

D=/sys/kernel/debug/pmalloc_sample
L1="allow read /etc/passwd"
L2="deny write /etc/shadow"
L3="audit exec /usr/bin/sudo"
EXPECT=$(printf '%s\n%s\n%s' "$L1" "$L2" "$L3")
n=0
passed=0
failed=0

step() {
	n=$((n + 1))
	echo
	echo "--- step $n: $*"
}

# verdict OK TEXT: OK is 0 for PASS.
verdict() {
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS: $2"
	else
		failed=$((failed + 1))
		echo "FAIL: $2"
	fi
}

# areas: the /proc/vmallocinfo lines of pmalloc areas.
areas() {
	grep -w pmalloc /proc/vmallocinfo
}

# refused ERRTEXT CMD: show CMD, a shell command that writes to a debugfs
# file, run it, and succeed if the write failed with the error whose
# message is ERRTEXT.
refused() {
	echo "# $2"
	eval "$2" 2>/tmp/err
	rc=$?
	echo "  -> exit $rc: $(cat /tmp/err)"
	[ "$rc" -ne 0 ] && grep -q "$1" /tmp/err
}

# klog: the sample's kernel messages since the last call.
: >/tmp/klog.old
klog() {
	dmesg | grep 'pmalloc_sample: ' >/tmp/klog.new
	tail -n +$(($(wc -l </tmp/klog.old) + 1)) /tmp/klog.new |
		sed 's/^/  kernel: /'
	mv /tmp/klog.new /tmp/klog.old
}

echo "pmalloc demo: start ($(uname -r))"
base=$(areas | wc -l)
echo "pmalloc areas in /proc/vmallocinfo before the sample: $base"

step "load the sample module"
echo "# insmod /pmalloc_sample.ko"
insmod /pmalloc_sample.ko
rc=$?
ls -l $D
[ "$rc" -eq 0 ] && [ -f $D/lines ] && [ -f $D/poke ]
verdict $? "module loaded, $D/lines and poke exist"

step "one writer opens $D/lines and writes three lines"
echo "# exec 3>$D/lines"
# "command": a failed redirection must not end the script.
command exec 3>$D/lines
ok=$?
for l in "$L1" "$L2" "$L3"; do
	echo "# echo '$l' >&3"
	echo "$l" >&3 || ok=1
done
echo "# cat $D/lines"
cat $D/lines
[ "$ok" -eq 0 ] && [ "$(cat $D/lines)" = "$EXPECT" ]
verdict $? "three lines stored while the file is open"

step "bad input is refused and changes nothing"
long=$(head -c 300 /dev/zero | tr '\0' x)
refused "Argument list too long" 'echo "$long" >&3    # 300 bytes'
r1=$?
refused "Invalid argument" 'echo >&3    # an empty line'
r2=$?
[ "$r1" -eq 0 ] && [ "$r2" -eq 0 ] && [ "$(cat $D/lines)" = "$EXPECT" ]
verdict $? "over-long line -> E2BIG, empty line -> EINVAL, still three lines"

step "control: before protection a kernel write lands"
echo "# echo 2 > $D/poke"
echo 2 >$D/poke
rc=$?
third=$(sed -n 3p $D/lines)
echo "  line 3 now: $third"
klog
echo "# echo 2 > $D/poke    (flip it back)"
echo 2 >$D/poke
klog
[ "$rc" -eq 0 ] && [ "$third" = "Audit exec /usr/bin/sudo" ] &&
	[ "$(cat $D/lines)" = "$EXPECT" ]
verdict $? "poke changed the writable line, and changed it back"

step "the writer closes the file: the pool is protected"
echo "# exec 3>&-"
exec 3>&-
klog >/tmp/protect
cat /tmp/protect
grep -q "pool protected, holding 3 lines" /tmp/protect
verdict $? "closing the file protected the pool"

step "read the lines back"
echo "# cat $D/lines"
cat $D/lines
[ "$(cat $D/lines)" = "$EXPECT" ]
verdict $? "the three lines read back as written"

step "the pool's areas in /proc/vmallocinfo"
echo "# grep -w pmalloc /proc/vmallocinfo"
areas
mine=$(areas | grep -c '\[pmalloc_sample\]')
now=$(areas | wc -l)
[ "$mine" -ge 1 ] && [ "$now" -eq $((base + mine)) ]
verdict $? "$mine area(s) tagged pmalloc, created by pmalloc_sample"

step "a write after protection is refused"
refused "Operation not permitted" "echo 'allow write /etc/shadow' >>$D/lines"
r=$?
echo "# cat $D/lines"
cat $D/lines
[ "$r" -eq 0 ] && [ "$(cat $D/lines)" = "$EXPECT" ]
verdict $? "write after protect -> EPERM, still three lines"

step "a kernel write to each protected line is refused"
ok=0
for i in 0 1 2; do
	refused "Bad address" "echo $i >$D/poke" || ok=1
done
klog
echo "# cat $D/lines"
cat $D/lines
[ "$ok" -eq 0 ] && [ "$(cat $D/lines)" = "$EXPECT" ]
verdict $? "every poke -> EFAULT, every line unchanged"

step "unload the sample: the pool is destroyed"
echo "# rmmod pmalloc_sample"
rmmod pmalloc_sample
rc=$?
echo "# grep -w pmalloc /proc/vmallocinfo"
areas || echo "  (none)"
now=$(areas | wc -l)
[ "$rc" -eq 0 ] && [ ! -e $D ] && [ "$now" -eq "$base" ]
verdict $? "module gone, its pmalloc areas gone from /proc/vmallocinfo"

# A splat would mean a write got through the fault handler the wrong way.
if dmesg | grep -E 'BUG:|WARNING:|Oops|general protection' >/tmp/splat; then
	echo
	echo "kernel log shows a splat:"
	cat /tmp/splat
	failed=$((failed + 1))
fi

echo
echo "pmalloc demo: $passed passed, $failed failed"
EOF
guest_cpio "$STAGE" "$CPIO"

t0=$SECONDS
rc=0
# shellcheck disable=SC2086
guest_boot "$LOG" "$TIMEOUT" "$PMALLOC_KERNEL" "$CPIO" "$CMDLINE" \
	${PMALLOC_QEMU_ACCEL:-} || rc=$?
echo "demo: QEMU exited with $rc after $((SECONDS - t0))s; console: $LOG"
echo

sed -n '/^pmalloc demo: start/,/^pmalloc demo: [0-9]* passed/p' "$LOG"
echo

[ "$rc" -ne 124 ] || die "QEMU timed out after ${TIMEOUT}s; see $LOG"
summary=$(grep -E '^pmalloc demo: [0-9]+ passed, [0-9]+ failed$' "$LOG" |
	  tail -n 1) || die "the guest printed no summary; see $LOG"
pass=$(grep -c '^PASS: ' "$LOG" || true)
fail=$(grep -c '^FAIL: ' "$LOG" || true)
if [ "$summary" != "pmalloc demo: $pass passed, $fail failed" ]; then
	die "summary \"$summary\" does not match the verdicts printed"
fi
if [ "$fail" -ne 0 ] || [ "$pass" -ne "$STEPS" ]; then
	die "$pass of $STEPS steps passed, $fail failed"
fi
if grep -E 'Kernel panic|BUG:|WARNING:|Oops' "$LOG" >/dev/null; then
	die "the kernel logged a splat; see $LOG"
fi
echo "demo: all $STEPS steps passed"
echo

# The LoadPin boot.  Its write to the digest is meant to oops the writer,
# hence panic_on_oops=0.
LPOUT=$OUT/loadpin
LPSTAGE=$LPOUT/initramfs
LPCPIO=$LPOUT/initramfs.cpio
LPLOG=$LPOUT/console.log
mkdir -p "$LPOUT"
guest_stage "$LPSTAGE"
loadpin_prepare "$LPOUT" "$LPSTAGE" "$MODULE"
cat >"$LPSTAGE/main" <<EOF
dmesg -n 1
{ env $LOADPIN_ENV sh /loadpin_verity.sh; echo \$? >/tmp/rc; } >/tmp/out 2>&1
# The script clears the log at each step: a splat in what is left is one
# it did not expect.
dmesg | grep -E 'BUG:|WARNING:|Oops|general protection' >/tmp/splat
echo "loadpin demo: start"
echo "# LoadPin enforcing: \$(cat /proc/sys/kernel/loadpin/enforce)"
cat /tmp/out
[ -s /tmp/splat ] && { echo "kernel log shows a splat:"; cat /tmp/splat; }
echo "loadpin demo: end, exit \$(cat /tmp/rc)"
EOF
guest_cpio "$LPSTAGE" "$LPCPIO"

t0=$SECONDS
rc=0
# shellcheck disable=SC2086
guest_boot "$LPLOG" "$TIMEOUT" "$PMALLOC_KERNEL" "$LPCPIO" \
	"$CMDLINE panic_on_oops=0 $LOADPIN_CMDLINE" \
	${PMALLOC_QEMU_ACCEL:-} "${LOADPIN_QEMU[@]}" || rc=$?
echo "demo: QEMU exited with $rc after $((SECONDS - t0))s; console: $LPLOG"
echo

ktap=$(sed -n '/^loadpin demo: start/,/^loadpin demo: end/p' "$LPLOG")
printf '%s\n\n' "$ktap"
[ "$rc" -ne 124 ] || die "QEMU timed out after ${TIMEOUT}s; see $LPLOG"
[ -n "$ktap" ] || die "the LoadPin guest printed nothing; see $LPLOG"
pass=$(printf '%s\n' "$ktap" | grep -c '^ok [0-9]' || true)
fail=$(printf '%s\n' "$ktap" | grep -c '^not ok [0-9]' || true)
echo "loadpin demo: $pass passed, $fail failed"
printf '%s\n' "$ktap" | grep -qx "1\.\.$LOADPIN_STEPS" ||
	die "the LoadPin test did not plan $LOADPIN_STEPS steps"
if [ "$fail" -ne 0 ] || [ "$pass" -ne "$LOADPIN_STEPS" ]; then
	die "$pass of $LOADPIN_STEPS LoadPin steps passed, $fail failed"
fi
printf '%s\n' "$ktap" | grep -qx 'loadpin demo: end, exit 0' ||
	die "the LoadPin test did not exit 0"
if printf '%s\n' "$ktap" | grep -q '^kernel log shows a splat'; then
	die "the kernel logged an unexpected splat; see $LPLOG"
fi
if grep -E 'Kernel panic|WARNING:' "$LPLOG" >/dev/null; then
	die "the kernel logged a panic or a warning; see $LPLOG"
fi
echo "demo: all $LOADPIN_STEPS LoadPin steps passed"
