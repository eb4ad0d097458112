"""test_hostile.py - a guest that attacks its VMM. tests/guest/progs/hostile.c writes junk at
random sizes to every I/O port, to every register of every PCI function (host bridge,
pvpanic-pci, i6300esb) through 0xCF8/0xCFC and through ECAM, and to every MMIO window minivmm
decodes (the BARs, pvpanic-mmio, random pages of the hole), and fw_cfg (random selectors,
data, wrong sizes, DMA descriptors outside RAM or full of junk, huge lengths, buffers outside RAM
or wrapping, and last an etc/vmcoreinfo pointing outside RAM), then the guest panics. minivmm
must survive, keep serving the control socket (a client that connects in the middle negotiates
and sees the VM running), report the panic exactly as it reports any other, and still write
its --panic-dump core (without the bogus VMCOREINFO)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import VM, QMPClient, initrd_with_script

GUEST_PANIC = lambda action: ("GUEST_PANICKED", {"action": action})  # noqa: E731
SHUTDOWN = lambda reason: ("SHUTDOWN", {"guest": True, "reason": reason})  # noqa: E731

# Ports the attack leaves alone: the in-kernel PIC, PIT and ELCR (KVM handles them; they never
# reach minivmm), the console the test reads, and the ports whose whole point is to end or
# reset the machine: i8042 command (0xFE resets), pvpanic, PM1a_CNT (S5), the ACPI reset
# register, 0xCF8-0xCFF (CONFIG_ADDRESS/DATA are attacked on their own; 0xCF9 resets).
SPARED = ["0x20-0x21", "0x40-0x43", "0x61", "0xa0-0xa1", "0x4d0-0x4d1", "0x3f8-0x3ff",
          "0x64", "0x505", "0x604-0x605", "0x60c", "0xcf8-0xcff"]

# The guest's side. The pvpanic register itself (byte 0 of the PCI BAR and of the MMIO page)
# is spared so the only panic is the one at the end.
SCRIPT = r"""
echo HOSTILE-START
hostile 1 ports %(spared)s || echo HOSTILE-FAILED
echo HOSTILE-PORTS-DONE
for d in /sys/bus/pci/devices/*; do
    skip=""
    [ "$(cat $d/vendor):$(cat $d/device)" = "0x1b36:0x0011" ] && skip=0
    while read -r start end flags; do
        [ $((flags & 0x200)) -ne 0 ] && [ $((start)) -ne 0 ] || continue
        hostile 2 mmio $start $((end - start + 1)) $skip || echo HOSTILE-FAILED
    done < $d/resource
done
hostile 3 mmio 0xfeb00000 0x1000 0 || echo HOSTILE-FAILED
hostile 4 holes || echo HOSTILE-FAILED
hostile 5 pcicfg || echo HOSTILE-FAILED
hostile 6 ecam 0xe0000000 0x100000 || echo HOSTILE-FAILED
hostile 7 fwcfg || echo HOSTILE-FAILED
echo HOSTILE-DONE
echo c > /proc/sysrq-trigger
""" % {"spared": " ".join(SPARED)}


class HostileGuestTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-hostile-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sock = os.path.join(self.dir, "qmp.sock")

    def test_hostile_guest_cannot_break_the_vmm(self):
        initrd = initrd_with_script(SCRIPT)
        self.addCleanup(os.unlink, initrd)
        # The i6300esb gives the attack a second PCI function with its own config registers
        # and BAR; junk may arm and expire it, so its action is none and WATCHDOG events,
        # should the junk ever complete its unlock sequence, are left out of the comparison.
        dumps = os.path.join(self.dir, "dumps")
        os.mkdir(dumps)
        vm = VM(["--pvpanic", "--pvpanic", "mmio", "--pvpanic", "pci",
                 "--watchdog", "i6300esb", "--action", "watchdog=none",
                 "--action", "panic=exit-failure", "--qmp", "unix:" + self.sock,
                 "--panic-dump", dumps],
                initrd=initrd, cmdline="console=ttyS0 iomem=relaxed")
        self.addCleanup(vm.kill)
        first = QMPClient(self.sock)
        self.addCleanup(first.close)

        vm.wait_console("HOSTILE-PORTS-DONE", timeout=900)
        # Mid-attack, a new client is served like any other.
        mid = QMPClient(self.sock)
        self.addCleanup(mid.close)
        self.assertEqual(mid.execute("query-status"),
                         {"return": {"running": True, "status": "running"}})
        self.assertIn("qemu", mid.execute("query-version")["return"])

        vm.wait_console("HOSTILE-DONE", timeout=900)
        text = vm.out.text()
        self.assertNotIn("HOSTILE-FAILED", text)
        for phase in ("ports", "mmio", "holes", "pcicfg", "ecam", "fwcfg"):
            self.assertRegex(text, r"hostile: %s done: [1-9]\d* accesses" % phase)
        # fw_cfg carried out some of the junk DMA and refused some (error bit).
        refused, done = map(int, re.search(r"hostile: fwcfg DMA: (\d+) refused, (\d+) done",
                                           text).groups())
        self.assertGreater(refused, 0)
        self.assertGreater(done, 0)

        for client in (first, mid):
            client.wait_events(["SHUTDOWN"])
            events = [e for e in client.event_list() if e[0] != "WATCHDOG"]
            self.assertEqual([e[0] for e in events],
                             ["GUEST_PANICKED", "DUMP_COMPLETED", "SHUTDOWN"])
            self.assertEqual(events[0], GUEST_PANIC("poweroff"))
            self.assertEqual(events[2], SHUTDOWN("guest-panic"))
            self.assertEqual(events[1][1]["result"]["status"], "completed")
        # The core is whole; the VMCOREINFO the guest last pointed at is outside RAM, so it
        # is left out (and said so), not read.
        core = events[1][1]["__org.minivmm_file"]
        self.assertEqual(os.path.getsize(core), events[1][1]["result"]["total"])
        notes = subprocess.run(["readelf", "-n", "-W", core], capture_output=True, text=True,
                               check=True, env=dict(os.environ, LC_ALL="C")).stdout
        self.assertIn("NT_PRSTATUS", notes)
        self.assertNotIn("VMCOREINFO", notes)
        self.assertIn("not a VMCOREINFO note in RAM", vm.err.text())
        self.assertEqual(vm.wait_exit(), 3)  # panic=exit-failure
        # The one thing it says is the panic; a guest's junk is logged at debug level only.
        self.assertIn("guest panicked", vm.stderr_lines()[-1], vm.err.text()[-2000:])

if __name__ == "__main__":
    unittest.main()
