"""test_qemu_compare.py - minivmm against QEMU 10.0.2, the behavioural reference.

The same guest actions under QEMU (-device pvpanic / i6300esb, -qmp) and under minivmm must produce
the same QMP events, in the same order, with the same data (timestamps aside), the same
query-status replies and the same exit status; QEMU runs on the same KVM, kernel and initramfs.
And every case of tests/qmp/probe.py must get the same reply bytes from both control sockets,
except the few where minivmm deliberately differs (KNOWN_WIRE_DIFFERENCES, each with its reason).
"""
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import QMPClient, guest_kernel, initrd_with_script, minivmm_bin

QEMU = shutil.which(os.environ.get("QEMU", "qemu-system-x86_64"))
HERE = os.path.dirname(os.path.abspath(__file__))

_spec = importlib.util.spec_from_file_location(
    "probe", os.path.join(HERE, "..", "qmp", "probe.py"))
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

SHUTDOWN = lambda reason, guest=True: ("SHUTDOWN", {"guest": guest, "reason": reason})  # noqa


def drain_to_eof(qmp, timeout=60):
    """Keep reading @qmp's events until the VMM closes the socket (it exited)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the control socket stayed open; events %r" % qmp.event_list())
        try:
            msg = qmp.recv(left)
        except (EOFError, ConnectionResetError):
            return
        except TimeoutError:
            continue  # the deadline above says it
        if "event" in msg:
            qmp.events.append(msg)


@unittest.skipIf(QEMU is None, "qemu-system-x86_64 is not installed")
class QemuCompareTest(unittest.TestCase):
    def run_both(self, script, actions, until, then_quit=False, machine="pc",
                 qemu_dev=("-device", "pvpanic"), minivmm_dev=("--pvpanic",)):
        """For @script under each VMM: the events until the VMM exits (after one named in
        @until, and with @then_quit a query-status and quit), the query-status reply (or None)
        and the exit status."""
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        results = {}
        for name in ("qemu", "minivmm"):
            d = tempfile.mkdtemp(prefix="cmp-")
            self.addCleanup(shutil.rmtree, d, True)
            sock = os.path.join(d, "qmp.sock")
            if name == "qemu":
                argv = [QEMU, "-M", machine, "-enable-kvm", "-cpu", "host", "-m", "256",
                        "-nodefaults", "-no-user-config", "-display", "none", "-serial",
                        "file:" + os.path.join(d, "console"), *qemu_dev,
                        "-kernel", guest_kernel(), "-initrd", initrd, "-append",
                        "console=ttyS0", "-qmp", "unix:%s,server=on,wait=off" % sock]
                for a in actions:
                    argv += ["-action", a]
            else:
                argv = [minivmm_bin(), "--kernel", guest_kernel(), "--initrd", initrd,
                        "--cmdline", "console=ttyS0", "--serial", "file:" +
                        os.path.join(d, "console"), *minivmm_dev, "--qmp", "unix:" + sock]
                for a in actions:
                    argv += ["--action", a]
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            self.addCleanup(proc.kill)
            qmp = QMPClient(sock)
            self.addCleanup(qmp.close)
            try:
                qmp.wait_events([until])
            except (AssertionError, OSError) as e:
                with open(os.path.join(d, "console"), errors="replace") as f:
                    tail = f.read()[-3000:]
                raise AssertionError("%s: no %s (%r); events %r\n--- console tail:\n%s"
                                     % (name, until, e, qmp.event_list(), tail)) from None
            status = qmp.execute("query-status")["return"] if then_quit else None
            if then_quit:
                qmp.execute("quit")
            drain_to_eof(qmp)
            results[name] = (qmp.event_list(), status, proc.wait(60))
        return results

    def assertSame(self, results):
        self.assertEqual(results["minivmm"], results["qemu"])

    def test_queries_on_kvm(self):
        """The machine-describing commands on the same KVM, kernel and vCPU count, with a name
        and a UUID: byte for byte, but thread ids and QOM paths (each VMM's own)."""
        initrd = initrd_with_script("echo QUERIES-READY; sleep 100000\n")
        self.addCleanup(os.unlink, initrd)
        uuid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        cases = [("query-kvm", None), ("query-name", None), ("query-uuid", None),
                 ("query-target", None), ("query-cpus-fast", None), ("inject-nmi", None)]
        cases += [("human-monitor-command", {"command-line": c}) for c in
                  ("info kvm", "info name", "info uuid", "info status", "info cpus", "nmi",
                   "info version x", "bogus")]
        replies = {}
        for name in ("qemu", "minivmm"):
            d = tempfile.mkdtemp(prefix="cmp-")
            self.addCleanup(shutil.rmtree, d, True)
            sock = os.path.join(d, "qmp.sock")
            console = os.path.join(d, "console")
            if name == "qemu":
                argv = [QEMU, "-M", "pc", "-enable-kvm", "-cpu", "host", "-m", "256", "-smp",
                        "2", "-name", "cmp-vm", "-uuid", uuid, "-nodefaults",
                        "-no-user-config", "-display", "none", "-serial", "file:" + console,
                        "-kernel", guest_kernel(), "-initrd", initrd, "-append",
                        "console=ttyS0", "-qmp", "unix:%s,server=on,wait=off" % sock]
            else:
                argv = [minivmm_bin(), "--kernel", guest_kernel(), "--initrd", initrd,
                        "--cmdline", "console=ttyS0", "--cpus", "2", "--name", "cmp-vm",
                        "--uuid", uuid, "--serial", "file:" + console, "--qmp", "unix:" + sock]
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            self.addCleanup(proc.kill)
            qmp = QMPClient(sock)
            self.addCleanup(qmp.close)
            deadline = time.monotonic() + 300
            while "QUERIES-READY" not in open(console, errors="replace").read():
                self.assertLess(time.monotonic(), deadline, "%s: the guest never came up" % name)
                time.sleep(0.2)
            got = []
            for cmd, args in cases:
                qmp.execute(cmd, args)
                line = qmp.raw[-1].decode()
                line = re.sub(r'"thread-id": \d+', '"thread-id": T', line)
                line = re.sub(r"thread_id=\d+", "thread_id=T", line)
                line = re.sub(r'"qom-path": "[^"]*"', '"qom-path": P', line)
                got.append(line)
            qmp.execute("quit")
            drain_to_eof(qmp)
            self.assertEqual(proc.wait(60), 0)
            replies[name] = got
        for (cmd, args), want, mine in zip(cases, replies["qemu"], replies["minivmm"]):
            with self.subTest(cmd=cmd, args=args):
                self.assertEqual(mine, want)

    def test_panic_shutdown(self):
        r = self.run_both("sleep 1; echo c > /proc/sysrq-trigger\n", ["panic=shutdown"],
                          "SHUTDOWN")
        self.assertSame(r)
        self.assertEqual(r["qemu"], ([("GUEST_PANICKED", {"action": "poweroff"}),
                                      SHUTDOWN("guest-panic")], None, 0))

    def test_panic_pause(self):
        r = self.run_both("sleep 1; echo c > /proc/sysrq-trigger\n", ["panic=pause"],
                          "STOP", then_quit=True)
        self.assertSame(r)
        # QEMU 10's query-status has no singlestep member.
        self.assertEqual(r["qemu"][1], {"status": "guest-panicked", "running": False})

    def test_acpi_poweroff(self):
        r = self.run_both("sleep 1; poweroff -f\n", [], "SHUTDOWN")
        self.assertSame(r)
        self.assertEqual(r["qemu"], ([SHUTDOWN("guest-shutdown")], None, 0))

    def test_reboot_then_quit(self):
        r = self.run_both("sleep 1; reboot -f\n", [], "RESET", then_quit=True)
        self.assertSame(r)
        self.assertEqual(r["qemu"][0][0], ("RESET", {"guest": True, "reason": "guest-reset"}))

    # The guest's own drivers do the port and register writes below: a user-space port write
    # (portio, after iopl) takes a general protection fault in a guest that QEMU's pc machine
    # runs inside the nested rig (seen with QEMU 10.0.2; under TCG alone it works).

    def test_pvpanic_shutdown_bit(self):
        # With no ACPI power-off (QEMU: no ACPI at all; minivmm: no \_S5), Linux's pvpanic
        # driver powers off by writing bit 2 (QEMU 9.1+; 7.2 ignored the bit). pvpanic-pci, as
        # Linux finds no ISA pvpanic without ACPI.
        r = self.run_both("sleep 1; poweroff -f\n", [], "SHUTDOWN", machine="pc,acpi=off",
                          qemu_dev=("-device", "pvpanic-pci"),
                          minivmm_dev=("--pvpanic", "pci", "--no-acpi-shutdown"))
        self.assertSame(r)
        self.assertEqual(r["qemu"], ([("GUEST_PVSHUTDOWN", None), SHUTDOWN("guest-shutdown")],
                                     None, 0))

    def test_watchdog_poweroff(self):
        # Linux's i6300esb driver, 2 s heartbeat, one ping, then none. QEMU 10.0.2 still
        # exit(0)s right after the WATCHDOG event: no SHUTDOWN.
        r = self.run_both("wdt 2 1 100 hang\n", ["watchdog=poweroff"], "WATCHDOG",
                          qemu_dev=("-device", "i6300esb"),
                          minivmm_dev=("--watchdog", "i6300esb"))
        self.assertSame(r)
        self.assertEqual(r["qemu"], ([("WATCHDOG", {"action": "poweroff"})], None, 0))

    def test_watchdog_pause(self):
        r = self.run_both("wdt 2 1 100 hang\n", ["watchdog=pause"], "STOP", then_quit=True,
                          qemu_dev=("-device", "i6300esb"),
                          minivmm_dev=("--watchdog", "i6300esb"))
        self.assertSame(r)
        self.assertEqual(r["qemu"][1], {"status": "watchdog", "running": False})


# probe.py cases on which minivmm's reply deliberately differs from QEMU 10.0.2's, and why.
# Every other case must match byte for byte; each of these must still differ (when one no
# longer does, it was fixed: take it off this list).
LATER = "JSON edge left for a later issue"
KNOWN_WIRE_DIFFERENCES = {
    b'[' * 1100 + b']' * 1100:
        "deep nesting error count (" + LATER + "): both say 'JSON nesting depth limit "
        "exceeded' once, then minivmm skips the rest of the value where QEMU's parser "
        "resynchronises and reports each of the 1026 leftover brackets",
    b'{"execute": "query-status", "id": [1 2]}':
        "a parse error's words (" + LATER + "): minivmm parses with jansson and gives its "
        "words ('\\']\\' expected near \\'2\\''), QEMU its parser's ('expected separator in "
        "list'); the lexical errors before the parser (stray bytes, bad numbers, control "
        "characters and bad UTF-8 in strings) match",
    b'{"execute": "query-status", "id": "\x7f"}':
        "DEL in an echoed string (" + LATER + "): jansson writes it as it is, QEMU as "
        "\\u007F",
}
# Closed (they now match and are compared like every other case): single-quoted strings and
# \', ids written 1e3 or beyond int64/uint64, command and member names quoted whole, lone
# surrogate escapes (api/json_compat.c), members checked in QEMU's hash order, and QEMU's
# lexical errors with its recovery: bad UTF-8 and raw control characters in strings, stray
# bytes, numbers out of JSON's syntax (api/json_stream.c).


@unittest.skipIf(QEMU is None, "qemu-system-x86_64 is not installed")
class QmpWireTest(unittest.TestCase):
    def serve(self, argv, sock):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.addCleanup(proc.kill)
        deadline = time.monotonic() + 60
        while not os.path.exists(sock):
            self.assertLess(time.monotonic(), deadline, "no control socket at %s" % sock)
            self.assertIsNone(proc.poll(), argv)
            time.sleep(0.05)
        # Let the VMM finish starting before the probe's client comes: a client connected
        # while QEMU is still starting gets its boot RESUME ahead of the greeting. A first
        # client waits until the VM runs, then leaves.
        first = QMPClient(sock, early_events=True)
        while first.execute("query-status")["return"]["status"] != "running":
            self.assertLess(time.monotonic(), deadline, "the VMM never ran")
            time.sleep(0.1)
        first.close()
        # Inside the nested rig everything is slower: wait longer for a reply to end.
        got = probe.probe(sock, idle=1.0 if os.environ.get("MINIVMM_IN_RIG") else 0.5)
        self.assertEqual(proc.wait(30), 0)
        return got

    def test_probe_cases_as_qemu(self):
        d = tempfile.mkdtemp(prefix="wire-")
        self.addCleanup(shutil.rmtree, d, True)
        qsock, msock = os.path.join(d, "q.sock"), os.path.join(d, "m.sock")
        # QEMU with no machine at all: the monitor is all these cases touch.
        qemu = self.serve([QEMU, "-M", "none", "-display", "none", "-qmp",
                           "unix:%s,server=on,wait=off" % qsock], qsock)
        initrd = initrd_with_script("sleep 100000\n")  # a guest that does nothing visible
        self.addCleanup(os.unlink, initrd)
        mini = self.serve([minivmm_bin(), "--kernel", guest_kernel(), "--initrd", initrd,
                           "--cmdline", "console=ttyS0", "--serial", "none", "--qmp",
                           "unix:" + msock], msock)
        self.assertEqual([c for c, _ in mini], [c for c, _ in qemu])
        for (case, want), (_, got) in zip(qemu, mini):
            with self.subTest(case=(case or b"greeting")[:80]):
                if case in KNOWN_WIRE_DIFFERENCES:
                    self.assertNotEqual(got, want, "now the same as QEMU: %s"
                                        % KNOWN_WIRE_DIFFERENCES[case])
                else:
                    self.assertEqual(got, want)
        self.assertTrue(set(KNOWN_WIRE_DIFFERENCES) <= set(probe.CASES))


if __name__ == "__main__":
    unittest.main()
