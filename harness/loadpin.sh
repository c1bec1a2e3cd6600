# SPDX-License-Identifier: GPL-2.0
#
# Sourced by demo.sh and kselftest.sh: the disks and the guest files for
# LoadPin's dm-verity test (tools/testing/selftests/loadpin/ in work/linux).
#
# loadpin_prepare OUT STAGE MODULE builds, in OUT:
#   verity-data.img  ext2 holding MODULE, formatted for dm-verity with
#   verity-hash.img  its hash tree (veritysetup, no superblock)
#   plain.img        ext2 holding the same MODULE, unverified
# and copies into the initramfs tree STAGE the test script and its ioctl
# helper, built statically from the tree's source.  It sets
#   LOADPIN_QEMU     QEMU arguments attaching the disks (vda, vdb, vdc)
#   LOADPIN_CMDLINE  kernel arguments: LoadPin enforcing and the verity
#                    device created at boot by dm-mod.create= (dm-0)
#   LOADPIN_ENV      the environment the test script expects
#
# Needs: mke2fs (e2fsprogs), veritysetup (cryptsetup-bin), gcc and a
# static libc (libc6-dev).

LOADPIN_SRC=$TREE/tools/testing/selftests/loadpin

loadpin_prepare() {
	local out=$1 stage=$2 module=$3 files=$1/loadpin-files info
	local root salt blocks img

	command -v mke2fs >/dev/null || die "mke2fs missing (package e2fsprogs)"
	command -v veritysetup >/dev/null ||
		die "veritysetup missing (package cryptsetup-bin)"
	[ -f "$LOADPIN_SRC/loadpin_verity.sh" ] ||
		die "no $LOADPIN_SRC: is the LoadPin selftest in the series?"

	rm -rf "$files"
	mkdir -p "$files"
	cp "$module" "$files/"
	rm -f "$out"/verity-data.img "$out"/verity-hash.img "$out"/plain.img
	for img in verity-data plain; do
		mke2fs -q -F -t ext2 -b 4096 -d "$files" \
			"$out/$img.img" 4M >/dev/null
	done
	info=$(veritysetup format --no-superblock --data-block-size=4096 \
		--hash-block-size=4096 "$out/verity-data.img" \
		"$out/verity-hash.img")
	root=$(printf '%s\n' "$info" | sed -n 's/^Root hash:[[:space:]]*//p')
	salt=$(printf '%s\n' "$info" | sed -n 's/^Salt:[[:space:]]*//p')
	blocks=$(printf '%s\n' "$info" |
		 sed -n 's/^Data blocks:[[:space:]]*//p')
	[ -n "$root" ] && [ -n "$salt" ] && [ -n "$blocks" ] ||
		die "could not read veritysetup's output: $info"

	gcc -static -O2 -Wall -o "$stage/loadpin_set_digests" \
		"$LOADPIN_SRC/loadpin_set_digests.c"
	cp "$LOADPIN_SRC/loadpin_verity.sh" "$stage/loadpin_verity.sh"

	LOADPIN_QEMU=(
		-drive "file=$out/verity-data.img,format=raw,if=virtio,readonly=on"
		-drive "file=$out/verity-hash.img,format=raw,if=virtio,readonly=on"
		-drive "file=$out/plain.img,format=raw,if=virtio")
	LOADPIN_CMDLINE="lsm=loadpin loadpin.enforce=1 dm-mod.waitfor=/dev/vda,/dev/vdb"
	LOADPIN_CMDLINE+=" dm-mod.create=\"lpverity,,,ro,0 $((blocks * 8)) verity 1 /dev/vda /dev/vdb 4096 4096 $blocks 0 sha256 $root $salt\""
	LOADPIN_ENV="LOADPIN_VERITY_DEV=/dev/dm-0 LOADPIN_PLAIN_DEV=/dev/vdc"
	LOADPIN_ENV+=" LOADPIN_MODULE=$(basename "$module")"
	LOADPIN_ENV+=" LOADPIN_ROOT_DIGEST=$root"
}
