#!/usr/bin/env bats
# make deb: the Debian packages (debian/, debhelper, dh-dkms) build into BUILD/deb,
# lintian finds no error or warning in any of them or in the source package, and each
# package holds what a user of it needs. 097 installs them on a real guest.

load helpers/common

setup_file() {
	make -s -C "$IVSHM_TOP" BUILD="$IVSHM_BUILD" deb >&2
	export DEBS="$IVSHM_BUILD/deb"
	# The version every package and the driver's DKMS tree carry: the changelog's.
	VERSION=$(dpkg-parsechangelog -l "$IVSHM_TOP/debian/changelog" -S Version)
	export VERSION
	export UNPACKED="$BATS_FILE_TMPDIR/unpacked"
	local deb p
	for deb in "$DEBS"/*_*.deb; do
		p=$(dpkg-deb -f "$deb" Package)
		mkdir -p "$UNPACKED/$p"
		dpkg-deb -x "$deb" "$UNPACKED/$p/root"
		dpkg-deb -e "$deb" "$UNPACKED/$p/DEBIAN"
	done
	lintian_problems "$DEBS"/ivshm_*.changes >"$BATS_FILE_TMPDIR/lintian.txt"
}

setup() {
	MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
}

# lintian_problems FILE...: lintian's errors and warnings (E: and W: lines) about FILEs
# (.changes, .deb); fails when lintian could not check them (with --fail-on none, its
# status is 0 only when it did).
lintian_problems() {
	local out
	# lintian leaves files in TMPDIR: in ours, bats removes them.
	out=$(TMPDIR=$BATS_FILE_TMPDIR lintian --fail-on none "$@" 2>&1) ||
		{ echo "lintian failed: $out"; return 1; }
	grep -E '^[EW]: ' <<<"$out" || true
}

# contents PACKAGE: the paths the package installs, one a line, sorted.
contents() {
	(cd "$UNPACKED/$1/root" && find . -mindepth 1 \( -type f -o -type l \) | sed 's|^\.||' | sort)
}

@test "make deb builds the seven packages and the source package" {
	run -0 sh -c "cd '$DEBS' && ls *.deb | grep -v -- -dbgsym_ | sed 's/_.*//' | sort"
	assert_output "$(printf '%s\n' ivshm-examples ivshm-proxy ivshm-tools ivshmd libivshm-dev libivshm1 uio-ivshmem-dkms)"
	assert_file_exists "$DEBS/ivshm_$VERSION.dsc"
	assert_file_exists "$DEBS/ivshm_$VERSION.tar.xz"
	# The build happens in a copy: the source tree gets no debian/ build products.
	run -0 git -C "$IVSHM_TOP" status --porcelain --ignored debian
	assert_output ''
}

@test "lintian reports no error and no warning on any package or the source" {
	run -0 cat "$BATS_FILE_TMPDIR/lintian.txt"
	assert_output ''
}

@test "the lintian check catches a broken package" {
	local bad="$BATS_TEST_TMPDIR/bad"
	dpkg-deb -R "$DEBS"/ivshm-tools_*.deb "$bad"
	rm "$bad/usr/share/doc/ivshm-tools/copyright"
	sed -i 's/^Maintainer: .*/Maintainer: nobody/' "$bad/DEBIAN/control"
	dpkg-deb -b "$bad" "$BATS_TEST_TMPDIR/ivshm-tools_${VERSION}_amd64.deb" >/dev/null
	run -0 lintian_problems "$BATS_TEST_TMPDIR/ivshm-tools_${VERSION}_amd64.deb"
	assert_line --regexp '^E: ivshm-tools: no-copyright-file'
	assert_line --regexp '^E: ivshm-tools: malformed-contact Maintainer nobody'
	# A file lintian cannot read is a failure, not a clean report.
	run -1 lintian_problems "$BATS_TEST_TMPDIR/missing.deb"
}

@test "libivshm1: the shared library, its symbols file by version section as libivshm.sym says" {
	run -0 contents libivshm1
	assert_line "/usr/lib/$MULTIARCH/libivshm.so.1.2.0"
	assert_line "/usr/lib/$MULTIARCH/libivshm.so.1"
	refute_line --regexp '\.(a|h|pc)$'
	# name@SECTION for every exported function, from the version script.
	local want
	want=$(libivshm_exports)
	[ "$(wc -l <<<"$want")" -ge 30 ]
	run -0 sh -c "sed -n 's/^ \(ivshm_[^ ]*\) .*/\1/p' '$UNPACKED/libivshm1/DEBIAN/symbols' | LC_ALL=C sort"
	assert_equal "$output" "$want"
	# objdump shows an old version (kept by compat.c) in parentheses.
	run -0 sh -c "objdump -T '$UNPACKED/libivshm1/root/usr/lib/$MULTIARCH/libivshm.so.1.2.0' |
		awk '\$2 == \"g\" && \$4 == \".text\" { v = \$6; gsub(/[()]/, \"\", v); print \$7 \"@\" v }' |
		LC_ALL=C sort"
	assert_equal "$output" "$want"
	run -0 head -n 1 "$UNPACKED/libivshm1/DEBIAN/symbols"
	assert_output 'libivshm.so.1 libivshm1 #MINVER#'
}

