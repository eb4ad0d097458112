#!/usr/bin/env bash
# deps.sh - install every Debian package minivmm's build, tests, rig and demo need. Idempotent:
# returns at once when all are present. Run as root on Debian 12.
#
# QEMU (the nested rig and the behavioural reference) comes from Debian's bookworm-backports
# suite (QEMU 10.x): the suite is added with the archive address the machine's own apt sources
# already use for bookworm, and only QEMU's packages are taken from it, by name (backports has
# apt priority 100, so nothing else is pulled from it, and nothing is pinned).
set -euo pipefail

PKGS=(
	build-essential pkg-config meson ninja-build linux-libc-dev   # build
	libfdt-dev device-tree-compiler acpica-tools libjansson-dev   # libraries and table tools
	libseccomp-dev                                                 # seccomp-bpf filters
	zlib1g-dev                                                     # kdump-compressed dumps
	check clang-format                                             # unit tests, format check
	clang libclang-rt-14-dev                                       # libFuzzer (tests/fuzz)
	busybox-static cpio xz-utils kmod                              # guest initramfs, kernel modules
	python3                                                        # integration tests, benchmark
	binutils makedumpfile                                          # reading crash dumps (readelf)
	golang-go golang-github-kata-containers-govmm-dev               # real QMP clients:
	golang-github-digitalocean-go-qemu-dev                         #   tests/clients/
)
# From backports: QEMU and the packages of its own release it requires.
BPO_PKGS=(qemu-system-x86 qemu-system-common qemu-system-data seabios)
QEMU_MIN_MAJOR=10

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
qemu_major() {
	dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null | sed -E 's/^[0-9]+://; s/[.].*//'
}

missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
qemu_ok=1
[ "$(qemu_major)" -ge "$QEMU_MIN_MAJOR" ] 2>/dev/null || qemu_ok=0
[ ${#missing[@]} -eq 0 ] && [ $qemu_ok -eq 1 ] && exit 0

export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "deps.sh: cannot tell the Debian release from /etc/os-release" >&2; exit 1; }
suite="$codename-backports"

# The archive address the machine already uses for its release: the first URI of a deb822
# stanza or a one-line entry whose suites include "$codename" (not -security, -updates).
archive_uri() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$codename" '
			function flush() { if (types ~ /(^| )deb( |$)/ && suites ~ ("(^| )" want "( |$)") && uri != "") { print uri; found = 1; exit } }
			/^[[:space:]]*$/ { flush(); types = suites = uri = ""; next }
			/^Types:/ { $1 = ""; types = $0 }
			/^Suites:/ { $1 = ""; suites = $0 }
			/^URIs:/ { uri = $2 }
			END { if (!found) flush() }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v want="$codename" '$1 == "deb" {
			i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == want) print $i }' || true
}

if [ $qemu_ok -eq 0 ] && ! apt-cache policy 2>/dev/null | grep -q " $suite/main "; then
	uri=$(archive_uri | head -n 1 || true)
	[ -n "$uri" ] || { echo "deps.sh: no apt source for $codename to take the archive address from" >&2; exit 1; }
	echo "deps.sh: adding the $suite suite of $uri (QEMU packages only are installed from it)"
	cat >/etc/apt/sources.list.d/minivmm-backports.sources <<SRC
# Added by minivmm's scripts/deps.sh: QEMU $QEMU_MIN_MAJOR.x for the nested test rig.
Types: deb
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

echo "deps.sh: installing ${missing[*]} ${BPO_PKGS[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" \
	$(for p in "${BPO_PKGS[@]}"; do echo "$p/$suite"; done) >/dev/null
[ "$(qemu_major)" -ge "$QEMU_MIN_MAJOR" ] ||
	{ echo "deps.sh: QEMU $QEMU_MIN_MAJOR or newer was not installed from $suite" >&2; exit 1; }
echo "deps.sh: QEMU $(dpkg-query -W -f='${Version}' qemu-system-x86) from $suite"
