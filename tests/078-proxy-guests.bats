#!/usr/bin/env bats
# ivshm-proxy in real guests (QEMU ivshmem-doorbell, ivshmd, uio_ivshmem, the small
# image's static ivshm-proxy) and on the host as a host peer, with unmodified busybox
# programs at both ends:
#
#   g1: busybox httpd 127.0.0.1:80 <-- ivshm-proxy g1 (export web)
#   g2: busybox wget --> ivshm-proxy g2 (import web@proxy-g1 :8080, hweb@proxy-host :8081)
#   host: busybox httpd <-- ivshm-proxy host (export hweb; import web@proxy-g1) <-- busybox wget
#
# guest to guest, guest to host and host to guest, each file checked by its SHA-256.

# The guests' shell, after the guest test library (poll_until): loopback up (the
# image's init leaves it down).
GUEST_LO='
ip link set lo up
'

load helpers/exchange
load helpers/proxy

setup_file() {
	exchange_setup_file 1
	mkdir -p "$SCRATCH/www"
	seq 1 100000 >"$SCRATCH/www/host.txt"
	local hport g1 g2
	hport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	timeout 900 busybox httpd -f -p "127.0.0.1:$hport" -h "$SCRATCH/www" 3>&- 4>&- &
	echo $! >"$SCRATCH/httpd.tpid"
	px_start host "$IVSHMD_SOCK" --export "hweb tcp:127.0.0.1:$hport allow proxy-g2" \
		--import "web@proxy-g1 tcp:127.0.0.1:0"
	g1=$GUEST_LO$(cat <<-'EOF'
		mkdir -p /www && seq 1 200000 >/www/g1.txt
		httpd -p 127.0.0.1:80 -h /www
		ivshm-proxy -v --name g1 --export 'web tcp:127.0.0.1:80 allow proxy-g2,proxy-host' \
			>/tmp/proxy.log 2>&1 &
		echo "proxy started"
		# Until g2 and the host both fetched, and their connections are over.
		served() { ivshm-proxy status --name g1 | grep -q '^export service=web .* conns=0 opened=[2-9]'; }
		poll_until 150 served
		echo "step=served status=$?"
		ivshm-proxy status --name g1
		cat /tmp/proxy.log
	EOF
	)
	g2=$GUEST_LO$(cat <<-'EOF'
		ivshm-proxy -v --name g2 --import 'web@proxy-g1 tcp:127.0.0.1:8080' \
			--import 'hweb@proxy-host tcp:127.0.0.1:8081' >/tmp/proxy.log 2>&1 &
		linked() { ivshm-proxy status --name g2 | grep -q '^proxy .* links=2 '; }
		poll_until 120 linked
		echo "step=linked status=$?"
		wget -q -O /tmp/g1.txt http://127.0.0.1:8080/g1.txt
		echo "step=wget-g1 status=$?"
		wget -q -O /tmp/host.txt http://127.0.0.1:8081/host.txt
		echo "step=wget-host status=$?"
		sha256sum /tmp/g1.txt /tmp/host.txt
		ivshm-proxy status --name g2
		cat /tmp/proxy.log
	EOF
	)
	guest_start g1 "$g1" --socket "$IVSHMD_SOCK" --vectors 1
	guest_start g2 "$g2" --socket "$IVSHMD_SOCK" --vectors 1
	# The host fetches from g1 once its proxy links to g1's.
	wait_for 150 eval 'px_status host | grep -q "^link peer=[0-9]* role=proxy-g1 "'
	local web
	web=$(px_listen host web proxy-g1)
	local rc=0
	timeout 60 busybox wget -q -O "$SCRATCH/from-g1.txt" "http://${web#tcp:}/g1.txt" || rc=$?
	echo "wget status=$rc" >"$SCRATCH/host-wget.out"
	guest_wait g1 g2
}

teardown_file() {
	pkill -KILL -f -- "^qemu-system-x86_64 -name g[12]-$$ " 2>/dev/null || true
	px_stop host || true
	[ ! -s "$SCRATCH/httpd.tpid" ] || kill_wait "$(cat "$SCRATCH/httpd.tpid")" || true
	scratch_teardown
}

@test "guest to guest: busybox wget in g2 fetches from busybox httpd in g1 through the proxies" {
	run -0 transcript g2
	assert_line 'step=linked status=0'
	assert_line 'step=wget-g1 status=0'
	assert_line "$(seq 1 200000 | sha256sum | cut -d' ' -f1)  /tmp/g1.txt"
	assert_line --regexp '^import service=web peer=proxy-g1 listen=tcp:127.0.0.1:8080 conns=0 accepted=1 refused=0$'
	run -0 transcript g1
	assert_line 'step=served status=0'
	assert_line --regexp '^export service=web target=tcp:127.0.0.1:80 allow=proxy-g2,proxy-host conns=0 opened=2 refused=0$'
}

@test "guest to host: g2 fetches from an httpd on the host through the host's proxy" {
	run -0 transcript g2
	assert_line 'step=wget-host status=0'
	assert_line "$(sha256sum <"$SCRATCH/www/host.txt" | cut -d' ' -f1)  /tmp/host.txt"
	run -0 px_status host
	assert_line --regexp '^export service=hweb .* opened=1 refused=0$'
}

@test "host to guest: a host wget fetches from g1's httpd through the host's proxy" {
	run -0 cat "$SCRATCH/host-wget.out"
	assert_output "wget status=0"
	assert_equal "$(sha256sum <"$SCRATCH/from-g1.txt" | cut -d' ' -f1)" \
		"$(seq 1 200000 | sha256sum | cut -d' ' -f1)"
}

@test "the guests' proxies ran cleanly: linked to both others, no violation, no crash" {
	local g
	for g in g1 g2; do
		run -0 transcript "$g"
		# The other guest may have powered off already: links counts what is left.
		assert_line --regexp '^proxy role=proxy-'"$g"' peer=[0-9]+ wait=interrupt device=first links=[12] published=yes conns_total=2 bad_frames=0$'
		assert_line --regexp '^ivshm-proxy: link to peer [0-9]+ \(proxy-host\) up: '
		assert_line --regexp '^ivshm-proxy: link to peer [0-9]+ \(proxy-g[12]\) up: '
		refute_output --regexp 'Segmentation fault|Oops|BUG'
		assert_line 'IVSHM-GUEST-EXIT status=0'
	done
}
