"""test_report.py - issue 11: the panic report (__org.minivmm_GUEST_PANIC_REPORT) of a real
guest whose console is off: its kernel log is read from guest memory and equals what Debian's
makedumpfile --dump-dmesg extracts from the core --panic-dump wrote of the same instant."""
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

from harness import VM, QMPClient, initrd_with_script, read_journal

REPORT = "__org.minivmm_GUEST_PANIC_REPORT"
MAKEDUMPFILE = shutil.which("makedumpfile")
PANIC = "Kernel panic - not syncing: sysrq triggered crash"
# Records of the guest's own making in its kernel log: one with two lines (makedumpfile
# indents the second), one with bytes outside ASCII (it escapes them as \xffffffNN).
MARKERS = ("for i in $(seq 1 200); do echo \"REPORT-MARKER-$i\" > /dev/kmsg; done; "
           "printf 'REPORT-TWO-LINES one\\nline two\\n' > /dev/kmsg; "
           "printf 'REPORT-CAF\\303\\251\\n' > /dev/kmsg; ")
REGS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "rflags", "cs", "ss", "ds", "es", "fs", "gs",
        "fs_base", "gs_base", "cr0", "cr2", "cr3", "cr4", "efer"]


# NT_PRSTATUS's elf_gregset_t: Linux's x86_64 user_regs_struct (orig_rax left out).
GREGS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
         "rdx", "rsi", "rdi", None, "rip", "cs", "rflags", "rsp", "ss", "fs_base", "gs_base",
         "ds", "es", "fs", "gs"]


def core_prstatus(core):
    """{pr_pid: {register: value}} from the NT_PRSTATUS notes of an ELF64 core."""
    with open(core, "rb") as f:
        ehdr = f.read(64)
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
        f.seek(phoff)
        phdrs = f.read(phentsize * phnum)
        out = {}
        for i in range(phnum):
            p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", phdrs,
                                                                     i * phentsize)
            if p_type != 4:  # PT_NOTE
                continue
            f.seek(p_offset)
            notes, at = f.read(p_filesz), 0
            while at + 12 <= len(notes):
                namesz, descsz, ntype = struct.unpack_from("<III", notes, at)
                name = notes[at + 12:at + 12 + namesz].rstrip(b"\0")
                desc = at + 12 + (namesz + 3) // 4 * 4
                if ntype == 1 and name == b"CORE":  # NT_PRSTATUS
                    pid, = struct.unpack_from("<I", notes, desc + 32)
                    vals = struct.unpack_from("<27Q", notes, desc + 112)
                    out[pid] = {r: v for r, v in zip(GREGS, vals) if r}
                at = desc + (descsz + 3) // 4 * 4
        return out


class PanicReportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-report-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")
        self.journal = os.path.join(self.dir, "events.jsonl")
        self.dumps = os.path.join(self.dir, "dumps")
        os.mkdir(self.dumps)

    def start(self, script, args=()):
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        # The console is off: no console= (the kernel's goes to a VGA that is not there),
        # quiet, and no serial port on the host side.
        vm = VM(["--pvpanic", "--serial", "none", "--qmp", "unix:" + self.sock,
                 "--event-log", self.journal] + list(args), initrd=initrd, cmdline="quiet")
        self.addCleanup(vm.kill)
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        return vm, qmp

    def dmesg(self, core):
        if MAKEDUMPFILE is None:
            self.skipTest("makedumpfile is not installed")
        out = os.path.join(self.dir, "dmesg.txt")
        r = subprocess.run([MAKEDUMPFILE, "--dump-dmesg", core, out], capture_output=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out, "rb") as f:
            return f.read().decode("ascii")

    def check_report(self, rep, ncpus):
        self.assertEqual(rep["message"], PANIC)
        self.assertIn(rep["cpu"], range(ncpus))
        self.assertEqual(sorted(rep["registers"]), sorted(REGS))
        for name, v in rep["registers"].items():
            self.assertRegex(v, r"^0x[0-9a-f]{16}$", name)
        regs = {k: int(v, 16) for k, v in rep["registers"].items()}
        # In the kernel, 64-bit mode, paging on: what an oops would show.
        self.assertGreaterEqual(regs["rip"], 0xffffffff80000000, rep["registers"])
        self.assertGreaterEqual(regs["rsp"], 0xffff800000000000, rep["registers"])
        self.assertEqual(regs["cs"], 0x10)
        self.assertTrue(regs["cr0"] & 0x80000001)
        self.assertTrue(regs["efer"] & 0x400)  # LMA
        self.assertNotEqual(regs["cr3"], 0)
        log = rep["log"]
        self.assertNotIn("log_error", rep)
        self.assertGreaterEqual(len(log), 16384)
        self.assertLessEqual(len(log), 32768)
        self.assertGreaterEqual(rep["log_total"], len(log))
        self.assertRegex(log, r"^\[ *\d+\.\d{6}\] ")  # whole records
        # It ends with the panic and the stack dump panic() prints with it.
        lines = log.rstrip("\n").split("\n")
        at = max(i for i, l in enumerate(lines) if PANIC in l)
        self.assertLess(len(lines) - at, 200, lines[at:])
        self.assertRegex(lines[-1], r"</TASK>$")
        return log

    def test_report_with_console_off_equals_makedumpfile(self):
        vm, qmp = self.start(MARKERS + "echo c > /proc/sysrq-trigger\n",
                             ["--cpus", "2", "--panic-dump", self.dumps])
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(vm.wait_exit(), 0)
        # GUEST_PANICKED, DUMP_COMPLETED, the report, then the action's SHUTDOWN.
        names = [e["event"] for e in qmp.events if e["event"] != "RESUME"]
        self.assertEqual(names, ["GUEST_PANICKED", "DUMP_COMPLETED", REPORT, "SHUTDOWN"])
        events = [e for e in qmp.events if e["event"] != "RESUME"]
        core = events[1]["data"]["__org.minivmm_file"]
        rep = events[2]["data"]
        self.assertEqual(rep["action"], "shutdown")
        self.assertEqual(rep["vmcore"], core)
        log = self.check_report(rep, 2)
        # The core's NT_PRSTATUS of the vCPU that panicked (pr_pid = its index + 1) holds the
        # registers the report gives: both from the one snapshot of that parked instant.
        prs = core_prstatus(core)
        self.assertEqual(sorted(prs), [1, 2])
        regs = {k: int(v, 16) for k, v in rep["registers"].items()}
        self.assertEqual(prs[rep["cpu"] + 1], {r: regs[r] for r in GREGS if r})
        # Nothing of it reached a console: it came from guest memory.
        self.assertNotIn("Kernel panic", vm.out.text())
        self.assertIn("] REPORT-MARKER-200\n", log)
        indent = " " * len(log[:log.index("REPORT-TWO-LINES")].rsplit("\n", 1)[1])
        self.assertIn("REPORT-TWO-LINES one\n" + indent + "line two\n", log)
        self.assertIn("REPORT-CAF\\xffffffc3\\xffffffa9\n", log)
        # Byte for byte the end of what makedumpfile reads from the core of the same instant.
        full = self.dmesg(core)
        self.assertEqual(len(full), rep["log_total"])
        self.assertEqual(full[-len(log):], log)
        # The journal holds the same report, in the same place, before minivmm exited.
        journal = read_journal(self.journal, extensions=True)
        self.assertEqual([e["event"] for e in journal if e["event"] != "RESUME"], names)
        self.assertEqual([e["data"] for e in journal if e["event"] == REPORT], [rep])

    def test_report_names_the_vcpu_that_panicked_and_precedes_stop(self):
        # vCPU 1 panics; the panic action is pause: the report comes before STOP.
        vm, qmp = self.start(MARKERS + "taskset -c 1 sh -c 'echo c > /proc/sysrq-trigger'\n",
                             ["--cpus", "2", "--action", "panic=pause"])
        qmp.wait_events(["STOP"])
        events = [e for e in qmp.events if e["event"] != "RESUME"]
        self.assertEqual([e["event"] for e in events], ["GUEST_PANICKED", REPORT, "STOP"])
        rep = events[1]["data"]
        self.assertEqual(rep["action"], "pause")
        self.assertNotIn("vmcore", rep)
        self.check_report(rep, 2)
        self.assertEqual(rep["cpu"], 1)
        self.assertRegex(rep["log"], r"CPU: 1 ")  # the guest agrees: its panic ran on CPU 1
        self.assertEqual(qmp.execute("query-status")["return"],
                         {"status": "guest-panicked", "running": False})
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)


if __name__ == "__main__":
    unittest.main()
