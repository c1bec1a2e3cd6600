#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [boot]: "make bench".  For each architecture of BENCH_ARCHES
# ("x86_64 arm64" unless set), build the kernel make check builds for it
# (harness/run has built x86_64 already), boot it once with a busybox
# initramfs that loads test_pmalloc_bench.ko (lib/test_pmalloc_bench.c,
# CONFIG_PMALLOC_BENCH=m) and turn the "pmalloc_bench:" lines it prints
# into tables.  "bench.sh boot" does one boot, for PMALLOC_ARCH.  It is not
# part of "make check".
#
# Every case runs in that one boot, so the allocators are compared on the
# same emulated machine; the ratios mean more than the times, and the two
# architectures' times are not comparable with each other.  The tables go
# to stdout and, as markdown with the date, kernel, QEMU and CPU, to
# work/bench/ARCH/results.md; work/bench/results.md holds them all, each
# under a heading naming its architecture.  The raw console stays in
# work/bench/ARCH/console.log.
#
# The targets of issue 6 are measured and reported, met or missed; a miss
# does not fail the run.  It fails if the guest does not finish, the
# module reports an error, or a line the tables need is missing.
#
# arm64 boots as make check boots it (-machine virt -cpu cortex-a57) with
# rodata=full, where pools can be protected, and with the same module
# parameters: under TCG here it takes no longer than x86_64.  Where it
# would, BENCH_ARGS_ARM64 gives it smaller ones (for example
# "rounds=5 nr_areas=2000 nr_random=20000 nr_updates=200"), which the
# header of its tables states.
#
# BENCH_ARGS in the environment adds module parameters for every
# architecture, after the arm64 defaults, for example
# BENCH_ARGS="rounds=3 nr_random=10000" for a quick look.
#
# Needs: qemu-system-x86_64, qemu-system-aarch64, busybox (the host's, and
# Debian's arm64 one that deps.sh unpacks), cpio, python3.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guest.sh"
take_lock

OUT=$WORK/bench
# Module parameters for arm64 alone, before BENCH_ARGS.
BENCH_ARGS_ARM64=${BENCH_ARGS_ARM64:-}

if [ "${1:-}" != boot ]; then
	mkdir -p "$OUT"
	for arch in ${BENCH_ARCHES-x86_64 arm64}; do
		case $arch in
		x86_64|arm64) ;;
		*) die "BENCH_ARCHES: $arch: not x86_64 or arm64" ;;
		esac
		# harness/run built x86_64 before calling this.
		[ "$arch" = x86_64 ] || PMALLOC_ARCH=$arch "$ROOT/harness/kunit.sh" build
		rm -f "$OUT/$arch/results.md"
		step "bench $arch" env PMALLOC_ARCH="$arch" "$0" boot
	done
	# The last run of each architecture, each dated in its first line:
	# BENCH_ARCHES=arm64 leaves x86_64's last tables in place.
	: >"$OUT/results.md.new"
	for arch in x86_64 arm64; do
		[ -f "$OUT/$arch/results.md" ] || continue
		{
			printf '### %s\n\n' "$arch"
			cat "$OUT/$arch/results.md"
			printf '\n'
		} >>"$OUT/results.md.new"
	done
	mv "$OUT/results.md.new" "$OUT/results.md"
	say "bench: all results in $OUT/results.md"
	exit 0
fi

MODULE=$BUILD/lib/test_pmalloc_bench.ko
TIMEOUT=1800
# kunit.enable=0: the suite is built in and would run first otherwise.
CMDLINE="console=$CONSOLE panic=-1 kunit.enable=0"
ARGS=${BENCH_ARGS:-}
case $TARGET_ARCH in
arm64)
	# Where pools can be protected; make check boots it so too.
	CMDLINE="$CMDLINE rodata=full"
	ARGS="${BENCH_ARGS_ARM64:+$BENCH_ARGS_ARM64 }$ARGS"
	;;
