"""test_core.py - issue 2: a real Linux guest boots under minivmm and behaves as a user expects."""
import os
import re
import signal
import tempfile
import unittest

from harness import (VM, INIT_MARKER, assert_refused, initrd_with_script, run_usage, guest_kernel,
                     guest_initrd)

CMDLINE = "console=ttyS0 panic=-1"
# Lines a clean ACPI boot must not print (ACPICA's error/warning prefixes, firmware bug tags).
ACPI_BAD = re.compile(r"ACPI (BIOS )?(Error|Warning)|ACPI Exception|\[Firmware Bug\].*ACPI|"
                      r"ACPI: .*(error|failed)", re.I)


class BootTest(unittest.TestCase):
    def boot(self, script, args=(), cmdline=CMDLINE, stdin=True):
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        vm = VM(list(args), initrd=initrd, cmdline=cmdline, stdin=stdin)
        self.addCleanup(vm.kill)
        return vm

    def test_boots_to_init_and_powers_off_via_acpi(self):
        vm = self.boot("echo USERSPACE-RAN; poweroff -f\n")
        vm.wait_console(INIT_MARKER + r" cpus=1")
        vm.wait_console("USERSPACE-RAN")
        self.assertEqual(vm.wait_exit(), 0)
        self.assertIn("guest powered off (guest-shutdown)", vm.err.text())
        # ACPI was on (not acpi=off), and clean.
        console = vm.out.text()
        self.assertRegex(console, r"ACPI: (RSDP|XSDT|FACP|DSDT|APIC)")
        bad = [l for l in console.splitlines() if ACPI_BAD.search(l)]
        self.assertEqual(bad, [], "ACPI complaints in the guest log")

    def test_cpus_online(self):
        vm = self.boot("cat /sys/devices/system/cpu/online; poweroff -f\n", args=["--cpus", "4"])
        vm.wait_console(INIT_MARKER + r" cpus=4\b")
        vm.wait_console(r"(?m)^0-3\r?$")
        self.assertEqual(vm.wait_exit(), 0)

    def test_stdin_reaches_guest_shell(self):
        # The guest reads a line from its console (interrupt-driven 8250 RX) and answers.
        vm = self.boot("stty -echo; echo READY-FOR-INPUT; read -r line; "
                       "echo \"GOT:[$line]\"; poweroff -f\n")
        vm.wait_console("READY-FOR-INPUT")
        vm.send("hello from the host\n")
        vm.wait_console(r"GOT:\[hello from the host\]", timeout=60)
        self.assertEqual(vm.wait_exit(), 0)

    def test_interactive_shell(self):
        # No /test.sh: /init starts a shell on the console. Type commands into it.
        vm = VM([], initrd=guest_initrd(), cmdline=CMDLINE)
        self.addCleanup(vm.kill)
        vm.wait_console(INIT_MARKER)
        vm.send("echo $((6*7))-ANSWER\n")
        vm.wait_console(r"42-ANSWER", timeout=60)
        vm.send("poweroff -f\n")
        self.assertEqual(vm.wait_exit(), 0)

    def test_memory_above_4g(self):
        vm = self.boot("grep MemTotal /proc/meminfo; poweroff -f\n", args=["--memory", "5120"])
        m = vm.wait_console(r"MemTotal:\s+(\d+) kB")
        # 5 GiB minus what the kernel keeps for itself: well above the 3 GiB below the hole.
        self.assertGreater(int(m.group(1)), 4 * 1024 * 1024)
        self.assertEqual(vm.wait_exit(), 0)

    def test_reboot_paths_end_minivmm(self):
        # reboot=k: i8042 0xFE; p: port 0xCF9; a: ACPI reset register; t: triple fault.
        # With --no-reboot each ends minivmm (the default, a real reset, is in test_lifecycle).
        for how in ("k", "p", "a", "t"):
            with self.subTest(reboot=how):
                vm = self.boot("echo REBOOTING; reboot -f\n", args=["--no-reboot"],
                               cmdline=CMDLINE + " reboot=" + how)
                vm.wait_console("REBOOTING")
                self.assertEqual(vm.wait_exit(), 0)
                self.assertIn("guest requested a reset (guest-reset)", vm.err.text())

    def test_sigterm_and_sigint(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(sig=sig):
                vm = self.boot("echo WAITING; sleep 1000\n")
                vm.wait_console("WAITING")
                vm.signal(sig)
                self.assertEqual(vm.wait_exit(60), 0)
                lines = vm.stderr_lines()
                self.assertEqual(len(lines), 1, lines)
                self.assertIn("terminating on signal %d" % sig, lines[0])

    def test_serial_to_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "console.log")
            vm = self.boot("echo TO-A-FILE; poweroff -f\n", args=["--serial", "file:" + path])
            self.assertEqual(vm.wait_exit(), 0)
            with open(path) as f:
                text = f.read()
            self.assertIn(INIT_MARKER, text)
            self.assertIn("TO-A-FILE", text)
            self.assertNotIn(INIT_MARKER, vm.out.text())


    def test_guest_pokes_unknown_ports(self):
        # Unknown ports read as all-ones at every size; writes vanish; the VMM keeps going.
        script = ("portio r 0x100; portio r 0x2f0 2; portio r 0x2f0 4; portio w 0x2f8 0x5a; "
                  "portio sweep 0x100 0x2ff; portio sweep 0x3e0 0x3f7; "
                  "echo PROBED; poweroff -f\n")
        vm = self.boot(script)
        vm.wait_console(r"0xff\r?\n0xffff\r?\n0xffffffff")
        vm.wait_console("PROBED")
        self.assertEqual(vm.wait_exit(), 0)


