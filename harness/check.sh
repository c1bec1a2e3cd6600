#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: "make check" once work/linux holds the series.  Builds the
# kernel and runs, under QEMU unless said otherwise:
#   gates.sh source         checkpatch, kernel-doc and Sphinx on the series
#                           (no QEMU, no kernel build)
#   kunit.sh run            the KUnit suite
#   gates.sh objects        sparse and W=1 on our objects (no QEMU), once
#                           kunit.sh has built them
#   kselftest.sh run        the pmalloc kselftest, LKDTM's real faults
#   kselftest.sh self-test  the same kselftest with protection switched off
#                           by the test-only knob, where it must fail
#   kselftest.sh loadpin*   LoadPin's dm-verity kselftest on real disks:
#                           the scenario, three bad files (one boot each,
#                           as a failed load disables the ioctl until
#                           reboot) and the scenario without protection
#   gates.sh bisect         every earlier commit of the series built on its
#                           own with the KUnit kernel's .config (no QEMU)
#   gates.sh configs        tinyconfig with CONFIG_PMALLOC=y, and with it
#                           off and its users built in (no QEMU)
# and then, for each architecture PMALLOC_ARCHES names ("i386 arm64"
# unless set; set it empty for x86_64 alone): for i386 the KUnit suite,
# for arm64 the KUnit suite and the kselftest, once with rodata=full
# (protection works) and once with rodata=on (refused).
# Every result lands in work/results/; the run ends with the line
# "pmalloc: N passed, N failed[, N skipped]" counting all of them, and
# exits non-zero when one failed or none passed.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

H=$ROOT/harness
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# PMALLOC_PROTECT says what each boot must show: protection working, or
# refused as documented.
export PMALLOC_PROTECT=works
step gates "$H/gates.sh" source
"$H/kunit.sh" run
step gates "$H/gates.sh" objects
step kselftest "$H/kselftest.sh" run
step self-test "$H/kselftest.sh" self-test
for m in loadpin loadpin-malformed loadpin-overlong loadpin-empty \
	 loadpin-self-test; do
	step "$m" "$H/kselftest.sh" "$m"
done
step bisect "$H/gates.sh" bisect
step configs "$H/gates.sh" configs

# The other architectures, as PMALLOC_ARCHES lists them (both unless set):
# each costs a cold kernel build of its own, see the README.
for arch in ${PMALLOC_ARCHES-i386 arm64}; do
	case $arch in
	i386)
		# The suite within the small 32-bit vmalloc range.  highmem=0
		# keeps every page in lowmem, where it has an alias to check.
		PMALLOC_ARCH=i386 "$H/kunit.sh" run highmem=0
		;;
	arm64)
		# Both rodata modes, one build.
		PMALLOC_ARCH=arm64 "$H/kunit.sh" run rodata=full
		PMALLOC_ARCH=arm64 PMALLOC_PROTECT=refused \
			"$H/kunit.sh" boot rodata=on
		PMALLOC_ARCH=arm64 \
			step kselftest "$H/kselftest.sh" run rodata=full
		PMALLOC_ARCH=arm64 PMALLOC_PROTECT=refused \
			step kselftest "$H/kselftest.sh" run rodata=on
		;;
	x86_64) ;;
	*) die "PMALLOC_ARCHES: unknown architecture $arch" ;;
	esac
done

say "kernel $(kernel_version)${PMALLOC_START:+, $(($(date +%s) - PMALLOC_START))s in all}"
read -r pass fail skip < <(awk '
	$1 == "PASS" { p++; next }
	$1 == "SKIP" { s++; next }
	{ f++ }
	END { print p + 0, f + 0, s + 0 }' "$RESULTS"/*)
line="pmalloc: $pass passed, $fail failed"
[ "$skip" -eq 0 ] || line="$line, $skip skipped"
say "$line"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
