#!/usr/bin/env python3
"""run.py - run the integration tests (unittest) and end with 'N passed, N failed'.

Usage: run.py [-k PATTERN] [module ...]   (default: every test_*.py here)

Inside the nested rig (MINIVMM_IN_RIG, set by tests/rig/rig.sh) a test that failed because the
guest's own kernel crashed (an oops, a double fault: the emulated CPU under the nested
hypervisor occasionally corrupts a guest's state, whatever VMM runs it) is run once more, and
the report names it. A test that fails again, or fails any other way, fails.
"""
import argparse
import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class Result(unittest.TextTestResult):
    """Counts subtests as the tests they are, and times each test."""

    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.stream.writeln("    (%.1f s)" % (time.monotonic() - self._t0))
        self.stream.flush()


# Not "Kernel panic": many tests panic their guest on purpose.
GUEST_CRASH = re.compile(r"Oops: |double fault|general protection fault|BUG: unable to handle")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="pattern", action="append", default=[])
    ap.add_argument("modules", nargs="*")
    a = ap.parse_args()
    loader = unittest.TestLoader()
    if a.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in a.pattern]
    if a.modules:
        suite = unittest.TestSuite(loader.loadTestsFromName(m) for m in a.modules)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result)
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    passed = res.testsRun - failed - len(res.skipped)
    if os.environ.get("MINIVMM_IN_RIG"):
        crashed = [t for t, text in res.failures + res.errors if GUEST_CRASH.search(text)]
        if crashed:
            print("retrying %d test(s) whose guest kernel crashed under the rig's emulation: %s"
                  % (len(crashed), ", ".join(t.id() for t in crashed)))
            again = runner.run(unittest.TestSuite(crashed))
            fixed = len(crashed) - len(again.failures) - len(again.errors)
            passed += fixed
            failed -= fixed
    print("integration: %d passed, %d failed, %d skipped" % (passed, failed, len(res.skipped)))
    return 0 if failed == 0 and res.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
