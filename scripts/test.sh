#!/usr/bin/env bash
# test.sh - the whole test suite on a fresh Debian 12 machine: installs what it needs, builds
# with -Werror, runs the unit tests (Check), again in an ASan+UBSan build, each libFuzzer harness
# on a fixed seed and count (tests/fuzz/run.sh --ci), the rig supervisor's self-test, the integration
# tests on real guests: on /dev/kvm when it runs guests, else in two nested QEMU rigs at once
# (tests/rig/supervise.py: a hung or crashed rig is detected, replaced, and its test rerun once),
# and last the benchmark's smoke test (bench/bench.py --quick: every metric is produced).
#
# Usage: scripts/test.sh [integration test name filter ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
BUILD=${MINIVMM_BUILD:-$ROOT/build}

scripts/deps.sh
if [ -f "$BUILD/build.ninja" ]; then
	meson configure "$BUILD" --werror >/dev/null
else
	meson setup "$BUILD" --werror --buildtype=release
fi
ninja -C "$BUILD"

echo "== format (clang-format --dry-run --Werror on every C file) and floors (includes)"
fmt_pass=1 fmt_fail=0
if ! git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror 2>"$BUILD/format.log"; then
	head -n 40 "$BUILD/format.log"
	fmt_pass=0 fmt_fail=1