x86_64) ;;
*) die "make bench runs on x86_64 and arm64, not $TARGET_ARCH" ;;
esac
OUT=$OUT/$TARGET_ARCH
STAGE=$OUT/initramfs
CPIO=$OUT/initramfs.cpio
LOG=$OUT/console.log
RESULT=$OUT/results.md

[ -f "$KERNEL" ] || die "no kernel at $KERNEL; build it first"
[ -f "$MODULE" ] ||
	die "no $MODULE; is CONFIG_PMALLOC_BENCH=m in $BUILD/.config?"
mkdir -p "$OUT"

guest_stage "$STAGE"
cp "$MODULE" "$STAGE/test_pmalloc_bench.ko"
# Quoted, but for the module parameters.
cat >"$STAGE/main" <<EOF
dmesg -n 1
echo "pmalloc bench: begin"
echo "kernel \$(uname -r)"
echo "guest-cpu \$(sed -n 's/^model name[^:]*: //p; s/^CPU part[^:]*: /CPU part /p' /proc/cpuinfo | head -n 1)"
echo "guest-cpus \$(grep -c ^processor /proc/cpuinfo)"
echo "guest-mem \$(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
insmod /test_pmalloc_bench.ko $ARGS
echo "insmod exit \$?"
rmmod test_pmalloc_bench
dmesg | grep 'pmalloc_bench: ' | sed 's/^\[[^]]*\] //'
echo "pmalloc bench: end"
EOF
guest_cpio "$STAGE" "$CPIO"

accel=$(qemu_accel "$KERNEL")
t0=$SECONDS
rc=0
# Two CPUs, as make check boots, so TLB flushes reach another CPU; memory
# for the trace protected after every object, one area each.
# shellcheck disable=SC2086
guest_boot "$LOG" "$TIMEOUT" "$KERNEL" "$CPIO" "$CMDLINE" \
	$accel -smp 2 -m 2048 || rc=$?
say "QEMU exited with $rc after $((SECONDS - t0))s; console: $LOG"
[ "$rc" -ne 124 ] || die "QEMU timed out after ${TIMEOUT}s; see $LOG"

qemu=$($QEMU --version | head -n 1)
host_cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
python3 - "$LOG" "$RESULT" "$qemu" "$host_cpu" "${accel:+KVM}" \
	"$TARGET_ARCH" "$QEMU $QEMU_MACHINE" "$CMDLINE" <<'PY'
import errno
import re
import sys
import time

log, result, qemu, host_cpu, kvm, arch, machine, cmdline = sys.argv[1:]
lines = open(log, errors="replace").read().splitlines()
try:
    body = lines[lines.index("pmalloc bench: begin") + 1:]
    body = body[:body.index("pmalloc bench: end")]
except ValueError:
    sys.exit("bench: the guest did not finish; see " + log)

info = {}
cases = []
for line in body:
    m = re.match(r"(kernel|guest-cpu|guest-cpus|guest-mem) (.*)", line)
    if m:
        info[m.group(1)] = m.group(2)
        continue
    m = re.match(r"pmalloc_bench: (\w+):? (.*)", line)
    if m:
        kv = dict(re.findall(r"(\w+)=(\S+)", m.group(2)))
        cases.append((m.group(1), kv, line))

if [l for k, _, l in cases if k == "done"] != ["pmalloc_bench: done: all cases ran"]:
    for _, _, l in cases:
        print(l)
    sys.exit("bench: the module did not run every case; see " + log)

def pick(kind, **want):
    for k, kv, _ in cases:
        if k == kind and all(kv.get(a) == str(b) for a, b in want.items()):
            return kv
    sys.exit(f"bench: no '{kind}' line for {want}; see {log}")

def num(s):
    return None if s == "-" else float(s)

def ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"

out = []
def emit(s=""):
    out.append(s)

start = pick("start")
params = " ".join(f"{p}={start[p]}" for p in
                  ("rounds", "nr_allocs", "nr_areas", "nr_random", "seed",
                   "nr_updates") if p in start)
