#!/usr/bin/env bats
# uio_ivshmem builds warning-free (W=1) against the guest's 6.1 kernel and Debian 12's
# 6.12 kernel, fails on any warning, never writes into its source tree, and installs a
# DKMS source tree that builds with dkms.conf's own command.
#
# Each build goes to a fresh BUILD under the scratch directory: an up-to-date object
# would compile nothing and prove nothing about warnings.

load helpers/driver

setup_file() {
	export SCRATCH="$(scratch_dir)"
	rm -rf "$SCRATCH"/*
	export K61
	K61=$(guest_kernel_headers)
	# Versions move (-56 today, -57 tomorrow): resolve through the metapackage.
	local ver
	ver=$(timeout 300 "$IVSHM_TOP/host/guest-image/fetch-kernel" \
		linux-headers-6.12-cloud-amd64 "$IVSHM_BUILD/kernel")
	export K612_VER="$ver"
	export K612="$IVSHM_BUILD/kernel/$ver/root/usr/src/linux-headers-$ver"
}

teardown_file() {
	scratch_teardown
}

# kbuild DIR KERNELDIR BUILD [make args...]: the driver Makefile, run in DIR.
kbuild() {
	local dir=$1 kdir=$2 build=$3
	shift 3
	timeout 300 make -C "$dir" -f "$IVSHM_TOP/guest-driver/Makefile" \
		KERNELDIR="$kdir" BUILD="$build" "$@"
}

# assert_vermagic KO RELEASE: the module was built for exactly that kernel release.
assert_vermagic() {
	run -0 modinfo -F vermagic "$1"
	assert_equal "${output%% *}" "$2"
}

@test "module builds with W=1 and -Werror against the guest kernel's headers" {
	local ver=${K61##*/linux-headers-}
	run -0 kbuild "$IVSHM_TOP/guest-driver" "$K61" "$SCRATCH/b61" V=1
	assert_output --partial -- '-DKBUILD_EXTRA_WARN1'
	assert_output --partial -- ' -Werror '
	# V=1 echoes the Makefile's own warning grep: check kbuild's log instead.
	run -0 cat "$SCRATCH/b61/guest-driver/$ver/build.log"
	assert_output --partial 'uio_ivshmem.o'
	refute_output --regexp '[Ww]arning:|WARNING:'
	assert_vermagic "$SCRATCH/b61/guest-driver/$ver/uio_ivshmem.ko" "$ver"
}

@test "module builds with W=1 and -Werror against Debian 12's 6.12 headers" {
	run -0 kbuild "$IVSHM_TOP/guest-driver" "$K612" "$SCRATCH/b612" V=1
	assert_output --partial -- '-DKBUILD_EXTRA_WARN1'
	run -0 cat "$SCRATCH/b612/guest-driver/$K612_VER/build.log"
	assert_output --partial 'uio_ivshmem.o'
	refute_output --regexp '[Ww]arning:|WARNING:'
	assert_vermagic "$SCRATCH/b612/guest-driver/$K612_VER/uio_ivshmem.ko" "$K612_VER"
}

@test "a compiler warning fails the build" {
	local src="$SCRATCH/src-cc"
	cp -r "$IVSHM_TOP/guest-driver" "$src"
	printf 'static int uio_ivshmem_unused(void) { return 0; }\n' >>"$src/uio_ivshmem.c"
	run kbuild "$src" "$K61" "$SCRATCH/b-cc"
	assert_failure
	assert_output --partial 'uio_ivshmem_unused'
	assert_output --partial 'all warnings being treated as errors'
}

@test "a modpost warning fails the build too" {
	local src="$SCRATCH/src-modpost"
	cp -r "$IVSHM_TOP/guest-driver" "$src"
	sed -i '/^MODULE_DESCRIPTION/d' "$src/uio_ivshmem.c"
	run kbuild "$src" "$K612" "$SCRATCH/b-modpost"
	assert_failure
	assert_output --partial 'missing MODULE_DESCRIPTION'
	assert_output --partial 'warnings are errors'
}

@test "a missing kernel tree is a clear error" {
	run kbuild "$IVSHM_TOP/guest-driver" "$SCRATCH/no-such-kernel" "$SCRATCH/b-none"
	assert_failure
	assert_output --partial "no kernel build tree at KERNELDIR=$SCRATCH/no-such-kernel"
}

@test "building never writes into the source tree" {
	local before
	before=$(cd "$IVSHM_TOP/guest-driver" && find . | sort)
	run -0 kbuild "$IVSHM_TOP/guest-driver" "$K612" "$SCRATCH/b-tree"
	run -0 bash -c "cd '$IVSHM_TOP/guest-driver' && find . | sort"
	assert_output "$before"
}

@test "make install lays out a DKMS tree that builds with dkms.conf's own command" {
	run -0 make -s -C "$IVSHM_TOP/guest-driver" install DESTDIR="$SCRATCH/root" PREFIX=/usr
	local version
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$IVSHM_TOP/guest-driver/dkms.conf")
	local tree="$SCRATCH/root/usr/src/uio_ivshmem-$version"
	assert_file_exists "$tree/dkms.conf"
	assert_file_exists "$tree/Kbuild"
	assert_file_exists "$tree/uio_ivshmem.c"
	assert_file_exists "$tree/uapi/uio_ivshmem.h"

	# What `dkms build` does: copy the tree to DKMS's build dir, source dkms.conf
	# with kernel_source_dir and dkms_tree set, run MAKE[0], pick up the module.
	local dkms="$SCRATCH/dkms"
	mkdir -p "$dkms/uio_ivshmem/$version"
	cp -r "$tree" "$dkms/uio_ivshmem/$version/build"
	run -0 timeout 300 bash -c '
		kernel_source_dir=$1 dkms_tree=$2
		. "$dkms_tree/uio_ivshmem/'"$version"'/build/dkms.conf"
		echo "name=$PACKAGE_NAME module=${BUILT_MODULE_NAME[0]}"
		eval "${MAKE[0]}"' _ "$K612" "$dkms"
	assert_line "name=uio_ivshmem module=uio_ivshmem"
	local ko="$dkms/uio_ivshmem/$version/build/uio_ivshmem.ko"
	run -0 modinfo -F version "$ko"
	assert_output "$version"
	assert_vermagic "$ko" "$K612_VER"
}
