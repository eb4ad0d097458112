"""test_clients.py - issue 12: the new QMP commands on a real guest (vCPU threads, the PCI bus
as the guest found it, NMI, HMP, the schema), and real clients: two Go programs on Debian's
packages (Kata's govmm, DigitalOcean's go-qemu) and one on npm's qemu-qmp, driving minivmm
through a whole life: connect past their version checks, status, stop/cont, system_powerdown
(Go), the guest's panic, quit."""
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import VM, QMPClient, initrd_with_script, minivmm_bin

UUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
# The guest says where Linux put pvpanic-pci's BAR, then waits for a line on its console to
# panic (so a client can finish its steps first).
SCRIPT = ("stty -echo\n"
          "d=$(dirname $(grep -l 0x0011 /sys/bus/pci/devices/*/device | head -n 1))\n"
          "echo RES0=$(head -n 1 $d/resource)\n"
          "echo GUEST-READY\n"
          "read -r line\n"
          "echo ABOUT-TO-PANIC; echo c > /proc/sysrq-trigger\n")


def client_bin(name):
    path = os.path.join(os.path.dirname(minivmm_bin()), "tests", "clients", name)
    return path if os.path.exists(path) else None


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-clients-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")

    def start(self, extra=()):
        initrd = initrd_with_script(SCRIPT)
        self.addCleanup(os.unlink, initrd)
        vm = VM(["--cpus", "2", "--pvpanic", "pci", "--action", "panic=pause", "--qmp",
                 "unix:" + self.sock] + list(extra), initrd=initrd, cmdline="console=ttyS0")
        self.addCleanup(vm.kill)
        # The whole line first: a match on what has arrived so far could cut the address.
        vm.wait_console(r"RES0=0x[0-9a-f]+\s")
        bar0 = int(re.search(r"RES0=(0x[0-9a-f]+)\s", vm.out.text()).group(1), 16)
        vm.wait_console(r"GUEST-READY")
        return vm, bar0

    def test_queries_on_a_real_guest(self):
        vm, bar0 = self.start(["--name", "guest-one", "--uuid", UUID.upper()])
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        self.assertEqual(qmp.execute("query-name")["return"], {"name": "guest-one"})
        self.assertEqual(qmp.execute("query-uuid")["return"], {"UUID": UUID})
        self.assertEqual(qmp.execute("query-kvm")["return"], {"enabled": True, "present": True})
        # Each vCPU's thread is a thread of minivmm, not its main thread, and they differ.
        cpus = qmp.execute("query-cpus-fast")["return"]
        self.assertEqual([c["cpu-index"] for c in cpus], [0, 1])
        tids = [c["thread-id"] for c in cpus]
        self.assertEqual(len(set(tids)), 2)
        for tid in tids:
            self.assertNotEqual(tid, vm.proc.pid)
            self.assertTrue(os.path.exists("/proc/%d/task/%d" % (vm.proc.pid, tid)), tid)
        self.assertEqual(cpus[1]["props"], {"core-id": 1, "thread-id": 0, "socket-id": 0})
        hmp = qmp.execute("human-monitor-command",
                          {"command-line": "info cpus"})["return"]
        self.assertEqual(hmp, "* CPU #0: thread_id=%d\r\n  CPU #1: thread_id=%d\r\n" % tuple(tids))
        # The bus as the guest enumerated it: pvpanic-pci in slot 1, its BAR where Linux
        # found it and decoded.
        devs = qmp.execute("query-pci")["return"][0]["devices"]
        self.assertEqual([(d["slot"], d["id"]["vendor"], d["id"]["device"]) for d in devs],
                         [(0, 0x1b36, 0x0008), (1, 0x1b36, 0x0011)])
        self.assertEqual(devs[1]["regions"][0]["address"], bar0)
        self.assertEqual(devs[1]["regions"][0]["type"], "memory")
        text = qmp.execute("human-monitor-command", {"command-line": "info pci"})["return"]
        self.assertIn("BAR0: 32 bit memory at 0x%08x" % bar0, text)
        chardevs = qmp.execute("query-chardev")["return"]
        self.assertEqual(chardevs[0], {"frontend-open": True, "label": "compat_monitor0",
                                       "filename": "unix:%s,server=on" % self.sock})
        self.assertEqual(chardevs[1]["label"], "serial0")
        # An NMI reaches the guest: Linux reports one it has no handler for.
        self.assertEqual(qmp.execute("inject-nmi"), {"return": {}})
        vm.wait_console(r"NMI received for unknown reason")
        self.assertEqual(qmp.execute("human-monitor-command", {"command-line": "nmi"}),
                         {"return": ""})
        self.assertEqual(qmp.execute("human-monitor-command",
                                     {"command-line": "info status"})["return"],
                         "VM status: running\r\n")
        schema = qmp.execute("query-qmp-schema")["return"]
        names = {e["name"] for e in schema}
        for c in qmp.execute("query-commands")["return"]:
            self.assertIn(c["name"], names)
        self.assertEqual(qmp.execute("quit"), {"return": {}})
        self.assertEqual(vm.wait_exit(), 0)

    def run_client(self, name, extra=(), argv=None, env=None):
        if argv is None:
            path = client_bin(name)
            if not path:
                self.skipTest("%s not built (golang-go and its Debian package missing)" % name)
            argv = [path]
        vm, bar0 = self.start(extra)
        proc = subprocess.Popen(argv + [self.sock], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env)
        self.addCleanup(proc.kill)
        lines = []
        timer = threading.Timer(600, proc.kill)
        timer.start()
        self.addCleanup(timer.cancel)
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("WAITING"):
                vm.send("panic\n")  # the guest's read returns: it panics
        proc.wait()
        out = "\n".join(lines)
        self.assertEqual(proc.returncode, 0, out + "\n--- console:\n" + vm.out.text()[-3000:])
        self.assertIn("DONE", lines, out)
        self.assertEqual(vm.wait_exit(), 0)
        return out, bar0

    def test_govmm(self):
        out, _ = self.run_client("govmm-client")
        self.assertIn("VERSION 10.0.2 [oob]", out)  # past govmm's >= 5.0 gate
        self.assertIn("STATUS running running=true", out)
        self.assertRegex(out, r"CPU 0 thread=\d+ target=x86_64 core=0\nCPU 1 thread=\d+ "
                              r"target=x86_64 core=1")
        self.assertIn("POWERDOWN seen", out)
        self.assertIn("EVENT GUEST_PANICKED map[action:pause]", out)
        self.assertIn("STATUS guest-panicked running=false", out)

    def test_go_qemu(self):
        out, bar0 = self.run_client("goqemu-client", ["--name", "gq"])
        self.assertIn("GREETING 10.0.2", out)
        self.assertIn("STATUS StatusRunning", out)
        self.assertRegex(out, r"VERSION 10\.0\.2 \(minivmm \d+\.\d+\.\d+\)")
        self.assertIn('PCI 00.0 1b36:0008 class 0600 "Host bridge"', out)
        self.assertIn('PCI 01.0 1b36:0011 class 0880 "" BAR0 memory 0x%x+0x1000' % bar0, out)
        self.assertIn("KVM enabled=true present=true NAME gq UUID "
                      "00000000-0000-0000-0000-000000000000", out)
        self.assertIn('HMP "VM status: running\\r\\n"', out)
        self.assertIn("EVENT POWERDOWN", out)
        self.assertIn("EVENT GUEST_PANICKED map[action:pause]", out)
        self.assertIn("STATUS StatusGuestPanicked", out)

    def test_node_qemu_qmp(self):
        # npm's qemu-qmp, installed by scripts/test.sh into the cache (MINIVMM_NODE_PATH).
        modules = os.environ.get("MINIVMM_NODE_PATH", "")
        self.assertTrue(os.path.isdir(os.path.join(modules, "qemu-qmp")),
                        "npm's qemu-qmp is not installed in MINIVMM_NODE_PATH=%r" % modules)
        script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "clients", "node", "qmp_node.js")
        out, _ = self.run_client("qemu-qmp", argv=["node", script],
                                 env=dict(os.environ, NODE_PATH=modules))
        self.assertIn("VERSION 10.0.2 minivmm ", out)
        self.assertIn("STATUS running running=true", out)
        self.assertLess(out.index("EVENT STOP"), out.index("EVENT RESUME"))
        self.assertIn("EVENT GUEST_PANICKED", out)
        self.assertIn("STATUS guest-panicked running=false", out)
        self.assertIn("EVENT SHUTDOWN", out)


if __name__ == "__main__":
    unittest.main()
