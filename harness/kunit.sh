#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh build|run|boot [KERNEL-ARG...]: configure and build the patched
# tree for PMALLOC_ARCH (x86_64 unless set; also i386 and arm64) in
# work/build-ARCH with the kernel's kunit.py, and for "run" boot it under
# QEMU, with the KERNEL-ARGs on its command line, and report every case.
# "boot" is "run" without the build, for a second boot of the same kernel.
# The same kernel serves "make demo" and the kselftest boots, so the
# configuration also carries what they need.
#
# The configuration is harness/common.kunitconfig, which holds nothing
# architecture-specific, plus harness/ARCH.kunitconfig where an
# architecture needs more (x86_64: LoadPin's disks and make bench; arm64:
# make bench's module), plus
# what kunit.py's own qemu_configs/ARCH.py adds.
#
# "run" prints each case and records it in $RESULTS/kunit[-RUN], one
# "PASS|FAIL|SKIP RUN: label" line each, RUN being the architecture and
# the KERNEL-ARGs ("arm64 rodata=on: pmalloc.protect_twice_succeeds");
# check.sh counts them with the other results.  With PMALLOC_PROTECT set
# to "works" or "refused", one more result says whether the run showed
# that: protection working (no case skipped because protect was refused),
# or refused as documented (pmalloc's boot line on the console, and every
# skipped case skipped for that reason).  It exits non-zero only when
# kunit.py gave no results at all.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

mode=${1:?usage: kunit.sh build|run|boot [KERNEL-ARG...]}
shift
kargs=("$@")
run=$TARGET_ARCH${kargs[*]:+ ${kargs[*]}}
# x86_64 with no arguments keeps the names it always had.
suffix=
[ "$run" = x86_64 ] || suffix=-${run// /-}

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/pmalloc-ccache}
# Hits across clones in other folders: paths under the clone become
# relative, and the working directory stays out of the hash.
export CCACHE_BASEDIR=$ROOT
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
mkdir -p "$CCACHE_DIR"

args=(--arch="$TARGET_ARCH" --build_dir="$BUILD"
      --make_options="CC=ccache ${CROSS}gcc"
      --kunitconfig="$ROOT/harness/common.kunitconfig")
[ -z "$CROSS" ] || args+=(--cross_compile="$CROSS")
if [ -f "$ROOT/harness/$TARGET_ARCH.kunitconfig" ]; then
	args+=(--kunitconfig="$ROOT/harness/$TARGET_ARCH.kunitconfig")
fi

# A .kunitconfig shipped by the series itself is honoured as well.
while IFS= read -r p; do
	args+=(--kunitconfig="$TREE/$p")
done < <(git -C "$TREE" diff --name-only base HEAD | grep -E '(^|/)[^/]*\.?kunitconfig$' || true)

# The sample module exists only once its patch is in the series.
if grep -q '^config SAMPLE_PMALLOC$' "$TREE/samples/Kconfig" 2>/dev/null; then
	args+=(--kconfig_add=CONFIG_SAMPLES=y --kconfig_add=CONFIG_SAMPLE_PMALLOC=m)
fi

say "kernel $(kernel_version) for $TARGET_ARCH, build in $BUILD, ccache in $CCACHE_DIR"
cd "$TREE"

case $mode in
build|run|boot) ;;
*) die "unknown mode $mode" ;;
esac

if [ "$mode" != boot ]; then
	step "build $TARGET_ARCH" tools/testing/kunit/kunit.py build \
		"${args[@]}" --jobs="$(nproc)"
fi
[ "$mode" = build ] && exit 0
[ -f "$KERNEL" ] || die "no kernel at $KERNEL; build it first"

command -v "$QEMU" >/dev/null || die "$QEMU missing"
# Built apart from the run, so the KVM probe can boot this very kernel.
accel=$(qemu_accel "$KERNEL")
[ -n "$accel" ] || say "KVM unusable here: QEMU emulates the CPU (TCG)"
# Later options win over those of kunit.py's qemu_configs/ARCH.py.
args+=(--qemu_args="$accel -smp 2 $QEMU_MACHINE")
for a in "${kargs[@]}"; do
	args+=(--kernel_args="$a")
done

