#!/usr/bin/env bats
# ivshm installed as Debian users install it, on a real Debian 12 guest with systemd as
# PID 1 (host/guest-rootfs: mmdebstrap from the host's archive, the .debs of make deb
# installed with apt, DKMS building the module for the guest's kernel):
#
#              +-------------- ivshmd (4 MiB, 4 vectors) ---------------+
#              |                                                        |
#   small image: shm-server       real guest: udev -> uio_ivshmem (modalias), group ivshm,
#                                  /dev/ivshm/by-pci/*, by-name/sensors; alice (in ivshm)
#                                  runs shm-client, bob (not) is refused; its own ivshmd
#                                  under systemd on a private socket, sandboxed
#   then, through the proxies:
#   busybox httpd <-- ivshm-proxy small (export web) ===== ivshm-proxy.service (import
#                                  web@proxy-small on 127.0.0.1:8080) <-- curl; again with
#                                  the port from ivshm-proxy.socket (socket activation)
#
# The real guest also has two ivshmem-plain devices whose firmware labels are hostile
# ("../evil") or need escaping ("two words"). Each guest boots once; the tests read the
# two transcripts. The first run builds the root file system (minutes, see the README);
# later runs reuse it until base.packages, the host's apt sources or a .deb change.

load helpers/exchange

