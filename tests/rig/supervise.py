#!/usr/bin/env python3
"""supervise.py - run the integration tests on workers in rigs, and never let a rig hang the run.

Usage: supervise.py [-k PATTERN]... [--jobs N] [--logs DIR] [module ...]

Starts N rigs (tests/rig/rig.sh; each is an outer VM under QEMU's emulation, or the host itself
where /dev/kvm runs guests) with a tests/integration/run.py worker in each. The workers take
tests one at a time from a shared queue, longest first (tests/integration/durations.txt), so both
cores stay busy until the end. Every line a rig prints is read here:

  * A rig fault is: no line at all for MINIVMM_RIG_STALL seconds (the worker says it is alive
    every 10 s, so silence means the outer VM or its CPU is stuck), no worker within
    MINIVMM_RIG_BOOT seconds of starting, a test running past MINIVMM_TEST_LIMIT seconds, the
    rig's own kernel reporting a lockup, stall or crash, a guest kernel crashing the way the
    emulation makes guests crash (run.py's GUEST_CRASH), or the rig ending before its worker
    said it was done.
  * On a fault the rig is killed and a fresh one started; the test it was running goes back to
    the front of the queue for its one rerun, and the summary names it with the reason. A test
    that faults again, or fails in any other way, fails. More than MAX_FAULTS faults in a run
    end it: what is left is reported failed, not silently dropped.

MINIVMM_RIG_INJECT_HANG=PATTERN freezes the rig (SIGSTOP to all its processes, as a hung
emulator would be) when a test whose id contains PATTERN starts for the first time: the
detector's own test (tests/rig/test_supervise.py) and a manual check use it.

Ends with 'integration: N passed, N failed, N skipped'; exit status 0 when nothing failed.
"""
import argparse
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN_PY = os.path.join(ROOT, "tests", "integration", "run.py")
RIG_SH = os.path.join(ROOT, "tests", "rig", "rig.sh")
DURATIONS = os.path.join(ROOT, "tests", "integration", "durations.txt")

STALL_S = float(os.environ.get("MINIVMM_RIG_STALL", "150"))
BOOT_S = float(os.environ.get("MINIVMM_RIG_BOOT", "300"))
TEST_LIMIT_S = float(os.environ.get("MINIVMM_TEST_LIMIT", "900"))
MAX_FAULTS = int(os.environ.get("MINIVMM_RIG_MAX_FAULTS", "4"))
INJECT_HANG = os.environ.get("MINIVMM_RIG_INJECT_HANG", "")
DEFAULT_DURATION_S = 60.0

# What the rig's own kernel prints when the rig, not a test, has gone wrong.
RIG_FAULT = re.compile(r"soft lockup|hard LOCKUP|rcu.{0,40}(stall|self-detected)|"
                       r"blocked for more than \d+ seconds|Kernel panic|Oops|"
                       r"general protection fault|double fault|kernel BUG|BUG: ")


def log(msg):
    print(msg, flush=True)


