# Shared build settings for every C component. Each component Makefile sets TOP
# (path to the repository root) before including this file.
#
# Outputs never land in the source tree: everything goes under $(BUILD).

BUILD     ?= $(abspath $(TOP)/build)
BINDIR_B  := $(BUILD)/bin
LIBDIR_B  := $(BUILD)/lib
OBJDIR    := $(BUILD)/obj

# The contracts (contracts/*.h) and the shared helpers (common/), for every C component.
IVSHM_CPPFLAGS := -I$(TOP)/contracts -I$(TOP)/common
COMMON_LIB     := $(LIBDIR_B)/libivshm-common.a
COMMON_SRCS    := $(wildcard $(TOP)/common/*.[ch] $(TOP)/contracts/*.h)

# make install writes under $(DESTDIR)$(PREFIX) and nowhere else. SYSTEM=1 asks
# for the system locations that programs outside PREFIX read: SYSCONFDIR=/etc
# (ivshmd's /etc/default/ivshmd), the udev rule in /usr/lib/udev and the group's
# sysusers.d file (the top Makefile adds the guest image and the console logs
# where the VM configs name them). Each directory can still be set on its own.
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
LIBDIR    ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR   ?= $(PREFIX)/share
UNITDIR   ?= $(PREFIX)/lib/systemd/system
ifeq ($(SYSTEM),1)
SYSCONFDIR  ?= /etc
UDEVDIR     ?= /usr/lib/udev
SYSUSERSDIR ?= /usr/lib/sysusers.d
else
SYSCONFDIR  ?= $(PREFIX)/etc
# udev and systemd-sysusers read only their own directories: without SYSTEM=1
# (or UDEVDIR=, SYSUSERSDIR=) the rule and the group's file are not installed.
UDEVDIR     ?=
SYSUSERSDIR ?=
endif

CC        ?= gcc
CFLAGS    ?= -O2 -g
# override: `make CFLAGS=-O0` must not drop the language level or the warnings.
override CFLAGS += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP
LDFLAGS   ?=

# --- Hardening (ivshmd's owner) ----------------------------------------------
# Every host binary, libivshm.so and the guest programs: stack protector,
# stack clash probes, fortified libc calls (they need optimisation, so only
# when CFLAGS optimise), position independence, full RELRO with immediate
# binding. Executables link as PIE (the host Makefile adds -pie; -pie here
# would break -shared) and the static guest programs as static-PIE:
# guest-apps' STATIC is overridden, except for sanitizer builds, which cannot
# link statically. -frecord-gcc-switches keeps each object's flags in the
# binary (a section never loaded), so tests/091-elf-hardening.bats can read
# them from the ELF files, static ones included.
HARDEN_CFLAGS := -fstack-protector-strong -fstack-clash-protection -fPIE -frecord-gcc-switches
ifneq ($(filter -O1 -O2 -O3 -Os -Og -Ofast,$(CFLAGS)),)
HARDEN_CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
override CFLAGS += $(HARDEN_CFLAGS)
override LDFLAGS += -Wl,-z,relro -Wl,-z,now
ifneq ($(SANITIZE),1)
override STATIC := -static-pie
endif
# --- end of hardening ----------------------------------------------------------

# make SANITIZE=1 BUILD=build/asan: AddressSanitizer + UBSan build of host code.
ifeq ($(SANITIZE),1)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-7s %s\n'
MAKEFLAGS += --no-print-directory
endif

# make check's loop, one for every component: each unit test binary in $(1) in turn,
# stopping at the first that fails. UNIT_RUN runs them through a command (a test of the
# loop itself sets it to true or false instead of running them twice).
UNIT_RUN ?=
define run_units
	@for t in $(1); do \
		echo "  TEST    $${t#$(BUILD)/}"; $(UNIT_RUN) "$$t" || exit 1; done
endef
