"""test_dump.py - issue 11: a crash dump of a real guest (--panic-dump, dump-guest-memory) that
binutils' readelf and Debian's makedumpfile read: one NT_PRSTATUS per vCPU, the VMCOREINFO the
guest published through fw_cfg, and the guest's kernel log ending with its panic message."""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import unittest

from harness import VM, QMPClient, guest_kernel, initrd_with_script, minivmm_bin, read_journal

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
        out = core + ".dmesg"  # makedumpfile will not overwrite a file
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

    def dump_args(self, protocol, **kw):
        return dict({"paging": False, "protocol": protocol}, **kw)

    def error(self, qmp, args):
        """dump-guest-memory with @args must be refused: (class, desc)."""
        r = qmp.execute("dump-guest-memory", args)
        self.assertIn("error", r, (args, r))
        return r["error"]["class"], r["error"]["desc"]

    def test_dump_guest_memory_running_paused_and_refusals(self):
        vm, qmp = self.start("echo DUMP-ME; while read -r l; do echo \"GOT-$l\"; done\n")
        vm.wait_console(r"DUMP-ME")
        core = os.path.join(self.dir, "sync.vmcore")
        # A running guest pauses for the copy: STOP, DUMP_COMPLETED, RESUME, then the reply.
        self.assertEqual(qmp.execute("dump-guest-memory", self.dump_args("file:" + core)),
                         {"return": {}})
        self.assertEqual([e for e, _ in qmp.event_list()], ["STOP", "DUMP_COMPLETED", "RESUME"])
        done = qmp.event_list()[1][1]
        self.assertEqual(done["result"]["status"], "completed")
        self.assertEqual(done["result"]["completed"], done["result"]["total"])
        self.assertEqual(qmp.execute("query-dump")["return"], done["result"])
        self.assertEqual(os.path.getsize(core), done["result"]["total"])
        self.assertEqual(qmp.execute("query-status")["return"],
                         {"status": "running", "running": True})
        self.check_core(core, 1)
        self.assertIn("Linux version", self.dmesg(core))
        # A paused guest stays paused: only DUMP_COMPLETED.
        qmp.events.clear()
        self.assertEqual(qmp.execute("stop"), {"return": {}})
        paused = os.path.join(self.dir, "paused.vmcore")
        self.assertEqual(qmp.execute("dump-guest-memory", self.dump_args("file:" + paused)),
                         {"return": {}})
        self.assertEqual([e for e, _ in qmp.event_list()], ["STOP", "DUMP_COMPLETED"])
        self.assertEqual(qmp.execute("query-status")["return"],
                         {"status": "paused", "running": False})
        self.check_core(paused, 1)
        self.assertEqual(qmp.execute("cont"), {"return": {}})
        qmp.events.clear()

        # Every refusal, with QEMU 10.0.2's class and text (measured against
        # qemu-system-x86_64 -qmp); no event, and the guest goes on running.
        tmp = os.path.join(self.dir, "x.vmcore")
        gone = os.path.join(self.dir, "no", "such", "dir")
        g = "GenericError"
        for args, want in [
            (self.dump_args("file:" + gone), "Could not create '%s': No such file or directory"
             % gone),
            (self.dump_args("file:" + self.dir), "Could not create '%s': Is a directory"
             % self.dir),
            (self.dump_args("tcp:localhost:1"),
             "parameter 'protocol' must start with 'file:' or 'fd:'"),
            (self.dump_args("fd:nope"), "File descriptor named 'nope' has not been found"),
            (self.dump_args("file:" + tmp, format="zip"),
             "Parameter 'format' does not accept value 'zip'"),
            (self.dump_args("file:" + tmp, format="kdump-lzo"), "kdump-lzo is not available now"),
            (self.dump_args("file:" + tmp, format="kdump-zlib", begin=0, length=4096),
             "kdump-compressed format doesn't support paging or filter"),
            (self.dump_args("file:" + tmp, begin=0), "Parameter 'length' is missing"),
            (self.dump_args("file:" + tmp, length=4096), "Parameter 'begin' is missing"),
            (self.dump_args("file:" + tmp, begin=0, length=0),
             "parameter 'length' expects a non-zero size"),
            (self.dump_args("file:" + tmp, begin=1 << 40, length=4096),
             "dump: no guest memory to dump"),
            ({"protocol": "file:" + tmp}, "Parameter 'paging' is missing"),
            (self.dump_args("file:" + tmp, detach="yes"),
             "Invalid parameter type for 'detach', expected: boolean"),
            (self.dump_args("file:" + tmp, paging=True),
             "paging is not supported: minivmm dumps guest-physical memory only"),
        ]:
            self.assertEqual(self.error(qmp, args), (g, want), args)
        self.assertEqual(qmp.event_list(), [])
        # A file that cannot be written: QEMU's error after its DUMP_COMPLETED, the guest
        # resumed.
        self.assertEqual(self.error(qmp, self.dump_args("file:/dev/full")),
                         (g, "dump: failed to write elf header: No space left on device"))
        self.assertEqual([e for e, _ in qmp.event_list()], ["STOP", "DUMP_COMPLETED", "RESUME"])
        failed = qmp.event_list()[1][1]
        self.assertEqual(failed["error"], "dump: failed to write elf header: No space left on "
                         "device")
        self.assertEqual(failed["result"]["status"], "failed")
        self.assertEqual(qmp.execute("query-dump")["return"]["status"], "failed")
        self.assertEqual(qmp.execute("query-status")["return"],
                         {"status": "running", "running": True})
        # The guest still runs: it answers on its console.
        vm.send("still-alive\n")
        vm.wait_console(r"GOT-still-alive")
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_dump_guest_memory_detached_and_fd(self):
        vm, qmp = self.start("echo DUMP-ME; sleep 600\n")
        vm.wait_console(r"DUMP-ME")
        core = os.path.join(self.dir, "live.vmcore")
        self.assertEqual(qmp.execute("query-dump")["return"]["status"], "none")
        r = qmp.execute("dump-guest-memory", self.dump_args("file:" + core, detach=True))
        self.assertEqual(r, {"return": {}})
        qmp.wait_events(["DUMP_COMPLETED", "RESUME"])
        self.assertEqual([e for e, _ in qmp.event_list()], ["STOP", "DUMP_COMPLETED", "RESUME"])
        q = qmp.execute("query-dump")["return"]
        self.assertEqual(q["status"], "completed")
        self.assertEqual(q["completed"], q["total"])
        self.assertEqual(qmp.execute("query-status")["return"],
                         {"status": "running", "running": True})
        self.assertEqual(qmp.execute("query-dump-guest-memory-capability")["return"],
                         {"formats": ["elf", "kdump-zlib", "kdump-raw-zlib"]})
        self.check_core(core, 1)
        self.assertIn("Linux version", self.dmesg(core))

        # fd: after getfd. The descriptor is a pipe's write end, so the detached dump stays
        # active until this test reads: query-dump says so, the monitor answers, a second
        # dump is refused and the descriptor stays with the dump.
        self.assertEqual(qmp.execute("getfd", {"fdname": "core"}),
                         {"error": {"class": "GenericError",
                                    "desc": "No file descriptor supplied via SCM_RIGHTS"}})
        rfd, wfd = os.pipe()
        qmp.events.clear()
        msg = json.dumps({"execute": "getfd", "arguments": {"fdname": "core"}}).encode()
        socket.send_fds(qmp.sock, [msg], [wfd])
        os.close(wfd)
        self.assertEqual(qmp.recv(), {"return": {}})
        r = qmp.execute("dump-guest-memory", self.dump_args("fd:core", detach=True, begin=0,
                                                            length=32 << 20))
        self.assertEqual(r, {"return": {}})
        self.assertEqual(qmp.execute("query-dump")["return"]["status"], "active")
        self.assertEqual(qmp.execute("query-status")["return"]["status"], "save-vm")
        self.assertEqual(self.error(qmp, self.dump_args("file:" + core)),
                         ("GenericError", "There is a dump in process, please wait."))
        self.assertEqual(self.error(qmp, self.dump_args("fd:core")),
                         ("GenericError", "There is a dump in process, please wait."))
        self.assertEqual(qmp.execute("closefd", {"fdname": "core"})["error"]["desc"],
                         "File descriptor named 'core' not found")
        piped = os.path.join(self.dir, "piped.vmcore")
        with open(piped, "wb") as out, os.fdopen(rfd, "rb") as pipe:
            shutil.copyfileobj(pipe, out)  # EOF: the dump closed the descriptor
        qmp.wait_events(["DUMP_COMPLETED", "RESUME"])
        self.assertEqual([e for e, _ in qmp.event_list()], ["STOP", "DUMP_COMPLETED", "RESUME"])
        done = qmp.event_list()[1][1]
        self.assertEqual(done["result"]["status"], "completed")
        self.assertEqual(os.path.getsize(piped), done["result"]["total"])
        self.assertEqual(qmp.execute("query-dump")["return"], done["result"])
        self.check_core(piped, 1)
        # kdump-raw-zlib needs a file it can seek in (QEMU's check and text); the
        # descriptor was taken all the same.
        rfd, wfd = os.pipe()
        socket.send_fds(qmp.sock, [json.dumps({"execute": "getfd",
                                               "arguments": {"fdname": "raw"}}).encode()], [wfd])
        os.close(wfd)
        self.assertEqual(qmp.recv(), {"return": {}})
        self.assertEqual(self.error(qmp, self.dump_args("fd:raw", format="kdump-raw-zlib")),
                         ("GenericError", "kdump-raw formats require a seekable file"))
        self.assertEqual(os.read(rfd, 10), b"")  # closed: EOF
        os.close(rfd)
        # The name was used up by the dump.
        self.assertEqual(self.error(qmp, self.dump_args("fd:core")),
                         ("GenericError", "File descriptor named 'core' has not been found"))
        # A descriptor kept by one connection is there for the next (it is the monitor's).
        f = open(os.path.join(self.dir, "fd.vmcore"), "wb")
        socket.send_fds(qmp.sock, [json.dumps({"execute": "getfd",
                                               "arguments": {"fdname": "later"}}).encode()],
                        [f.fileno()])
        self.assertEqual(qmp.recv(), {"return": {}})
        f.close()
        qmp.close()
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        self.assertEqual(qmp.execute("dump-guest-memory", self.dump_args("fd:later")),
                         {"return": {}})
        qmp.wait_events(["DUMP_COMPLETED"])
        self.check_core(os.path.join(self.dir, "fd.vmcore"), 1)
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_kdump_compressed_formats(self):
        # A paused guest with 2 vCPUs and RAM above 4 GiB, dumped three ways: the same kernel
        # log from each through makedumpfile, the kdump files far smaller than the ELF.
        vm, qmp = self.start("echo DUMP-ME; while :; do sleep 1; done\n",
                             ["--cpus", "2", "--memory", "3584"])
        vm.wait_console(r"DUMP-ME")
        self.assertEqual(qmp.execute("stop"), {"return": {}})
        cores = {}
        for fmt in ("elf", "kdump-zlib", "kdump-raw-zlib"):
            cores[fmt] = os.path.join(self.dir, fmt + ".vmcore")
            qmp.events.clear()
            self.assertEqual(qmp.execute("dump-guest-memory", self.dump_args(
                "file:" + cores[fmt], format=fmt)), {"return": {}}, fmt)
            self.assertEqual([e for e, _ in qmp.event_list()], ["DUMP_COMPLETED"], fmt)
            result = qmp.event_list()[0][1]["result"]
            self.assertEqual(result["status"], "completed", fmt)
            self.assertEqual(result["completed"], result["total"], fmt)
        self.assertEqual(qmp.execute("query-status")["return"]["status"], "paused")
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)
        self.check_core(cores["elf"], 2)
        if MAKEDUMPFILE is None:
            self.skipTest("makedumpfile is not installed")
        # The flattened stream is what makedumpfile -F writes: -R turns it into the file.
        flat = os.path.join(self.dir, "from-flat.vmcore")
        with open(cores["kdump-zlib"], "rb") as f:
            r = subprocess.run([MAKEDUMPFILE, "-R", flat], stdin=f, capture_output=True,
                               text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        logs = {name: self.dmesg(path) for name, path in
                (("elf", cores["elf"]), ("flat", flat), ("raw", cores["kdump-raw-zlib"]))}
        self.assertIn("Linux version", logs["elf"])
        self.assertEqual(logs["flat"], logs["elf"])
        self.assertEqual(logs["raw"], logs["elf"])
        # Zero pages are stored once: the guest has touched little of its 3.5 GiB.
        self.assertLess(os.path.getsize(cores["kdump-raw-zlib"]), 256 << 20)
        self.assertLess(os.path.getsize(cores["kdump-zlib"]), 256 << 20)

    def test_panic_dump_set_at_run_time_4_cpus_ram_above_4g(self):
        # 5 GiB: 3 GiB below the hole and 2 GiB above 4 GiB; 4 vCPUs. No --panic-dump on
        # the command line: the run-time switch turns it on.
        vm, qmp = self.start("echo FWCFG=$(ls /sys/firmware/qemu_fw_cfg/by_name/etc); "
                             "echo CPUS=$(grep -c ^processor /proc/cpuinfo); " + PANIC_SCRIPT,
                             ["--cpus", "4", "--memory", "5120"])
        self.assertEqual(qmp.execute("__org.minivmm_set-panic-dump",
                                     {"dir": os.path.join(self.dir, "nope")})["error"],
                         {"class": "GenericError", "desc": "'%s' is not a writable directory: "
                          "No such file or directory" % os.path.join(self.dir, "nope")})
        self.assertEqual(qmp.execute("__org.minivmm_set-panic-dump", {"dir": self.dumps}),
                         {"return": {}})
        vm.wait_console(r"CPUS=4")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(vm.wait_exit(), 0)
        self.assertEqual([e for e, _ in qmp.event_list()],
                         ["GUEST_PANICKED", "DUMP_COMPLETED", "SHUTDOWN"])
        core = qmp.event_list()[1][1]["__org.minivmm_file"]
        self.assertEqual(os.path.dirname(core), self.dumps)
        self.check_core(core, 4)
        # A PT_LOAD of the 2 GiB above 4 GiB, at its guest-physical address.
        out = subprocess.run([READELF, "-l", "-W", core], capture_output=True, text=True,
                             check=True, env=dict(os.environ, LC_ALL="C")).stdout
        loads = [(int(p, 16), int(sz, 16)) for p, sz in re.findall(
            r"^\s+LOAD\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", out, re.M)]
        self.assertIn((1 << 32, 2 << 30), loads, out)
        self.assertEqual(sum(sz for _, sz in loads), 5 << 30, out)
        lines = self.dmesg(core).rstrip().splitlines()
        at = max(i for i, l in enumerate(lines)
                 if "Kernel panic - not syncing: sysrq triggered crash" in l)
        self.assertLess(len(lines) - at, 200, lines[at:])

    def test_panic_dump_turned_off_at_run_time(self):
        vm, qmp = self.start("echo READY; read x; " + PANIC_SCRIPT,
                             ["--panic-dump", self.dumps])
        vm.wait_console(r"READY")
        self.assertEqual(qmp.execute("__org.minivmm_set-panic-dump", {"dir": ""}),
                         {"return": {}})
        vm.send("go\n")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(vm.wait_exit(), 0)
        self.assertEqual([e for e, _ in qmp.event_list()], ["GUEST_PANICKED", "SHUTDOWN"])
        self.assertEqual(os.listdir(self.dumps), [])


QEMU = shutil.which(os.environ.get("QEMU", "qemu-system-x86_64"))
COMPARE_SCRIPT = ("for i in $(seq 1 40); do echo \"MVCMP line $i\" > /dev/kmsg; done; "
                  "echo FWCFG=$(ls /sys/firmware/qemu_fw_cfg/by_name/etc); " + PANIC_SCRIPT)
TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


def classic_elf_layout(core):
    """QEMU 10 writes its section headers right after the ELF header and the program headers
    after them; Debian's makedumpfile (1.7.2) reads the program headers from right after the
    ELF header whatever e_phoff says ("Can't get the number of PT_LOAD"). Move them there and
    drop the section headers (they only repeat the program header count), data untouched."""
    with open(core, "rb") as f:
        d = bytearray(f.read(1 << 20))
    phoff, shoff = struct.unpack_from("<QQ", d, 32)
    phentsize, phnum = struct.unpack_from("<HH", d, 54)
    if phoff == 64:
        return
    table = bytes(d[phoff:phoff + phentsize * phnum])
    d = d[:64] + table
    struct.pack_into("<QQ", d, 32, 64, 0)
    struct.pack_into("<HHHHH", d, 54, phentsize, phnum, 0, 0, 0)
    with open(core, "r+b") as f:
        f.write(d)


def normalized(line):
    """A log line without its timestamp, numbers masked (PIDs, addresses, registers)."""
    return re.sub(r"(0x)?[0-9a-f]*\d[0-9a-f]*", "N", TIMESTAMP.sub("", line))


@unittest.skipIf(READELF is None or MAKEDUMPFILE is None or QEMU is None,
                 "readelf, makedumpfile or qemu-system-x86_64 missing")
class QemuDumpCompareTest(unittest.TestCase):
    """The same guest panicking under QEMU 10 (-device vmcoreinfo, pvpanic, panic=pause) and
    under minivmm, each dumped with dump-guest-memory once paused: makedumpfile reads the same
    kernel log out of both."""

    def dump_under(self, name, initrd, d):
        sock = os.path.join(d, "qmp.sock")
        console = os.path.join(d, "console")
        if name == "qemu":
            argv = [QEMU, "-M", "pc", "-enable-kvm", "-cpu", "host", "-m", "256",
                    "-nodefaults", "-no-user-config", "-display", "none",
                    "-serial", "file:" + console, "-device", "pvpanic", "-device", "vmcoreinfo",
                    "-kernel", guest_kernel(), "-initrd", initrd, "-append", CMDLINE,
                    "-action", "panic=pause", "-qmp", "unix:%s,server=on,wait=off" % sock]
        else:
            argv = [minivmm_bin(), "--kernel", guest_kernel(), "--initrd", initrd,
                    "--cmdline", CMDLINE, "--serial", "file:" + console, "--pvpanic",
                    "--action", "panic=pause", "--qmp", "unix:" + sock]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.addCleanup(proc.kill)
        qmp = QMPClient(sock)
        self.addCleanup(qmp.close)
        qmp.wait_events(["GUEST_PANICKED"])
        with open(console, errors="replace") as f:
            self.assertRegex(f.read(), r"FWCFG=.*\bvmcoreinfo\b", name)
        core = os.path.join(d, name + ".vmcore")
        self.assertEqual(qmp.execute("dump-guest-memory",
                                     {"paging": False, "protocol": "file:" + core}),
                         {"return": {}}, name)
        qmp.wait_events(["DUMP_COMPLETED"])
        self.assertEqual(qmp.execute("query-status")["return"]["status"], "guest-panicked")
        qmp.execute("quit")
        proc.wait(60)
        if name == "qemu":
            os.chmod(core, 0o600)  # QEMU creates it read-only
            classic_elf_layout(core)
        out = os.path.join(d, name + ".dmesg")
        r = subprocess.run([MAKEDUMPFILE, "--dump-dmesg", core, out], capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(r.returncode, 0, name + ": " + r.stdout + r.stderr)
        with open(out, errors="replace") as f:
            return f.read().rstrip().splitlines()

    def test_same_kernel_log_as_qemu(self):
        d = tempfile.mkdtemp(prefix="minivmm-dumpcmp-")
        self.addCleanup(shutil.rmtree, d, True)
        initrd = initrd_with_script(COMPARE_SCRIPT)
        self.addCleanup(os.unlink, initrd)
        logs = {}
        for name in ("qemu", "minivmm"):
            os.mkdir(os.path.join(d, name))
            logs[name] = self.dump_under(name, initrd, os.path.join(d, name))
        q, m = logs["qemu"], logs["minivmm"]
        # The same kernel, booted with the same command line.
        self.assertEqual(TIMESTAMP.sub("", q[0]), TIMESTAMP.sub("", m[0]))
        self.assertTrue(TIMESTAMP.sub("", q[0]).startswith("Linux version"), q[0])
        cmd = [TIMESTAMP.sub("", l) for l in q if "Command line:" in l]
        self.assertEqual(cmd, [TIMESTAMP.sub("", l) for l in m if "Command line:" in l])
        # What the guest wrote, whole and in order, in both.
        marks = lambda log: [TIMESTAMP.sub("", l) for l in log if "MVCMP" in l]  # noqa: E731
        self.assertEqual(marks(q), ["MVCMP line %d" % i for i in range(1, 41)])
        self.assertEqual(marks(m), marks(q))
        # Both end at the same point: the panic message and the stack dump panic() prints,
        # the same lines but for the machine's name and the numbers.
        tails = {}
        for name, log in logs.items():
            at = max(i for i, l in enumerate(log)
                     if "Kernel panic - not syncing: sysrq triggered crash" in l)
            # Left out: the machine's name, and the "?" frames, which are whatever stale
            # return addresses the stack held (they depend on what ran before).
            tails[name] = [normalized(l) for l in log[at:] if "Hardware name:" not in l
                           and not re.match(r"\s*\? ", TIMESTAMP.sub("", l))]
        self.assertEqual(tails["minivmm"], tails["qemu"])
        self.assertGreater(len(tails["qemu"]), 5, tails["qemu"])


if __name__ == "__main__":
    unittest.main()
