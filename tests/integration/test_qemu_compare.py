"""test_qemu_compare.py - the same guest actions under QEMU (-device pvpanic, -qmp) and under
minivmm must produce the same QMP events, in the same order, with the same data (timestamps
aside). QEMU is the behavioural reference; it runs on the same KVM, kernel and initramfs."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import QMPClient, guest_kernel, initrd_with_script, minivmm_bin

QEMU = shutil.which(os.environ.get("QEMU", "qemu-system-x86_64"))


@unittest.skipIf(QEMU is None, "qemu-system-x86_64 is not installed")
class QemuCompareTest(unittest.TestCase):
    def run_both(self, script, actions, until, then_quit=False):
        """Events each VMM sends for @script, until one named in @until arrives."""
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        results = {}
        for name in ("qemu", "minivmm"):
            d = tempfile.mkdtemp(prefix="cmp-")
            self.addCleanup(shutil.rmtree, d, True)
            sock = os.path.join(d, "qmp.sock")
            if name == "qemu":
                argv = [QEMU, "-M", "pc", "-enable-kvm", "-cpu", "host", "-m", "256",
                        "-nodefaults", "-no-user-config", "-display", "none", "-serial",
                        "file:" + os.path.join(d, "console"), "-device", "pvpanic",
                        "-kernel", guest_kernel(), "-initrd", initrd, "-append",
                        "console=ttyS0", "-qmp", "unix:%s,server=on,wait=off" % sock]
                for a in actions:
                    argv += ["-action", a]
            else:
                argv = [minivmm_bin(), "--kernel", guest_kernel(), "--initrd", initrd,
                        "--cmdline", "console=ttyS0", "--serial", "file:" +
                        os.path.join(d, "console"), "--pvpanic", "--qmp", "unix:" + sock]
                for a in actions:
                    argv += ["--action", a]
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            self.addCleanup(proc.kill)
            qmp = QMPClient(sock)
            self.addCleanup(qmp.close)
            qmp.wait_events([until])
            status = qmp.execute("query-status")["return"] if then_quit else None
            if then_quit:
                qmp.execute("quit")
                qmp.wait_events(["SHUTDOWN"])
            results[name] = (qmp.event_list(), status, proc.wait(60))
        return results

    def assertSame(self, results):
        self.assertEqual(results["minivmm"], results["qemu"])

    def test_panic_shutdown(self):
        r = self.run_both("sleep 1; echo c > /proc/sysrq-trigger\n", ["panic=shutdown"],
                          "SHUTDOWN")
        self.assertSame(r)
        self.assertEqual(r["qemu"][0][0], ("GUEST_PANICKED", {"action": "poweroff"}))

    def test_panic_pause(self):
        r = self.run_both("sleep 1; echo c > /proc/sysrq-trigger\n", ["panic=pause"],
                          "STOP", then_quit=True)
        self.assertSame(r)
        self.assertEqual(r["qemu"][1]["status"], "guest-panicked")

    def test_acpi_poweroff(self):
        self.assertSame(self.run_both("sleep 1; poweroff -f\n", [], "SHUTDOWN"))

    def test_reboot_then_quit(self):
        self.assertSame(self.run_both("sleep 1; reboot -f\n", [], "RESET", then_quit=True))


if __name__ == "__main__":
    unittest.main()