emit(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
     f"{arch}, kernel {info.get('kernel', '?')}, {qemu}, "
     f"`{machine}`, command line `{cmdline}`, "
     f"{'KVM' if kvm else 'TCG (emulated CPU)'}, "
     f"{info.get('guest-cpus', '?')} vCPUs \"{info.get('guest-cpu', '?')}\" "
     f"on host CPU \"{host_cpu}\", guest memory {info.get('guest-mem', '?')}; "
     f"module parameters {params}; pmalloc "
     f"refill sizes {start['refills'].replace(',', ', ')} bytes.")
emit()

refills = [int(r) for r in start["refills"].split(",")]

def refill_name(r):
    return "one page (0)" if r == 0 else f"{r // 1024} KiB"

def pmalloc_key(r):
    return "pmalloc" if r == 0 else f"pmalloc_refill_{r}"

# 1. Allocation cost.
emit(f"Allocation cost: ns per allocation, median of {start['rounds']} "
     f"rounds of {start['nr_allocs']} allocations (objects freed outside "
     "the timed loop), pmalloc from a fresh pool of each refill size.  "
     "Within a round every allocator and refill size takes its turn, so "
     "kmalloc, genalloc and vmalloc are one measurement per size, repeated "
     "in each block.")
emit()
emit("| size | pmalloc refill | pmalloc | kmalloc | genalloc | vmalloc "
     "| pmalloc/kmalloc | pmalloc/genalloc |")
emit("|---:|---|---:|---:|---:|---:|---:|---:|")
small = {r: [] for r in refills}
for r in refills:
    for size in (8, 32, 64, 256, 1024, 4000):
        kv = pick("alloc", size=size)
        p, k, g, v = (num(kv[a]) for a in (pmalloc_key(r), "kmalloc",
                                           "genalloc", "vmalloc"))
        if size <= 256:
            small[r].append((size, p / k, p / g))
        emit(f"| {size} | {refill_name(r)} | {kv[pmalloc_key(r)]} "
             f"| {kv['kmalloc']} | {kv['genalloc']} | {kv['vmalloc']} "
             f"| {ratio(p, k)} | {ratio(p, g)} |")
emit()

# 2. Scaling.
emit("Scaling: ns per 64-byte pmalloc() when the pool already holds that "
     "many one-page areas, each filled but for 32 bytes (so none has room), "
     "writable or protected.")
emit()
emit("| areas already in the pool | ns per allocation | against 1 area |")
emit("|---|---:|---:|")
base = num(pick("scaling", areas=1, state="writable")["pmalloc"])
worst = 1.0
for areas, state in ((1, "writable"), (100, "writable"),
                     (start["nr_areas"], "writable"),
                     (start["nr_areas"], "protected")):
    t = num(pick("scaling", areas=areas, state=state)["pmalloc"])
    worst = max(worst, t / base)
    emit(f"| {areas} {state} | {t:.1f} | {t / base:.2f} |")
emit()

# 3. Memory.
emit("Memory: bytes consumed per byte requested, the pmalloc pool "
     "protected once at the end, for each refill size.  pmalloc: pages of "
     "its areas plus every slab byte taken meanwhile (its records, "
     "vmalloc's, the maple tree); kmalloc: slab pages taken; genalloc: "
     "one-page chunks added as needed plus their records.")
emit()
emit("| trace | objects | bytes requested | "
     + " | ".join(f"pmalloc, refill {refill_name(r)}" for r in refills)
     + " | kmalloc | genalloc |")
emit("|---|---:|---:|" + "---:|" * (len(refills) + 2))
mem = {}
for trace in ("random", "policy", "loadpin"):
    kv = pick("memory", trace=trace)
    req = int(kv["requested"])
    cells = []
    for r in refills:
        pk = pick("protect", trace=trace, refill=r, align="default",
                  every="once")
        mem[trace, r] = (int(pk["area_bytes"]) + int(pk["records"])) / req
        cells.append(f"{mem[trace, r]:.3f}")
    cells += [f"{int(kv[a]) / req:.3f}" for a in ("kmalloc", "genalloc")]
    emit(f"| {trace} | {kv['objects']} | {req} | " + " | ".join(cells) + " |")
