# SPDX-License-Identifier: GPL-2.0
#
# Sourced by every harness script: paths, step reporting and the work lock.
# All state lives in work/ at the repository root, which git ignores.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$ROOT/work
TREE=$WORK/linux
SERIES_OUT=$WORK/series
# The architecture a script builds or boots: PMALLOC_ARCH, x86_64 unless
# set.  Each has its own O= folder, so switching costs no rebuild.
TARGET_ARCH=${PMALLOC_ARCH:-x86_64}
BUILD=$WORK/build-$TARGET_ARCH
# One file per kind of test, one "PASS|FAIL|SKIP label" line per result.
RESULTS=$WORK/results
TARBALL=/usr/src/linux-source-6.12.tar.xz

export LC_ALL=C

# What booting TARGET_ARCH takes, beyond kunit.py's own qemu_configs:
#   KERNEL        the image kunit.py builds and QEMU boots
#   QEMU          the system emulator, from Debian's qemu-system-* package
#   CONSOLE       the serial console the kernel writes to
#   CROSS         the prefix of Debian's cross compiler, empty for none
#   BUSYBOX       a static busybox the guest can run, for its initramfs
#   QEMU_MACHINE  the board, firmware and CPU.  For arm64 that is a
#                 Cortex-A57: kunit.py's "max" CPU has pointer
#                 authentication, SVE and the rest, each slower under TCG
#                 and none of them used by pmalloc.
case $TARGET_ARCH in
x86_64|i386)
	KERNEL=$BUILD/arch/x86/boot/bzImage
	QEMU=qemu-system-$TARGET_ARCH
	CONSOLE=ttyS0
	CROSS=
	BUSYBOX=/bin/busybox
	# qboot starts faster than SeaBIOS and sends no escape codes.
	QEMU_MACHINE="-bios qboot.rom"
	;;
arm64)
	KERNEL=$BUILD/arch/arm64/boot/Image.gz
	QEMU=qemu-system-aarch64
	CONSOLE=ttyAMA0
	CROSS=aarch64-linux-gnu-
	BUSYBOX=$WORK/busybox-arm64/bin/busybox
	QEMU_MACHINE="-machine virt -cpu cortex-a57"
	;;
*)
	printf 'error: PMALLOC_ARCH=%s: not x86_64, i386 or arm64\n' \
		"$TARGET_ARCH" >&2
	exit 1
	;;
esac

say() {
	printf '%s\n' "$*"
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# step NAME COMMAND...: run one stage, framed by its name and elapsed time.
step() {
	local name=$1 t0=$SECONDS
	shift
	say "==> $name"
	"$@"
	say "<== $name: $((SECONDS - t0))s"
}

# One make at a time per work folder: kernel builds on 2 cores do not
# overlap well, and two runs of git am on one tree corrupt it.  Children
# inherit the lock through PMALLOC_LOCKED instead of waiting on themselves.
take_lock() {
	[ -n "${PMALLOC_LOCKED:-}" ] && return 0
	mkdir -p "$WORK"
	exec 9>"$WORK/.lock"
	if ! flock -n 9; then
		local t0=$SECONDS
		say "waiting for another run to release $WORK/.lock"
		flock 9
		say "got the lock after $((SECONDS - t0))s"
	fi
	export PMALLOC_LOCKED=1
}

# kernel_version [DIR]: the version string of the tree in DIR (default TREE).
kernel_version() {
	make -s -C "${1:-$TREE}" kernelversion
}

# qemu_accel KERNEL: print "-enable-kvm" if KVM really runs an x86 guest
# here, nothing otherwise (and always nothing for arm64).  /dev/kvm alone
# is not proof: nested setups exist that open it but never get a guest
# past the decompressor.  So the CPU must advertise vmx or svm and KERNEL
# must reach its root mount panic within 30 seconds.  The verdict is kept
# in work/kvm.
qemu_accel() {
	local verdict=no

	# The probe runs x86 guests only; other guests are emulated.
	case $TARGET_ARCH in
	x86_64|i386) ;;
	*) return 0 ;;
	esac
	if [ -f "$WORK/kvm" ]; then
		verdict=$(cat "$WORK/kvm")
	else
		if ( : <>/dev/kvm ) 2>/dev/null &&
		   grep -qwE 'vmx|svm' /proc/cpuinfo &&
		   timeout 30 qemu-system-x86_64 -nodefaults -m 256 -no-reboot \
			-nographic -serial stdio -bios qboot.rom -enable-kvm \
			-kernel "$1" -append 'console=ttyS0 kunit.enable=0 panic=-1' \
			</dev/null 2>&1 | grep -qa 'Kernel panic'; then
			verdict=yes
		fi
		echo "$verdict" >"$WORK/kvm"
	fi
	[ "$verdict" = yes ] && echo "-enable-kvm"
	return 0
}
