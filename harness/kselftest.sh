#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kselftest.sh run|self-test [KERNEL-ARG...]: boot the kernel kunit.sh
# built for PMALLOC_ARCH (x86_64 unless set), with the KERNEL-ARGs and a
# busybox initramfs holding the pmalloc kselftest as the series delivers
# it (tools/testing/selftests/pmalloc/ in work/linux), and read the KTAP
# it prints on the console.  The kernel runs with panic_on_oops=0,
# because every passing case oopses the task that made the write.
#
#   run        Every case must pass.  Each "ok N" or "not ok N" counts as
#              one result; a missing plan, fewer or more results than
#              planned, or a guest that never finished adds a failure.
#              With PMALLOC_PROTECT=works, one more result says that no
#              case was skipped and the kernel never said pools cannot be
#              protected.  With PMALLOC_PROTECT=refused, that result says
#              instead that the kernel said so once, and that every case
#              but PMALLOC_USERCOPY_EDGE (which needs no protection) was
#              skipped because LKDTM saw the refusal.
#   self-test  The same boot with pmalloc.test_skip_protect=1, which makes
#              protect skip set_memory_ro().  The kselftest must run to
#              its end and fail the plain stores and PMALLOC_CHECK; that
#              counts as one passed result, anything else as one failure.
#   loadpin[-CASE]
#              The LoadPin kselftest (selftests/loadpin/loadpin_verity.sh)
#              with LoadPin enforcing and the disks harness/loadpin.sh
#              makes; CASE malformed, overlong or empty runs that error
#              case instead of the scenario.  Counted as "run" is.
#   loadpin-self-test
#              The scenario with pmalloc.test_skip_protect=1: the write to
#              the digest must land, so those cases must fail.
#
# Results are printed, and recorded in $RESULTS/kselftest[-RUN] or
# $RESULTS/self-test[-RUN], one "PASS|FAIL|SKIP RUN: label" line each, for
# check.sh to count; RUN is the architecture and the KERNEL-ARGs.  The raw
# console stays in work/kselftest/MODE[-RUN]/console.log (no -RUN for
# x86_64 without arguments).

set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"
. "$(dirname "$0")/loadpin.sh"
take_lock

mode=${1:?usage: kselftest.sh run|self-test [KERNEL-ARG...]}
shift
run=$TARGET_ARCH${*:+ $*}
suffix=
[ "$run" = x86_64 ] || suffix=-${run// /-}
TEST=pmalloc_lkdtm.sh
SRC=$TREE/tools/testing/selftests/pmalloc/$TEST
# Emulated arm64 takes about a minute; the timeout only stops a hung guest.
TIMEOUT=300
CMDLINE="console=$CONSOLE panic=-1 panic_on_oops=0 kunit.enable=0${*:+ $*}"
ARGS=
QEMU_EXTRA=()

case $mode in
run)
	record=$RESULTS/kselftest$suffix
	;;
self-test)
	record=$RESULTS/self-test$suffix
	CMDLINE="$CMDLINE pmalloc.test_skip_protect=1"
	;;
loadpin|loadpin-malformed|loadpin-overlong|loadpin-empty|loadpin-self-test)
	record=$RESULTS/$mode
	TEST=loadpin_verity.sh
	SRC=$TREE/tools/testing/selftests/loadpin/$TEST
	case $mode in
	loadpin-self-test) CMDLINE="$CMDLINE pmalloc.test_skip_protect=1" ;;
	loadpin-*) ARGS=${mode#loadpin-} ;;
	esac
	;;
*)
	die "unknown mode $mode"
	;;
esac

[ -f "$KERNEL" ] || die "no kernel at $KERNEL; build it first"
[ -f "$SRC" ] || die "no $SRC: is the selftest patch in the series?"

OUT=$WORK/kselftest/$mode$suffix
STAGE=$OUT/initramfs
CPIO=$OUT/initramfs.cpio
LOG=$OUT/console.log
mkdir -p "$OUT" "$RESULTS"

guest_stage "$STAGE"
cp "$SRC" "$STAGE/$TEST"
RUN="sh /$TEST"
if [ "$TEST" = loadpin_verity.sh ]; then
	MODULE=$BUILD/samples/pmalloc/pmalloc_sample.ko
	[ -f "$MODULE" ] || die "no $MODULE to put on the LoadPin disks"
	loadpin_prepare "$OUT" "$STAGE" "$MODULE"
	CMDLINE="$CMDLINE $LOADPIN_CMDLINE"
	QEMU_EXTRA=("${LOADPIN_QEMU[@]}")
	RUN="env $LOADPIN_ENV sh /$TEST $ARGS"
fi

# The test streams to the console as it runs, between the kernel's oops
# reports.  A printk can land in the middle of a line there, so once the
# test is done the kernel is silenced and a clean copy is printed between
# two markers: that copy is what the host reads.
cat >"$STAGE/main" <<EOF
{ $RUN; echo \$? >/tmp/rc; } 2>&1 | tee /tmp/ktap
dmesg -n 1
echo "pmalloc kselftest: begin"
cat /tmp/ktap
echo "pmalloc kselftest: end, exit \$(cat /tmp/rc)"
EOF
guest_cpio "$STAGE" "$CPIO"

t0=$SECONDS
rc=0
# shellcheck disable=SC2046
guest_boot "$LOG" "$TIMEOUT" "$KERNEL" "$CPIO" "$CMDLINE" \
	$(qemu_accel "$KERNEL") -smp 2 "${QEMU_EXTRA[@]}" || rc=$?
say "QEMU exited with $rc after $((SECONDS - t0))s; console: $LOG"
[ "$rc" -ne 124 ] || say "QEMU timed out after ${TIMEOUT}s"

