"""test_fdt.py - the flattened device tree: --dump-dtb decompiles cleanly with dtc and names
what the buses use; the guest receives the same blob as a SETUP_DTB entry and still boots on
ACPI alone (Debian's x86 kernel has no CONFIG_OF); bad --pvpanic mmio addresses are refused."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from test_core import ACPI_BAD
from harness import (VM, INIT_MARKER, assert_refused, initrd_with_script, guest_kernel,
                     minivmm_bin)


def dump_dtb(path, args):
    p = subprocess.run([minivmm_bin(), "--kernel", guest_kernel(), "--dump-dtb", path] + args,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode()


def decompile(path):
    """dtc -I dtb -O dts with its default checks: (dts text, stderr)."""
    p = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", path], capture_output=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode(), p.stderr.decode()


class DumpDtbTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="minivmm-fdt-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_dump_dtb_private_and_no_symlink(self):
        # Created 0600 whatever the umask; a symlink at the path is refused, its target kept.
        path = os.path.join(self.dir, "m.dtb")
        p = subprocess.run([minivmm_bin(), "--kernel", guest_kernel(), "--dump-dtb", path],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                           preexec_fn=lambda: os.umask(0))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(path).st_mode & 0o7777, 0o600)
        victim = os.path.join(self.dir, "victim")
        with open(victim, "w") as f:
            f.write("precious")
        link = os.path.join(self.dir, "link.dtb")
        os.symlink(victim, link)
        code, out, err = dump_dtb(link, [])
        self.assertNotEqual(code, 0)
        self.assertIn("cannot write the device tree to '%s': it is a symbolic link" % link, err)
        with open(victim) as f:
            self.assertEqual(f.read(), "precious")

    def test_dump_dtb_decompiles_without_warnings(self):
        path = os.path.join(self.dir, "m.dtb")
        code, out, err = dump_dtb(path, ["--cpus", "2", "--memory", "4096", "--cmdline",
                                         "console=ttyS0 fdt-test", "--pvpanic", "mmio",
                                         "--pvpanic", "mmio,addr=0xfed00000,events=0x1"])
        self.assertEqual(code, 0, err)
        self.assertEqual(out, b"")  # exits after writing, as QEMU's dumpdtb: no guest ran
        self.assertEqual(err, "")
        dts, warnings = decompile(path)
        self.assertEqual(warnings, "")
        for needle in ['compatible = "minivmm,microvm";',
                       'bootargs = "console=ttyS0 fdt-test";',
                       'stdout-path = "/isa/serial@i3f8";',
                       "memory@0 {", "memory@100000000 {", "cpu@0 {", "cpu@1 {",
                       "interrupt-controller@fec00000 {",
                       "serial@i3f8 {", 'compatible = "ns16550a";',
                       "reg = <0x01 0x3f8 0x08>;", "clock-frequency = <0x1c2000>;",
                       "pvpanic@feb00000 {", "reg = <0x00 0xfeb00000 0x00 0x01>;",
                       "pvpanic@fed00000 {", 'compatible = "qemu,pvpanic-mmio";',
                       "hypervisor {", "has-reset;", "has-shutdown;"]:
            self.assertIn(needle, dts)
        self.assertNotIn("cpu@2 {", dts)
        # 4096 MiB: 3 GiB below the hole (minus 640K-1M), 1 GiB from 4 GiB.
        self.assertIn("reg = <0x01 0x00 0x00 0x40000000>;", dts)

    def test_no_shutdown_path_no_has_shutdown(self):
        # Without \_S5 and with no pvpanic shutdown bit the guest cannot ask to power off.
        path = os.path.join(self.dir, "m.dtb")
        code, _, err = dump_dtb(path, ["--no-acpi-shutdown", "--pvpanic", "events=0x1"])
        self.assertEqual(code, 0, err)
        dts, warnings = decompile(path)
        self.assertEqual(warnings, "")
        self.assertIn("has-reset;", dts)
        self.assertNotIn("has-shutdown", dts)
        self.assertNotIn("pvpanic@", dts)  # an ISA pvpanic has no device-tree binding

    def test_dump_dtb_unwritable_path(self):
        code, _, err = dump_dtb(os.path.join(self.dir, "no", "such", "dir.dtb"), [])
        self.assertEqual(code, 1)
        self.assertIn("cannot write the device tree", err)


class GuestDtbTest(unittest.TestCase):
    def test_guest_gets_the_dtb_and_boots_on_acpi(self):
        # The same blob --dump-dtb writes reaches the guest as setup_data type 2 (SETUP_DTB).
        # This kernel has no CONFIG_OF, so it does not parse it: ACPI alone describes the
        # machine, with one serial port and the MMIO pvpanic bound once.
        d = tempfile.mkdtemp(prefix="minivmm-fdt-")
        self.addCleanup(shutil.rmtree, d, True)
        args = ["--pvpanic", "mmio"]
        cmdline = "console=ttyS0"
        path = os.path.join(d, "m.dtb")
        code, _, err = dump_dtb(path, ["--cmdline", cmdline] + args)
        self.assertEqual(code, 0, err)
        want = hashlib.md5(open(path, "rb").read()).hexdigest()
        script = ("s=/sys/kernel/boot_params/setup_data; echo SD-COUNT=$(ls $s | wc -l); "
                  "echo SD-TYPE=$(cat $s/0/type); md5sum $s/0/data | sed 's/ .*//;s/^/SD-MD5=/'; "
                  "echo OF=$(test -e /proc/device-tree && echo yes || echo no); "
                  "echo UARTS=$(dmesg | grep -c 'ttyS[0-9].*is a 16550A'); "
                  "echo IOMEM=$(grep -c '^feb00000-feb00000 : QEMU0001' /proc/iomem); "
                  "poweroff -f\n")
        initrd = initrd_with_script(script)
        self.addCleanup(os.unlink, initrd)
        vm = VM(args, initrd=initrd, cmdline=cmdline)
        self.addCleanup(vm.kill)
        vm.wait_console(INIT_MARKER)
        vm.wait_console(r"UARTS=\d+")
        vm.wait_console(r"IOMEM=\d+")
        self.assertEqual(vm.wait_exit(), 0)
        out = vm.out.text()
        self.assertRegex(out, r"SD-COUNT=1\b")
        self.assertRegex(out, r"SD-TYPE=0x2\b")
        self.assertIn("SD-MD5=" + want, out)
        self.assertRegex(out, r"OF=no\b")
        self.assertRegex(out, r"UARTS=1\b")
        self.assertRegex(out, r"IOMEM=1\b")
        lines = vm.stderr_lines()
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("guest powered off (guest-shutdown)", lines[0])
        self.assertEqual([l for l in out.splitlines() if ACPI_BAD.search(l)], [])


class PvpanicUsageTest(unittest.TestCase):
    """Bad --pvpanic values: one clear line, exit status 2, no guest."""

    def test_bad_pvpanic_values(self):
        k = guest_kernel()
        cases = [
            (["mmio,addr=0xfeb00010"], "not page-aligned"),
            (["mmio,addr=0x1000"], "outside the 32-bit MMIO hole"),
            (["mmio,addr=0x100000000"], "addr= wants a number"),
            (["mmio,addr=0xfec00000"], "overlaps the IOAPIC"),
            (["mmio,addr=0xfee00000"], "overlaps the LAPIC"),
            (["mmio,addr=0xc0001000"], "overlaps the PCI memory window"),
            (["mmio,addr=nope"], "addr= wants a number"),
            (["mmio,port=0x506"], "unknown option 'port=0x506'"),
            (["isa,addr=0xfeb00000"], "unknown option 'addr=0xfeb00000'"),
            (["mmio,events=0x9"], "events wants a mask"),
            (["pcie"], "unknown flavour 'pcie'"),
            (["pci,addr=0xc0000000"], "not allowed"),
            (["mmio", "--pvpanic", "mmio"], "two mmio instances at 0xfeb00000"),
            (["isa", "--pvpanic"], "two isa instances at 0x505"),
        ]
        for opts, needle in cases:
            with self.subTest(opts=opts):
                assert_refused(self, ["--kernel", k, "--pvpanic"] + opts, needle)


if __name__ == "__main__":
    unittest.main()