fi
# The floors: core/ includes only itself; devices/, acpi/, boot/ and api/ only core/ and their
# own folder; vmm/ alone assembles the machine from all of them.
crossing=$(grep -HnE '#include "(vmm|devices|acpi|boot|api)/' core/*.[ch] || true
	for d in devices acpi boot api; do grep -HnE '#include "(vmm|devices|acpi|boot|api)/' $d/*.[ch] | grep -v "\"$d/" || true; done)
if [ -n "$crossing" ]; then
	echo "an include crosses the floors:"
	echo "$crossing"
	fmt_pass=$((fmt_pass)) fmt_fail=$((fmt_fail + 1))
else
	fmt_pass=$((fmt_pass + 1))
fi
echo "format and floors: $fmt_pass passed, $fmt_fail failed"

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

echo "== unit tests under ASan+UBSan (gcc, a second build in $BUILD-asan)"
# No --werror here: gcc's -Warray-bounds gives false positives on sanitized -O2 code.
ASAN_BUILD=$BUILD-asan
asan_pass=0 asan_fail=0
if [ ! -f "$ASAN_BUILD/build.ninja" ]; then
	meson setup "$ASAN_BUILD" --buildtype=debugoptimized -Dstatic=false -Db_sanitize=address,undefined \
		-Db_lundef=false >"$BUILD/asan-setup.log" 2>&1 || { tail -n 20 "$BUILD/asan-setup.log"; asan_fail=1; }
fi
if [ "$asan_fail" -eq 0 ]; then
	# Only the unit tests (not the binary, nor the Go clients).
	mapfile -t asan_targets < <(meson introspect "$ASAN_BUILD" --targets | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("test_"):
        print(os.path.relpath(t["filename"][0], sys.argv[1]))' "$ASAN_BUILD")
	if ninja -C "$ASAN_BUILD" "${asan_targets[@]}" >"$BUILD/asan-build.log" 2>&1; then
		asan_status=0
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
			meson test -C "$ASAN_BUILD" --no-rebuild --suite unit --print-errorlogs --verbose \
			>"$BUILD/unit-asan.log" 2>&1 || asan_status=$?
		read -r asan_pass asan_fail < <(awk '/^[0-9]+%: Checks:/ {
			gsub(",", ""); c += $3; f += $5 + $7 } END { print c - f, f + 0 }' "$BUILD/unit-asan.log")
		if [ "$asan_status" -ne 0 ]; then
			grep -E ':[0-9]+:[EF]:|ERROR: (Address|Leak)Sanitizer|runtime error' "$BUILD/unit-asan.log" | head -n 20 || true
			[ "$asan_fail" -ne 0 ] || { tail -n 30 "$BUILD/unit-asan.log"; asan_fail=1; }
		fi
	else
		tail -n 30 "$BUILD/asan-build.log"
		asan_fail=1
	fi
fi
echo "unit (ASan+UBSan): $asan_pass passed, $asan_fail failed"

echo "== fuzzers (tests/fuzz/run.sh --ci: each harness from its saved corpus, seed 1, a fixed number of inputs, clang, ASan+UBSan)"
fuzz_status=0
MINIVMM_FUZZ_BUILD=$BUILD-fuzz tests/fuzz/run.sh --ci >"$BUILD/fuzz.log" 2>&1 || fuzz_status=$?
grep -E '^(fuzz |    )' "$BUILD/fuzz.log" || true
read -r fuzz_pass fuzz_fail < <(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$BUILD/fuzz.log")
fuzz_pass=${fuzz_pass:-0}
fuzz_fail=${fuzz_fail:-0}
if [ "$fuzz_status" -ne 0 ] && [ "$fuzz_fail" -eq 0 ]; then
	tail -n 30 "$BUILD/fuzz.log" # the build failed
	fuzz_fail=1
fi
fuzz_failed=$(sed -n 's/^fuzz \([a-z_]*\): FAILED.*/\1/p' "$BUILD/fuzz.log" | tr '\n' ' ')
echo "fuzz: $fuzz_pass passed, $fuzz_fail failed"

echo "== rig supervisor self-test (injected hangs, lockups and guest crashes)"
rig_status=0
python3 tests/rig/test_supervise.py >"$BUILD/rig-selftest.log" 2>&1 || rig_status=$?
read -r rig_pass rig_fail < <(sed -n 's/^rig self-test: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' \
	"$BUILD/rig-selftest.log")
rig_pass=${rig_pass:-0}
rig_fail=${rig_fail:-0}
if [ "$rig_status" -ne 0 ] && [ "$rig_fail" -eq 0 ]; then
	tail -n 30 "$BUILD/rig-selftest.log"
	rig_fail=1
fi
[ "$rig_fail" -eq 0 ] || grep -v '^    ' "$BUILD/rig-selftest.log" | tail -n 40
echo "rig self-test: $rig_pass passed, $rig_fail failed"

echo "== guest kernel and initramfs"
tests/guest/fetch-kernels.sh
# shellcheck disable=SC1091
. "${MINIVMM_CACHE:-$ROOT/.cache}/kernels.env"
mkdir -p "$BUILD/guest"
tests/guest/mkinitramfs.sh "$BUILD/guest/initramfs.cpio"

echo "== npm's qemu-qmp (a real QMP client the integration tests drive)"
NODE_PREFIX="${MINIVMM_CACHE:-$ROOT/.cache}/node"
if [ ! -d "$NODE_PREFIX/node_modules/qemu-qmp" ]; then
	npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --silent qemu-qmp@0.5.0 ||
		echo "npm install qemu-qmp failed: test_node_qemu_qmp will fail"
fi
export MINIVMM_NODE_PATH="$NODE_PREFIX/node_modules"

echo "== integration tests"
export MINIVMM_BIN="$BUILD/minivmm"
export MINIVMM_GUEST_KERNEL="$GUEST_KERNEL"
export MINIVMM_GUEST_INITRD="$BUILD/guest/initramfs.cpio"
filters=()
for f in "$@"; do filters+=(-k "$f"); done
integ_status=0
python3 -u tests/rig/supervise.py --logs "$BUILD/rig-logs" "${filters[@]}" </dev/null |
	tee "$BUILD/integration.log" || integ_status=$?
read -r integ_pass integ_fail < <(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' \
	"$BUILD/integration.log" | tail -n 1)
integ_pass=${integ_pass:-0}
integ_fail=${integ_fail:-0}
if [ "$integ_status" -ne 0 ] && [ "$integ_fail" -eq 0 ]; then
	integ_fail=1 # the supervisor itself failed
fi

echo "== benchmark smoke test (bench/bench.py --quick: every metric is produced; no time is judged)"
# Its own rig, bounded at 10 minutes (it takes about 4); should a metric be missing (a guest
# lost to a rig hiccup), one rerun, said so in the summary.
bench_pass=0 bench_fail=0 bench_note=""
bench_start=$(date +%s)
for attempt in 1 2; do
	if MINIVMM_RIG_TIMEOUT=600 tests/rig/rig.sh python3 bench/bench.py --quick >"$BUILD/bench-quick.log" 2>&1; then
		bench_pass=1
		break
	fi
	cp "$BUILD/bench-quick.log" "$BUILD/bench-quick-$attempt.log"
	tail -n 40 "$BUILD/bench-quick.log"
	bench_note="$bench_note (attempt $attempt failed: $BUILD/bench-quick-$attempt.log)"
done
[ "$bench_pass" -eq 1 ] || bench_fail=1
grep '^|\|^missing' "$BUILD/bench-quick.log" || true
bench_note="$bench_note, $(($(date +%s) - bench_start)) s"

echo "== summary ($(( $(date +%s) - START )) s)"
echo "format and floors: $fmt_pass passed, $fmt_fail failed"
echo "unit: $unit_pass passed, $unit_fail failed"
echo "unit (ASan+UBSan): $asan_pass passed, $asan_fail failed"
echo "fuzz: $fuzz_pass passed, $fuzz_fail failed${fuzz_failed:+ (failed: ${fuzz_failed% }; the input and log are in $BUILD-fuzz)}"
echo "rig self-test: $rig_pass passed, $rig_fail failed"
echo "integration: $integ_pass passed, $integ_fail failed"
echo "benchmark smoke test: $bench_pass passed, $bench_fail failed$bench_note"
grep -A100 '^reruns' "$BUILD/integration.log" | grep -v '^integration:' || true
echo "$((fmt_pass + unit_pass + asan_pass + fuzz_pass + rig_pass + integ_pass + bench_pass)) passed, $((fmt_fail + unit_fail + asan_fail + fuzz_fail + rig_fail + integ_fail + bench_fail)) failed"
[ "$fmt_fail" -eq 0 ] && [ "$unit_fail" -eq 0 ] && [ "$asan_fail" -eq 0 ] && [ "$fuzz_fail" -eq 0 ] &&
	[ "$rig_fail" -eq 0 ] && [ "$integ_fail" -eq 0 ] && [ "$bench_fail" -eq 0 ]
