#!/usr/bin/env bash
# fetch-kernels.sh - put two Debian 6.12+ kernels in the cache: the cloud flavour minivmm boots
# as a guest, and the generic flavour the nested rig boots (it has kvm-amd and 9p). Keeps only
# vmlinuz and the modules the tests need (decompressed, with a load order), and writes
# $CACHE/kernels.env. Cached: a second run is instant.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MINIVMM_CACHE:-$ROOT/.cache}
mkdir -p "$CACHE"

GUEST_MODULES="pvpanic-mmio pvpanic-pci i6300esb button evdev qemu_fw_cfg"
RIG_MODULES="kvm-amd 9pnet_virtio 9p overlay ib700wdt"

# Newest linux-image-<major.minor.patch>+deb12-<flavour> Debian offers, 6.12 or newer.
newest() {
	local flavour=$1
	apt-cache pkgnames linux-image-6. 2>/dev/null |
		grep -E "^linux-image-[0-9]+\.[0-9]+\.[0-9]+\+deb[0-9]+-$flavour\$" |
		sed -E "s/^linux-image-//; s/-$flavour\$//" |
		awk -F'[.+]' '$1 > 6 || ($1 == 6 && $2 >= 12)' | sort -V | tail -n 1
}

# fetch FLAVOUR MODULES: prints the directory holding vmlinuz, modules/ and modules.load.
fetch() {
	local flavour=$1 mods=$2 ver dir tmp kver
	ver=$(newest "$flavour")
	if [ -z "$ver" ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		ver=$(newest "$flavour")
	fi
	[ -n "$ver" ] || { echo "fetch-kernels: no linux-image-6.12+ $flavour package in the apt sources" >&2; exit 1; }
	kver="$ver-$flavour"
	dir="$CACHE/linux-$kver"
	# A module added to the list since the cache was built builds it again.
	local have=1 m
	for m in $mods; do [ -f "$dir/modules/$m.ko" ] || have=0; done
	if [ -f "$dir/.complete" ] && [ $have = 1 ]; then
		echo "$dir"
		return
	fi
	tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
	chmod 755 "$tmp"
	(cd "$tmp" && apt-get download -qq "linux-image-$kver" >/dev/null 2>&1) ||
		{ echo "fetch-kernels: apt-get download linux-image-$kver failed" >&2; exit 1; }
	dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/x"
	depmod -b "$tmp/x" "$kver"
	rm -rf "$dir"
	mkdir -p "$dir/modules"
	cp "$tmp/x/boot/vmlinuz-$kver" "$dir/vmlinuz"
	# Every wanted module with its dependencies, dependencies first, each once.
	local moddir="$tmp/x/lib/modules/$kver" order=()
	add() {
		local name=$1 line path dep
		line=$(grep -E "/$name\.ko(\.xz)?:" "$moddir/modules.dep" || true)
		[ -n "$line" ] || { echo "fetch-kernels: module $name not in $kver" >&2; exit 1; }
		path=${line%%:*}
		for dep in ${line#*:}; do
			dep=$(basename "$dep"); add "${dep%%.ko*}"
		done
		for o in "${order[@]:-}"; do [ "$o" = "$path" ] && return; done
		order+=("$path")
	}
	for m in $mods; do add "$m"; done
	: >"$dir/modules.load"
	for path in "${order[@]}"; do
		local base; base=$(basename "$path"); base=${base%.xz}
		if [[ $path == *.xz ]]; then xz -dc "$moddir/$path" >"$dir/modules/$base"; else cp "$moddir/$path" "$dir/modules/$base"; fi
		echo "$base" >>"$dir/modules.load"
	done
	rm -rf "$tmp"
	touch "$dir/.complete"
	echo "$dir"
}

guest=$(fetch cloud-amd64 "$GUEST_MODULES")
rig=$(fetch amd64 "$RIG_MODULES")
cat >"$CACHE/kernels.env" <<ENV
GUEST_DIR=$guest
GUEST_KERNEL=$guest/vmlinuz
RIG_DIR=$rig
RIG_KERNEL=$rig/vmlinuz
ENV
echo "fetch-kernels: guest $(basename "$guest"), rig $(basename "$rig")"
