#!/usr/bin/env bash
# deps.sh - install every Debian package minivmm's build, tests, rig and demo need. Idempotent:
# returns at once when all are present. Run as root on Debian 12.
set -euo pipefail

PKGS=(
	build-essential pkg-config meson ninja-build linux-libc-dev   # build
	libfdt-dev device-tree-compiler acpica-tools libjansson-dev   # libraries and table tools
	check                                                          # unit tests
	busybox-static cpio xz-utils kmod                              # guest initramfs, kernel modules
	qemu-system-x86                                                # the nested rig, QEMU comparisons
	python3                                                        # integration tests, benchmark
)

missing=()
for p in "${PKGS[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
