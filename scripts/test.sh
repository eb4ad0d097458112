#!/usr/bin/env bash
# test.sh - the whole test suite on a fresh Debian 12 machine: installs what it needs, builds
# with -Werror, runs the unit tests (Check) and the integration tests on a real guest, on
# /dev/kvm when there is one and inside the nested QEMU rig (tests/rig/rig.sh) when not.
#
# Usage: scripts/test.sh [integration test name filter ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${MINIVMM_BUILD:-$ROOT/build}

scripts/deps.sh
if [ -f "$BUILD/build.ninja" ]; then
	meson configure "$BUILD" --werror >/dev/null
else
	meson setup "$BUILD" --werror --buildtype=release
fi
ninja -C "$BUILD"

echo "== unit tests"
unit_status=0
meson test -C "$BUILD" --suite unit --print-errorlogs --verbose >"$BUILD/unit.log" 2>&1 || unit_status=$?
grep -E '^(Running suite|[0-9]+%: Checks)|:[0-9]+:[EF]:' "$BUILD/unit.log" || true
read -r unit_pass unit_fail < <(awk '/^[0-9]+%: Checks:/ {
	gsub(",", ""); c += $3; f += $5 + $7 } END { print c - f, f + 0 }' "$BUILD/unit.log")
if [ "$unit_status" -ne 0 ] && [ "$unit_fail" -eq 0 ]; then
	tail -n 30 "$BUILD/unit.log"
	unit_fail=1 # a test binary crashed or failed to run
fi
echo "unit: $unit_pass passed, $unit_fail failed"

echo "== guest kernel and initramfs"
tests/guest/fetch-kernels.sh
# shellcheck disable=SC1091
. "${MINIVMM_CACHE:-$ROOT/.cache}/kernels.env"
mkdir -p "$BUILD/guest"
tests/guest/mkinitramfs.sh "$BUILD/guest/initramfs.cpio"

echo "== integration tests"
export MINIVMM_BIN="$BUILD/minivmm"
export MINIVMM_GUEST_KERNEL="$GUEST_KERNEL"
export MINIVMM_GUEST_INITRD="$BUILD/guest/initramfs.cpio"
filters=()
for f in "$@"; do filters+=(-k "$f"); done
integ_status=0
tests/rig/rig.sh python3 -u tests/integration/run.py "${filters[@]}" </dev/null | tee "$BUILD/integration.log" || integ_status=$?
read -r integ_pass integ_fail < <(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' \
	"$BUILD/integration.log" | tail -n 1)
integ_pass=${integ_pass:-0}
integ_fail=${integ_fail:-0}
if [ "$integ_status" -ne 0 ] && [ "$integ_fail" -eq 0 ]; then
	integ_fail=1 # the rig or the runner itself failed
fi

echo "== summary"
echo "unit: $unit_pass passed, $unit_fail failed"
echo "integration: $integ_pass passed, $integ_fail failed"
echo "$((unit_pass + integ_pass)) passed, $((unit_fail + integ_fail)) failed"
[ "$unit_fail" -eq 0 ] && [ "$integ_fail" -eq 0 ]
