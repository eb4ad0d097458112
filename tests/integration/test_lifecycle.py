"""test_lifecycle.py - issue 3: pvpanic, run states, actions and the QMP control socket, each
path driven by a real guest and checked by the exact sequence of messages a client sees."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (VM, INIT_MARKER, QMPClient, guest_kernel, initrd_with_script,
                     minivmm_bin, read_journal)

CMDLINE = "console=ttyS0"  # no panic=: a panicked guest stays down until the host acts
GUEST_PANIC = lambda action: ("GUEST_PANICKED", {"action": action})  # noqa: E731
SHUTDOWN = lambda reason, guest=True: ("SHUTDOWN", {"guest": guest, "reason": reason})  # noqa
RESET = lambda reason, guest=True: ("RESET", {"guest": guest, "reason": reason})  # noqa: E731
PANIC_SCRIPT = "echo ABOUT-TO-PANIC; echo c > /proc/sysrq-trigger\n"
# Power button -> evdev event -> a clean poweroff, as a standard guest's logind/acpid would.
# The device is opened before the script says it is watching: evdev only queues events for
# readers that already have it open.
POWER_BUTTON_SCRIPT = ("exec 3</dev/input/event0\n"
                       "(dd bs=24 count=1 <&3 >/dev/null 2>&1; "
                       "echo POWER-BUTTON-PRESSED; poweroff -f) &\n")


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-lc-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")
        self.journal = os.path.join(self.dir, "events.jsonl")

    def start(self, script, args=(), cmdline=CMDLINE, initrd=None, pvpanic=("--pvpanic",)):
        if initrd is None:
            initrd = initrd_with_script(script)
            self.addCleanup(os.unlink, initrd)
        vm = VM(list(pvpanic) + ["--qmp", "unix:" + self.sock, "--event-log", self.journal]
                + list(args), initrd=initrd, cmdline=cmdline)
        self.addCleanup(vm.kill)
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        return vm, qmp

    def status(self, qmp):
        return qmp.execute("query-status")["return"]

    # --- the device as the guest sees it ---------------------------------------------------

    def test_linux_binds_pvpanic_with_capability_7(self):
        vm, qmp = self.start("d=/sys/bus/platform/devices/QEMU0001:00; "
                             "echo DRIVER=$(basename $(readlink $d/driver)); "
                             "echo CAPABILITY=$(cat $d/capability); "
                             "echo EVENTS=$(cat $d/events); poweroff -f\n")
        vm.wait_console(r"DRIVER=pvpanic-mmio")
        vm.wait_console(r"CAPABILITY=7\b")
        vm.wait_console(r"EVENTS=7\b")
        self.assertEqual(vm.wait_exit(), 0)

    def test_pvpanic_custom_port_and_mask(self):
        # The AML follows the port the bus uses (Linux reads the mask through it), and the
        # default port is left empty; the mask limits what Linux offers.
        vm, qmp = self.start("d=/sys/bus/platform/devices/QEMU0001:00; "
                             "echo CAPABILITY=$(cat $d/capability); "
                             "portio r 0x505; "
                             + PANIC_SCRIPT, pvpanic=["--pvpanic", "port=0x506,events=0x1"])
        vm.wait_console(r"CAPABILITY=1\b")
        vm.wait_console(r"(?m)^0xff\r?$")  # nothing left at the default port
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_pvpanic_mmio_binds_and_reports_panic(self):
        # Linux's pvpanic-mmio driver binds QEMU0001 through its Memory32Fixed resource and
        # maps the register where the MMIO bus has it.
        vm, qmp = self.start("echo BOUND=$(ls /sys/bus/platform/drivers/pvpanic-mmio | "
                             "grep QEMU0001 | tr '\\n' ' '); grep QEMU0001 /proc/iomem; "
                             "echo EVENTS=$(cat /sys/bus/platform/devices/QEMU0001:00/events); "
                             + PANIC_SCRIPT, pvpanic=["--pvpanic", "mmio"])
        vm.wait_console(r"BOUND=QEMU0001:00\r?\n")
        vm.wait_console(r"feb00000-feb00000 : QEMU0001:00")
        vm.wait_console(r"EVENTS=7\b")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_pvpanic_isa_and_mmio_one_panic_ends_the_vm(self):
        # Linux writes the panic to every pvpanic device it bound (drivers/misc/pvpanic keeps
        # a list); the first write's poweroff ends the VM, so clients see one GUEST_PANICKED.
        vm, qmp = self.start("echo NBOUND=$(ls /sys/bus/platform/drivers/pvpanic-mmio | "
                             "grep -c QEMU0001); grep QEMU0001 /proc/iomem; "
                             + PANIC_SCRIPT, pvpanic=["--pvpanic", "--pvpanic", "mmio"])
        vm.wait_console(r"NBOUND=2\b")
        vm.wait_console(r"feb00000-feb00000 : QEMU0001:01")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_pvpanic_isa_and_mmio_panic_none_reports_each_write(self):
        # With panic=none the VM keeps running, and each device's write is its own
        # GUEST_PANICKED, as with two pvpanic devices under QEMU.
        vm, qmp = self.start(PANIC_SCRIPT, args=["--action", "panic=none"],
                             pvpanic=["--pvpanic", "--pvpanic", "mmio"])
        qmp.wait_events(["GUEST_PANICKED", "GUEST_PANICKED"])
        time.sleep(2)
        qmp.execute("query-status")  # collects any further event
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("run"), GUEST_PANIC("run")])
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    # --- panics ----------------------------------------------------------------------------

    def test_panic_default_action_shutdown(self):
        vm, qmp = self.start(PANIC_SCRIPT)
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 0)
        # The journal holds the whole story, RESUME at start included, and outlives minivmm.
        self.assertEqual([(e["event"], e.get("data")) for e in read_journal(self.journal)],
                         [("RESUME", None), GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])

    def test_panic_pause_then_late_client(self):
        vm, qmp = self.start(PANIC_SCRIPT, args=["--action", "panic=pause"])
        qmp.wait_events(["STOP"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("pause"), ("STOP", None)])
        self.assertEqual(self.status(qmp), {"status": "guest-panicked", "running": False})
        # A runner that connects after the fact still learns it: state and journal.
        late = QMPClient(self.sock)
        self.addCleanup(late.close)
        self.assertEqual(self.status(late)["status"], "guest-panicked")
        names = [e["event"] for e in read_journal(self.journal)]
        self.assertEqual(names, ["RESUME", "GUEST_PANICKED", "STOP"])
        # Both clients see quit's SHUTDOWN.
        reply = qmp.execute("quit")
        self.assertEqual(reply, {"return": {}})
        late.wait_events(["SHUTDOWN"])
        self.assertEqual(late.event_list(), [SHUTDOWN("host-qmp-quit", guest=False)])
        self.assertEqual(qmp.event_list()[-1], SHUTDOWN("host-qmp-quit", guest=False))
        self.assertEqual(vm.wait_exit(), 0)

    def test_panic_exit_failure(self):
        vm, qmp = self.start(PANIC_SCRIPT, args=["--action", "panic=exit-failure"])
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 3)
        self.assertIn("guest panicked", vm.err.text())

    def test_panic_none_keeps_running(self):
        vm, qmp = self.start(PANIC_SCRIPT, args=["--action", "panic=none"])
        qmp.wait_events(["GUEST_PANICKED"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("run")])
        self.assertEqual(self.status(qmp)["status"], "running")
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_set_action_at_runtime(self):
        vm, qmp = self.start("echo WAITING; read -r x; " + PANIC_SCRIPT)
        vm.wait_console("WAITING")
        self.assertEqual(qmp.execute("set-action", {"panic": "pause"}), {"return": {}})
        vm.send("go\n")
        qmp.wait_events(["STOP"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("pause"), ("STOP", None)])

    def test_crash_kernel_loaded(self):
        kernel = open(guest_kernel(), "rb").read()
        script = ("if grep -q mvcrashkernel /proc/cmdline; then echo CRASH-KERNEL-RUNNING; "
                  "poweroff -f; fi\n"
                  "kexec-crash /vmlinuz /crash-initrd 'console=ttyS0 mvcrashkernel nr_cpus=1 "
                  "reset_devices' || exit 1\n" + PANIC_SCRIPT)
        crash_initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, crash_initrd)
        initrd = initrd_with_script(script, extra={
            "vmlinuz": (0o100644, kernel),
            "crash-initrd": (0o100644, open(crash_initrd, "rb").read())})
        self.addCleanup(os.unlink, initrd)
        vm, qmp = self.start(None, initrd=initrd, args=["--memory", "768"],
                             cmdline=CMDLINE + " crashkernel=192M crash_kexec_post_notifiers")
        vm.wait_console("crash kernel loaded")
        vm.wait_console("CRASH-KERNEL-RUNNING")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [("GUEST_CRASHLOADED", {"action": "run"}),
                                            SHUTDOWN("guest-shutdown")])
        self.assertEqual(vm.wait_exit(), 0)

    # --- shutdown and reset paths ----------------------------------------------------------

    def test_poweroff_via_acpi(self):
        vm, qmp = self.start("echo POWERING-OFF; sleep 1; poweroff -f\n")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [SHUTDOWN("guest-shutdown")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_poweroff_via_pvpanic_shutdown_bit(self):
        # Without \_S5 Linux cannot power off through ACPI; its last-resort handler writes
        # pvpanic bit 2 (Linux 6.10+).
        vm, qmp = self.start("sleep 1; poweroff -f\n", args=["--no-acpi-shutdown"])
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [("GUEST_PVSHUTDOWN", None),
                                            SHUTDOWN("guest-shutdown")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_guest_reboot_really_resets(self):
        vm, qmp = self.start("echo BOOTED-ONCE; sleep 1; reboot -f\n")
        first = vm.wait_console(INIT_MARKER)
        qmp.wait_events(["RESET"])
        vm.wait_console(INIT_MARKER, start=first.end())  # the same kernel boots again
        self.assertEqual(qmp.event_list()[0], RESET("guest-reset"))
        self.assertEqual(self.status(qmp)["status"], "running")
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_no_reboot_ends_on_reboot(self):
        vm, qmp = self.start("sleep 1; reboot -f\n", args=["--no-reboot"])
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [SHUTDOWN("guest-reset")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_no_shutdown_pauses_then_reset_boots_again(self):
        vm, qmp = self.start("sleep 1; poweroff -f\n", args=["--no-shutdown"])
        qmp.wait_events(["STOP"])
        self.assertEqual(qmp.event_list(), [SHUTDOWN("guest-shutdown"), ("STOP", None)])
        self.assertEqual(self.status(qmp)["status"], "shutdown")
        self.assertEqual(qmp.execute("cont"), {"error": {
            "class": "GenericError", "desc": "Resetting the Virtual Machine is required"}})
        n = len(vm.out.text())
        self.assertEqual(qmp.execute("system_reset"), {"return": {}})
        self.assertEqual(qmp.event_list()[-1], RESET("host-qmp-system-reset", guest=False))
        self.assertEqual(self.status(qmp)["status"], "prelaunch")
        self.assertEqual(qmp.execute("cont"), {"return": {}})
        self.assertEqual(qmp.event_list()[-1], ("RESUME", None))
        vm.wait_console(INIT_MARKER, start=n)
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    # --- commands --------------------------------------------------------------------------

    def test_stop_cont_reset_powerdown(self):
        vm, qmp = self.start(POWER_BUTTON_SCRIPT + "echo WATCHING; sleep 1000\n")
        first = vm.wait_console("WATCHING")
        self.assertEqual(qmp.execute("stop"), {"return": {}})
        self.assertEqual(qmp.event_list(), [("STOP", None)])
        self.assertEqual(self.status(qmp), {"status": "paused", "running": False})
        self.assertEqual(qmp.execute("stop"), {"return": {}})  # no second STOP
        self.assertEqual(qmp.execute("cont"), {"return": {}})
        self.assertEqual(qmp.event_list(), [("STOP", None), ("RESUME", None)])
        self.assertEqual(self.status(qmp)["running"], True)
        self.assertEqual(qmp.execute("system_reset"), {"return": {}})
        self.assertEqual(qmp.event_list()[-1], RESET("host-qmp-system-reset", guest=False))
        vm.wait_console("WATCHING", start=first.end())
        self.assertEqual(qmp.execute("system_powerdown"), {"return": {}})
        self.assertEqual(qmp.event_list()[-1], ("POWERDOWN", None))
        vm.wait_console("POWER-BUTTON-PRESSED")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list()[-1], SHUTDOWN("guest-shutdown"))
        self.assertEqual(vm.wait_exit(), 0)

    def test_host_signal(self):
        # SIGTERM: SHUTDOWN with the host's cause, then the process ends (status 0), as QEMU.
        vm, qmp = self.start("echo WATCHING; sleep 1000\n")
        vm.wait_console("WATCHING")
        vm.signal(signal.SIGTERM)
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [SHUTDOWN("host-signal", guest=False)])
        self.assertEqual(vm.wait_exit(), 0)
        self.assertEqual([(e["event"], e.get("data")) for e in read_journal(self.journal)],
                         [("RESUME", None), SHUTDOWN("host-signal", guest=False)])

    def test_start_paused(self):
        vm, qmp = self.start("poweroff -f\n", args=["-S"])
        time.sleep(1)
        self.assertEqual(self.status(qmp), {"status": "prelaunch", "running": False})
        self.assertNotIn(INIT_MARKER, vm.out.text())
        self.assertEqual(qmp.execute("cont"), {"return": {}})
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [("RESUME", None), SHUTDOWN("guest-shutdown")])
        self.assertEqual(vm.wait_exit(), 0)

    def test_two_clients_and_bad_input(self):
        vm, qmp = self.start("echo WAITING; read -r x; " + PANIC_SCRIPT)
        other = QMPClient(self.sock)
        self.addCleanup(other.close)
        raw = QMPClient(self.sock, negotiate=False)
        self.addCleanup(raw.close)
        # Junk on one connection gets QEMU's errors and disturbs nobody.
        raw.send_raw(b'{bad json}')
        self.assertEqual(raw.recv(), {"error": {"class": "GenericError",
                                                "desc": "JSON parse error, invalid keyword 'bad'"}})
        raw.send_raw(b'[' * 5000)
        self.assertEqual(raw.recv()["error"]["desc"], "JSON nesting depth limit exceeded")
        raw.send_raw(b']' * 5000 + b'{"execute": "query-status", "id": 7}')
        self.assertEqual(raw.recv()["error"]["class"], "CommandNotFound")  # not negotiated
        big = b'{"execute": "query-status", "id": "' + b'A' * (3 << 20) + b'"}'
        raw.send_raw(big)
        self.assertEqual(raw.recv()["error"]["desc"], "JSON token size limit exceeded")
        gone = QMPClient(self.sock)
        gone.sock.sendall(b'{"execute": "query-status"}' * 1000)
        gone.close()  # vanishes mid-reply
        vm.wait_console("WAITING")
        vm.send("go\n")
        for c in (qmp, other):
            c.wait_events(["SHUTDOWN"])
            self.assertEqual(c.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 0)


class ExampleTest(unittest.TestCase):
    def test_sandbox_runner_reports_the_panic(self):
        # The example client, as a sandbox runner would use it: it learns the guest's fate.
        initrd = initrd_with_script("sleep 1; " + PANIC_SCRIPT)
        self.addCleanup(os.unlink, initrd)
        runner = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                              "sandbox_runner.py")
        runs = tempfile.mkdtemp(prefix="minivmm-runs-")
        self.addCleanup(shutil.rmtree, runs, True)
        p = subprocess.run([sys.executable, runner, "--minivmm", minivmm_bin(), "--kernel",
                            guest_kernel(), "--initrd", initrd, "--cmdline", CMDLINE,
                            "--out", runs],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        self.assertIn("fate: panicked (action poweroff); minivmm exit status 0", out)
        # The failed run keeps its evidence: the panic report, the core, the journal.
        (run,) = os.listdir(runs)
        kept = sorted(os.listdir(os.path.join(runs, run)))
        self.assertEqual([k for k in kept if not k.endswith(".vmcore")],
                         ["dmesg-tail.txt", "events.jsonl", "report.json"], kept)
        self.assertEqual(len([k for k in kept if k.endswith(".vmcore")]), 1, kept)
        with open(os.path.join(runs, run, "report.json")) as f:
            report = json.load(f)
        self.assertEqual(report["message"], "Kernel panic - not syncing: sysrq triggered crash")
        self.assertEqual(os.path.basename(report["vmcore"]),
                         [k for k in kept if k.endswith(".vmcore")][0])
        self.assertIn("panic: Kernel panic - not syncing: sysrq triggered crash", out)


if __name__ == "__main__":
    unittest.main()
