#!/usr/bin/env bats
# A guest paused with `virsh suspend` keeps its peer and its doorbells: QEMU's
# main loop goes on reading the doorbell server's socket while the vCPUs are
# stopped, so the announcements of peers that come and go meanwhile drain,
# ivshmd never drops it (only a QEMU process that stops reading is dropped,
# 013), and after `virsh resume` channels between it and a host peer work.
#
#   ivshmd (private, group kvm, --send-timeout 3000)
#     |-- libvirtd -> QEMU (libvirt-qemu:kvm) guest: ivshm-chan serve --echo (x2)
#     |-- ivshm-chan --host send --echo           (before and after the pause)
#     '-- peer-load --repeat                       (churn while it is paused)
# The domain has a name of its own and its own server, so it never meets the
# ivshm-server/ivshm-client domains of the other libvirt tests.

load helpers/ivshmd
load helpers/libvirt

setup_file() {
	"$IVSHM_TOP/host/libvirt/ensure-libvirtd"
	srv_dir_create
	# QEMU runs as libvirt-qemu: it must reach the socket, the image and the log here.
	chmod 0755 "$SRV_DIR"
	export DOMAIN="h4-suspend-$$"
}

teardown_file() {
	domain_remove "$DOMAIN"
	srv_dir_remove
}

setup() {
	CHAN=$IVSHM_BUILD/guest-apps/bin/ivshm-chan
}

# define_guest SOCKET: define $DOMAIN from the shipped server XML, booting the
# build's image with a script that serves two echo channels, one after the other.
define_guest() {
	local initrd
	initrd=$(guest_initrd "$SRV_DIR" "$IVSHM_BUILD/guest/initrd.img" \
		'ivshm-chan -r guest -t 120000 serve --echo && ivshm-chan -r guest -t 120000 serve -p 2 --echo')
	cp "$IVSHM_BUILD/guest/vmlinuz" "$SRV_DIR/vmlinuz"
	chmod 0644 "$SRV_DIR/vmlinuz" "$initrd"
	sed -e "s|<name>ivshm-server</name>|<name>$DOMAIN</name>|" \
		-e "s|<kernel>[^<]*</kernel>|<kernel>$SRV_DIR/vmlinuz</kernel>|" \
		-e "s|<initrd>[^<]*</initrd>|<initrd>$initrd</initrd>|" \
		-e "s|ivshm.role=server|ivshm.role=cmd|" \
		-e "s|<log file='[^']*'|<log file='$SRV_DIR/guest.log'|" \
		-e "s|<server path='[^']*'/>|<server path='$1'/>|" \
		"$IVSHM_TOP/vm-configs/ivshm-server.xml" >"$SRV_DIR/domain.xml"
	grep -q "<name>$DOMAIN</name>" "$SRV_DIR/domain.xml"
	grep -q "<server path='$1'/>" "$SRV_DIR/domain.xml"
	virsh_ define "$SRV_DIR/domain.xml" >/dev/null
}

guest_published() {
	timeout 10 "$CHAN" --host "$SOCK" -r lister peers 2>/dev/null | grep -q 'role=guest state=live'
}

guest_peer() {
	awk -v pid="$(pgrep -f "guest=$DOMAIN" | head -n 1)" '$2 == pid { print $1 }' \
		< <(timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$SOCK")
}

# The QEMU of the domain as ivshmd lists it: ID, QUEUED and STALL_MS.
guest_row() {
	timeout 10 "$IVSHMD_BIN/ivshmd" --list -S "$SOCK" | awk -v id="$GID" '$1 == id { print $1, $6, $7 }'
}

drained() {
	[ "$(guest_row)" = "$GID 0 0" ]
}

@test "virsh suspend and resume: the paused guest keeps its peer and its doorbells" {
	local state
	srv_start s -n 4 -l 4M --group kvm --send-timeout 3000
	SOCK=$(srv_sock s)
	define_guest "$SOCK"
	virsh_ start "$DOMAIN" >/dev/null
	wait_for 120 guest_published
	GID=$(guest_peer)
	[ -n "$GID" ]
	# Doorbells both ways before the pause: each echo needs one from each side.
	run -0 timeout 60 "$CHAN" --host "$SOCK" -r before send -P guest --count 5 --echo -t 20000
	assert_output --regexp 'chan cmd=send .* messages=5 .* result=ok'

	virsh_ suspend "$DOMAIN" >/dev/null
	state=$(virsh_ domstate "$DOMAIN")
	assert_equal "$state" paused
	# Peers come and go while it is paused: 80 announcements of 5 messages each.
	run -0 peer_load -S "$SOCK" -n 4 --repeat 80
	# QEMU read them all although its guest is stopped: nothing queued, nothing stalled...
	wait_for 10 drained
	# ... and that holds beyond --send-timeout: the drop is for a QEMU that stopped reading.
	run -0 peer_load -S "$SOCK" -n 4 --repeat 40
	wait_for 10 drained
	assert_equal "$(virsh_ domstate "$DOMAIN")" paused
	run -0 cat "$(srv_log s)"
	refute_output --regexp "peer $GID left"

	virsh_ resume "$DOMAIN" >/dev/null
	run -0 timeout 60 "$CHAN" --host "$SOCK" -r after send -P guest -p 2 --count 5 --echo -t 30000
	assert_output --regexp 'chan cmd=send .* messages=5 .* result=ok'
	wait_for 60 domain_shut_off_or_gone
	run -0 cat "$SRV_DIR/guest.log"
	assert_output --partial "IVSHM-GUEST-EXIT status=0"
	wait_for_line 10 "$(srv_log s)" "^ivshmd: peer $GID left \\(pid [0-9]+\\): closed the connection$"
}

domain_shut_off_or_gone() {
	domain_shut_off "$DOMAIN" || domain_gone "$DOMAIN"
}
