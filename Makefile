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

# The VM configs name these paths, so they do not move with PREFIX.
IMAGEDIR := /var/lib/ivshm/guest
LOGDIR   := /var/log/ivshm

COMPONENTS := host guest-apps guest-driver

.PHONY: all deps host guest-apps guest test bench install demo clean

all: host guest-apps guest

deps:
	@$(TOP)/mk/deps.sh

# -s hides "Nothing to be done"; the components print their own quiet lines.
host guest-apps:
	@$(MAKE) $(if $(filter 1,$(V)),,-s) -C $@ all

# The guest image bundles the driver, the statically linked guest apps and the
# small probes the driver tests run inside the guest.
guest: guest-apps
	@$(MAKE) $(if $(filter 1,$(V)),,-s) -C tests/guest-helpers all
	@$(TOP)/host/guest-image/build-image $(BUILD)

test: deps all
	@$(TOP)/tests/run

bench: deps all
	@$(TOP)/tests/bench/run

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
