#!/usr/bin/env python3
"""run.py - run the integration tests (unittest) and end with 'N passed, N failed'.

Usage: run.py [-k PATTERN] [module ...]   (default: every test_*.py here)
"""
import argparse
import os
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
    print("integration: %d passed, %d failed, %d skipped" % (passed, failed, len(res.skipped)))
    return 0 if failed == 0 and res.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
