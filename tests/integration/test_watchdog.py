"""test_watchdog.py - issue 4: the ib700 and i6300esb watchdogs with a real Linux driver.

A guest tool (tests/guest/progs/wdt.c) opens /dev/watchdog, pings it for longer than the
timeout, then stops pinging (the watchdog must fire: WATCHDOG {action}, then the action) or
does the magic close (it must not fire). ib700wdt.ko exists only in Debian's generic kernel
flavour (the rig's kernel), so the ib700 guest boots that kernel with the module appended to
the initramfs; i6300esb.ko is in the cloud kernel's initramfs already.
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (VM, INIT_MARKER, QMPClient, _env_file, guest_kernel, initrd_with_script,
                     minivmm_bin, run_usage)
from test_lifecycle import POWER_BUTTON_SCRIPT

TIMEOUT = 6  # seconds; ib700 index 12, i6300esb heartbeat 6 (2 stages of ~3.02 s)
PINGS = 10   # one a second: well past the timeout, so only the pings keep it alive
WATCHDOG = lambda action: ("WATCHDOG", {"action": action})  # noqa: E731
HANG = "wdt %d %d 1000 hang\n" % (TIMEOUT, PINGS)
# After the magic close the guest must stay up (the script's end would power it off).
MAGIC = "wdt %d 3 1000 magic\nsleep 600\n" % TIMEOUT
# The i6300esb driver reports the device's timeout flag (set when the watchdog reset the
# machine, kept across the reset) as WDIOF_CARDRESET (32) in bootstatus.
BOOTSTATUS = "echo BOOTSTATUS=$(cat /sys/class/watchdog/watchdog0/bootstatus)\n"


def generic_kernel():
    env = _env_file()
    kernel = env.get("RIG_KERNEL")
    module = os.path.join(env.get("RIG_DIR", ""), "modules", "ib700wdt.ko")
    if not kernel or not os.path.exists(kernel) or not os.path.exists(module):
        return None, None
    return kernel, module


class WatchdogBase:
    MODEL = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-wdt-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")
        self.kernel = None
        self.extra = None

    def start(self, script, action):
        initrd = initrd_with_script(self.prologue() + script, self.extra)
        self.addCleanup(os.unlink, initrd)
        vm = VM(["--watchdog", self.MODEL, "--action", "watchdog=" + action,
                 "--qmp", "unix:" + self.sock], kernel=self.kernel, initrd=initrd,
                cmdline="console=ttyS0")
        self.addCleanup(vm.kill)
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        return vm, qmp

    def prologue(self):
        return ""

    def status(self, qmp):
        return qmp.execute("query-status")["return"]

    def watchdog_events(self, qmp):
        qmp.execute("query-status")  # collects whatever arrived
        return [e for e in qmp.event_list() if e[0] == "WATCHDOG"]

    def expire(self, action):
        """Boot, ping past the timeout, stop pinging; returns (vm, qmp) once WATCHDOG came."""
        vm, qmp = self.start(HANG, action)
        vm.wait_console(r"WDT-PINGING timeout=%d\b" % TIMEOUT)
        vm.wait_console(r"WDT-STOPPED-PINGING", timeout=120)
        stopped = time.monotonic()
        self.assertEqual(self.watchdog_events(qmp), [], "fired while the guest pinged")
        qmp.wait_events(["WATCHDOG"], timeout=120)
        waited = time.monotonic() - stopped
        # The last ping came just before the marker: the timeout runs from there.
        self.assertGreater(waited, TIMEOUT - 2, "fired %.1f s after the last ping" % waited)
        return vm, qmp

    # --- the actions -----------------------------------------------------------------------

    def test_expiry_pause(self):
        vm, qmp = self.expire("pause")
        qmp.wait_events(["WATCHDOG", "STOP"])
        self.assertEqual(qmp.event_list(), [WATCHDOG("pause"), ("STOP", None)])
        self.assertEqual(self.status(qmp), {"status": "watchdog", "running": False})
        self.assertEqual(qmp.execute("cont"), {"return": {}})
        self.assertEqual(self.status(qmp)["status"], "running")
        self.assertEqual(qmp.event_list(), [WATCHDOG("pause"), ("STOP", None),
                                            ("RESUME", None)])
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_expiry_reset(self):
        vm, qmp = self.expire("reset")
        qmp.wait_events(["WATCHDOG", "RESET"])
        self.assertEqual(qmp.event_list(),
                         [WATCHDOG("reset"), ("RESET", {"guest": True, "reason": "guest-reset"})])
        # The guest boots again (twice the init marker).
        first = vm.out.text().index(INIT_MARKER)
        vm.wait_console(INIT_MARKER, start=first + 1)
        self.after_reset(vm)
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def after_reset(self, vm):
        pass

    def test_expiry_poweroff(self):
        # QEMU (7.2, and 10.0.2: test_qemu_compare) exits at once (exit(0)) after the event:
        # no SHUTDOWN.
        vm, qmp = self.expire("poweroff")
        self.assertEqual(vm.wait_exit(), 0)
        self.assertEqual(qmp.event_list(), [WATCHDOG("poweroff")])
        self.assertIn("watchdog action is poweroff", vm.err.text())

    def test_expiry_none(self):
        vm, qmp = self.expire("none")
        time.sleep(2 * TIMEOUT)  # the watchdog is stopped now (one-shot / device reset)
        self.assertEqual(self.status(qmp)["status"], "running")
        self.assertEqual(qmp.event_list(), [WATCHDOG("none")])
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_paused_guest_time_stops(self):
        # Watchdog time is guest time: stopped right after the last ping for twice the
        # timeout, the VM sees no expiry; after cont the watchdog fires with what was left.
        vm, qmp = self.start(HANG, "none")
        vm.wait_console(r"WDT-STOPPED-PINGING", timeout=120)
        self.assertEqual(qmp.execute("stop"), {"return": {}})
        time.sleep(2 * TIMEOUT)
        self.assertEqual(self.watchdog_events(qmp), [])
        self.assertEqual(qmp.execute("cont"), {"return": {}})
        resumed = time.monotonic()
        qmp.wait_events(["WATCHDOG"], timeout=120)
        self.assertGreater(time.monotonic() - resumed, 1.0)
        self.assertEqual(qmp.event_list(), [("STOP", None), ("RESUME", None), WATCHDOG("none")])
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_magic_close_disarms(self):
        vm, qmp = self.start(MAGIC, "poweroff")
        vm.wait_console(r"WDT-MAGIC-CLOSED", timeout=120)
        time.sleep(3 * TIMEOUT)
        self.assertEqual(self.status(qmp)["status"], "running")
        self.assertEqual(self.watchdog_events(qmp), [])
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)


class IB700Test(WatchdogBase, unittest.TestCase):
    MODEL = "ib700"

    def setUp(self):
        super().setUp()
        kernel, module = generic_kernel()
        if not kernel:
            self.fail("ib700wdt.ko is only in Debian's generic kernel flavour, and "
                      "kernels.env names none (RIG_KERNEL / RIG_DIR/modules/ib700wdt.ko)")
        self.kernel = kernel
        with open(module, "rb") as f:
            self.extra = {"ib700wdt.ko": (0o100644, f.read())}

    def prologue(self):
        # The base initramfs holds the cloud kernel's modules; this kernel loads only its own.
        return "insmod /ib700wdt.ko || echo IB700-INSMOD-FAILED\n"


class I6300ESBTest(WatchdogBase, unittest.TestCase):
    MODEL = "i6300esb"

    def prologue(self):
        return BOOTSTATUS

    def after_reset(self, vm):
        # First boot 0; after the watchdog's reset the driver sees the timeout flag.
        vm.wait_console(r"BOOTSTATUS=0\b")
        vm.wait_console(r"BOOTSTATUS=32\b")

    # The two actions whose effect only a guest shows; once, on this model (the policy is
    # the same for both, and the cloud kernel boots faster than the generic one).

    def test_expiry_shutdown(self):
        # shutdown presses the ACPI power button: the guest powers itself off cleanly.
        vm, qmp = self.start(POWER_BUTTON_SCRIPT + HANG, "shutdown")
        vm.wait_console(r"WDT-STOPPED-PINGING", timeout=120)
        qmp.wait_events(["WATCHDOG", "POWERDOWN", "SHUTDOWN"], timeout=120)
        vm.wait_console("POWER-BUTTON-PRESSED")
        self.assertEqual(qmp.event_list(), [WATCHDOG("shutdown"), ("POWERDOWN", None),
                                            ("SHUTDOWN", {"guest": True,
                                                          "reason": "guest-shutdown"})])
        self.assertEqual(vm.wait_exit(), 0)

    def test_expiry_inject_nmi(self):
        # inject-nmi: every vcpu takes an NMI; Linux reports one it has no owner for.
        vm, qmp = self.expire("inject-nmi")
        vm.wait_console(r"NMI received for unknown reason", timeout=60)
        self.assertEqual(self.status(qmp)["status"], "running")
        self.assertEqual(qmp.event_list(), [WATCHDOG("inject-nmi")])
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)


class WatchdogCliTest(unittest.TestCase):
    def test_watchdog_bad_model_and_twice(self):
        status, err, _ = run_usage(["--kernel", guest_kernel(), "--watchdog", "i6300"])
        self.assertEqual(status, 2)
        self.assertEqual(err, ["minivmm: --watchdog wants ib700 or i6300esb, got 'i6300' "
                               "(see --help)"])
        status, err, _ = run_usage(["--kernel", guest_kernel(), "--watchdog", "ib700",
                                    "--watchdog", "i6300esb"])
        self.assertEqual(status, 2)
        self.assertEqual(err, ["minivmm: only one --watchdog is supported, at 'i6300esb' "
                               "(see --help)"])
