# Shared by server.sh and client.sh, the two real guests of tests/099-proxy-programs.bats
# and tests/bench/proxy-programs: Debian's programs through ivshm-proxy.service and over
# virtio-net. The launcher prepends the settings (NET_ADDR and the run's lengths).
# POSIX sh: the guest's /bin/sh is dash. tests/guest-helpers/steps.sh comes first (step,
# until_ok, failed); a script's exit status is 1 if a step failed.
# shellcheck shell=sh disable=SC2317 # functions run by step

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