json=$WORK/kunit$suffix.json
log=$WORK/kunit$suffix.log
console=$WORK/kunit$suffix-console.log
rm -f "$json" "$console" "$BUILD/test.log"
rc=0
# kunit.py exits non-zero when a case fails; the verdict comes from the
# JSON below, so only note its status here.  Emulated arm64 runs the
# suite in a few minutes; the timeout only stops a hung guest.
boot() {
	tools/testing/kunit/kunit.py exec "${args[@]}" --timeout=900 \
		--json="$json" 2>&1 | tee "$log" || rc=$?
}
step "test $run" boot
[ -f "$BUILD/test.log" ] && cp "$BUILD/test.log" "$console"
say "kunit.py log: $log; console: $console"

[ -s "$json" ] || die "kunit.py wrote no results (exit $rc); see $log"
mkdir -p "$RESULTS"

# A parameterised case counts once: failed if any parameter failed,
# skipped if all were skipped.  The reasons for skips are in the KTAP on
# the console, not in the JSON.
python3 - "$json" "$RESULTS/kunit$suffix" "$run" "$console" \
	"${PMALLOC_PROTECT:-}" <<'PY'
import json, re, sys

def cases(group, suite):
    for c in group.get("test_cases", []):
        yield suite, c["name"], c["status"], []
    for g in group.get("sub_groups", []):
        if g.get("sub_groups"):
            yield from cases(g, g["name"])
            continue
        params = [(c["name"], c["status"]) for c in g.get("test_cases", [])]
        if suite is None:
            yield from cases(g, g["name"])
            continue
        st = [s for _, s in params]
        if any(s not in ("PASS", "SKIP") for s in st):
            status = "FAIL"
        elif st and all(s == "SKIP" for s in st):
            status = "SKIP"
        else:
            status = "PASS" if st else "FAIL"
        yield suite, g["name"], status, params

jsonfile, record, run, console, protect = sys.argv[1:]
try:
    console_text = open(console, errors="replace").read()
except OSError:
    console_text = ""
reasons = {}
for line in console_text.splitlines():
    m = re.match(r"\s*ok \d+ (.*?) # SKIP (.*)", line)
    if m:
        reasons.setdefault(m.group(1), m.group(2))

root = json.load(open(jsonfile))
skipped = {}
with open(record, "w") as out:
    def result(status, label, why=""):
        print(f"  {status:4} {label}" + (f": {why}" if why else ""))
        out.write(f"{status} {label}\n")

    for suite, name, status, params in cases(root, None):
        status = status if status in ("PASS", "FAIL", "SKIP") else "FAIL"
        why = reasons.get(name, "") if status == "SKIP" else ""
        if status == "SKIP" and not why and params:
            # Each parameter carries the reason; take it if they agree.
            whys = {reasons.get(pname, "") for pname, _ in params}
            why = whys.pop() if len(whys) == 1 else ""
        if status == "SKIP":
            skipped[name] = why
        result(status, f"{run}: {suite}.{name}", why)
        for pname, pstatus in params:
            if pstatus != "PASS":
                print(f"         {pstatus:4} {pname}")

    # pmalloc's boot line when it will refuse to protect, and what
    # protect_locks_direct_map_or_refuses prints for either way it goes.
    boot_line = "pools cannot be protected"
    went_on = "protect succeeded: both mappings must refuse writes"
    went_off = "protect refused with -95: the pool must be as it was"
    refused = [n for n, why in skipped.items() if "protection refused" in why]
    if protect == "works":
        bad = []
        if refused:
            bad.append("skipped for a refused protect: " + ", ".join(refused))
        if boot_line in console_text:
            bad.append("the kernel said pools cannot be protected")
        if went_on not in console_text:
            bad.append(f"no line '{went_on}'")
        result("FAIL" if bad else "PASS",
               f"{run}: protection works, as documented", "; ".join(bad))
    elif protect == "refused":
        bad = []
        seen = console_text.count(boot_line)
        if seen != 1:
            bad.append(f"pmalloc's boot line seen {seen} times, not once")
        if not refused:
            bad.append("no case was skipped for a refused protect")
        if went_off not in console_text:
            bad.append(f"no line '{went_off}'")
        other = [n for n in skipped if n not in refused]
        if other:
            bad.append("skipped for other reasons: " + ", ".join(other))
        result("FAIL" if bad else "PASS",
               f"{run}: protection refused, as documented", "; ".join(bad))
PY
