#!/usr/bin/env bats
# Deployment defaults are written once, in contracts/deployment.env. The files that
# must carry the same values for the programs reading them (ivshmd's
# /etc/default/ivshmd, the libvirt domain XMLs, the C header contracts/deployment.h)
# are checked against it here; the scripts and the Makefile read it.

load helpers/common

setup() {
	DEFAULTS="$IVSHM_TOP/host/ivshmd/systemd/ivshmd.default"
}

# ivshmd_opt NAME: every value ivshmd.default gives option NAME, one a line.
ivshmd_opt() {
	(
		# shellcheck disable=SC1090
		. "$DEFAULTS"
		# shellcheck disable=SC2086 # a word list, as systemd and ivshm-demo split it
		set -- $IVSHMD_OPTS
		while [ $# -gt 0 ]; do
			if [ "$1" = "$NAME" ]; then echo "$2"; shift; fi
			shift
		done
	)
}

# domain_mismatches FILE ROLE: for domain XML FILE of guest ROLE, one line
# "XPATH: VALUE, deployment says WANT" per value that differs from the deployment.
domain_mismatches() {
	local file=$1 role=$2 xpath want got
	while IFS='|' read -r xpath want; do
		got=$(xmllint --xpath "string($xpath)" "$file")
		[ "$got" = "$want" ] || echo "$xpath: $got, deployment says $want"
	done <<-EOF
		/domain/devices/shmem/server/@path|$IVSHM_SOCKET.$role
		/domain/devices/shmem/msi/@vectors|$IVSHM_VECTORS
		/domain/os/kernel|$IVSHM_IMAGE_DIR/vmlinuz
		/domain/os/initrd|$IVSHM_IMAGE_DIR/initrd.img
		/domain/devices/serial/log/@file|$IVSHM_LOG_DIR/ivshm-$role.log
		/domain/memory[@unit='MiB']|$IVSHM_GUEST_MEMORY_MB
		/domain/os/cmdline|$IVSHM_GUEST_CMDLINE ivshm.role=demo-$role
	EOF
}

@test "deployment.env reads the same in shell and make" {
	run -0 make -s -f - -C "$IVSHM_TOP" <<-'MK'
		include contracts/deployment.env
		all: ; @echo $(IVSHM_SHM_SIZE) $(IVSHM_VECTORS) $(IVSHM_PIN_SERVER) $(IVSHM_PIN_CLIENT) $(IVSHM_SOCKET) $(IVSHM_IMAGE_DIR) $(IVSHM_LOG_DIR) $(IVSHM_GUEST_MEMORY_MB)
	MK
	assert_output "$IVSHM_SHM_SIZE $IVSHM_VECTORS $IVSHM_PIN_SERVER $IVSHM_PIN_CLIENT $IVSHM_SOCKET $IVSHM_IMAGE_DIR $IVSHM_LOG_DIR $IVSHM_GUEST_MEMORY_MB"
	# Every value set, none with a space or a quote that one of the two would read differently.
	run -0 grep -cE '^IVSHM_[A-Z_]+=[^ "'"'"']+$' "$IVSHM_TOP/contracts/deployment.env"
	assert_output "$(grep -cvE '^(#|$)' "$IVSHM_TOP/contracts/deployment.env")"
}

@test "ivshmd.default serves the deployment's size, vectors, socket and pins" {
	NAME=--socket run -0 ivshmd_opt
	assert_output "$IVSHM_SOCKET"
	NAME=--size run -0 ivshmd_opt
	assert_output "$IVSHM_SHM_SIZE"
	NAME=--vectors run -0 ivshmd_opt
	assert_output "$IVSHM_VECTORS"
	NAME=--peer run -0 ivshmd_opt
	assert_output "$(printf 'server=%s\nclient=%s' "$IVSHM_PIN_SERVER" "$IVSHM_PIN_CLIENT")"
	# QEMU under libvirt runs as libvirt-qemu:kvm.
	NAME=--group run -0 ivshmd_opt
	assert_output kvm
}

@test "each domain XML uses the deployment's socket, vectors, image, log and memory" {
	local role
	for role in server client; do
		run -0 domain_mismatches "$IVSHM_TOP/vm-configs/ivshm-$role.xml" "$role"
		assert_output ''
	done
}

@test "a domain XML that drifted from the deployment is named with each value" {
	sed -e "s/<msi vectors='$IVSHM_VECTORS'/<msi vectors='9'/" -e "s|$IVSHM_LOG_DIR/|/tmp/|" \
		"$IVSHM_TOP/vm-configs/ivshm-client.xml" >"$BATS_TEST_TMPDIR/drift.xml"
	run -0 domain_mismatches "$BATS_TEST_TMPDIR/drift.xml" client
	assert_output "$(printf '%s\n' \
		"/domain/devices/shmem/msi/@vectors: 9, deployment says $IVSHM_VECTORS" \
		"/domain/devices/serial/log/@file: /tmp/ivshm-client.log, deployment says $IVSHM_LOG_DIR/ivshm-client.log")"
}

@test "ivshm-vm, ivshm-demo and make take their defaults from the deployment file" {
	sed -e 's/^IVSHM_VECTORS=.*/IVSHM_VECTORS=2/' -e 's/^IVSHM_GUEST_MEMORY_MB=.*/IVSHM_GUEST_MEMORY_MB=200/' \
		-e 's|^IVSHM_IMAGE_DIR=.*|IVSHM_IMAGE_DIR=/opt/elsewhere|' \
		"$IVSHM_TOP/contracts/deployment.env" >"$BATS_TEST_TMPDIR/deployment.env"
	mkdir -p "$BATS_TEST_TMPDIR/tmp"
	IVSHM_DEPLOYMENT="$BATS_TEST_TMPDIR/deployment.env" TMPDIR="$BATS_TEST_TMPDIR/tmp" \
		run -0 "$IVSHM_TOP/host/launch/ivshm-vm" --name dep --plain "$BATS_TEST_TMPDIR/p:1M" \
		--print-cmd
	assert_output --regexp ' -m 200 '
	run -0 "$IVSHM_TOP/host/launch/ivshm-vm" --help
	assert_output --partial "(default $IVSHM_VECTORS)"
	IVSHM_DEPLOYMENT="$BATS_TEST_TMPDIR/deployment.env" run -0 "$IVSHM_TOP/host/launch/ivshm-vm" --help
	assert_output --partial "MSI-X vectors of each doorbell device (default 2)"
	IVSHM_DEPLOYMENT="$BATS_TEST_TMPDIR/deployment.env" IVSHMD=/bin/true \
		run -1 "$IVSHM_TOP/host/demo/ivshm-demo"
	assert_output --partial "/opt/elsewhere/vmlinuz missing: run 'make install SYSTEM=1'"
	IVSHM_DEPLOYMENT="$BATS_TEST_TMPDIR/deployment.env" \
		run -0 make -n -C "$IVSHM_TOP" install SYSTEM=1 BUILD="$IVSHM_BUILD" DESTDIR=/stage
	assert_output --partial '"/stage/opt/elsewhere/"'
}

@test "no host script spells a deployment path or value the file holds" {
	run grep -rnE '/run/ivshm|/var/lib/ivshm|/var/log/ivshm|-l 4M|-n 4\b|--vectors 4|server=1|client=2' \
		"$IVSHM_TOP/host/launch" "$IVSHM_TOP/host/demo" "$IVSHM_TOP/host/lib" \
		"$IVSHM_TOP/host/libvirt" "$IVSHM_TOP/tests/helpers/libvirt.bash" \
		"$IVSHM_TOP/tests/bench/guest-channels" "$IVSHM_TOP/Makefile"
	assert_output ''
}

@test "C programs take the default socket from contracts/deployment.h, which says what the file says" {
	run -0 cpp -P -I"$IVSHM_TOP/contracts" - <<<$'#include "deployment.h"\nIVSHM_DEFAULT_SOCKET'
	assert_output "\"$IVSHM_SOCKET\""
	run -0 "$IVSHM_BIN/ivshmd" --help
	assert_output --partial "(default $IVSHM_SOCKET)"
	run -0 "$IVSHM_BIN/ivshm-peer" --help
	assert_output --partial "(default $IVSHM_SOCKET)"
	# No other product C source spells the path as a string; comments may name it (the
	# header's own does), tests may use it as data.
	run -0 grep -rnE --include='*.[ch]' --exclude-dir=tests '"/run/ivshm/ivshmd\.sock"' \
		"$IVSHM_TOP/common" "$IVSHM_TOP/libivshm" "$IVSHM_TOP/host" "$IVSHM_TOP/guest-apps" \
		"$IVSHM_TOP/proxy" "$IVSHM_TOP/contracts"
	assert_output --partial '/contracts/deployment.h:'
	assert_equal "$(grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*( |/|$)|//)|/contracts/deployment\.h:' \
		<<<"$output")" ''
}
