"""test_confine.py - issue 13 items 9 and 10: the seccomp allowlists are on by default and a
forbidden syscall from any thread ends minivmm with a message naming it; --seccomp off;
no_new_privs, guest RAM out of host core dumps (MADV_DONTDUMP), --chroot and --user."""
import os
import re
import shutil
import tempfile
import time
import unittest

from harness import (VM, INIT_MARKER, QMPClient, assert_refused, guest_kernel, initrd_with_script,
                     read_journal)

CMDLINE = "console=ttyS0"
GETPPID = 110  # x86_64
WAIT_SCRIPT = "echo READY-FOR-INPUT; read -r line; echo \"GOT:[$line]\"; poweroff -f\n"


def proc_status(pid, tid=None):
    path = "/proc/%d/task/%d/status" % (pid, tid) if tid else "/proc/%d/status" % pid
    with open(path) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def tasks(pid):
    return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))


def dontdump_runs_kb(pid):
    """Sizes of the contiguous address ranges whose every mapping is marked VM_DONTDUMP ("dd"
    in smaps' VmFlags). Guest RAM below 4 GiB is one such range once each mapping in it (the
    anonymous RAM and the kernel and initrd mapped over it) carries the flag."""
    runs, start, end, cur = [], None, None, None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                cur = (int(m.group(1), 16), int(m.group(2), 16))
            elif line.startswith("VmFlags:"):
                if "dd" in line.split()[1:]:
                    if end == cur[0]:
                        end = cur[1]
                    else:
                        if start is not None:
                            runs.append((end - start) // 1024)
                        start, end = cur
    if start is not None:
        runs.append((end - start) // 1024)
    return runs


class ConfineTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-confine-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.journal = os.path.join(self.dir, "events.jsonl")

    def start(self, script, args=(), env=None):
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        vm = VM(["--event-log", self.journal] + list(args), initrd=initrd, cmdline=CMDLINE,
                extra_env=env)
        self.addCleanup(vm.kill)
        return vm

    def assert_killed(self, vm, thread):
        self.assertEqual(vm.wait_exit(), 1, vm.err.text())
        want = "minivmm: seccomp: thread %s made forbidden syscall %d (getppid)" % (thread,
                                                                                    GETPPID)
        self.assertIn(want, vm.err.text().splitlines())
        last = read_journal(self.journal)[-1]
        self.assertEqual(last["event"], "SECCOMP_VIOLATION")
        self.assertEqual(last["data"], {"thread": thread, "syscall": GETPPID, "name": "getppid"})

    def test_option_errors(self):
        k = ["--kernel", guest_kernel()]
        for args, needle in [(["--seccomp", "maybe"], "--seccomp wants on or off, got 'maybe'"),
                             (["--user", "nobody"], "--user wants UID:GID (numbers), got 'nobody'"),
                             (["--user", "1:"], "--user wants UID:GID (numbers), got '1:'"),
                             (["--user", "-1:-1"], "--user wants UID:GID"),
                             (["--chroot", "/nonexistent"], "--chroot: '/nonexistent' is not a "
                              "directory")]:
            with self.subTest(args=args):
                assert_refused(self, k + args, needle)

    def test_forbidden_syscall_on_main_thread_kills(self):
        vm = self.start(WAIT_SCRIPT, env={"MINIVMM_SECCOMP_SELFTEST": "main"})
        self.assert_killed(vm, "main")
        self.assertNotIn(INIT_MARKER, vm.out.text())  # before the guest ran

    def test_forbidden_syscall_on_vcpu_thread_kills(self):
        vm = self.start(WAIT_SCRIPT, env={"MINIVMM_SECCOMP_SELFTEST": "vcpu"})
        self.assert_killed(vm, "vcpu0")

    def test_forbidden_syscall_on_dump_thread_kills(self):
        sock = os.path.join(self.dir, "qmp.sock")
        vm = self.start("echo DUMP-ME; sleep 600\n", ["--qmp", "unix:" + sock],
                        env={"MINIVMM_SECCOMP_SELFTEST": "dump"})
        qmp = QMPClient(sock)
        self.addCleanup(qmp.close)
        vm.wait_console("DUMP-ME")
        qmp.send_raw(b'{"execute": "dump-guest-memory", "arguments": {"paging": false, '
                     b'"detach": true, "protocol": "file:' + self.dir.encode() + b'/x.core"}}\n')
        self.assert_killed(vm, "dump")

    def test_seccomp_off_lets_the_self_test_through(self):
        # The same forbidden call is harmless with --seccomp off: the guest runs as usual.
        vm = self.start("echo USERSPACE-RAN; poweroff -f\n", ["--seccomp", "off"],
                        env={"MINIVMM_SECCOMP_SELFTEST": "vcpu"})
        vm.wait_console("USERSPACE-RAN")
        self.assertEqual(vm.wait_exit(), 0, vm.err.text())
        self.assertNotIn("forbidden", vm.err.text())

    def test_filters_loaded_per_thread_and_guest_ram_not_dumped(self):
        sock = os.path.join(self.dir, "qmp.sock")
        vm = self.start(WAIT_SCRIPT, ["--cpus", "2", "--memory", "256", "--qmp", "unix:" + sock])
        qmp = QMPClient(sock)
        self.addCleanup(qmp.close)
        vm.wait_console("READY-FOR-INPUT")
        pid = vm.proc.pid
        st = proc_status(pid)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")  # filter mode
        self.assertEqual(st["Seccomp_filters"], "1")  # the main thread's own
        # Each vCPU thread: the main thread's filter it inherited, and its own. (KVM may add
        # a kernel worker of its own to the thread group, e.g. kvm-nx-lpage-recovery.)
        vcpus = [c["thread-id"] for c in qmp.execute("query-cpus-fast")["return"]]
        self.assertEqual(len(vcpus), 2, vcpus)
        self.assertTrue(set(vcpus) <= set(tasks(pid)), (vcpus, tasks(pid)))
        for t in vcpus:
            self.assertEqual(proc_status(pid, t)["Seccomp_filters"], "2")
        runs = dontdump_runs_kb(pid)
        self.assertTrue(any(r >= 256 * 1024 for r in runs), runs)
        vm.send("go\n")
        vm.wait_console(r"GOT:\[go\]")
        self.assertEqual(vm.wait_exit(), 0)

    def test_seccomp_off_loads_no_filter(self):
        vm = self.start(WAIT_SCRIPT, ["--seccomp", "off"])
        vm.wait_console("READY-FOR-INPUT")
        st = proc_status(vm.proc.pid)
        self.assertEqual(st["Seccomp"], "0")
        self.assertEqual(st["NoNewPrivs"], "1")
        vm.send("go\n")
        self.assertEqual(vm.wait_exit(), 0)

    @unittest.skipIf(os.geteuid() != 0, "--chroot and --user need root")
    def test_chroot_and_user(self):
        root = os.path.join(self.dir, "jail")
        dumps = os.path.join(self.dir, "dumps")
        os.mkdir(root)
        os.mkdir(dumps)
        os.chmod(dumps, 0o777)
        sock = os.path.join(self.dir, "qmp.sock")
        vm = self.start("echo BOOTED-$(cat /proc/uptime | cut -d. -f1); read -r line; "
                        "echo c > /proc/sysrq-trigger\n",
                        ["--chroot", root, "--user", "65534:65534", "--qmp", "unix:" + sock,
                         "--pvpanic", "--panic-dump", dumps])
        qmp = QMPClient(sock)
        self.addCleanup(qmp.close)
        vm.wait_console("BOOTED-")
        pid = vm.proc.pid
        st = proc_status(pid)
        self.assertEqual(st["Uid"].split(), ["65534"] * 4)
        self.assertEqual(st["Gid"].split(), ["65534"] * 4)
        self.assertEqual(st["Groups"].strip(), "")
        for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb", "CapBnd"):
            self.assertEqual(int(st[cap], 16), 0, cap)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        self.assertEqual(os.readlink("/proc/%d/root" % pid), root)
        # A reset recreates the VM on the /dev/kvm fd opened before the chroot.
        start = len(vm.out.text())
        self.assertEqual(qmp.execute("system_reset"), {"return": {}})
        vm.wait_console(INIT_MARKER, start=start)
        vm.wait_console("BOOTED-", start=start)
        # A panic: the core lands in --panic-dump's directory, outside the chroot.
        vm.send("go\n")
        self.assertEqual(vm.wait_exit(), 0, vm.err.text())
        cores = os.listdir(dumps)
        self.assertEqual(len(cores), 1, (cores, vm.err.text()))
        self.assertGreater(os.path.getsize(os.path.join(dumps, cores[0])), 1 << 20)
        self.assertEqual(os.stat(os.path.join(dumps, cores[0])).st_uid, 65534)
        self.assertEqual(os.listdir(root), [])
        self.assertIn("GUEST_PANICKED", [e["event"] for e in read_journal(self.journal)])


if __name__ == "__main__":
    unittest.main()