python3 - "$mode" "$LOG" "$record" "${TEST%.sh}${ARGS:+ $ARGS}" "$run" \
	"${PMALLOC_PROTECT:-}" <<'PY'
import re
import sys

mode, log, record, test, run, protect = sys.argv[1:]
lines = open(log, errors="replace").read().splitlines()

# The guest's clean copy of the KTAP, and the test's exit status if the
# guest got to the end.
try:
    ktap = lines[lines.index("pmalloc kselftest: begin") + 1:]
except ValueError:
    ktap = None
status = None
for i, line in enumerate(ktap or []):
    m = re.fullmatch(r"pmalloc kselftest: end, exit (\d+)", line)
    if m:
        ktap, status = ktap[:i], int(m.group(1))
        break

plan = None
cases = []          # (number, name, verdict, reason)
for line in ktap or []:
    m = re.fullmatch(r"1\.\.(\d+)(?:\s*#\s*(.*))?", line)
    if m and plan is None:
        plan, plan_note = int(m.group(1)), m.group(2)
        continue
    m = re.fullmatch(r"(not ok|ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(.*))?", line)
    if not m:
        continue
    verdict = "PASS" if m.group(1) == "ok" else "FAIL"
    reason = m.group(4) or ""
    if reason[:4].upper() == "SKIP":
        verdict, reason = "SKIP", reason[4:].strip()
    cases.append((int(m.group(2)), m.group(3), verdict, reason))

# Whatever makes the results incomplete, in words; empty when complete.
problems = []
if ktap is None:
    problems.append("the guest never started the kselftest")
elif status is None:
    problems.append("the guest did not finish (hung, panicked or timed out)")
if plan is None:
    problems.append("no KTAP plan")
elif plan == 0:
    problems.append(f"the plan is 1..0 ({plan_note or 'nothing to run'})")
elif len(cases) != plan:
    problems.append(f"{len(cases)} of {plan} planned results")
if [c[0] for c in cases] != list(range(1, len(cases) + 1)):
    problems.append("results out of sequence")
if status and cases and all(c[2] != "FAIL" for c in cases):
    problems.append(f"exit status {status} although no result failed")

out = open(record, "w")

def result(verdict, label, word, detail=""):
    print(f"  {run}: {label} {word}" + (f": {detail}" if detail else ""))
    out.write(f"{verdict} {run}: {label}\n")

if mode == "run" or (mode.startswith("loadpin") and mode != "loadpin-self-test"):
    words = {"PASS": "ok", "FAIL": "not ok", "SKIP": "skipped"}
    for num, name, verdict, reason in cases:
        result(verdict, f"kselftest {test}: {name}", words[verdict], reason)
    if problems:
        result("FAIL", f"kselftest {test}: KTAP", "not ok", "; ".join(problems))

    # What pmalloc prints at boot when it will refuse to protect, and the
    # one case that needs no protected object.
    boot = sum("pools cannot be protected" in line for line in lines)
    skipped = [c[1] for c in cases if c[2] == "SKIP"]
    refused = [c[1] for c in cases
               if c[2] == "SKIP" and "pmalloc_protect_pool() refused" in c[3]]
    unprotected = ["PMALLOC_USERCOPY_EDGE"]
    bad = []
    # Write-rare has no path into protected memory but on x86: elsewhere
    # PMALLOC_WR_WRITE is skipped for that refusal, which the rst states.
    wr_refused = [c[1] for c in cases
                  if c[2] == "SKIP" and "pmalloc_wr_memcpy() refused" in c[3]
                  and not run.startswith(("x86_64", "i386"))]
    if protect == "works":
        skipped = [n for n in skipped if n not in wr_refused]
        if skipped:
            bad.append("skipped: " + ", ".join(skipped))
        if boot:
            bad.append("the kernel said pools cannot be protected")
        label = f"kselftest {test}: protection works, as documented"
    elif protect == "refused":
        want = [c[1] for c in cases if c[1] not in unprotected]
        if boot != 1:
            bad.append(f"pmalloc's boot line seen {boot} times, not once")
        if not want or refused != want:
            bad.append("not skipped for the refusal: " +
                       ", ".join(n for n in want if n not in refused))
        label = f"kselftest {test}: protection refused, as documented"
    if protect and mode == "run":
        result("FAIL" if bad or problems else "PASS", label,
               "not ok" if bad or problems else "ok", "; ".join(bad))
    sys.exit(0)

# The self-test: with nothing read-only, the plain stores must land and
# PMALLOC_CHECK must see the changed object.
label = "harness self-test: kselftest fails without protection"
must_fail = ("PMALLOC_WRITE_VMALLOC", "PMALLOC_WRITE_LINEAR", "PMALLOC_CHECK")
if mode == "loadpin-self-test":
    label = "harness self-test: LoadPin kselftest fails without protection"
    must_fail = ("write to the trusted digest faults",
                 "digest unchanged: the verity device is still trusted")
failed = [c[1] for c in cases if c[2] == "FAIL"]
passed = [name for name in must_fail
          if name not in failed and any(c[1] == name for c in cases)]
missing = [name for name in must_fail if all(c[1] != name for c in cases)]
knob = any("test_skip_protect is set" in line for line in lines)

if problems:
    result("FAIL", label, "not ok", "; ".join(problems))
elif passed or missing:
    detail = []
    if passed:
        detail.append("passed anyway: " + ", ".join(passed))
    if missing:
        detail.append("not reported: " + ", ".join(missing))
    if not knob:
        detail.append("the kernel never said test_skip_protect is set")
    result("FAIL", label, "not ok", "; ".join(detail))
else:
    result("PASS", label, "ok", "it failed " + ", ".join(failed))
PY
