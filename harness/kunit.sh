#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh build|run: configure and build the patched tree in
# work/build-x86_64 with the kernel's kunit.py, and for "run" boot it under
# QEMU and report every case.  The same kernel serves "make demo" and the
# kselftest boots, so the configuration also carries what they need.
#
# "run" prints each case and records it in $RESULTS/kunit, one
# "PASS|FAIL|SKIP label" line each; check.sh counts them with the other
# results.  It exits non-zero only when kunit.py gave no results at all.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

mode=${1:?usage: kunit.sh build|run}

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/pmalloc-ccache}
# Hits across clones in other folders: paths under the clone become
# relative, and the working directory stays out of the hash.
export CCACHE_BASEDIR=$ROOT
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
mkdir -p "$CCACHE_DIR"

args=(--arch=x86_64 --build_dir="$BUILD" --make_options="CC=ccache gcc"
      --kunitconfig="$ROOT/harness/x86_64.kunitconfig")

# A .kunitconfig shipped by the series itself is honoured as well.
while IFS= read -r p; do
	args+=(--kunitconfig="$TREE/$p")
done < <(git -C "$TREE" diff --name-only base HEAD | grep -E '(^|/)[^/]*\.?kunitconfig$' || true)

# The sample module exists only once its patch is in the series.
if grep -q '^config SAMPLE_PMALLOC$' "$TREE/samples/Kconfig" 2>/dev/null; then
	args+=(--kconfig_add=CONFIG_SAMPLES=y --kconfig_add=CONFIG_SAMPLE_PMALLOC=m)
fi

say "kernel $(kernel_version), build in $BUILD, ccache in $CCACHE_DIR"
cd "$TREE"

case $mode in
build|run) ;;
*) die "unknown mode $mode" ;;
esac

step build tools/testing/kunit/kunit.py build "${args[@]}" --jobs="$(nproc)"
[ "$mode" = build ] && exit 0

# Built apart from the run, so the KVM probe can boot this very kernel.
accel=$(qemu_accel "$BUILD/arch/x86/boot/bzImage")
[ -n "$accel" ] || say "KVM unusable here: QEMU emulates the CPU (TCG)"
args+=(--qemu_args="$accel -smp 2")

json=$WORK/kunit.json
rm -f "$json" "$BUILD/test.log"
rc=0
# kunit.py exits non-zero when a case fails; the verdict comes from the
# JSON below, so only note its status here.
boot() {
	tools/testing/kunit/kunit.py exec "${args[@]}" --timeout=900 \
		--json="$json" 2>&1 | tee "$WORK/kunit.log" || rc=$?
}
step test boot
[ -f "$BUILD/test.log" ] && cp "$BUILD/test.log" "$WORK/kunit-console.log"
say "kunit.py log: $WORK/kunit.log; console: $WORK/kunit-console.log"

[ -s "$json" ] || die "kunit.py wrote no results (exit $rc); see $WORK/kunit.log"
mkdir -p "$RESULTS"

# A parameterised case counts once: failed if any parameter failed,
# skipped if all were skipped.
python3 - "$json" "$RESULTS/kunit" <<'PY'
import json, sys

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

root = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as out:
    for suite, name, status, params in cases(root, None):
        status = status if status in ("PASS", "FAIL", "SKIP") else "FAIL"
        print(f"  {status:4} {suite}.{name}")
        out.write(f"{status} {suite}.{name}\n")
        for pname, pstatus in params:
            if pstatus != "PASS":
                print(f"         {pstatus:4} {pname}")
PY
