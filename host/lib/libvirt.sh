# shellcheck shell=bash
# libvirt domains on qemu:///system, named ivshm-ROLE, serial console logged to
# $IVSHM_LOG_DIR/ivshm-ROLE.log (vm-configs/). Part of host/lib/ivshm.sh.

IVSHM_LIBVIRT_URI=qemu:///system

virsh_() {
	virsh -q -c "$IVSHM_LIBVIRT_URI" "$@"
}

domain_gone() {
	! virsh_ domstate "$1" >/dev/null 2>&1
}

# domain_remove NAME: destroy and undefine domain NAME if it exists; returns once
# libvirt has forgotten it (30 s).
domain_remove() {
	domain_gone "$1" && return 0
	virsh_ destroy "$1" >/dev/null 2>&1 || true
	virsh_ undefine "$1" >/dev/null 2>&1 || true
	wait_for 30 domain_gone "$1"
}

# domain_shut_off NAME: the domain exists and is not running.
domain_shut_off() {
	[ "$(virsh_ domstate "$1" 2>/dev/null)" = "shut off" ]
}

# libvirt_log_of ROLE: the serial console log of domain ivshm-ROLE.
libvirt_log_of() {
	echo "$IVSHM_LOG_DIR/ivshm-$1.log"
}

# libvirt_boot ROLE: start the defined domain ivshm-ROLE on a fresh console log. When
# libvirt refuses, says why on stderr: its message, the end of QEMU's log and, for a
# socket QEMU may not open, what to change; non-zero then.
libvirt_boot() {
	local role=$1 err qlog="/var/log/libvirt/qemu/ivshm-$1.log"
	# A previous boot's exit marker must not pass for this one's.
	rm -f "$(libvirt_log_of "$role")"
	err=$(virsh_ start "ivshm-$role" 2>&1) && return 0
	echo "virsh start ivshm-$role failed: $err" >&2
	if [ -r "$qlog" ]; then
		echo "last lines of $qlog:" >&2
		tail -n 5 "$qlog" | sed 's/^/    /' >&2
	fi
	if grep -qi 'permission denied' <<<"$err$(tail -n 5 "$qlog" 2>/dev/null)"; then
		echo "hint: QEMU runs as libvirt-qemu:kvm and cannot open $IVSHM_SOCKET.$role;" \
			"ivshmd must create it in group kvm (--group kvm, mode 0660):" >&2
		ls -l "$IVSHM_SOCKET.$role" >&2 2>/dev/null || true
	fi
	return 1
}
