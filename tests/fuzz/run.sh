#!/usr/bin/env bash
# run.sh - build the libFuzzer harnesses (clang, ASan+UBSan) and run each on its saved corpus.
#
# Usage: tests/fuzz/run.sh [--merge] [SECONDS] [HARNESS ...]
#        tests/fuzz/run.sh --ci [HARNESS ...]
#   SECONDS   time per harness (default 10; 600 for a real search), random seed: each run
#             tries new inputs, so a run may find what the last one did not
#   --ci      what scripts/test.sh runs: seed 1 and a fixed number of executions per harness
#             (CI_RUNS below, about 10 s each on one core), from an empty scratch corpus: every
#             run tries the same inputs, so its verdict depends on the code alone, never on luck
#             or on the machine's speed (address randomization off: libFuzzer learns compared
#             values, pointers among them; the harnesses fix jansson's hash seed and the build
#             json_compat's tag). Finding new bugs is the timed runs' job; what they find
#             goes into tests/fuzz/known/<harness>/, which both modes replay first
#   HARNESS   json_stream qmp qmp_small bzimage cmdline serial fw_cfg watchdog pci pvpanic
#             (default all)
#   --merge   afterwards, fold the new inputs into tests/fuzz/corpus/<harness>/ (-merge=1 keeps
#             only inputs that add coverage); without it the saved corpus is only read
# Environment: MINIVMM_FUZZ_BUILD (build dir, default build-fuzz), MINIVMM_FUZZ_JOBS (harnesses
# run at once, default the number of CPUs, at most 2).
# Prints one line per harness (executions, coverage) and "fuzz: N passed, M failed"; a crash,
# leak, sanitizer report, timeout (10 s for one input) or broken invariant fails the harness
# and leaves the input in $BUILD/fuzz-artifacts/<harness>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ALL=(json_stream qmp qmp_small bzimage cmdline serial fw_cfg watchdog pci pvpanic)

# --ci: executions per harness, about 10 s of one core of the CI machine each (ASan+UBSan).
declare -A CI_RUNS=([json_stream]=100000 [qmp]=6000 [qmp_small]=8000 [bzimage]=200000
	[cmdline]=500000 [serial]=600000 [fw_cfg]=180000 [watchdog]=120000 [pci]=150000
	[pvpanic]=600000)

merge=0 ci=0
if [ "${1:-}" = "--merge" ]; then
	merge=1
	shift
elif [ "${1:-}" = "--ci" ]; then
	ci=1
	shift
fi
secs=10
if [ "$ci" -eq 0 ] && [[ "${1:-}" =~ ^[0-9]+$ ]]; then
	secs=$1
	shift
fi
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${ALL[@]}")
BUILD=${MINIVMM_FUZZ_BUILD:-$ROOT/build-fuzz}
jobs=${MINIVMM_FUZZ_JOBS:-$(nproc)}
[ "$jobs" -le 2 ] || jobs=2

if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Dc_args=-Werror=incompatible-pointer-types -Dfuzz=true -Dstatic=false -Db_sanitize=address,undefined -Db_lundef=false \
		--buildtype=debugoptimized >"$ROOT/.fuzz-setup.log" 2>&1 ||
		{ cat "$ROOT/.fuzz-setup.log"; exit 1; }
	mv "$ROOT/.fuzz-setup.log" "$BUILD/setup.log"
fi
ninja -C "$BUILD" $(for h in "${harnesses[@]}"; do echo "tests/fuzz/fuzz_$h"; done) >"$BUILD/fuzz-build.log" 2>&1 ||
	{ tail -n 40 "$BUILD/fuzz-build.log"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# One harness: new inputs go to a scratch corpus, the saved one is read only.
run_one() {
	local h=$1
	local out=$BUILD/fuzz-logs/$h.log scratch=$BUILD/fuzz-corpus/$h art=$BUILD/fuzz-artifacts/$h/
	local rc=0 known=() how t0 mode="" pre=()
	# Inputs that reproduced findings are replayed first, as regression tests.
	[ -d "$ROOT/tests/fuzz/known/$h" ] && known=("$ROOT/tests/fuzz/known/$h")
	if [ "$ci" -eq 1 ]; then
		rm -rf "$scratch" # the same start every run
		how=(-seed=1 -runs="$2" -reload=0 -timeout=30)
		mode=", seed 1"
		! setarch -R true 2>/dev/null || pre=(setarch -R)
	else
		how=(-max_total_time="$secs" -timeout=10)
	fi
	mkdir -p "$scratch" "$art" "$BUILD/fuzz-logs"
	t0=$(date +%s)
	"${pre[@]}" "$BUILD/tests/fuzz/fuzz_$h" "${how[@]}" -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art" "$scratch" "$ROOT/tests/fuzz/corpus/$h" \
		"${known[@]}" >"$out" 2>&1 || rc=$?
	local execs cov ft
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$out" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $h: passed, ${execs:-?} executions in $(($(date +%s) - t0)) s$mode, ${cov:-no coverage line}"
	else
		echo "fuzz $h: FAILED (exit $rc) after ${execs:-?} executions; log $out, input in $art"
		# the broken invariant or sanitizer report, and what libFuzzer made of it
		grep -E -B1 '^==[0-9]+== ?ERROR|runtime error' "$out" | grep -vE '^(--|INFO|Running:|    #|=+$)' |
			head -n 4 | sed 's/^/    /'
		# the input itself, so that a machine that is gone (CI) still tells how to replay it
		local crash
		crash=$(sed -n 's/.*Test unit written to //p' "$out" | tail -n 1)
		[ -z "$crash" ] || [ ! -f "$crash" ] || [ "$(stat -c %s "$crash")" -gt 6000 ] ||
			echo "    input ${crash##*/}, base64: $(base64 -w0 "$crash")"
	fi
	[ "$rc" -eq 0 ]
}
export -f run_one
export BUILD ROOT secs ci

status=0
for h in "${harnesses[@]}"; do echo "$h ${CI_RUNS[$h]:-0}"; done |
	xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ |
	tee "$BUILD/fuzz-summary.log" || status=$?
pass=$(grep -c ': passed' "$BUILD/fuzz-summary.log" || true)
fail=$(grep -c ': FAILED' "$BUILD/fuzz-summary.log" || true)

if [ "$merge" -eq 1 ]; then
	for h in "${harnesses[@]}"; do
		"$BUILD/tests/fuzz/fuzz_$h" -merge=1 -timeout=10 "$ROOT/tests/fuzz/corpus/$h" \
			"$BUILD/fuzz-corpus/$h" >"$BUILD/fuzz-logs/$h.merge.log" 2>&1 ||
			echo "fuzz $h: merge failed, see $BUILD/fuzz-logs/$h.merge.log"
	done
fi
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$status" -eq 0 ]
