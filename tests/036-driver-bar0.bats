#!/usr/bin/env bats
# uio_ivshmem maps BAR0 (256 bytes) as a whole page, so it must never expose another
# device's registers: a BAR0 that does not start a page is refused, one whose page
# holds another device's BAR is refused, a bound device reserves the rest of its
# page so that no device placed later lands there, and the alignment the refusal
# advises (pci=resource_alignment, here set at run time) gives each BAR0 its page.
#
#   host files a, b --ivshmem-plain x2--> one guest: remove both, rescan
#
# SeaBIOS gives every BAR0 a page of its own. Removed and rescanned, the two devices
# get their BARs from the kernel's allocator, which packs both BAR0s into one page:
# device a at its start, device b 256 bytes in. That is the layout to refuse.

load helpers/driver

setup_file() {
	driver_setup_file

	driver_boot 036-bar0 --plain "$SCRATCH/a:1M" --plain "$SCRATCH/b:1M" <<-'EOF'
		set -- $(for d in /sys/bus/pci/devices/*; do
			[ "$(cat $d/device)" = 0x1110 ] && basename $d; done)
		a=$1 b=$2
		bar0() {
			r=$(head -1 /sys/bus/pci/devices/$2/resource)
			echo "$1: bar0 page=$((${r%% *} >> 12)) offset=$((${r%% *} & 4095))" \
				"bound=$([ -e $D/$2 ] && echo yes || echo no)"
		}
		# layout TAG: where both BAR0s are, and what the driver holds.
		layout() {
			bar0 $1-a $a
			bar0 $1-b $b
			claims $1
		}
		# The kernel places both devices' BARs anew.
		replug() {
			echo 1 >/sys/bus/pci/devices/$a/remove
			echo 1 >/sys/bus/pci/devices/$b/remove
			echo 1 >/sys/bus/pci/rescan
		}
		claims booted
		replug
		layout packed
		echo $b >$D/bind 2>/dev/null
		echo "bind b: status=$?"
		echo 1 >/sys/bus/pci/devices/$b/remove
		echo $a >$D/bind
		echo "bind a alone: status=$?"
		bar0 alone-a $a
		grep -c 'uio_ivshmem regs page' /proc/iomem | sed 's/^/fences: /'
		echo 1 >/sys/bus/pci/rescan
		layout rescanned
		u=$(basename $(ls -d /sys/bus/pci/devices/$a/uio/uio*))
		echo "a: map0 size=$(cat /sys/class/uio/$u/maps/map0/size)" \
			"offset=$(cat /sys/class/uio/$u/maps/map0/offset)"
		p a $u map 0 rw shared
		p a $u map 0 rw shared 8192
		echo -n pci:1af4:1110 >/sys/bus/pci/resource_alignment
		replug
		layout aligned
		grep -c 'uio_ivshmem regs page' /proc/iomem | sed 's/^/aligned fences: /'
		dmesg | grep -E "uio_ivshmem $a|uio_ivshmem $b" | sed 's/^\[[ 0-9.]*\] /klog: /'
	EOF
}

setup() {
	run -0 guest_log "$SCRATCH/guest.log"
}

teardown_file() {
	scratch_teardown
}

# page_of TAG: the page number the line "TAG: bar0 page=N ..." reports.
page_of() {
	sed -n "s/^$1: bar0 page=\([0-9]*\) .*/\1/p" <<<"$output"
}

@test "as booted, both devices bind, each with its BAR0 page fenced" {
	assert_line 'booted: uio=2 irqs=0 bars=6'
}

@test "the rescan packs both BAR0s into one page (the layout under test)" {
	assert_equal "$(page_of packed-a)" "$(page_of packed-b)"
	assert_line --regexp '^packed-a: bar0 page=[0-9]+ offset=0 bound=no$'
	assert_line --regexp '^packed-b: bar0 page=[0-9]+ offset=256 bound=no$'
}

@test "a BAR0 that does not start a page is refused" {
	assert_line --regexp '^klog: uio_ivshmem [0-9a-f:.]+: BAR0 .* does not start a page; boot with pci=resource_alignment=pci:1af4:1110 to give it one$'
	assert_line 'bind b: status=1'
}

@test "a BAR0 whose page holds another device's BAR is refused, leaving no claim" {
	assert_line --regexp '^klog: uio_ivshmem [0-9a-f:.]+: resource collision: .* conflicts with [0-9a-f:.]+ '
	assert_line 'packed: uio=0 irqs=0 bars=0'
}

@test "alone in its page, BAR0 binds and fences the rest of the page" {
	assert_line 'bind a alone: status=0'
	assert_line --regexp '^alone-a: bar0 page=[0-9]+ offset=0 bound=yes$'
	assert_line 'fences: 1'
}

@test "a device placed after the fence gets a page of its own and binds" {
	assert_line --regexp '^rescanned-a: bar0 page=[0-9]+ offset=0 bound=yes$'
	assert_line --regexp '^rescanned-b: bar0 page=[0-9]+ offset=0 bound=yes$'
	refute [ "$(page_of rescanned-a)" = "$(page_of rescanned-b)" ]
	assert_line 'rescanned: uio=2 irqs=0 bars=6'
}

@test "the regs map is exactly the fenced page" {
	assert_line 'a: map0 size=0x0000000000001000 offset=0x0'
	assert_line --regexp '^a uio[0-9]+: map 0 rw shared: ok$'
	assert_line --regexp '^a uio[0-9]+: map 0 rw shared 8192: EINVAL$'
}

@test "the alignment the refusal advises gives each BAR0 a page of its own" {
	# pci=resource_alignment at run time: /sys/bus/pci/resource_alignment, rescan.
	assert_line --regexp '^aligned-a: bar0 page=[0-9]+ offset=0 bound=yes$'
	assert_line --regexp '^aligned-b: bar0 page=[0-9]+ offset=0 bound=yes$'
	refute [ "$(page_of aligned-a)" = "$(page_of aligned-b)" ]
	# BAR0 then spans its page: nothing left to fence.
	assert_line 'aligned: uio=2 irqs=0 bars=4'
	assert_line 'aligned fences: 0'
}

@test "the guest's kernel log stays clean" {
	assert_line 'IVSHM-GUEST-EXIT status=0'
	assert_clean_klog "$SCRATCH/guest.log"
}
