# ivshm: inter-VM shared memory for QEMU/KVM.
#
#   make            build libivshm, the host programs, ivshm-proxy, the guest driver, the guest
#                   programs and the guest image into build/
#   make deps       install the Debian packages the project needs (needs root once)
#   make test       deps + build + the whole test suite; ends with "N passed, N failed"
#   make bench      deps + build + benchmarks (measured ratios, not pass/fail)
#   make demo       deps + build + make install SYSTEM=1 + the two-VM exchange under
#                   libvirt (BACKEND=qemu: plain QEMU on the build tree, nothing installed)
#   make install    host tools, libivshm and apps, driver sources for DKMS, VM configs,
#                   guest image, man pages, all under DESTDIR/PREFIX (default /usr/local)
#                   and nowhere else: ivshmd's defaults in PREFIX/etc, the image in
#                   PREFIX/share/ivshm/guest (the installed VM configs say so)
#   make install SYSTEM=1  the same, plus the system locations that programs outside
#                   PREFIX read: /etc/default/ivshmd, the image and console logs
#                   where the shipped VM configs name them (contracts/deployment.env),
#                   the udev rule and the group's sysusers.d file; the packages and
#                   make demo ask for it
#   make deb        Debian packages (debian/: debhelper, dh-dkms) into build/deb/
#   make test-overlay  the probes and scripts the tests add to a guest (never installed)
#   make test-tools the test-only programs (tests/tools: load generators, hostile
#                   peers; never installed)
#   make soak       ivshmd under churn for IVSHM_SOAK_SECONDS (default 300); fds and RSS flat
#   make fuzz       the libFuzzer targets for FUZZ_SECONDS each (default 600); make test
#                   runs them briefly
#   make V=1        show the commands
#
# Each component has its own Makefile; this one only orders them.

TOP     := $(CURDIR)
BUILD   ?= $(TOP)/build
PREFIX  ?= /usr/local
DATADIR ?= $(PREFIX)/share
BACKEND ?= libvirt
export BUILD V PREFIX DESTDIR SANITIZE
# No implicit rules here: the tree's files are prerequisites of make deb, and a script
# next to a newer C file of the same name (tests/tools/soak, soak.c) is not to be built.
.SUFFIXES:
%: %.c
%: %.o
%: %.sh SYSTEM
ifneq ($(V),1)
MAKEFLAGS += --no-print-directory
endif

# The deployment defaults (plain NAME=VALUE lines). The shipped VM configs name the
# image and log directories: SYSTEM=1 installs there; otherwise under PREFIX, and
# the installed configs are rewritten to name those.
IVSHM_DEPLOYMENT ?= $(TOP)/contracts/deployment.env
include $(IVSHM_DEPLOYMENT)
ifeq ($(SYSTEM),1)
IMAGEDIR ?= $(IVSHM_IMAGE_DIR)
LOGDIR   ?= $(IVSHM_LOG_DIR)
else
LOCALSTATEDIR ?= $(PREFIX)/var
IMAGEDIR ?= $(DATADIR)/ivshm/guest
LOGDIR   ?= $(LOCALSTATEDIR)/log/ivshm
endif

COMPONENTS := libivshm host guest-apps proxy guest-driver

.PHONY: all deps common libivshm host guest-apps proxy guest test-overlay test-tools test bench fuzz install demo deb clean

all: libivshm host guest-apps proxy guest

deps:
	@$(TOP)/mk/deps.sh

# -s hides "Nothing to be done"; the components print their own quiet lines. The
# helpers in common/ are built once, first; libivshm before everything that links it.
SUBMAKE = $(MAKE) $(if $(filter 1,$(V)),,-s)

common:
	+@$(SUBMAKE) -C common all

libivshm: common
	+@$(SUBMAKE) -C libivshm all

host guest-apps proxy: libivshm
	+@$(SUBMAKE) -C $@ all

test-tools: libivshm
	+@$(SUBMAKE) -C tests/tools all

# The guest image bundles the driver and the statically linked guest apps (the
# proxy's static build among them): the product only, as make install installs it.
guest: guest-apps proxy
	@$(TOP)/host/guest-image/build-image $(BUILD)

# What the tests add to a guest, as a second initramfs archive (ivshm-vm --overlay).
test-overlay:
	+@$(SUBMAKE) -C tests/guest-helpers all

