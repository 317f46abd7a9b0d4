# shellcheck shell=sh disable=SC2154,SC2317 # common.sh comes first (failed); functions run by step
# server.sh: guest A. The servers listen on loopback (for the proxy) and on the NIC
# (the TCP baseline); ivshm-proxy.service exports them to proxy-b. Waits until the
# client pushes "finished" to redis over the NIC, then prints the proxy's status.

step net net_up "$NET_ADDR/24"
# Debian's own units run nginx and redis without a Unix socket: ours replace them.
systemctl stop nginx.service redis-server.service
mkdir -p /run/ivshm-test /srv/www
# The file the client fetches; the test computes the same checksum on the host.
seq 1 "$WEB_LINES" >/srv/www/big.txt
printf '%s\n' 'worker_processes 1;' 'pid /run/ivshm-test/nginx.pid;' 'error_log stderr;' \
	'events { }' 'http {' '	access_log off;' '	sendfile on;' '	server {' \
	'		listen 80;' '		listen unix:/run/ivshm-test/nginx.sock;' \
	'		root /srv/www;' '	}' '}' >/run/ivshm-test/nginx.conf
step nginx nginx -c /run/ivshm-test/nginx.conf
# The proxy runs as a dynamic user: a Unix target must let others connect.
chmod 666 /run/ivshm-test/nginx.sock
step redis redis-server --bind "127.0.0.1 $NET_ADDR" --protected-mode no --port 6379 \
	--unixsocket /run/ivshm-test/redis.sock --unixsocketperm 666 --save '' \
	--appendonly no --daemonize yes --logfile /run/ivshm-test/redis.log
step iperf3 iperf3 -s -D --logfile /run/ivshm-test/iperf3.log
sockperf server --tcp -i 127.0.0.1 -p 11111 >/run/ivshm-test/sockperf-lo.log 2>&1 &
sockperf server --tcp -i "$NET_ADDR" -p 11111 >/run/ivshm-test/sockperf-net.log 2>&1 &
listening() {
	ss -Htln >/tmp/listening
	for a in '0.0.0.0:80' ':5201' '127.0.0.1:6379' "$NET_ADDR:6379" '127.0.0.1:11111' "$NET_ADDR:11111"; do
		grep -qF "$a " /tmp/listening || return 1
	done
}
step listening until_ok 60 listening

step proxy proxy_conf 'name a' \
	'export iperf tcp:127.0.0.1:5201 allow proxy-b' \
	'export sockperf tcp:127.0.0.1:11111 allow proxy-b' \
	'export redis tcp:127.0.0.1:6379 allow proxy-b' \
	'export redis-unix unix:/run/ivshm-test/redis.sock allow proxy-b' \
	'export web tcp:127.0.0.1:80 allow proxy-b' \
	'export web-unix unix:/run/ivshm-test/nginx.sock allow proxy-b'
echo "servers ready"
# Blocks in redis (no polling that would take the CPU from the measurements).
step client-done redis-cli --raw blpop finished "$WAIT_S"
proxy_status | sed 's/^/proxy-status: /'
journalctl -b -u ivshm-proxy --no-pager -o cat | tail -n 20 | sed 's/^/proxy-journal: /'
exit "$failed"