emit()
emit("Given up at protect: pmalloc with the pool protected every N "
     "objects; \"given up\" is the bytes after the last object of each "
     "area, which no later object may use.  The larger refill sizes are "
     "protected once and every 100 objects only (every 10 or every object "
     "would take a whole area each time).")
emit()
emit("| trace | refill | protect every | areas | consumed per byte "
     "| given up, bytes | given up per byte requested |")
emit("|---|---|---:|---:|---:|---:|---:|")
for trace in ("random", "policy", "loadpin"):
    req = int(pick("memory", trace=trace)["requested"])
    for r in refills:
        for every in ("once", 100, 10, 1) if r == 0 else ("once", 100):
            kv = pick("protect", trace=trace, refill=r, align="default",
                      every=every)
            used = int(kv["area_bytes"]) + int(kv["records"])
            emit(f"| {trace} | {refill_name(r)} | {every} | {kv['areas']} "
                 f"| {used / req:.3f} | {kv['given_up']} "
                 f"| {int(kv['given_up']) / req:.3f} |")
emit()

# Byte-aligned objects.
emit("Alignment: the pool protected once, with the default alignment "
     "(ARCH_KMALLOC_MINALIGN, every object rounded up to it) and with "
     "align_order 0 (byte-aligned).  \"In areas\" is the bytes from the "
     "start of each area to the end of its last object, padding included, "
     "per byte requested: what the alignment costs, before records and "
     "the unused tail of each area.")
emit()
emit("| trace | refill | areas, default / 0 | in areas per byte, default "
     "| in areas per byte, align_order 0 | consumed per byte, default "
     "| consumed per byte, align_order 0 |")
emit("|---|---|---:|---:|---:|---:|---:|")
mem0 = {}
for trace in ("random", "policy", "loadpin"):
    req = int(pick("memory", trace=trace)["requested"])
    for r in refills:
        row = {}
        for align in ("default", 0):
            kv = pick("protect", trace=trace, refill=r, align=align,
                      every="once")
            inside = int(kv["area_bytes"]) - int(kv["given_up"])
            used = int(kv["area_bytes"]) + int(kv["records"])
            row[align] = (kv["areas"], inside / req, used / req)
        mem0[trace, r] = row[0][2]
        emit(f"| {trace} | {refill_name(r)} "
             f"| {row['default'][0]} / {row[0][0]} "
             f"| {row['default'][1]:.3f} | {row[0][1]:.3f} "
             f"| {row['default'][2]:.3f} | {row[0][2]:.3f} |")
emit()

# 4. Protect cost.
emit("Protect cost: ns per pmalloc_protect_pool() (median), and per MiB "
     "protected, summed over the rounds: flush_tlb_all() calls, full TLB "
     "flushes run (on each CPU), single-page flushes run (on each CPU), "
     "from CONFIG_DEBUG_TLBFLUSH's counters, and direct-map 2 MiB splits "
     "(direct_map_level2_splits).")
if arch != "x86_64":
    emit()
    emit(f"On {arch} the last four columns are \"-\": "
         "CONFIG_DEBUG_TLBFLUSH, which provides the TLB flush counters, "
         "exists only on x86, and so does the direct_map_level2_splits "
         "counter.  (With rodata=full, arm64 maps its direct map with "
         "pages from boot, so a protect has no block to split.)")
emit()
emit("| pages | areas | ns per protect | flush_tlb_all() /MiB "
     "| full flushes /MiB | page flushes /MiB | 2M splits /MiB |")
emit("|---:|---:|---:|---:|---:|---:|---:|")
for pages, areas in ((1, 1), (16, 1), (16, 16), (256, 1), (256, 256)):
    kv = pick("protect_cost", pages=pages, areas=areas)
    mib = int(kv["rounds"]) * pages * 4096 / (1 << 20)
    per = lambda a: "-" if kv[a] == "-" else f"{int(kv[a]) / mib:.1f}"
    emit(f"| {pages} | {areas} | {kv['ns_per_protect']} "
         f"| {per('flush_all_calls')} | {per('full_flushes')} "
         f"| {per('page_flushes')} | {per('splits_2m')} |")
