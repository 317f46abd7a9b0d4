# ivshm: inter-VM shared memory for QEMU/KVM.
#
#   make            build host tools, guest driver, guest apps and the guest image into build/
#   make deps       install the Debian packages the project needs (needs root once)
#   make test       deps + build + the whole test suite; ends with "N passed, N failed"
#   make bench      deps + build + benchmarks (measured ratios, not pass/fail)
#   make demo       deps + build + install + the two-VM exchange under libvirt
#                   (BACKEND=qemu: plain QEMU on the build tree, nothing installed)
#   make install    host tools, libivshm and apps, driver sources for DKMS, VM configs,
#                   guest image; honours DESTDIR/PREFIX
#   make test-overlay  the probes and scripts the tests add to a guest (never installed)
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
ifneq ($(V),1)
MAKEFLAGS += --no-print-directory
endif

# The deployment defaults (plain NAME=VALUE lines). The VM configs name the image and
# log directories, so they do not move with PREFIX.
IVSHM_DEPLOYMENT ?= $(TOP)/contracts/deployment.env
include $(IVSHM_DEPLOYMENT)
IMAGEDIR := $(IVSHM_IMAGE_DIR)
LOGDIR   := $(IVSHM_LOG_DIR)

COMPONENTS := host guest-apps guest-driver

.PHONY: all deps host guest-apps guest test-overlay test bench fuzz install demo clean

all: host guest-apps guest

deps:
	@$(TOP)/mk/deps.sh

# -s hides "Nothing to be done"; the components print their own quiet lines.
host guest-apps:
	@$(MAKE) $(if $(filter 1,$(V)),,-s) -C $@ all

# The guest image bundles the driver and the statically linked guest apps: the
# product only, as make install installs it.
guest: guest-apps
	@$(TOP)/host/guest-image/build-image $(BUILD)

# What the tests add to a guest, as a second initramfs archive (ivshm-vm --overlay).
test-overlay:
	@$(MAKE) $(if $(filter 1,$(V)),,-s) -C tests/guest-helpers all

# tests/setup_suite.bash makes all and test-overlay too (for tests/run FILE alone);
# building first shows compiler errors here rather than in a failed suite set-up.
# The corpus grows in build/fuzz/corpus across runs; a crash leaves its input there too.
FUZZ_SECONDS ?= 600
fuzz: deps
	@$(MAKE) $(if $(filter 1,$(V)),,-s) -C guest-apps fuzz-build
	@for f in $(BUILD)/fuzz/fuzz-*; do \
		mkdir -p $(BUILD)/fuzz/corpus/$${f##*/} && \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ \
			$(BUILD)/fuzz/corpus/$${f##*/} || exit; \
	done

test: deps all test-overlay
	@$(TOP)/tests/run

bench: deps all
	@$(TOP)/tests/bench/run

# ivshmd under churn, fds and RSS flat: IVSHM_SOAK_SECONDS (default 300, hours on demand).
soak:
	@$(MAKE) $(if $(filter 1,$(V)),,-s) -C host soak

install: all
	@for d in $(COMPONENTS); do $(MAKE) -C $$d install || exit; done
	@printf '  %-7s %s\n' INSTALL "guest image, VM configs"
	@install -d "$(DESTDIR)$(IMAGEDIR)" "$(DESTDIR)$(LOGDIR)" "$(DESTDIR)$(DATADIR)/ivshm/vm-configs"
	@install -m 0644 $(BUILD)/guest/vmlinuz $(BUILD)/guest/initrd.img $(BUILD)/guest/kernel.version \
		"$(DESTDIR)$(IMAGEDIR)/"
	@install -m 0644 vm-configs/*.xml "$(DESTDIR)$(DATADIR)/ivshm/vm-configs/"

ifeq ($(BACKEND),qemu)
demo: deps all
else
demo: deps install
endif
	@$(TOP)/host/demo/ivshm-demo --backend $(BACKEND)

clean:
	rm -rf $(BUILD)
