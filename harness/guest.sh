# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that boot the built kernel under QEMU with a
# busybox initramfs of their own (demo.sh, kselftest.sh).
#
# The guest's /init mounts devtmpfs, proc, sysfs and debugfs, runs
# "sh /main" with the console as its terminal, then resets the machine:
# QEMU runs with -no-reboot, so the reset ends it.  A power-off would need
# the ACPI namespace, which this minimal configuration (no PCI) cannot
# load: "poweroff -f" only halts the CPU and leaves QEMU to its timeout.
#
# Needs: qemu-system-x86_64, /bin/busybox (busybox-static), cpio.  For
# another guest, lib.sh sets QEMU and QEMU_MACHINE, and BUSYBOX names a
# static busybox built for it (deps.sh unpacks Debian's for arm64).

# guest_stage DIR: a fresh initramfs tree in DIR holding busybox and /init.
# The caller adds /main and whatever it runs.
guest_stage() {
	local dir=$1 busybox=${BUSYBOX:-/bin/busybox}

	[ -x "$busybox" ] || die "$busybox missing (package busybox-static)"
	rm -rf "$dir"
	mkdir -p "$dir/bin" "$dir/dev" "$dir/proc" "$dir/sys" "$dir/tmp"
	cp "$busybox" "$dir/bin/busybox"
	# The kernel opens /dev/console before it runs /init.  Without root
	# there is no node; /init then opens the console from devtmpfs.
	if [ "$(id -u)" -eq 0 ]; then
		mknod -m 600 "$dir/dev/console" c 5 1
	fi

	# Quoted: nothing in it is expanded here.  /main runs in a shell of
	# its own, so that a fatal error there still ends in the reset.
	cat >"$dir/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
sh /main
reboot -f
EOF
	chmod 755 "$dir/init"
}

# guest_cpio DIR CPIO: pack the tree in DIR into the newc archive CPIO.
guest_cpio() {
	command -v cpio >/dev/null || die "cpio missing"
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
		>"$2"
}

# guest_boot LOG TIMEOUT KERNEL CPIO CMDLINE [QEMU-ARG...]: boot KERNEL
# with CPIO as its initramfs, print the command, keep the console in LOG
# without carriage returns and return QEMU's status (124: timed out).
guest_boot() {
	local log=$1 timeout=$2 kernel=$3 cpio=$4 cmdline=$5 rc=0
	local emu=${QEMU:-qemu-system-x86_64}
	shift 5
	local qemu=(timeout "$timeout" "$emu" -nodefaults
		    -no-reboot -nographic -serial stdio -m 512 "$@")

	command -v "$emu" >/dev/null || die "$emu missing"
	if [ -n "${QEMU_MACHINE+set}" ]; then
		# shellcheck disable=SC2206
		qemu+=($QEMU_MACHINE)
	elif [ -f /usr/share/qemu/qboot.rom ]; then
		# qboot starts faster than SeaBIOS and sends no escape codes.
		qemu+=(-bios qboot.rom)
	fi
	qemu+=(-kernel "$kernel" -initrd "$cpio" -append "$cmdline")

	printf 'qemu: %s\n' "${qemu[*]}"
	"${qemu[@]}" </dev/null >"$log" 2>&1 || rc=$?
	tr -d '\r' <"$log" >"$log.txt"
	mv "$log.txt" "$log"
	return "$rc"
}
