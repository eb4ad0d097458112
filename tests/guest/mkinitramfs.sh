#!/usr/bin/env bash
# mkinitramfs.sh OUT.cpio - the test guest's initramfs: busybox, /init, the guest kernel's
# modules, and the static test tools from tests/guest/progs. Uncompressed newc, so a test can
# append a second archive holding /test.sh (the kernel unpacks concatenated archives).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: mkinitramfs.sh OUT.cpio}
CACHE=${MINIVMM_CACHE:-$ROOT/.cache}
# shellcheck disable=SC1091
. "$CACHE/kernels.env"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib/modules,root}
cp /bin/busybox "$work/bin/busybox"
for applet in $("$work/bin/busybox" --list); do
	[ -e "$work/bin/$applet" ] || ln -s busybox "$work/bin/$applet"
done
cp "$ROOT/tests/guest/init" "$work/init"
chmod 755 "$work/init"
cp "$GUEST_DIR"/modules/*.ko "$GUEST_DIR/modules.load" "$work/lib/modules/"
for src in "$ROOT"/tests/guest/progs/*.c; do
	gcc -static -Os -Wall -Wextra -Werror -o "$work/bin/$(basename "$src" .c)" "$src"
done
(cd "$work" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
