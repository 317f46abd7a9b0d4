# QEMU machines for the ivshmd tests that need the real device without a guest
# (tests/015, tests/helpers/ivshmd-hardening.bash): a q35 machine with one
# ivshmem-doorbell, driven through its HMP monitor. Needs $SRV_DIR; loads
# helpers/common.

load helpers/common

# qemus_stop_all: stop every QEMU the file started.
qemus_stop_all() {
	local f
	for f in "$SRV_DIR"/*.qpid; do
		[ -s "$f" ] && kill_wait "$(cat "$f")"
		rm -f "$f"
	done
}

# qemu_start NAME SOCKET VECTORS: a q35 machine whose only device is an
# ivshmem-doorbell on SOCKET; HMP monitor on NAME.mon, pid in NAME.qpid.
qemu_start() {
	rm -f "$SRV_DIR/$1.mon" "$SRV_DIR/$1.qpid"
	timeout 300 qemu-system-x86_64 -accel tcg -M q35 -m 64 -nodefaults -display none \
		-serial none -name "ivshmd-test-$$-$1" \
		-chardev "socket,id=ivs,path=$2" -device "ivshmem-doorbell,chardev=ivs,vectors=$3" \
		-monitor "unix:$SRV_DIR/$1.mon,server=on,wait=off" -pidfile "$SRV_DIR/$1.qpid" \
		>"$SRV_DIR/$1.qemu.log" 2>&1 3>&- 4>&- &
	wait_for 20 test -s "$SRV_DIR/$1.qpid"
	wait_for 20 test -S "$SRV_DIR/$1.mon"
}

qemu_pid() {
	cat "$SRV_DIR/$1.qpid"
}

# hmp NAME COMMAND: run a monitor command, print its output without the echo.
hmp() {
	printf '%s\n' "$2" | timeout 10 socat -t 1 - "UNIX-CONNECT:$SRV_DIR/$1.mon" |
		tr -d '\r' | grep -v -e '^QEMU .* monitor' -e '^(qemu)'
}

# bar2 NAME: BAR2's guest-physical address once firmware has assigned it.
bar2_addr() {
	hmp "$1" "info pci" | sed -n 's/^ *BAR2: 64 bit prefetchable memory at \(0x[0-9a-f]*\) .*/\1/p' |
		grep -v '^0xffffffffffffffff$'
}

bar2_assigned() {
	[ -n "$(bar2_addr "$1")" ]
}

# xp_hex NAME ADDR LEN: LEN bytes of guest-physical memory at ADDR as one hex string.
xp_hex() {
	hmp "$1" "xp /$3xb $2" | sed -n 's/^[0-9a-f]*: //p' | tr -d ' \n' | sed 's/0x//g'
}

hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}