@test "libivshm-dev: both headers, static library, .so link and .pc; a program builds against them" {
	run -0 contents libivshm-dev
	assert_line /usr/include/ivshm.h
	assert_line /usr/include/uio_ivshmem.h
	assert_line /usr/include/ivshm-role.h
	assert_line "/usr/lib/$MULTIARCH/libivshm.a"
	assert_line "/usr/lib/$MULTIARCH/libivshm.so"
	assert_line "/usr/lib/$MULTIARCH/pkgconfig/libivshm.pc"
	assert_line /usr/share/man/man3/libivshm.3.gz
	local root="$BATS_TEST_TMPDIR/root"
	mkdir -p "$root"
	cp -a "$UNPACKED/libivshm1/root/." "$UNPACKED/libivshm-dev/root/." "$root/"
	run -0 env PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$root/usr/lib/$MULTIARCH/pkgconfig" \
		pkg-config --cflags --libs libivshm
	assert_output --regexp "^-I$root/usr/include -L$root/usr/lib/$MULTIARCH -livshm *\$"
	local flags=$output
	cat >"$BATS_TEST_TMPDIR/prog.c" <<-'EOF'
		#include <errno.h>
		#include <stdio.h>
		#include <ivshm.h>
		int main(void)
		{
			struct ivshm_dev *dev = NULL;
			/* uio_ivshmem.h through ivshm.h: the ABI's limits are there. */
			printf("%d %s\n", IVSHM_MAX_VECTORS, ivshm_strerror(-EPROTO));
			return ivshm_open("/nonexistent", 0, &dev) < 0 ? 0 : 1;
		}
	EOF
	# shellcheck disable=SC2086 # pkg-config's words
	run -0 cc -std=c11 -Wall -Werror -o "$BATS_TEST_TMPDIR/prog" "$BATS_TEST_TMPDIR/prog.c" $flags
	run -0 env LD_LIBRARY_PATH="$root/usr/lib/$MULTIARCH" "$BATS_TEST_TMPDIR/prog"
	assert_output --regexp '^64 .+'
	run -0 sh -c "objdump -p '$BATS_TEST_TMPDIR/prog' | grep NEEDED"
	assert_output --partial libivshm.so.1
}

@test "ivshmd: daemon, peer, pages, the unit enabled and started on install, a conffile, group kvm" {
	run -0 contents ivshmd
	assert_line /usr/sbin/ivshmd
	assert_line /usr/bin/ivshm-peer
	assert_line /lib/systemd/system/ivshmd.service
	assert_line /etc/default/ivshmd
	assert_line /usr/share/man/man8/ivshmd.8.gz
	assert_line /usr/share/man/man1/ivshm-peer.1.gz
	run -0 cat "$UNPACKED/ivshmd/DEBIAN/conffiles"
	assert_output /etc/default/ivshmd
	run -0 cmp "$UNPACKED/ivshmd/root/etc/default/ivshmd" "$IVSHM_TOP/host/ivshmd/systemd/ivshmd.default"
	run -0 grep '^ExecStart=/usr/sbin/ivshmd ' "$UNPACKED/ivshmd/root/lib/systemd/system/ivshmd.service"
	run -0 cat "$UNPACKED/ivshmd/DEBIAN/postinst"
	assert_output --partial "deb-systemd-helper enable 'ivshmd.service'"
	assert_output --partial "deb-systemd-invoke start 'ivshmd.service'"
	assert_output --partial 'systemd-sysusers ${DPKG_ROOT:+--root="$DPKG_ROOT"} ivshmd.conf'
	run -0 cat "$UNPACKED/ivshmd/root/usr/lib/sysusers.d/ivshmd.conf"
	assert_line 'g kvm - -'
}

