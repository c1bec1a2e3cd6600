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
# The QEMU accelerator comes from the harness (PMALLOC_QEMU_ACCEL), which
# checks that KVM really runs a guest here.
#
# Needs: qemu-system-x86_64, /bin/busybox (busybox-static), cpio.

set -euo pipefail

if [ -z "${PMALLOC_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run" demo
fi

STEPS=10
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
[ -x /bin/busybox ] || die "/bin/busybox missing (package busybox-static)"
command -v cpio >/dev/null || die "cpio missing"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing"

rm -rf "$STAGE"
mkdir -p "$STAGE/bin" "$STAGE/dev" "$STAGE/proc" "$STAGE/sys" "$STAGE/tmp"
cp /bin/busybox "$STAGE/bin/busybox"
cp "$MODULE" "$STAGE/pmalloc_sample.ko"
# The kernel opens /dev/console before it runs /init.  Without root there
# is no node; /init then opens the console itself from devtmpfs.
if [ "$(id -u)" -eq 0 ]; then
	mknod -m 600 "$STAGE/dev/console" c 5 1
fi

# The guest's /init sets up and powers off; the demo runs in a shell of
# its own, so that a fatal shell error there still ends in a power-off.
# Both quoted: nothing in them is expanded here.
cat >"$STAGE/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
# Kernel messages stay in the log; the demo shows the ones that matter.
dmesg -n 1
sh /demo
# QEMU runs with -no-reboot, so a reset ends it.  A power-off would need
# the ACPI namespace, which this minimal configuration (no PCI) cannot
# load: "poweroff -f" only halts the CPU and leaves QEMU to the timeout.
reboot -f
EOF

cat >"$STAGE/demo" <<'EOF'
# The pmalloc demo: each step prints its commands and a verdict.

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
chmod 755 "$STAGE/init"

(cd "$STAGE" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
	>"$CPIO"

# shellcheck disable=SC2206
qemu=(timeout "$TIMEOUT" qemu-system-x86_64 -nodefaults -no-reboot
      -nographic -serial stdio -m 512 ${PMALLOC_QEMU_ACCEL:-})
# qboot starts faster than SeaBIOS and sends no escape codes.
if [ -f /usr/share/qemu/qboot.rom ]; then
	qemu+=(-bios qboot.rom)
fi
qemu+=(-kernel "$PMALLOC_KERNEL" -initrd "$CPIO" -append "$CMDLINE")

echo "demo: ${qemu[*]}"
t0=$SECONDS
rc=0
"${qemu[@]}" </dev/null >"$LOG" 2>&1 || rc=$?
tr -d '\r' <"$LOG" >"$LOG.txt"
mv "$LOG.txt" "$LOG"
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
