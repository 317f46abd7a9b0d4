# Shared by server.sh and client.sh, the two real guests of tests/099-proxy-programs.bats
# and tests/bench/proxy-programs: Debian's programs through ivshm-proxy.service and over
# virtio-net. The launcher prepends the settings (NET_ADDR and the run's lengths).
# POSIX sh: the guest's /bin/sh is dash. A script's exit status is 1 if a step failed.
# shellcheck shell=sh disable=SC2034,SC2317 # failed: read by the scripts; functions run by step

failed=0

# step NAME CMD...: CMD's output lines prefixed "NAME: ", then its status.
step() {
	name=$1
	shift
	"$@" >/tmp/step.out 2>&1
	rc=$?
	sed "s/^/$name: /" /tmp/step.out
	echo "step=$name status=$rc"
	[ "$rc" = 0 ] || failed=1
	return $rc
}

# until_ok SECONDS CMD...: CMD every 0.2 s until it succeeds, for SECONDS at most.
until_ok() {
	n=$(($1 * 5))
	shift
	until "$@"; do
		[ "$n" -gt 0 ] || return 1
		sleep 0.2
		n=$((n - 1))
	done
}

# net_up ADDR/PREFIX: the virtio-net NIC (udev named it) between the two guests.
net_up() {
	nic=
	for n in /sys/class/net/*; do
		[ "${n##*/}" = lo ] || nic=${n##*/}
	done
	[ -n "$nic" ] && ip link set lo up && ip link set "$nic" up && ip addr add "$1" dev "$nic"
}

# proxy_conf LINE...: /etc/ivshm/proxy.conf as an administrator writes it, then the
# packaged unit restarted with it (Type=notify: back once the proxy is ready). PROXY_WAIT
# (unset: the default, interrupt) is its wait mode.
proxy_conf() {
	printf '%s\n' "$@" ${PROXY_WAIT:+"wait $PROXY_WAIT"} >/etc/ivshm/proxy.conf
	systemctl restart ivshm-proxy.service
}

proxy_status() {
	ivshm-proxy status -c /etc/ivshm/proxy.conf
}
