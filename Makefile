# ivshm: inter-VM shared memory for QEMU/KVM.
#
#   make            build host tools, guest driver, guest apps and the guest image into build/
#   make deps       install the Debian packages the project needs (needs root once)
#   make test       deps + build + the whole test suite; ends with "N passed, N failed"
#   make bench      deps + build + benchmarks (measured ratios, not pass/fail)
#   make install    host tools, libivshm, driver sources, VM configs; honours DESTDIR/PREFIX
#   make V=1        show the commands
#
# Each component has its own Makefile; this one only orders them.

TOP   := $(CURDIR)
BUILD ?= $(TOP)/build
export BUILD V PREFIX DESTDIR SANITIZE

COMPONENTS := $(dir $(wildcard host/Makefile guest-apps/Makefile))

.PHONY: all deps host guest-apps guest-driver guest test bench install clean

all: host guest-apps guest

deps:
	@$(TOP)/mk/deps.sh

host guest-apps:
	@if [ -f $@/Makefile ]; then $(MAKE) -C $@ all; fi

# The guest image bundles the driver and the statically linked guest apps.
guest: guest-apps
	@$(TOP)/host/guest-image/build-image $(BUILD)

test: deps all
	@$(TOP)/tests/run

bench: deps all
	@$(TOP)/tests/bench/run

install: host guest-apps
	@for d in $(COMPONENTS); do $(MAKE) -C $$d install || exit; done

clean:
	rm -rf $(BUILD)
