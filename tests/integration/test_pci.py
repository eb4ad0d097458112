"""test_pci.py - issue 4: the PCI host and --pvpanic pci, as a Linux guest sees them: the host
bridge and the pvpanic function enumerated through ACPI (PCI0, MCFG), BAR0 in the memory
window, the pvpanic-pci driver bound, a panic reported over QMP, several flavours at once."""
import os
import re
import shutil
import tempfile
import time
import unittest

from test_core import ACPI_BAD
from harness import (VM, QMPClient, INIT_MARKER, assert_refused, initrd_with_script,
                     guest_kernel)

CMDLINE = "console=ttyS0"
PANIC_SCRIPT = "echo ABOUT-TO-PANIC; echo c > /proc/sysrq-trigger\n"
GUEST_PANIC = lambda action: ("GUEST_PANICKED", {"action": action})  # noqa: E731
SHUTDOWN = lambda reason, guest=True: ("SHUTDOWN", {"guest": guest, "reason": reason})  # noqa
RESET = lambda reason, guest=True: ("RESET", {"guest": guest, "reason": reason})  # noqa: E731
# What Linux says when it dislikes a PCI host or its firmware description.
# ("report a bug" in Linux's "Using host bridge windows from ACPI" notice is not one.)
PCI_BAD = re.compile(r"(?i)(pci|ecam|mmconfig).*(error|fail|conflict|can't|cannot|not reserved|"
                     r"invalid|no space)|\[Firmware Bug\]")
# Every PCI function as "PCIDEV <address> <vendor> <device> <class>", then the pvpanic one.
ENUM_SCRIPT = (
    "for d in /sys/bus/pci/devices/*; do echo PCIDEV $(basename $d) $(cat $d/vendor) "
    "$(cat $d/device) $(cat $d/class); done\n"
    "d=$(dirname $(grep -l 0x0011 /sys/bus/pci/devices/*/device | head -n 1))\n"
    "echo RES0=$(head -n 1 $d/resource)\n"
    "echo BOUND=$(ls /sys/bus/pci/drivers/pvpanic-pci | grep 0000: | tr '\\n' ' ')\n"
    "echo CAPABILITY=$(cat $d/capability)\n"
    "echo EVENTS=$(cat $d/events)\n"
    "echo ECAM=$(dmesg | grep -ciE '(ecam|mmconfig).*0xe0000000')\n")


class PciGuestTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-pci-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")

    def start(self, script, args):
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        vm = VM(list(args) + ["--qmp", "unix:" + self.sock], initrd=initrd, cmdline=CMDLINE)
        self.addCleanup(vm.kill)
        qmp = QMPClient(self.sock)
        self.addCleanup(qmp.close)
        return vm, qmp

    def test_pvpanic_pci_enumerates_binds_and_reports_panic(self):
        vm, qmp = self.start(ENUM_SCRIPT + PANIC_SCRIPT, ["--pvpanic", "pci"])
        vm.wait_console(INIT_MARKER)
        vm.wait_console(r"ECAM=\d+")
        qmp.wait_events(["SHUTDOWN"])
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("poweroff"), SHUTDOWN("guest-panic")])
        self.assertEqual(vm.wait_exit(), 0)
        out = vm.out.text()
        devs = re.findall(r"PCIDEV (\S+) (\S+) (\S+) (\S+)", out)
        self.assertEqual(devs, [("0000:00:00.0", "0x1b36", "0x0008", "0x060000"),
                                ("0000:00:01.0", "0x1b36", "0x0011", "0x088000")], out[-3000:])
        m = re.search(r"RES0=0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)", out)
        self.assertIsNotNone(m, out[-3000:])
        start, end, flags = (int(x, 16) for x in m.groups())
        self.assertEqual(end - start + 1, 0x1000)
        self.assertTrue(0xC0000000 <= start and end <= 0xDFFFFFFF, hex(start))
        self.assertTrue(flags & 0x200)  # IORESOURCE_MEM
        self.assertRegex(out, r"BOUND=0000:00:01.0 ?\r?\n")
        self.assertRegex(out, r"CAPABILITY=7\b")
        self.assertRegex(out, r"EVENTS=7\b")
        self.assertRegex(out, r"ECAM=[1-9]")  # Linux took the MCFG's ECAM
        self.assertIn("ABOUT-TO-PANIC", out)
        self.assertEqual([l for l in out.splitlines() if ACPI_BAD.search(l)], [])
        self.assertEqual([l for l in out.splitlines() if PCI_BAD.search(l)], [])

    def test_isa_mmio_and_pci_each_report(self):
        # Three flavours of the one core at once: Linux writes the panic to each device it
        # bound, and with panic=none every write is its own GUEST_PANICKED.
        vm, qmp = self.start("echo NPCI=$(ls /sys/bus/pci/drivers/pvpanic-pci | grep -c 0000:); "
                             + PANIC_SCRIPT,
                             ["--pvpanic", "--pvpanic", "mmio", "--pvpanic", "pci,events=0x1",
                              "--action", "panic=none"])
        vm.wait_console(r"NPCI=1\b")
        qmp.wait_events(["GUEST_PANICKED", "GUEST_PANICKED", "GUEST_PANICKED"])
        time.sleep(2)
        qmp.execute("query-status")  # collects any further event
        self.assertEqual(qmp.event_list(), [GUEST_PANIC("run")] * 3)
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)

    def test_reboot_enumerates_again(self):
        # A guest reboot resets the headers (pci_host_reset): the second boot finds the
        # device at the same place and binds it again.
        vm, qmp = self.start("echo BOUND=$(ls /sys/bus/pci/drivers/pvpanic-pci | grep 0000:); "
                             "echo EVENTS=$(cat /sys/bus/pci/devices/0000:00:01.0/events); "
                             "sleep 1; reboot -f\n", ["--pvpanic", "pci"])
        first = vm.wait_console(r"EVENTS=7\b")
        qmp.wait_events(["RESET"])
        second = vm.wait_console(r"BOUND=0000:00:01.0\b", start=first.end())
        vm.wait_console(r"EVENTS=7\b", start=second.end())
        self.assertEqual(qmp.event_list()[0], RESET("guest-reset"))
        qmp.execute("quit")
        self.assertEqual(vm.wait_exit(), 0)


class PciUsageTest(unittest.TestCase):
    def test_pci_refuses_an_address(self):
        k = guest_kernel()
        for opts, needle in [("pci,addr=0xc0000000", "'addr=0xc0000000' not allowed"),
                             ("pci,port=0xc000", "'port=0xc000' not allowed"),
                             ("pci,events=0x9", "events wants a mask"),
                             ("pcie", "unknown flavour 'pcie' (isa, mmio, pci)")]:
            with self.subTest(opts=opts):
                assert_refused(self, ["--kernel", k, "--pvpanic", opts], needle)


if __name__ == "__main__":
    unittest.main()
