#!/usr/bin/env bash
# demo.sh - on a fresh Debian 12 machine: install what is needed, build minivmm, fetch a
# Debian cloud kernel, build a busybox initramfs, and boot it under minivmm, showing the
# guest's console and the QMP events it causes (examples/demo.py). Without /dev/kvm the boot
# happens inside the nested rig (tests/rig/rig.sh), which says so.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${MINIVMM_BUILD:-$ROOT/build}

scripts/deps.sh
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >/dev/null
ninja -C "$BUILD" >/dev/null
tests/guest/fetch-kernels.sh
mkdir -p "$BUILD/guest"
tests/guest/mkinitramfs.sh "$BUILD/guest/initramfs.cpio"
export MINIVMM_BIN="$BUILD/minivmm" MINIVMM_GUEST_INITRD="$BUILD/guest/initramfs.cpio"
exec tests/rig/rig.sh python3 -u examples/demo.py