class UsageTest(unittest.TestCase):
    """Every bad argument: one clear line on stderr, exit status 2, no guest."""

    def assertRefused(self, args, needle):
        assert_refused(self, args, needle)

    def test_bad_arguments(self):
        with tempfile.TemporaryDirectory() as d:
            junk = os.path.join(d, "junk")
            with open(junk, "wb") as f:
                f.write(os.urandom(64 * 1024))
            unreadable = os.path.join(d, "dir")
            os.mkdir(unreadable)
            k = guest_kernel()
            cases = [
                (["--kernel", os.path.join(d, "missing")], "cannot open kernel"),
                (["--kernel", unreadable], "not a regular file"),
                (["--kernel", junk], "not a bzImage"),
                (["--kernel", k, "--memory", "8"], "memory too small"),
                (["--kernel", k, "--initrd", os.path.join(d, "nope")], "cannot open initrd"),
                (["--kernel", k, "--cpus", "0"], "--cpus"),
                (["--kernel", k, "--cpus", "many"], "--cpus"),
                (["--kernel", k, "--memory", "-5"], "--memory"),
                (["--kernel", k, "--serial", "tcp:1"], "--serial"),
                (["--kernel", k, "--frobnicate"], "unknown option '--frobnicate'"),
                (["--kernel"], "needs a value"),
                ([], "--kernel PATH is required"),
                (["--kernel", k, "stray"], "unexpected argument 'stray'"),
            ]
            for args, needle in cases:
                with self.subTest(args=args):
                    self.assertRefused(args, needle)

    def test_fifo_inputs_refused(self):
        # A FIFO as --kernel or --initrd: refused at once, not waited on for a writer.
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "fifo")
            os.mkfifo(fifo)
            for args, needle in [(["--kernel", fifo], "kernel '%s' is not a regular file" % fifo),
                                 (["--kernel", guest_kernel(), "--initrd", fifo],
                                  "initrd '%s' is not a regular file" % fifo)]:
                with self.subTest(args=args):
                    code, lines, out = run_usage(args, timeout=10)
                    self.assertEqual(code, 2, lines)
                    self.assertEqual(len(lines), 1, lines)
                    self.assertIn(needle, lines[0])
                    self.assertEqual(out, b"")

    def test_help_and_version(self):
        code, lines, out = run_usage(["--help"])
        self.assertEqual(code, 0)
        self.assertIn(b"--kernel PATH", out)
        code, lines, out = run_usage(["--version"])
        self.assertEqual(code, 0)
        self.assertRegex(out.decode(), r"^minivmm \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    unittest.main()
