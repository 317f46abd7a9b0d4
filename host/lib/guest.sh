# shellcheck shell=bash
# shellcheck disable=SC2178,SC2054 # namerefs to arrays; QEMU options have commas
# Booting an ivshm guest: its QEMU command line and the initramfs it gets.
# Part of host/lib/ivshm.sh; ivshm-vm and probe-kvm build their guests with it.

# The kernel command line of every ivshm guest, before its ivshm.* parameters
# (vm-configs/*.xml carry the same; tests/003-deployment.bats compares).
# tsc=reliable: with two possible CPUs Linux distrusts the TSC QEMU gives and reads
# the emulated HPET instead, and every clock read then costs about 1 us under TCG.
IVSHM_GUEST_CMDLINE="console=ttyS0 loglevel=4 panic=-1 tsc=reliable"

# guest_qemu ARRAY NAME KERNEL INITRD LOG MEMORY_MB ACCEL: set the array named ARRAY to
# the QEMU command line booting KERNEL and INITRD: q35, one vCPU, no default devices,
# the serial console written to LOG, ACCEL tcg or kvm. The functions below add devices
# and, last, the kernel command line. maxcpus=2: QEMU 7.2's TCG drops the atomics and
# fences of guests that can only ever have one CPU, and libivshm's directory and
# channels need them across VMs.
guest_qemu() {
	local -n guest_qemu_cmd=$1
	local name=$2 kernel=$3 initrd=$4 log=$5 memory=$6 accel=$7
	guest_qemu_cmd=(qemu-system-x86_64 -name "$name" -M q35 -m "$memory" -smp 1,maxcpus=2
		-nodefaults -no-reboot -display none -monitor none
		-chardev "file,id=serial0,path=$log" -serial chardev:serial0
		-kernel "$kernel" -initrd "$initrd")
	case "$accel" in
	tcg) guest_qemu_cmd+=(-accel tcg) ;;
	kvm) guest_qemu_cmd+=(-accel kvm -cpu host) ;;
	*)
		echo "bad accelerator '$accel' (tcg or kvm)" >&2
		return 1
		;;
	esac
}

# guest_qemu_doorbell ARRAY ID SOCKET VECTORS: an ivshmem-doorbell device with VECTORS
# MSI-X vectors, served by the ivshmd listening on SOCKET. ID names it among the devices.
guest_qemu_doorbell() {
	local -n guest_qemu_cmd=$1
	guest_qemu_cmd+=(-chardev "socket,id=ivshm$2,path=$3"
		-device "ivshmem-doorbell,chardev=ivshm$2,vectors=$4,ioeventfd=on")
}

# guest_qemu_plain ARRAY ID FILE SIZE: an ivshmem-plain device backed by FILE.
guest_qemu_plain() {
	local -n guest_qemu_cmd=$1
	guest_qemu_cmd+=(-object "memory-backend-file,id=ivshm$2,size=$4,mem-path=$3,share=on"
		-device "ivshmem-plain,memdev=ivshm$2")
}

# guest_qemu_net ARRAY listen|connect HOST:PORT: virtio-net over a QEMU socket netdev.
guest_qemu_net() {
	local -n guest_qemu_cmd=$1
	guest_qemu_cmd+=(-netdev "socket,id=net0,$2=$3" -device virtio-net-pci,netdev=net0)
}

# guest_qemu_append ARRAY ROLE [PARAM...]: the kernel command line: the guest's, its
# role (the init's ivshm.role) and PARAMs such as ivshm.net=ADDR/PREFIX.
guest_qemu_append() {
	local -n guest_qemu_cmd=$1
	local role=$2
	shift 2
	guest_qemu_cmd+=(-append "$IVSHM_GUEST_CMDLINE ivshm.role=$role${*:+ $*}")
}

# guest_initrd DIR IMAGE_INITRD SCRIPT [ARCHIVE...]: print the path of the initramfs
# to boot. With no SCRIPT and no ARCHIVE that is IMAGE_INITRD itself; otherwise
# DIR/initrd.img, made of IMAGE_INITRD, each ARCHIVE and an archive holding SCRIPT
# as $IVSHM_GUEST_CMD, concatenated in that order. The kernel unpacks concatenated
# archives (each compressed or not) one after the other, so a later file replaces an earlier one, and the
# script needs no room on the kernel command line. DIR must be the caller's own.
guest_initrd() {
	local dir=$1 image=$2 script=$3
	shift 3
	if [ -z "$script" ] && [ $# = 0 ]; then
		echo "$image"
		return
	fi
	local parts=("$image" "$@") root="$dir/cmd-root"
	if [ -n "$script" ]; then
		mkdir -p "$root$(dirname "$IVSHM_GUEST_CMD")" &&
			printf '%s' "$script" >"$root$IVSHM_GUEST_CMD" &&
			"$IVSHM_TOP/host/guest-image/pack-initramfs" "$root" "$dir/cmd.cpio.gz" || return
		parts+=("$dir/cmd.cpio.gz")
	fi
	local part size
	: >"$dir/initrd.img" || return
	for part in "${parts[@]}"; do
		cat "$part" >>"$dir/initrd.img" || return
		# An uncompressed archive must start at a multiple of 4 bytes from the start;
		# the kernel skips the zeros in between.
		size=$(stat -c %s "$dir/initrd.img") || return
		head -c $(((4 - size % 4) % 4)) /dev/zero >>"$dir/initrd.img" || return
	done
	echo "$dir/initrd.img"
}