emit()

# 5. Write-rare updates.
def errname(e):
    # The kernel's name: Python calls 95 ENOTSUP.
    names = {-errno.EOPNOTSUPP: "-EOPNOTSUPP"}
    return names.get(e, "-" + errno.errorcode.get(-e, str(-e)))

def wratio(a, b):
    # These ratios run from hundredths to thousands.
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.3f}" if a / b < 0.1 else f"{a / b:.2f}"

wr = [kv for k, kv, _ in cases if k == "wr"]
if "nr_updates" in start:
    emit(f"Write-rare updates: ns per update, median of {start['rounds']} "
         f"rounds of {start['nr_updates']} updates, the three ways taken "
         "in turn within a round: pmalloc_wr_memcpy() into an object of a "
         "protected write-rare pool; memcpy() into an object of a plain "
         "pool that was never protected; and set_memory_rw(), memcpy(), "
         "set_memory_ro() on a page of a one-page vmalloc area of the "
         "benchmark's own (VM_FLUSH_RESET_PERMS, read-only between "
         "updates), which is what an owner without write-rare would do.  "
         "Every update alternates between two patterns, and the object "
         "must hold the last one afterwards.")
    emit()
    emit("| bytes | memcpy() | pmalloc_wr_memcpy() | set_memory_rw/ro "
         "round trip | write-rare/memcpy | round trip/memcpy "
         "| write-rare/round trip |")
    emit("|---:|---:|---:|---:|---:|---:|---:|")
    if not wr:
        sys.exit(f"bench: no 'wr' lines; see {log}")
    for kv in wr:
        m, w, t = (num(kv[a]) for a in ("memcpy", "wr_memcpy",
                                        "rw_round_trip"))
        cell = lambda v, err: (kv[v] if kv[v] != "-" else
                               f"refused ({errname(int(kv[err]))})")
        emit(f"| {kv['size']} | {kv['memcpy']} "
             f"| {cell('wr_memcpy', 'wr_error')} "
             f"| {cell('rw_round_trip', 'rw_error')} | {wratio(w, m)} "
             f"| {wratio(t, m)} | {wratio(w, t)} |")
    emit()

# 6. Targets.
def verdict(ok, text):
    return f"- {'met' if ok else 'MISSED'}: {text}"

emit("Targets (measured, not asserted), for each refill size of the "
     "pool:")
emit()
for r in refills:
    kmax = max(small[r], key=lambda s: s[1])
    gmax = max(small[r], key=lambda s: s[2])
    emit(verdict(kmax[1] <= 1.0, f"refill {refill_name(r)}: small objects "
                 f"(8-256 bytes) pmalloc/kmalloc at most 1.0: worst "
                 f"{kmax[1]:.2f} (size {kmax[0]})"))
    emit(verdict(gmax[2] <= 0.5, f"refill {refill_name(r)}: small objects "
                 f"pmalloc/genalloc at most 0.5: worst {gmax[2]:.2f} "
                 f"(size {gmax[0]})"))
    for trace in ("random", "policy"):
        emit(verdict(mem[trace, r] <= 1.03, f"refill {refill_name(r)}: "
                     f"{trace} trace protected once, at most 1.03 bytes "
                     f"per byte: {mem[trace, r]:.3f}"))
    for trace in ("random", "policy"):
        emit(verdict(mem0[trace, r] <= 1.03, f"refill {refill_name(r)}, "
                     f"align_order 0: {trace} trace protected once, at "
                     f"most 1.03 bytes per byte: {mem0[trace, r]:.3f}"))
emit(verdict(worst <= 1.5, "allocation cost flat within 1.5x from 1 to "
             f"{start['nr_areas']} areas (one-page areas): worst "
             f"{worst:.2f}x"))

text = "\n".join(out) + "\n"
open(result, "w").write(text)
print(text, end="")
print(f"bench: results in {result}")
PY
