# shellcheck shell=bash source-path=SCRIPTDIR
# The host scripts' shell library. `. host/lib/ivshm.sh` (bash) gives:
#
#   contracts/guest-console.sh  the guest's console markers and script path (IVSHM_CONSOLE_*)
#   contracts/deployment.env    the deployment defaults (IVSHM_SHM_SIZE, IVSHM_SOCKET, ...);
#                               IVSHM_DEPLOYMENT=FILE reads another file
#   wait.sh      wait_for (a condition, with a deadline), alive, gone, kill_wait
#   detach.sh    closing_fds, detached (start daemons without our pipes)
#   guest.sh     the QEMU command line of a guest, its initramfs (image + archives + script)
#   ivshmd.sh    the system ivshmd the libvirt domains use: start, stop, answers
#   libvirt.sh   virsh on qemu:///system, domain start with diagnosis, domain removal
#   exchange.sh  the shm-server/shm-client exchange between two guests, any backend
#
# Used by ivshm-vm, probe-kvm, ivshm-demo, ensure-libvirtd, the benchmarks and the Bats
# helpers. It only defines; it sets no shell options and starts nothing.

IVSHM_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IVSHM_TOP=$(cd "$IVSHM_LIB/../.." && pwd)

# shellcheck source=../../contracts/guest-console.sh
. "$IVSHM_TOP/contracts/guest-console.sh"
# shellcheck source=../../contracts/deployment.env
. "${IVSHM_DEPLOYMENT:-$IVSHM_TOP/contracts/deployment.env}"
# shellcheck source=wait.sh
. "$IVSHM_LIB/wait.sh"
# shellcheck source=detach.sh
. "$IVSHM_LIB/detach.sh"
# shellcheck source=guest.sh
. "$IVSHM_LIB/guest.sh"
# shellcheck source=ivshmd.sh
. "$IVSHM_LIB/ivshmd.sh"
# shellcheck source=libvirt.sh
. "$IVSHM_LIB/libvirt.sh"
# shellcheck source=exchange.sh
. "$IVSHM_LIB/exchange.sh"
