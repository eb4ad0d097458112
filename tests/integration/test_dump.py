"""test_dump.py - issue 11: a crash dump of a real guest (--panic-dump, dump-guest-memory) that
binutils' readelf and Debian's makedumpfile read: one NT_PRSTATUS per vCPU, the VMCOREINFO the
guest published through fw_cfg, and the guest's kernel log ending with its panic message."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import VM, QMPClient, initrd_with_script, read_journal

CMDLINE = "console=ttyS0"
PANIC_SCRIPT = "echo ABOUT-TO-PANIC; echo c > /proc/sysrq-trigger\n"
READELF = shutil.which("readelf")
MAKEDUMPFILE = shutil.which("makedumpfile")


def notes(core):
    """readelf -n's note lines as (owner, description) pairs."""
    out = subprocess.run([READELF, "-n", "-W", core], capture_output=True, text=True,
                         check=True, env=dict(os.environ, LC_ALL="C")).stdout
    return re.findall(r"^\s+(\S+)\s+0x[0-9a-f]+\s+(.*?)\s*$", out, re.M)


@unittest.skipIf(READELF is None, "binutils (readelf) is not installed")
class DumpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-dump-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")
        self.journal = os.path.join(self.dir, "events.jsonl")
        self.dumps = os.path.join(self.dir, "dumps")
        os.mkdir(self.dumps)

    def start(self, script, args=(), extra=None):
        initrd = initrd_with_script(script, extra)
        self.addCleanup(os.unlink, initrd)
        vm = VM(["--pvpanic", "--qmp", "unix:" + self.sock, "--event-log", self.journal]
                + list(args), initrd=initrd, cmdline=CMDLINE)
        self.addCleanup(vm.kill)
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        return vm, qmp

    def check_core(self, core, ncpus):
        n = notes(core)
        self.assertEqual([d for o, d in n if o == "CORE"].count(
            "NT_PRSTATUS (prstatus structure)"), ncpus, n)
        self.assertEqual(len([o for o, d in n if o == "VMCOREINFO"]), 1, n)

    def dmesg(self, core):
        if MAKEDUMPFILE is None:
            self.skipTest("makedumpfile is not installed")
        out = os.path.join(self.dir, "dmesg.txt")
        r = subprocess.run([MAKEDUMPFILE, "--dump-dmesg", core, out], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out, errors="replace") as f:
            return f.read()

    def test_panic_dump_before_the_action(self):
        # Two vCPUs; the guest's qemu_fw_cfg driver publishes VMCOREINFO, then it panics.
        vm, qmp = self.start("echo FWCFG=$(ls /sys/firmware/qemu_fw_cfg/by_name/etc); "
                             + PANIC_SCRIPT, ["--cpus", "2", "--panic-dump", self.dumps])
        vm.wait_console(r"FWCFG=vmcoreinfo")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(vm.wait_exit(), 0)
        names = [e for e, _ in qmp.event_list()]
        self.assertEqual(names, ["GUEST_PANICKED", "DUMP_COMPLETED", "SHUTDOWN"])
        data = qmp.event_list()[1][1]
        core = data["__org.minivmm_file"]
        self.assertEqual(os.path.dirname(core), self.dumps)
        self.assertRegex(os.path.basename(core), r"^minivmm-\d+-\d{8}T\d{6}\.\d{6}Z\.vmcore$")
        self.assertNotIn("error", data)
        self.assertEqual(data["result"]["status"], "completed")
        self.assertEqual(data["result"]["completed"], data["result"]["total"])
        self.assertEqual(os.path.getsize(core), data["result"]["total"])
        # The journal has the same, in the same order, before minivmm exited.
        self.assertEqual([e["event"] for e in read_journal(self.journal)
                          if e["event"] != "RESUME"], names)
        self.check_core(core, 2)
        # The log ends with the panic message and the stack dump panic() prints with it (sysrq
        # c calls panic() directly): the core was taken at the pvpanic write, before the
        # "end Kernel panic" line that follows the panic notifiers.
        lines = self.dmesg(core).rstrip().splitlines()
        at = max(i for i, l in enumerate(lines)
                 if "Kernel panic - not syncing: sysrq triggered crash" in l)
        tail = lines[at + 1:]
        self.assertLess(len(tail), 200, tail)
        self.assertFalse([l for l in tail if "end Kernel panic" in l], tail)
        if tail:
            self.assertRegex(tail[0], r"CPU: \d+ ")
            self.assertRegex(tail[-1], r"</TASK>$")

    def test_panic_dump_finds_vmcoreinfo_without_fw_cfg_driver(self):
        # An empty qemu_fw_cfg.ko (a later cpio entry replaces the module) fails to load,
        # so the guest never says where its VMCOREINFO is: minivmm finds it in guest RAM.
        vm, qmp = self.start("echo FWCFG=$(ls /sys/firmware/qemu_fw_cfg 2>/dev/null | wc -l); "
                             + PANIC_SCRIPT, ["--panic-dump", self.dumps],
                             extra={"lib/modules/qemu_fw_cfg.ko": (0o100644, b"")})
        vm.wait_console(r"could not load qemu_fw_cfg")
        vm.wait_console(r"FWCFG=0\b")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(vm.wait_exit(), 0)
        core = qmp.event_list()[1][1]["__org.minivmm_file"]
        self.check_core(core, 1)
        self.assertIn("Kernel panic - not syncing: sysrq triggered crash", self.dmesg(core))

    def test_dump_guest_memory_detached_on_a_running_guest(self):
        vm, qmp = self.start("echo DUMP-ME; sleep 600\n")
        vm.wait_console(r"DUMP-ME")
        core = os.path.join(self.dir, "live.vmcore")
        bad = qmp.execute("dump-guest-memory", {"paging": False,
                                                "protocol": "file:/nonexistent/x"})
        self.assertEqual(bad["error"], {"class": "GenericError", "desc":
                                        "Could not open '/nonexistent/x': No such file or "
                                        "directory"})
        bad = qmp.execute("dump-guest-memory", {"paging": True, "protocol": "file:" + core})
        self.assertEqual(bad["error"]["class"], "GenericError")
        self.assertEqual(qmp.execute("query-dump")["return"]["status"], "none")
        r = qmp.execute("dump-guest-memory", {"paging": False, "protocol": "file:" + core,
                                              "detach": True})
        self.assertEqual(r, {"return": {}})
        qmp.wait_events(["DUMP_COMPLETED", "RESUME"])
        self.assertEqual([e for e, _ in qmp.event_list()], ["STOP", "DUMP_COMPLETED", "RESUME"])
        q = qmp.execute("query-dump")["return"]
        self.assertEqual(q["status"], "completed")
        self.assertEqual(q["completed"], q["total"])
        self.assertEqual(qmp.execute("query-status")["return"],
                         {"status": "running", "running": True})
        self.assertEqual(qmp.execute("query-dump-guest-memory-capability")["return"],
                         {"formats": ["elf"]})
        self.check_core(core, 1)
        self.assertIn("Linux version", self.dmesg(core))
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)


if __name__ == "__main__":
    unittest.main()