@test "ivshm-proxy: daemon, pages, a conffile that sets nothing, the unit installed disabled, its groups" {
	run -0 contents ivshm-proxy
	assert_output "$(printf '%s\n' /etc/ivshm/proxy.conf /lib/systemd/system/ivshm-proxy.service \
		/usr/lib/sysusers.d/ivshm-proxy.conf /usr/sbin/ivshm-proxy \
		/usr/share/doc/ivshm-proxy/changelog.gz /usr/share/doc/ivshm-proxy/copyright \
		/usr/share/man/man5/ivshm-proxy.conf.5.gz /usr/share/man/man8/ivshm-proxy.8.gz)"
	run -0 cat "$UNPACKED/ivshm-proxy/DEBIAN/conffiles"
	assert_output /etc/ivshm/proxy.conf
	run -0 cmp "$UNPACKED/ivshm-proxy/root/etc/ivshm/proxy.conf" "$IVSHM_TOP/proxy/systemd/proxy.conf"
	# The shipped file names no proxy: the packaged daemon refuses it (status 2, no restart).
	run -2 "$UNPACKED/ivshm-proxy/root/usr/sbin/ivshm-proxy" check -c "$UNPACKED/ivshm-proxy/root/etc/ivshm/proxy.conf"
	assert_output --partial "no name"
	local unit=$UNPACKED/ivshm-proxy/root/lib/systemd/system/ivshm-proxy.service
	run -0 grep -e '^ExecStart=' -e '^Type=' -e '^DynamicUser=' -e '^SupplementaryGroups=' "$unit"
	assert_output "$(printf '%s\n' Type=notify 'ExecStart=/usr/sbin/ivshm-proxy run -c /etc/ivshm/proxy.conf' \
		DynamicUser=yes 'SupplementaryGroups=ivshm kvm')"
	# Not enabled nor started on installation (enabled again on upgrade only if it was);
	# restarted on upgrade if it runs, stopped on removal; the groups made first.
	run -0 cat "$UNPACKED/ivshm-proxy/DEBIAN/postinst"
	assert_output --partial 'systemd-sysusers ${DPKG_ROOT:+--root="$DPKG_ROOT"} ivshm-proxy.conf'
	assert_output --partial "if deb-systemd-helper --quiet was-enabled 'ivshm-proxy.service'; then"
	refute_output --partial "Enables the unit on first installation"
	assert_output --partial "deb-systemd-invoke \$_dh_action 'ivshm-proxy.service'"
	run -0 cat "$UNPACKED/ivshm-proxy/DEBIAN/prerm"
	assert_output --partial "deb-systemd-invoke stop 'ivshm-proxy.service'"
	assert_not_exists "$UNPACKED/ivshm-proxy/DEBIAN/preinst"
	run -0 cat "$UNPACKED/ivshm-proxy/root/usr/lib/sysusers.d/ivshm-proxy.conf"
	assert_line 'g ivshm - -'
	assert_line 'g kvm - -'
	run -0 dpkg-deb -f "$DEBS"/ivshm-proxy_*.deb Recommends
	assert_output 'ivshm-tools | ivshmd'
}

@test "uio-ivshmem-dkms: the module sources with dkms.conf, registered with DKMS on install" {
	run -0 contents uio-ivshmem-dkms
	local src=/usr/src/uio_ivshmem-$VERSION
	assert_line "$src/dkms.conf"
	assert_line "$src/Kbuild"
	assert_line "$src/uio_ivshmem.c"
	assert_line "$src/uapi/uio_ivshmem.h"
	run -0 cmp "$UNPACKED/uio-ivshmem-dkms/root$src/uio_ivshmem.c" "$IVSHM_TOP/guest-driver/uio_ivshmem.c"
	run -0 cat "$UNPACKED/uio-ivshmem-dkms/DEBIAN/postinst"
	assert_line DKMS_NAME=uio_ivshmem
	assert_line "DKMS_VERSION=$VERSION"
	assert_output --partial /usr/lib/dkms/common.postinst
	run -0 dpkg-deb -f "$DEBS"/uio-ivshmem-dkms_*.deb Depends Architecture
	assert_output --regexp 'Depends: dkms'
	assert_line 'Architecture: all'
}

@test "ivshm-tools: the programs, the udev rule, group ivshm, pages; the modalias loads the driver" {
	run -0 contents ivshm-tools
	local p
	for p in shm-server shm-client ivshm-info ivshm-chan ivshm-echo ivshm-bench ivshm-pingpong; do
		assert_line "/usr/bin/$p"
		assert_line "/usr/share/man/man1/$p.1.gz"
	done
	assert_line /lib/udev/rules.d/60-ivshm.rules
	assert_line /usr/lib/sysusers.d/ivshm.conf
	# No modules-load.d entry: the driver's PCI ID table makes udev load it.
	refute_output --partial modules-load.d
	local kver
	kver=$(cat "$IVSHM_BUILD/guest/kernel.version")
	run -0 modinfo -F alias "$IVSHM_BUILD/guest-driver/$kver/uio_ivshmem.ko"
	assert_line --regexp '^pci:v00001AF4d00001110sv\*sd\*bc\*sc\*i\*$'
	run -0 cat "$UNPACKED/ivshm-tools/root/usr/lib/sysusers.d/ivshm.conf"
	assert_line 'g ivshm - -'
	run -0 grep -E '^GROUP="ivshm", MODE="0660"$' "$UNPACKED/ivshm-tools/root/lib/udev/rules.d/60-ivshm.rules"
	# The group exists before the devices are told about the rule.
	run -0 grep -n -e 'systemd-sysusers' -e 'udevadm trigger' "$UNPACKED/ivshm-tools/DEBIAN/postinst"
	assert_line --index 0 --partial 'systemd-sysusers'
	assert_line --index 1 --partial 'udevadm trigger'
}

@test "ivshm-examples: the VM configs and the guest image at the paths the configs name" {
	run -0 contents ivshm-examples
	assert_line /usr/share/ivshm/vm-configs/ivshm-server.xml
	assert_line /usr/share/ivshm/vm-configs/ivshm-client.xml
	local path
	for path in $(grep -oh "/var/lib/ivshm/guest/[a-z.]*" "$IVSHM_TOP"/vm-configs/*.xml | sort -u); do
		assert_line "$path"
	done
	assert_dir_exists "$UNPACKED/ivshm-examples/root/var/log/ivshm"
}
