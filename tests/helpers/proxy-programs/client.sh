# shellcheck shell=sh disable=SC2154,SC2317 # common.sh comes first (failed); functions run by step
# client.sh: guest B. ivshm-proxy.service imports guest A's services on loopback TCP
# and Unix sockets; the unmodified clients run through it (proxy-tcp, proxy-unix) and
# over the NIC to A's address (tcp: the baseline). Each result between marker lines.

step net net_up "$NET_ADDR/24"
step proxy proxy_conf 'name b' \
	'import iperf@proxy-a tcp:127.0.0.1:15201' \
	'import sockperf@proxy-a tcp:127.0.0.1:21111' \
	'import redis@proxy-a tcp:127.0.0.1:16379' \
	'import redis-unix@proxy-a unix:/run/ivshm-proxy/redis.sock' \
	'import web@proxy-a tcp:127.0.0.1:8080' \
	'import web-unix@proxy-a unix:/run/ivshm-proxy/web.sock'
# Guest A starts its proxy once its servers listen: linked means they are there.
linked() { proxy_status | grep -q '^link .* role=proxy-a .* state=up$'; }
step linked until_ok "$WAIT_S" linked
step ping-net until_ok 60 redis-cli -h "$PEER_ADDR" ping

# iperf NAME HOST PORT [ARGS...]: iperf3's JSON report between markers.
iperf() {
	name=$1 host=$2 port=$3
	shift 3
	echo "json-begin $name"
	iperf3 -c "$host" -p "$port" -t "$IPERF_S" -J "$@"
	rc=$?
	echo "json-end $name status=$rc"
	[ "$rc" = 0 ] || failed=1
}
iperf iperf-proxy-tcp-1 127.0.0.1 15201
iperf iperf-proxy-tcp-8 127.0.0.1 15201 -P 8
iperf iperf-tcp-1 "$PEER_ADDR" 5201
iperf iperf-tcp-8 "$PEER_ADDR" 5201 -P 8
# The local hop alone, inside this guest: what each side of a proxied path adds.
step iperf3-local iperf3 -s -D -p 5202 --logfile /tmp/iperf3-local.log
iperf iperf-loopback-1 127.0.0.1 5202

# sockperf ping-pong, 64-byte messages, round trips (--full-rtt) in microseconds.
step sockperf-proxy-tcp sockperf ping-pong --tcp -i 127.0.0.1 -p 21111 -m 64 -t "$SOCKPERF_S" --full-rtt
step sockperf-tcp sockperf ping-pong --tcp -i "$PEER_ADDR" -p 11111 -m 64 -t "$SOCKPERF_S" --full-rtt
sockperf server --tcp -i 127.0.0.1 -p 11112 >/tmp/sockperf-local.log 2>&1 &
until_ok 30 sh -c 'ss -Htln | grep -qF "127.0.0.1:11112 "'
step sockperf-loopback sockperf ping-pong --tcp -i 127.0.0.1 -p 11112 -m 64 -t "$SOCKPERF_S" --full-rtt

# redis-benchmark: SET and GET with its default 50 clients; then PING from one client,
# whose latencies are round trips through the whole path (--csv: milliseconds).
step redis-proxy-tcp redis-benchmark -h 127.0.0.1 -p 16379 -q -n "$REDIS_N" -t set,get
step redis-proxy-unix redis-benchmark -s /run/ivshm-proxy/redis.sock -q -n "$REDIS_N" -t set,get
step redis-tcp redis-benchmark -h "$PEER_ADDR" -p 6379 -q -n "$REDIS_N" -t set,get
step redis-rtt-proxy-tcp redis-benchmark -h 127.0.0.1 -p 16379 --csv -c 1 -n "$REDIS_N" -t ping_mbulk
step redis-rtt-proxy-unix redis-benchmark -s /run/ivshm-proxy/redis.sock --csv -c 1 -n "$REDIS_N" -t ping_mbulk
step redis-rtt-tcp redis-benchmark -h "$PEER_ADDR" -p 6379 --csv -c 1 -n "$REDIS_N" -t ping_mbulk
# One server behind every path: what one path writes, the others read.
step redis-set-tcp redis-cli -p 16379 set proof "via-proxy-tcp-$$"
step redis-get-unix redis-cli -s /run/ivshm-proxy/redis.sock get proof
step redis-set-unix redis-cli -s /run/ivshm-proxy/redis.sock set proof2 "via-proxy-unix-$$"
step redis-get-net redis-cli -h "$PEER_ADDR" get proof2
echo "redis-pid $$"

# curl fetches the file from nginx: its size, speed (bytes/s) and checksum.
# fetch NAME CURL-ARGS...
fetch() {
	name=$1
	shift
	: >/tmp/fetched
	out=$(curl -sS -o /tmp/fetched -w '%{size_download} %{speed_download}' "$@" 2>/tmp/curl.err)
	rc=$?
	sed "s/^/curl-$name: /" /tmp/curl.err
	echo "curl $name status=$rc result=$out sha256=$(sha256sum </tmp/fetched | cut -d' ' -f1)"
	[ "$rc" = 0 ] || failed=1
}
fetch proxy-tcp http://127.0.0.1:8080/big.txt
fetch proxy-unix --unix-socket /run/ivshm-proxy/web.sock http://a/big.txt
fetch tcp "http://$PEER_ADDR/big.txt"

proxy_status | sed 's/^/proxy-status: /'
# Guest A may stop now.
step release redis-cli -h "$PEER_ADDR" rpush finished 1
journalctl -b -u ivshm-proxy --no-pager -o cat | tail -n 20 | sed 's/^/proxy-journal: /'
exit "$failed"
