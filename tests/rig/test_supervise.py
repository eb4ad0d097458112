#!/usr/bin/env python3
"""test_supervise.py - the rig supervisor's own test: hangs, lockups and guest crashes injected.

Runs tests/rig/supervise.py on this machine (no rig, no KVM: a few seconds) with workers in a
fake rig (this file, called as 'test_supervise.py fake-rig CMD...': it runs the worker and, on
cue, prints what the rig's kernel prints on a soft lockup) and a made-up test module whose
tests pass, fail, skip, crash their "guest" once or every time, or are frozen by
MINIVMM_RIG_INJECT_HANG. Checks that each fault is detected, the rig replaced, the test rerun
exactly once and named, and that an ordinary failure is neither retried nor hidden.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SUPERVISE = os.path.join(HERE, "supervise.py")

FAKE_TESTS = r'''
import os, time, unittest
STATE = os.environ["FAKE_STATE"]

def attempt(name):
    path = os.path.join(STATE, name)
    n = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path + ".tmp", "w") as f:
        f.write(str(n))
    os.rename(path + ".tmp", path)  # a rig frozen or killed here leaves the old count
    return n

class Fake(unittest.TestCase):
    def test_pass(self):
        attempt("pass")

    def test_fail(self):
        attempt("fail")
        self.fail("an ordinary failure")

    def test_skip(self):
        self.skipTest("not here")

    def test_crash_once(self):
        if attempt("crash_once") == 1:
            self.fail("console tail:\n[    1.0] Oops: general protection fault, probably for ...")

    def test_crash_always(self):
        attempt("crash_always")
        self.fail("console tail:\n[    1.0] traps: PANIC: double fault, error_code: 0x0")

    def test_hang_once(self):
        attempt("hang_once")
        time.sleep(0.5)

    def test_lockup_once(self):
        if attempt("lockup_once") == 1:
            open(os.path.join(STATE, "lockup-now"), "w").close()
            time.sleep(30)
'''

LOCKUP = "[  160.123456] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [python3:1]"


def fake_rig(argv):
    """Run the worker; when a test asks for it, print a lockup report as the rig's kernel would."""
    state = os.environ["FAKE_STATE"]
    if os.environ.get("FAKE_RIG_SILENT"):
        time.sleep(3600)  # a rig that never boots
    # Like QEMU under rig.sh's timeout(1), the worker gets a process group of its own.
    child = subprocess.Popen(argv, process_group=0)

    def watch():
        cue = os.path.join(state, "lockup-now")
        while child.poll() is None:
            if os.path.exists(cue):
                os.unlink(cue)
                print(LOCKUP, flush=True)
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()
    return child.wait()


class SuperviseTest(unittest.TestCase):
    def run_supervisor(self, patterns, extra_env=None, timeout=120):
        tmp = tempfile.mkdtemp(prefix="supervise-")
        if not os.environ.get("KEEP"):
            self.addCleanup(shutil.rmtree, tmp, True)
        tests = os.path.join(tmp, "tests")
        state = os.path.join(tmp, "state")
        os.makedirs(tests)
        os.makedirs(state)
        with open(os.path.join(tests, "test_fake.py"), "w") as f:
            f.write(FAKE_TESTS)
        env = dict(os.environ, FAKE_STATE=state, MINIVMM_RIG_HEARTBEAT="0.5",
                   MINIVMM_RIG_STALL="4", MINIVMM_RIG_BOOT="4", MINIVMM_RIG_MAX_FAULTS="10")
        env.pop("MINIVMM_IN_RIG", None)
        env.update(extra_env or {})
        argv = [sys.executable, SUPERVISE, "--jobs", "2", "--logs", os.path.join(tmp, "logs"),
                "--tests-dir", tests, "--rig-cmd",
                "%s %s fake-rig" % (sys.executable, os.path.abspath(__file__))]
        for p in patterns:
            argv += ["-k", p]
        t0 = time.monotonic()
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        self.elapsed = time.monotonic() - t0
        attempts = {}
        for name in os.listdir(state):
            if name.endswith(".tmp"):
                continue
            with open(os.path.join(state, name)) as f:
                attempts[name] = int(f.read())
        return p.returncode, p.stdout, attempts

    def tally(self, out):
        m = re.findall(r"^integration: (\d+) passed, (\d+) failed, (\d+) skipped$", out, re.M)
        self.assertEqual(len(m), 1, out)
        return tuple(int(x) for x in m[0])

    def test_clean_run(self):
        code, out, attempts = self.run_supervisor(["test_pass", "test_skip"])
        self.assertEqual(code, 0, out)
        self.assertEqual(self.tally(out), (1, 0, 1))
        self.assertIn("reruns: none", out)
        self.assertEqual(attempts, {"pass": 1})

    def test_every_fault_is_rerun_once_and_named(self):
        code, out, attempts = self.run_supervisor(
            ["test_"], {"MINIVMM_RIG_INJECT_HANG": "test_hang_once"})
        self.assertEqual(code, 1, out)
        self.assertEqual(self.tally(out), (4, 2, 1), out)
        # Each fault gave exactly one rerun; the ordinary failure ran once. (The hang freezes
        # its test as it starts, before or after it counted itself.)
        attempts.pop("hang_once", None)
        self.assertEqual(attempts, {"pass": 1, "fail": 1, "crash_once": 2, "crash_always": 2,
                                    "lockup_once": 2}, out)
        self.assertEqual(len(re.findall(r"(?m)^PASS  test_fake.Fake.test_hang_once ", out)), 1)
        reruns = out[out.index("reruns ("):]
        self.assertRegex(reruns, r"test_fake.Fake.test_hang_once: first attempt: no output at "
                                 r"all for 4 s \(rig\d+\); rerun: pass")
        self.assertRegex(reruns, r"test_fake.Fake.test_lockup_once: first attempt: the rig's "
                                 r"kernel: .*soft lockup.*; rerun: pass")
        self.assertRegex(reruns, r"test_fake.Fake.test_crash_once: first attempt: the guest "
                                 r"kernel crashed \(.*Oops.*; rerun: pass")
        self.assertRegex(reruns, r"test_fake.Fake.test_crash_always: first attempt: .*double "
                                 r"fault.*; rerun: fail")
        self.assertNotIn("test_fail:", reruns)
        self.assertRegex(out, r"(?m)^FAIL  test_fake.Fake.test_fail ")
        self.assertIn("an ordinary failure", out)
        self.assertRegex(out, r"(?m)^FAIL  test_fake.Fake.test_crash_always ")

    def test_a_rig_that_never_starts_ends_the_run(self):
        code, out, attempts = self.run_supervisor(
            ["test_pass"], {"FAKE_RIG_SILENT": "1", "MINIVMM_RIG_MAX_FAULTS": "2"})
        self.assertEqual(code, 1, out)
        self.assertEqual(self.tally(out), (0, 1, 0))
        self.assertIn("no worker within 4 s of starting", out)
        self.assertIn("not run: the rigs faulted", out)
        self.assertLess(self.elapsed, 60)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fake-rig":
        sys.exit(fake_rig(sys.argv[2:]))
    res = unittest.main(verbosity=2, exit=False).result
    bad = len(res.failures) + len(res.errors)
    print("rig self-test: %d passed, %d failed" % (res.testsRun - bad - len(res.skipped), bad))
    sys.exit(0 if bad == 0 and res.testsRun > 0 else 1)
