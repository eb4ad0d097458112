#!/usr/bin/env bash
# rig.sh [--] CMD ARGS... - run CMD where /dev/kvm works. rig.sh --usable: exit 0 when that is here.
#
# With a usable /dev/kvm (one that runs an ordinary guest: see kvm_usable below) and
# MINIVMM_FORCE_RIG unset, CMD simply runs here. Otherwise an
# outer VM boots under QEMU's software emulation with an emulated AMD-V CPU
# (-cpu EPYC,+svm,+npt; multi-threaded TCG, which nested SMP guests need; see
# hold-static-keys.py for the one race that brings) and Debian's generic kernel, which loads
# kvm-amd and so has /dev/kvm.
# It sees this machine's root read-only over 9p beneath a tmpfs overlay, chroots into it, and
# runs CMD in the same directory with the same environment. CMD's output streams back through
# the serial console; rig.sh exits with CMD's status. Files a command must hand back go in
# $MINIVMM_RIG_OUT (shared read-write, same path on both sides). Inside, TMPDIR is a tmpfs.
#
# Environment: MINIVMM_RIG_MEM (MiB, default 6144), MINIVMM_RIG_CPUS (default 2),
# MINIVMM_RIG_TIMEOUT (seconds, default 3600), MINIVMM_RIG_TCG_THREAD (multi|single),
# MINIVMM_CACHE, MINIVMM_FORCE_RIG.
set -euo pipefail
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: rig.sh [--] CMD ARGS... | rig.sh --usable" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MINIVMM_CACHE:-$ROOT/.cache}

# A /dev/kvm is usable when it runs an ordinary long-mode guest. Some hosts have a /dev/kvm
# that only runs paravirtualised guest kernels (PVM: module kvm_pvm), on which an unmodified
# Linux stops with an emulation error in its decompressor; those get the rig too.
kvm_usable() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || { why="no /dev/kvm"; return 1; }
	if [ -d /sys/module/kvm_pvm ]; then
		why="/dev/kvm is PVM (kvm_pvm), which runs only PVM guest kernels"
		return 1
	fi
	mkdir -p "$CACHE"
	local probe="$CACHE/kvm-probe"
	if [ ! -x "$probe" ] || [ "$ROOT/tests/rig/kvm-probe.c" -nt "$probe" ]; then
		gcc -O -o "$probe.tmp.$$" "$ROOT/tests/rig/kvm-probe.c" && mv "$probe.tmp.$$" "$probe"
	fi
	"$probe" 2>/dev/null || { why="/dev/kvm does not run a long-mode guest"; return 1; }
}

why="MINIVMM_FORCE_RIG is set"
if [ -z "${MINIVMM_FORCE_RIG:-}" ] && kvm_usable; then
	[ "$1" = "--usable" ] && exit 0
	exec "$@"
fi
if [ "$1" = "--usable" ]; then
	echo "rig: $why" >&2
	exit 1
fi

[ -f "$CACHE/kernels.env" ] || "$ROOT/tests/guest/fetch-kernels.sh" >&2
# shellcheck disable=SC1091
. "$CACHE/kernels.env"
echo "rig: $why; running inside a nested KVM rig ($(qemu-system-x86_64 --version | head -n 1 |
	sed 's/ emulator//'), TCG, EPYC with SVM)" >&2

# The rig's initramfs, rebuilt when its inputs change.
sum=$(cat "$ROOT/tests/rig/init" "$RIG_DIR/modules.load" /bin/busybox | sha256sum | cut -c1-16)
initrd="$CACHE/rig-initramfs-$sum.cpio"
if [ ! -f "$initrd" ]; then
	work=$(mktemp -d)
	mkdir -p "$work"/{bin,sbin,proc,sys,dev,lib/modules}
	cp /bin/busybox "$work/bin/"
	for a in $("$work/bin/busybox" --list); do [ -e "$work/bin/$a" ] || ln -s busybox "$work/bin/$a"; done
	cp "$ROOT/tests/rig/init" "$work/init"
	chmod 755 "$work/init"
	cp "$RIG_DIR"/modules/*.ko "$RIG_DIR/modules.load" "$work/lib/modules/"
	# A name of its own: two rigs starting at once may both build it.
	(cd "$work" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$initrd.tmp.$$"
	mv "$initrd.tmp.$$" "$initrd"
	rm -rf "$work"
fi

# The command as a script on the shared root: same directory, same environment (the variables
# named below: the tests' MINIVMM_*, bench/bench.py's BENCH_*).
rundir=$(mktemp -d "$CACHE/rig-run.XXXXXX")
trap 'rm -rf "$rundir"' EXIT
{
	echo "cd $(printf %q "$PWD") || exit 125"
	echo "export TMPDIR=/run/tmp MINIVMM_IN_RIG=1"
	while IFS= read -r -d '' kv; do
		name=${kv%%=*}
		case "$name" in
		PATH | HOME | LANG | LC_* | TERM | CI | PYTHON* | MINIVMM_* | BENCH_*) printf 'export %s=%q\n' "$name" "${kv#*=}" ;;
		esac
	done < <(env -0)
	# One outer vCPU runs the command and so every nested guest: code a guest patches (Linux's
	# alternatives, static keys) is then translated and rewritten by one TCG thread only, which
	# avoids TCG's cross-thread self-modifying-code races (guests froze or triple-faulted while
	# patching). Nested SMP guests still get all their vCPUs, time-shared.
	printf 'exec taskset -c 0'
	printf ' %q' "$@"
	echo
} >"$rundir/cmd.sh"

virtfs_out=() append_out=""
if [ -n "${MINIVMM_RIG_OUT:-}" ]; then
	mkdir -p "$MINIVMM_RIG_OUT"
	virtfs_out=(-virtfs "local,path=$MINIVMM_RIG_OUT,mount_tag=rigout,security_model=none")
	append_out=" rig.out=$MINIVMM_RIG_OUT"
fi

log="$rundir/console.log"
status=0
timeout "${MINIVMM_RIG_TIMEOUT:-3600}" qemu-system-x86_64 \
	-machine q35 -accel tcg,thread=${MINIVMM_RIG_TCG_THREAD:-multi} -cpu EPYC,+svm,+npt \
	-smp "${MINIVMM_RIG_CPUS:-2}" -m "${MINIVMM_RIG_MEM:-6144}" \
	-display none -monitor none -serial stdio -no-reboot -nodefaults \
	-kernel "$RIG_KERNEL" -initrd "$initrd" \
	-append "console=ttyS0 quiet loglevel=1 panic=-1 rig.cmd=$rundir/cmd.sh rig.hold=$ROOT/tests/rig/hold-static-keys.py$append_out" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	"${virtfs_out[@]}" </dev/null 2>&1 | sed -u 's/\r$//' | tee "$log" |
	grep --line-buffered -v -e '^RIG-EXIT-STATUS=' -e "TCG doesn't support requested feature" -e 'reboot: Power down' ||
	status=$?
code=$(sed -n 's/^RIG-EXIT-STATUS=\([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -z "$code" ]; then
	echo "rig: the outer VM ended without reporting the command's status (qemu/timeout status $status)" >&2
	exit 1
fi
exit "$code"
