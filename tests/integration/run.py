#!/usr/bin/env python3
"""run.py - run the integration tests (unittest): in one process, or as a worker of tests/rig/supervise.py.

Usage: run.py [-k PATTERN] [module ...]      run them here, end with 'N passed, N failed'
       run.py --list [-k PATTERN] [module ...]  print the test ids, one a line
       run.py --worker DIR --name NAME       take tests from DIR/queue until it is empty

A worker is what runs inside a rig (or beside the others on a real /dev/kvm). It claims one test
at a time by renaming DIR/queue/<file> to DIR/claimed/<NAME>-<file> (a rename is atomic, also
over the rig's 9p share, so two workers never take the same test) and speaks a line protocol on
its standard output that the supervisor reads from the rig's console:

    @@rig alive                 every few seconds, from a thread: the rig and its CPU are running
    @@rig start ID              a test begins
    @@rig end ID OUTCOME SECS   pass | fail | skip | crash (failed, and its guest kernel crashed:
                                an oops or double fault, as the rig's emulation sometimes causes;
                                the worker then takes no more tests and waits to be killed)
    @@rig kmsg TEXT             an error-level message of the rig's own kernel (/dev/kmsg)
    @@rig done                  the queue is empty
    | TEXT                      everything else the tests print (their own and their children's)
"""
import argparse
import os
import re
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# What a guest kernel prints when it crashed rather than panicked on purpose (many tests panic
# their guest with sysrq, so not "Kernel panic" as such).
GUEST_CRASH = re.compile(r"Oops: |double fault|general protection fault|BUG: unable to handle|"
                         r"kernel BUG at|invalid opcode: |Attempted to kill the idle task|"
                         r"BUG: soft lockup")
HEARTBEAT_S = float(os.environ.get("MINIVMM_RIG_HEARTBEAT", "10"))


class Result(unittest.TextTestResult):
    """Times each test."""

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.stream.writeln("    (%.1f s)" % (time.monotonic() - self._t0))
        self.stream.flush()


def load(patterns, modules, tests_dir=HERE):
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = ["*%s*" % p for p in patterns]
    if modules:
        return unittest.TestSuite(loader.loadTestsFromName(m) for m in modules)
    return loader.discover(tests_dir, pattern="test_*.py", top_level_dir=tests_dir)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def run_here(suite):
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    passed = res.testsRun - failed - len(res.skipped)
    print("integration: %d passed, %d failed, %d skipped" % (passed, failed, len(res.skipped)))
    return 0 if failed == 0 and res.testsRun > 0 else 1


class Protocol:
    """The worker's output: protocol lines on the real stdout, everything else behind '| '."""

    def __init__(self):
        self.lock = threading.Lock()
        self.real = os.fdopen(os.dup(1), "w", buffering=1)
        r, w = os.pipe()
        os.dup2(w, 1)
        os.dup2(w, 2)
        os.close(w)
        sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
        threading.Thread(target=self._pump, args=(r,), daemon=True).start()
        threading.Thread(target=self._beat, daemon=True).start()
        if os.environ.get("MINIVMM_IN_RIG"):  # the rig's kernel, not a host's
            threading.Thread(target=self._kmsg, daemon=True).start()

    def say(self, line):
        with self.lock:
            self.real.write(line + "\n")
            self.real.flush()

    def drain(self):
        """Wait until what the test printed has gone out (before its end line)."""
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(0.2)

    def _pump(self, fd):
        buf = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                self.say("| " + line.decode("utf-8", "replace").rstrip("\r"))

    def _beat(self):
        while True:
            self.say("@@rig alive")
            time.sleep(HEARTBEAT_S)

    def _kmsg(self):
        """Forward the rig kernel's messages of level error or worse, and any lockup report."""
        try:
            fd = os.open("/dev/kmsg", os.O_RDONLY)
            os.lseek(fd, 0, os.SEEK_END)
        except OSError:
            return
        while True:
            try:
                rec = os.read(fd, 8192).decode("utf-8", "replace")
            except OSError:  # EPIPE: records overwritten while we slept; go on
                continue
            head, _, text = rec.partition(";")
            text = text.split("\n", 1)[0]
            try:
                level = int(head.split(",")[0]) & 7
            except ValueError:
                continue
            if level <= 3 or re.search(r"lockup|stall|blocked for more than", text):
                self.say("@@rig kmsg " + text)


def worker(qdir, name, tests_dir):
    proto = Protocol()
    tests = {t.id(): t for t in flatten(load([], [], tests_dir))}
    queue = os.path.join(qdir, "queue")
    claimed = os.path.join(qdir, "claimed")
    while True:
        test_id = None
        for entry in sorted(os.listdir(queue)):
            mine = os.path.join(claimed, "%s-%s" % (name, entry))
            try:
                os.rename(os.path.join(queue, entry), mine)
            except FileNotFoundError:
                continue  # another worker took it
            with open(mine) as f:
                test_id = f.read().strip()
            break
        if test_id is None:
            break
        proto.say("@@rig start " + test_id)
        t0 = time.monotonic()
        test = tests.get(test_id)
        if test is None:
            print("no such test here: %s" % test_id)
            outcome = "fail"
        else:
            runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
            res = runner.run(unittest.TestSuite([test]))
            bad = res.failures + res.errors
            if bad:
                outcome = "crash" if any(GUEST_CRASH.search(text) for _, text in bad) else "fail"
            elif res.unexpectedSuccesses:
                outcome = "fail"
            elif res.skipped:
                outcome = "skip"
            else:
                outcome = "pass"
        proto.drain()
        os.unlink(mine)  # before the end line: a rig that dies between the two reruns the test
        proto.say("@@rig end %s %s %.1f" % (test_id, outcome, time.monotonic() - t0))
        if outcome == "crash":
            # The supervisor replaces this rig and reruns the test on a fresh one: take no
            # other test here meanwhile (it would be cut short and run twice).
            time.sleep(3600)
    proto.say("@@rig done")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="pattern", action="append", default=[])
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--worker", metavar="DIR")
    ap.add_argument("--name", default="w")
    ap.add_argument("--tests-dir", default=HERE, help=argparse.SUPPRESS)  # the runner's own tests
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args()
    if a.list:
        for t in flatten(load(a.pattern, a.modules, a.tests_dir)):
            print(t.id())
        return 0
    if a.worker:
        return worker(a.worker, a.name, a.tests_dir)
    return run_here(load(a.pattern, a.modules))


if __name__ == "__main__":
    sys.exit(main())