setup_file() {
	export SCRATCH="$(scratch_dir)/$$"
	mkdir -p "$SCRATCH"
	make -s -C "$IVSHM_TOP" BUILD="$IVSHM_BUILD" deb >&2
	"$IVSHM_TOP/host/guest-rootfs/build-rootfs" "$IVSHM_BUILD" "$IVSHM_BUILD/deb" \
		>"$SCRATCH/build-rootfs.log" 2>&1 || {
		tail -n 30 "$SCRATCH/build-rootfs.log" >&2
		return 1
	}
	ivshmd_start 4

	# After the exchange, the same device serves busybox httpd through the small image's
	# ivshm-proxy, until the real guest fetched twice.
	local server
	server=$(cat <<-'EOF'
		shm-server -t 240000
		echo "step=server status=$?"
		ip link set lo up
		mkdir -p /www && seq 1 100000 >/www/small.txt
		httpd -p 127.0.0.1:80 -h /www
		ivshm-proxy -v --name small --export 'web tcp:127.0.0.1:80 allow proxy-real' \
			>/tmp/proxy.log 2>&1 &
		served() { ivshm-proxy status --name small | grep -q '^export service=web .* conns=0 opened=[2-9]'; }
		poll_until 200 served
		echo "step=served status=$?"
		ivshm-proxy status --name small
		cat /tmp/proxy.log
	EOF
	)
	guest_start server "$server" --socket "$IVSHMD_SOCK" --vectors 4 --timeout 330
	wait_for_line 60 "$SCRATCH/server.log" '^shm-server: wrote '

	local script
	script=$(cat <<-'EOF'
		# Nothing here loads a module or touches a device node: boot did it all.
		echo "module $(awk '$1 == "uio_ivshmem" { print "loaded" }' /proc/modules)"
		echo "dkms $(dkms status uio_ivshmem)"
		echo "modfile $(modinfo -n uio_ivshmem)"
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] || continue
			echo "pci ${d##*/} driver=$(basename "$(readlink "$d/driver")") uio=$(ls "$d/uio")"
		done
		stat -c 'node %n %U:%G %a' /dev/uio*
		for l in /dev/ivshm/by-pci/* /dev/ivshm/by-name/*; do
			echo "link $l -> $(readlink -f "$l")"
		done
		echo "names $(ls /dev/ivshm/by-name | tr '\n' ' ')"
		echo "groups alice=$(id -Gn alice | tr ' ' ,) bob=$(id -Gn bob | tr ' ' ,)"

		step bob runuser -u bob -- shm-client -d /dev/ivshm/by-name/sensors -t 5000
		step alice runuser -u alice -- shm-client -d /dev/ivshm/by-name/sensors -t 60000

		pid=$(systemctl show ivshmd -p MainPID --value)
		systemctl show ivshmd -p Type -p ActiveState -p SubState -p NRestarts \
			-p ProtectSystem -p ProtectHome -p PrivateNetwork -p NoNewPrivileges |
			sed 's/^/unit /'
		grep -E '^(NoNewPrivs|Seccomp):' "/proc/$pid/status" | tr -d '\t' | sed 's/^/proc /'
		[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/1/ns/net)" ] || echo "netns private"
		# The same write from ivshmd's mount namespace and from ours: only ours may.
		step sandbox nsenter -t "$pid" -m touch /usr/ivshmd-probe
		step own touch /usr/ivshmd-probe
		stat -c 'socket %n %U:%G %a' /run/ivshm/ivshmd.sock
		step alice-peer runuser -u alice -- ivshm-peer -S /run/ivshm/ivshmd.sock -n 2 -t 10
		step bob-peer runuser -u bob -- ivshm-peer -S /run/ivshm/ivshmd.sock -n 2 -t 10
		journalctl -b -u ivshmd --no-pager -o cat | sed 's/^/journal: /'

		# ivshm-proxy.service, enabled with /etc/ivshm/proxy.conf, once the small image's
		# proxy is there (after the exchange): curl through it, then its sandbox.
		linked() { ivshm-proxy status -c /etc/ivshm/proxy.conf | grep -q '^proxy .* links=1 '; }
		step linked until_ok 200 linked
		step curl curl -sS -o /tmp/small.txt http://127.0.0.1:8080/small.txt
		echo "fetched $(sha256sum </tmp/small.txt | cut -d' ' -f1)"
		ivshm-proxy status -c /etc/ivshm/proxy.conf | sed 's/^/proxy-status: /'
		pid=$(systemctl show ivshm-proxy -p MainPID --value)
		systemctl show ivshm-proxy -p Type -p ActiveState -p SubState -p NRestarts -p StatusText \
			-p DynamicUser -p ProtectSystem | sed 's/^/proxy-unit /'
		grep -E '^(Uid|Groups|NoNewPrivs|Seccomp|CapEff):' "/proc/$pid/status" | tr -s '\t ' ' ' |
			sed 's/^/proxy-proc /'
		echo "gids ivshm=$(getent group ivshm | cut -d: -f3) kvm=$(getent group kvm | cut -d: -f3)"
		step proxy-sandbox nsenter -t "$pid" -m touch /usr/ivshm-proxy-probe
		stat -c 'proxy-ctl %n %a' /run/ivshm-proxy/real.ctl
		# Socket activation: systemd listens on the import's address, the first client
		# starts the proxy, which serves it on that socket.
		systemctl stop ivshm-proxy.service
		printf '[Socket]\nListenStream=127.0.0.1:8080\n' >/etc/systemd/system/ivshm-proxy.socket
		systemctl daemon-reload
		systemctl start ivshm-proxy.socket
		echo "activation before=$(systemctl is-active ivshm-proxy.service)"
		step curl-activated curl -sS -o /tmp/activated.txt http://127.0.0.1:8080/small.txt
		echo "activated $(sha256sum </tmp/activated.txt | cut -d' ' -f1)"
		echo "activation after=$(systemctl is-active ivshm-proxy.service)"
		journalctl -b -u ivshm-proxy --no-pager -o cat | sed 's/^/proxy-journal: /'
	EOF
	)
	# step and until_ok: the real guests' helpers, before the script.
	run_real_guest "$(cat "$IVSHM_TOP/tests/guest-helpers/steps.sh")"$'\n'"$script"
	guest_wait server
}

# run_real_guest SCRIPT: boot the real guest with the doorbell device (label "sensors")
# and the two labelled plain devices; its log is $SCRATCH/real.log, its status
# $SCRATCH/real.status.
run_real_guest() {
	local rc=0
	timeout 400 "$IVSHM_TOP/host/guest-rootfs/rootfs-vm" --name "real-$$" \
		--log "$SCRATCH/real.log" --timeout 360 \
		--socket "$IVSHMD_SOCK" --vectors 4 --label sensors \
		--plain "$SCRATCH/evil.mem:1M" --label ../evil \
		--plain "$SCRATCH/words.mem:1M" --label "two words" \
		--cmd "$1" >"$SCRATCH/real.out" 2>&1 3>&- 4>&- || rc=$?
	echo "$rc" >"$SCRATCH/real.status"
}

teardown_file() {
	scratch_teardown
}

@test "the real guest boots under systemd, runs the script and powers off" {
	run -0 cat "$SCRATCH/real.status"
	assert_output 0
	run -0 transcript real
	assert_line --regexp '^IVSHM-GUEST-READY kernel=[^ ]+-cloud-amd64 uio=3$'
	assert_line 'IVSHM-GUEST-EXIT status=0'
	# The hook reports a system that did not reach "running" (a failed unit) here.
	refute_line --partial 'IVSHM-GUEST-ERROR'
}

@test "uio_ivshmem was built by DKMS for the guest's kernel and loaded at boot by its modalias" {
	local kver version
	kver=$(cat "$IVSHM_BUILD/guest-rootfs/kernel.version")
	version=$(dpkg-parsechangelog -l "$IVSHM_TOP/debian/changelog" -S Version)
	run -0 transcript real
	assert_line 'module loaded'
	assert_line "dkms uio_ivshmem/$version, $kver, x86_64: installed"
	assert_line "modfile /lib/modules/$kver/updates/dkms/uio_ivshmem.ko"
	assert_equal "$(grep -c '^pci .* driver=uio_ivshmem uio=uio[0-9]$' <<<"$output")" 3
}

@test "udev: every device is root:ivshm 0660 with a by-pci name; labels give by-name names" {
	run -0 transcript real
	assert_equal "$(grep -c '^node /dev/uio[0-9] root:ivshm 660$' <<<"$output")" 3
	local addr uio
	while read -r addr uio; do
		assert_line "link /dev/ivshm/by-pci/$addr -> /dev/$uio"
	done < <(sed -n 's/^pci \([^ ]*\) driver=uio_ivshmem uio=\(uio[0-9]\)$/\1 \2/p' <<<"$output")
	assert_equal "$(grep -c '^link /dev/ivshm/by-pci/' <<<"$output")" 3
	# The doorbell device is the first one QEMU was given.
	assert_line --regexp '^link /dev/ivshm/by-name/sensors -> /dev/uio0$'
	# Spaces are escaped into one name; a label with a slash makes none at all.
	assert_line --regexp '^link /dev/ivshm/by-name/two_words -> /dev/uio[0-9]$'
	assert_line 'names sensors two_words '
	refute_output --partial evil
	assert_line 'groups alice=alice,ivshm bob=bob'
}

@test "alice (group ivshm) runs shm-client through the by-name link; bob is refused" {
	run -0 transcript real
	assert_line --regexp '^bob: shm-client: error: .*Permission denied'
	assert_line 'step=bob status=1'
	assert_line 'step=alice status=0'
	local server
	server=$(peer_id server shm-server)
	[ -n "$server" ]
	assert_line --regexp "^alice: shm-client: device /dev/uio0, peer ID [0-9]+, server peer ID $server\$"
	assert_line 'alice: Content: Hello from server!'
	assert_line 'alice: Setting new content in shared memory'
	assert_line "alice: shm-client: rang peer $server vector 0, detaching"
}

@test "the small-image server guest receives alice's reply: the seed's exchange" {
	run -0 cat "$SCRATCH/server.status"
	assert_output 0
	local client
	client=$(transcript real | sed -n 's/^alice: shm-client: device [^,]*, peer ID \([0-9]*\),.*/\1/p')
	[ -n "$client" ]
	assert_in_order server \
		"shm-server: wrote \"Hello from server!\", waiting for a client (timeout 240000 ms)" \
		"shm-server: IRQ on vector 0 from peer $client" \
		"New content: Hello from client, too!" \
		"step=server status=0"
}

