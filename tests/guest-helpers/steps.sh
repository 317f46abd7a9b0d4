# Steps of the scripts the real Debian guests run (rootfs-vm --cmd; 097, 099 and
# tests/bench/proxy-programs put this file before their own): each step's output
# under its name, then its status, for the tests to read from the serial log.
# POSIX sh: the guest's /bin/sh is dash. $failed is 1 once a step failed.
# shellcheck shell=sh disable=SC2034 # failed: read by the scripts

failed=0

# step NAME CMD...: CMD's output lines prefixed "NAME: ", then "step=NAME status=RC";
# returns CMD's status.
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

# until_ok SECONDS CMD...: CMD every 0.1 s until it succeeds, for SECONDS at most.
until_ok() {
	n=$(($1 * 10))
	shift
	until "$@"; do
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
		n=$((n - 1))
	done
}