class Rig:
    """One rig process and what it is doing."""

    def __init__(self, name, argv, env, logdir):
        self.name = name
        self.log = open(os.path.join(logdir, name + ".log"), "w", buffering=1)
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.started = self.last = time.monotonic()
        self.alive = False
        self.done = False
        self.buf = b""
        self.current = None  # (test id, start time)
        self.output = []     # what the current test printed
        self.frozen = False

    def signal_all(self, sig):
        """Signal every process of the rig's session (QEMU under timeout(1) has a group of its
        own, so the rig's process group is not enough)."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z" and int(fields[3]) == self.proc.pid:  # state; session id
                pids.append(int(entry))
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pids

    def kill(self):
        self.signal_all(signal.SIGCONT)
        self.signal_all(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while self.signal_all(0) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.signal_all(signal.SIGKILL)
        self.proc.wait()

    def freeze(self):
        self.signal_all(signal.SIGSTOP)
        self.frozen = True


class Supervisor:
    def __init__(self, tests, jobs, logdir, rig_cmd, workdir, worker_args=()):
        self.tests = tests
        self.worker_args = list(worker_args)
        self.jobs = jobs
        self.logdir = logdir
        self.rig_cmd = rig_cmd
        self.work = workdir
        self.queue = os.path.join(workdir, "queue")
        self.claimed = os.path.join(workdir, "claimed")
        os.makedirs(self.queue)
        os.makedirs(self.claimed)
        self.seq = 0
        self.rigs = []
        self.nrigs = 0
        self.faults = 0
        self.attempts = {}
        self.results = {}     # id -> (outcome, seconds, rig)
        self.reruns = {}      # id -> reason of the first attempt's fault
        self.injected = set()
        self.sel = selectors.DefaultSelector()
        for t in tests:
            self.enqueue(t)

    def enqueue(self, test_id, front=False):
        # Names sort in claim order: a rerun goes before everything still queued.
        self.seq += 1
        name = "%s%06d" % ("0" if front else "1", self.seq)
        with open(os.path.join(self.queue, name + ".tmp"), "w") as f:
            f.write(test_id + "\n")
        os.rename(os.path.join(self.queue, name + ".tmp"), os.path.join(self.queue, name))

    def queued(self):
        return [e for e in os.listdir(self.queue) if not e.endswith(".tmp")]

    def start_rig(self):
        self.nrigs += 1
        name = "rig%d" % self.nrigs
        env = dict(os.environ, MINIVMM_RIG_OUT=self.work)
        argv = self.rig_cmd + ["python3", "-u", RUN_PY, "--worker", self.work, "--name", name]
        argv += self.worker_args
        rig = Rig(name, argv, env, self.logdir)
        os.set_blocking(rig.proc.stdout.fileno(), False)
        self.sel.register(rig.proc.stdout, selectors.EVENT_READ, rig)
        self.rigs.append(rig)
        log("-- %s started (%s)" % (name, "queue: %d tests" % len(self.queued())))

    def finish(self, test_id, outcome, secs, rig):
        self.results[test_id] = (outcome, secs, rig.name)
        note = ""
        if test_id in self.reruns:
            note = "  [rerun; first attempt: %s]" % self.reruns[test_id]
        log("%-5s %s (%.1f s, %s)%s" % (outcome.upper(), test_id, secs, rig.name, note))
        if outcome == "fail":
            log("\n".join("    " + l for l in rig.output[-400:]))

    def fault(self, rig, reason):
        """The rig failed, not (necessarily) the test: kill it, rerun its test once, replace it."""
        self.faults += 1
        log("-- %s fault: %s" % (rig.name, reason))
        self.drop(rig)
        rig.kill()
        if rig.current:
            test_id, t0 = rig.current
            secs = time.monotonic() - t0
            if self.attempts.get(test_id, 0) >= 2:
                rig.output.append("rig fault on the rerun: " + reason)
                self.finish(test_id, "fail", secs, rig)
            else:
                self.reruns[test_id] = "%s (%s)" % (reason, rig.name)
                self.enqueue(test_id, front=True)
                log("-- %s goes back to the queue for its one rerun" % test_id)
        # A test the worker claimed but had not announced yet goes back without an attempt.
        for entry in os.listdir(self.claimed):
            if entry.startswith(rig.name + "-"):
                path = os.path.join(self.claimed, entry)
                with open(path) as f:
                    test_id = f.read().strip()
                os.unlink(path)
                if test_id not in self.results and (not rig.current or rig.current[0] != test_id):
                    self.enqueue(test_id, front=True)
        rig.current = None

    def drop(self, rig):
        if rig in self.rigs:
            self.rigs.remove(rig)
            self.sel.unregister(rig.proc.stdout)

    def line(self, rig, text):
        rig.log.write(text + "\n")
        rig.last = time.monotonic()
        if text.startswith("| "):
            rig.output.append(text[2:])
            return
        if not text.startswith("@@rig "):
            # The rig's own console: its kernel, its init, rig.sh.
            if RIG_FAULT.search(text):
                self.fault(rig, "the rig's kernel: " + text.strip()[:200])
            return
        word, _, rest = text[6:].partition(" ")
        if word == "alive":
            rig.alive = True
        elif word == "kmsg":
            if RIG_FAULT.search(rest):
                self.fault(rig, "the rig's kernel: " + rest.strip()[:200])
        elif word == "start":
            rig.alive = True
            rig.current = (rest, time.monotonic())
            rig.output = []
            self.attempts[rest] = self.attempts.get(rest, 0) + 1
            if INJECT_HANG and INJECT_HANG in rest and rest not in self.injected:
                self.injected.add(rest)
                log("-- injecting a hang: freezing %s at the start of %s" % (rig.name, rest))
                rig.freeze()
        elif word == "end":
            test_id, outcome, secs = rest.rsplit(" ", 2)
            if outcome == "crash":
                # The worker waits to be killed: its rig is suspect. Replace it, and rerun the
                # test if this was its first attempt.
                crash = [l for l in rig.output if re.search(
                    r"Oops|fault|BUG|kill the idle|invalid opcode|lockup", l)]
                self.fault(rig, "the guest kernel crashed (%s)" %
                           (crash[0].strip()[:160] if crash else "see the log"))
                return
            rig.current = None
            self.finish(test_id, outcome, float(secs), rig)
        elif word == "done":
            rig.done = True

    def read(self, rig):
        try:
            chunk = os.read(rig.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not chunk:
            self.drop(rig)
            status = rig.proc.wait()
            if rig.current or not rig.done:
                self.fault(rig, "the rig ended (status %d) before its worker was done" % status)
            elif status != 0:
                log("-- %s ended with status %d after its worker was done" % (rig.name, status))
            return
        rig.buf += chunk
        *lines, rig.buf = rig.buf.split(b"\n")
        for l in lines:
            if rig not in self.rigs:
                break
            self.line(rig, l.decode("utf-8", "replace").rstrip("\r"))

    def check_time(self):
        now = time.monotonic()
        for rig in list(self.rigs):
            if not rig.alive and now - rig.started > BOOT_S:
                self.fault(rig, "no worker within %.0f s of starting" % BOOT_S)
            elif rig.alive and now - rig.last > STALL_S:
                self.fault(rig, "no output at all for %.0f s" % STALL_S)
            elif rig.current and now - rig.current[1] > TEST_LIMIT_S:
                self.fault(rig, "%s ran past %.0f s" % (rig.current[0], TEST_LIMIT_S))

    def run(self):
        for _ in range(min(self.jobs, len(self.tests))):
            self.start_rig()
        while self.rigs or (self.queued() and self.faults <= MAX_FAULTS):
            if self.faults > MAX_FAULTS:
                for rig in list(self.rigs):
                    self.fault(rig, "too many rig faults; stopping")
                break
            # A new rig only for tests that no running rig is free to take.
            while (len(self.rigs) < self.jobs and self.faults <= MAX_FAULTS and
                   len(self.queued()) > sum(1 for r in self.rigs if not r.current)):
                self.start_rig()
            for key, _ in self.sel.select(timeout=1.0):
                self.read(key.data)
            self.check_time()
        for t in self.tests:
            if t not in self.results:
                self.results[t] = ("fail", 0.0, "-")
                log("FAIL  %s (not run: the rigs faulted %d times)" % (t, self.faults))
        return self.summary()

    def summary(self):
        n = {"pass": 0, "fail": 0, "skip": 0}
        for outcome, _, _ in self.results.values():
            n[outcome] += 1
        with open(os.path.join(self.logdir, "durations.txt"), "w") as f:
            for t, (outcome, secs, _) in sorted(self.results.items()):
                if outcome == "pass":
                    f.write("%.0f %s\n" % (secs, t))
        if self.reruns:
            log("reruns (%d):" % len(self.reruns))
            for t, why in sorted(self.reruns.items()):
                log("  %s: first attempt: %s; rerun: %s" % (t, why, self.results[t][0]))
        else:
            log("reruns: none")
        log("rig faults: %d, rigs started: %d" % (self.faults, self.nrigs))
        log("integration: %d passed, %d failed, %d skipped" % (n["pass"], n["fail"], n["skip"]))
        return 0 if n["fail"] == 0 and n["pass"] > 0 else 1


def ordered(tests):
    """Longest first, by the recorded durations (unknown tests count as DEFAULT_DURATION_S)."""
    known = {}
    if os.path.exists(DURATIONS):
        with open(DURATIONS) as f:
            for l in f:
                parts = l.split()
                if len(parts) == 2:
                    known[parts[1]] = float(parts[0])
    return sorted(tests, key=lambda t: -known.get(t, DEFAULT_DURATION_S))


def on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through main's finally: the rigs are killed


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", dest="pattern", action="append", default=[])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("MINIVMM_TEST_JOBS", "0")))
    ap.add_argument("--logs", default=os.path.join(ROOT, "build", "rig-logs"))
    ap.add_argument("--rig-cmd", help=argparse.SUPPRESS)  # the detector's test uses a fake rig
    ap.add_argument("--tests-dir", help=argparse.SUPPRESS)
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args()

    lister = [sys.executable, RUN_PY, "--list"] + [x for p in a.pattern for x in ("-k", p)]
    if a.tests_dir:
        lister += ["--tests-dir", a.tests_dir]
    tests = subprocess.run(lister + a.modules, check=True, capture_output=True,
                           text=True).stdout.split()
    if not tests:
        log("integration: no test matches")
        log("integration: 0 passed, 1 failed, 0 skipped")
        return 1
    if a.rig_cmd:
        rig_cmd = a.rig_cmd.split()
        direct = True
    else:
        rig_cmd = [RIG_SH, "--"]
        direct = subprocess.run([RIG_SH, "--usable"]).returncode == 0
    jobs = a.jobs or (1 if direct else min(2, os.cpu_count() or 1))
    os.makedirs(a.logs, exist_ok=True)
    for old in os.listdir(a.logs):
        if old.startswith("rig") and old.endswith(".log"):
            os.unlink(os.path.join(a.logs, old))
    # The queue is shared with the rigs over 9p: it must be on the host's disk, not in a tmpfs
    # of the rig; the logs' folder is.
    work = tempfile.mkdtemp(prefix="queue-", dir=a.logs)
    sup = None
    try:
        log("-- %d tests on %d %s; logs in %s" % (len(tests), jobs,
            "worker(s) here" if direct else "rigs", a.logs))
        worker_args = ["--tests-dir", a.tests_dir] if a.tests_dir else []
        sup = Supervisor(ordered(tests), jobs, a.logs, rig_cmd, work, worker_args)
        return sup.run()
    finally:
        for rig in sup.rigs if sup else []:
            rig.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