@test "ivshmd.service started at boot under systemd and reported ready (Type=notify)" {
	run -0 transcript real
	assert_line 'unit Type=notify'
	assert_line 'unit ActiveState=active'
	assert_line 'unit SubState=running'
	assert_line 'unit NRestarts=0'
	assert_line 'socket /run/ivshm/ivshmd.sock root:ivshm 660'
	assert_line --partial 'journal: Started ivshmd.service'
	assert_line --regexp '^journal: peer 0 joined'
	assert_line 'alice-peer: ready id=0 vectors=2 peers=-'
	assert_line 'step=alice-peer status=0'
	assert_line 'bob-peer: error connect /run/ivshm/ivshmd.sock: Permission denied'
	assert_line 'step=bob-peer status=1'
}

@test "ivshmd's sandbox is in force: read-only /usr, no new privileges, seccomp, no network" {
	run -0 transcript real
	assert_line 'unit ProtectSystem=strict'
	assert_line 'unit ProtectHome=yes'
	assert_line 'unit PrivateNetwork=yes'
	assert_line 'unit NoNewPrivileges=yes'
	assert_line 'proc NoNewPrivs:1'
	assert_line 'proc Seccomp:2'
	assert_line 'netns private'
	assert_line "sandbox: touch: cannot touch '/usr/ivshmd-probe': Read-only file system"
	assert_line 'step=sandbox status=1'
	# The same write outside the sandbox works: the refusal is the unit's doing.
	assert_line 'step=own status=0'
}

