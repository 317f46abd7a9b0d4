#!/usr/bin/env bash
# Install the Debian packages ivshm needs to build, test, benchmark and demo.
# Idempotent and quiet when everything is present; `apt-get update` runs only when
# something is missing (or when the package lists cannot resolve the guest kernel).
set -euo pipefail

packages=(
	# build
	build-essential pkg-config libsystemd-dev libcmocka-dev
	# guest image: kernel .debs are fetched with apt-get download, unpacked with dpkg-deb
	busybox-static cpio gzip kmod xz-utils zstd dwarves
	# VMs
	qemu-system-x86 libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
	# tests and benchmarks
	bats bats-assert bats-support bats-file gnuplot-nox procps iproute2 socat bc
	# iperf3's JSON (099), free UDP ports for the guests' dgram NICs (python3)
	jq python3
	# systemd-analyze verify of the units, systemd-socket-activate (no systemd as PID 1 needed)
	systemd
	# domain XML checks (xmllint)
	libxml2-utils
	# libFuzzer targets (make fuzz, and a bounded run in make test)
	clang libclang-rt-14-dev
	# Debian packages (make deb), their checks and the man pages
	debhelper dh-dkms dpkg-dev fakeroot lintian mandoc man-db
	# the real systemd guest: its root file system and disk image
	mmdebstrap e2fsprogs
)

missing=()
for p in "${packages[@]}"; do
	case "$p" in \#*) continue ;; esac
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

# The guest kernel is resolved through apt metadata; an empty list cache
# (fresh container) cannot resolve it even when all packages are installed.
need_update=0
[ ${#missing[@]} -gt 0 ] && need_update=1
apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 || need_update=1

if [ "$need_update" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages: ${missing[*]:-(apt lists)}; run 'make deps' as root" >&2
		exit 1
	fi
	echo "deps: apt-get update"
	apt-get update -q >/dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