# tests/setup_suite.bash makes all, test-overlay and test-tools too (for tests/run FILE alone);
# building first shows compiler errors here rather than in a failed suite set-up.
# The corpus grows in build/fuzz/corpus across runs; a crash leaves its input there too.
FUZZ_SECONDS ?= 600
fuzz: deps
	+@$(SUBMAKE) -C libivshm fuzz-build
	+@$(SUBMAKE) -C proxy fuzz-build
	@for f in $(BUILD)/fuzz/fuzz-*; do \
		mkdir -p $(BUILD)/fuzz/corpus/$${f##*/} && \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/corpus/$${f##*/} || exit; \
	done

test: deps all test-overlay test-tools
	@$(TOP)/tests/run

bench: deps all test-tools
	@$(TOP)/tests/bench/run

# ivshmd under churn, fds and RSS flat: IVSHM_SOAK_SECONDS (default 300, hours on demand).
soak: test-tools
	@BUILD=$(BUILD) $(TOP)/tests/tools/soak

install: all
	@for d in $(COMPONENTS); do $(MAKE) -C $$d install || exit; done
	@printf '  %-7s %s\n' INSTALL "guest image, VM configs"
	@install -d "$(DESTDIR)$(IMAGEDIR)" "$(DESTDIR)$(LOGDIR)" "$(DESTDIR)$(DATADIR)/ivshm/vm-configs"
	@install -m 0644 $(BUILD)/guest/vmlinuz $(BUILD)/guest/initrd.img $(BUILD)/guest/kernel.version \
		"$(DESTDIR)$(IMAGEDIR)/"
	@for f in vm-configs/*.xml; do \
		sed -e 's|$(IVSHM_IMAGE_DIR)|$(IMAGEDIR)|g' -e 's|$(IVSHM_LOG_DIR)|$(LOGDIR)|g' "$$f" \
			>"$(DESTDIR)$(DATADIR)/ivshm/vm-configs/$${f##*/}" && \
		chmod 0644 "$(DESTDIR)$(DATADIR)/ivshm/vm-configs/$${f##*/}" || exit; done

# dpkg-buildpackage writes next to the source directory and builds in place, so the
# tree is copied to $(BUILD)/deb/ivshm-VERSION first and the packages land in
# $(BUILD)/deb. The package build has a BUILD of its own (the compiler flags differ)
# but shares this BUILD's kernel downloads. Rebuilt when a file of the tree changes.
DEB_DIR     := $(BUILD)/deb
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' $(TOP)/debian/changelog)
DEB_SRC     := $(DEB_DIR)/ivshm-$(DEB_VERSION)
DEB_BUILDREL := $(if $(filter $(TOP)/%,$(BUILD)),./$(patsubst $(TOP)/%,%,$(BUILD)))
DEB_EXCLUDE := --exclude-vcs --exclude='./build*' $(if $(DEB_BUILDREL),--exclude='$(DEB_BUILDREL)')
DEB_INPUTS  := $(shell cd $(TOP) && find . -path ./.git -prune -o -path './build*' -prune \
	$(if $(DEB_BUILDREL),-o -path '$(DEB_BUILDREL)' -prune) -o -type f -print)

deb: $(DEB_DIR)/.built

$(DEB_DIR)/.built: $(DEB_INPUTS)
	@$(TOP)/mk/deps.sh
	@printf '  %-7s %s\n' DEB "$(DEB_DIR)"
	@rm -rf "$(DEB_SRC)" && mkdir -p "$(DEB_SRC)" "$(DEB_DIR)/build" "$(BUILD)/kernel"
	@rm -f "$(DEB_DIR)"/*.deb "$(DEB_DIR)"/*.changes "$(DEB_DIR)"/*.buildinfo \
		"$(DEB_DIR)"/*.dsc "$(DEB_DIR)"/*.tar.*
	@ln -sfn "$(BUILD)/kernel" "$(DEB_DIR)/build/kernel"
	@tar -C $(TOP) $(DEB_EXCLUDE) -cf - . | tar -C "$(DEB_SRC)" -xf -
	@cd "$(DEB_SRC)" && BUILD="$(DEB_DIR)/build" dpkg-buildpackage -us -uc \
		>"$(DEB_DIR)/build.log" 2>&1 || { tail -n 40 "$(DEB_DIR)/build.log"; exit 1; }
	@touch $@

# The libvirt demo boots the installed image from where the shipped configs name it.
ifeq ($(BACKEND),qemu)
demo: deps all
else
demo: deps
	@$(MAKE) install SYSTEM=1
endif
	@$(TOP)/host/demo/ivshm-demo --backend $(BACKEND)

clean:
	rm -rf $(BUILD)