@test "curl in the real guest fetches from busybox httpd in the small image through both proxies" {
	local want
	want=$(seq 1 100000 | sha256sum | cut -d' ' -f1)
	run -0 transcript real
	assert_line 'step=linked status=0'
	assert_line 'step=curl status=0'
	assert_line "fetched $want"
	assert_line --regexp '^proxy-status: proxy role=proxy-real peer=[0-9]+ wait=interrupt device=/dev/ivshm/by-name/sensors links=1 published=yes conns_total=1 bad_frames=0$'
	assert_line 'proxy-status: import service=web peer=proxy-small listen=tcp:127.0.0.1:8080 conns=0 accepted=1 refused=0'
	run -0 transcript server
	assert_line 'step=served status=0'
	assert_line 'export service=web target=tcp:127.0.0.1:80 allow=proxy-real conns=0 opened=2 refused=0'
	assert_line --regexp '^ivshm-proxy: link to peer [0-9]+ \(proxy-real\) up: '
}

@test "ivshm-proxy.service, installed with apt and enabled, reached READY under systemd in its sandbox" {
	run -0 transcript real
	assert_line 'proxy-unit Type=notify'
	assert_line 'proxy-unit ActiveState=active'
	assert_line 'proxy-unit SubState=running'
	assert_line 'proxy-unit NRestarts=0'
	assert_line 'proxy-unit DynamicUser=yes'
	assert_line 'proxy-unit ProtectSystem=strict'
	assert_line --regexp '^proxy-unit StatusText=proxy-real: peer [0-9]+, 0 exports, 1 imports$'
	assert_line --regexp '^proxy-journal: ready: proxy-real: peer [0-9]+, 0 exports, 1 imports$'
	# A dynamic user (not root), in the devices' and ivshmd's groups, with nothing more.
	assert_line --regexp '^proxy-proc Uid: ([1-9][0-9]*) \1 \1 \1$'
	local ivshm kvm
	ivshm=$(sed -n 's/^gids ivshm=\([0-9]*\) kvm=.*/\1/p' <<<"$output")
	kvm=$(sed -n 's/^gids ivshm=[0-9]* kvm=\([0-9]*\)$/\1/p' <<<"$output")
	[ -n "$ivshm" ]
	[ -n "$kvm" ]
	# Supplementary groups: the devices' and ivshmd's, and the dynamic user's own.
	local uid groups
	uid=$(sed -n 's/^proxy-proc Uid: \([0-9]*\) .*/\1/p' <<<"$output")
	groups=$(sed -n 's/^proxy-proc Groups: //p' <<<"$output" | tr ' ' '\n' | grep . | sort -n | paste -sd' ')
	assert_equal "$groups" "$(printf '%s\n' "$ivshm" "$kvm" "$uid" | sort -n | paste -sd' ')"
	assert_line 'proxy-proc NoNewPrivs: 1'
	assert_line 'proxy-proc Seccomp: 2'
	assert_line 'proxy-proc CapEff: 0000000000000000'
	assert_line "proxy-sandbox: touch: cannot touch '/usr/ivshm-proxy-probe': Read-only file system"
	assert_line 'step=proxy-sandbox status=1'
	assert_line 'proxy-ctl /run/ivshm-proxy/real.ctl 660'
}

@test "socket activation under systemd: the first client starts the proxy, which serves it" {
	run -0 transcript real
	assert_line 'activation before=inactive'
	assert_line 'step=curl-activated status=0'
	assert_line "activated $(seq 1 100000 | sha256sum | cut -d' ' -f1)"
	assert_line 'activation after=active'
	assert_line --regexp '^proxy-journal: ready: proxy-real: peer [0-9]+, 0 exports, 1 imports \(1 on sockets from systemd\)$'
}
