#!/usr/bin/env python3
"""dump_bench.py - dump-guest-memory of minivmm beside QEMU's (-M microvm, KVM,
-device vmcoreinfo) on the same kernel, initramfs and touched guest RAM.

For each guest size (default 1024 and 4096 MiB) and each VMM: boot, let the guest program
`memtouch` (tests/guest/progs/memtouch.c) make all but 256 MiB (1/8 of a guest above 2 GiB) of
its RAM resident and non-zero, then time one dump-guest-memory (ELF, not detached) from the
request to the reply, sampling the VMM's VmRSS every few milliseconds from just before the
request to the reply. Prints:
  time       request to reply, seconds
  GiB/s      touched RAM written per second
  rss-grow   highest VmRSS during the dump minus VmRSS just before it (what the dump itself
             costs in memory: minivmm streams from the guest mapping and should add < 8 MiB)
  hwm-grow   VmHWM after the dump minus before it
  file       the core's size, and the bytes it occupies on disk (zero pages are holes)
  VMCOREINFO whether the core has the guest's VMCOREINFO note (what makedumpfile needs)
and the ratio QEMU/minivmm. Run it where /dev/kvm exists, or through tests/rig/rig.sh; the
cores go to --dir (default $TMPDIR), one at a time, removed after each run.

Environment: MINIVMM_BIN, MINIVMM_GUEST_KERNEL, MINIVMM_GUEST_INITRD (an initramfs with the
`memtouch` program: tests/guest/mkinitramfs.sh builds one), QEMU (default qemu-system-x86_64).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import (QMPClient, Stream, guest_kernel, initrd_with_script,  # noqa: E402
                     minivmm_bin)
from bench import QEMU_MACHINE  # noqa: E402  (bench.py says why ACPI is off)

CMDLINE = "console=ttyS0 panic=-1 quiet"


def spare_mib(mib):
    """RAM left to the guest kernel, its initramfs and page tables: 256 MiB, 1/8 of bigger guests
    (what the kernel keeps grows with RAM: in a 4 GiB guest minivmm's kernel killed memtouch
    when it asked for all but 256 MiB, at 3790 MiB resident)."""
    return max(256, mib // 8)


def vmm_argv(name, kernel, initrd, mib, sock):
    if name == "minivmm":
        return [minivmm_bin(), "--kernel", kernel, "--initrd", initrd, "--memory", str(mib),
                "--cmdline", CMDLINE, "--qmp", "unix:" + sock]
    # Without ACPI the guest's qemu_fw_cfg finds no fw_cfg (Debian's kernel lacks
    # FW_CFG_SYSFS_CMDLINE, the only other way on x86), so -device vmcoreinfo gets no note.
    return [os.environ.get("QEMU", "qemu-system-x86_64"), "-M",
            QEMU_MACHINE, "-enable-kvm", "-cpu", "host", "-m", str(mib),
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-serial",
            "stdio", "-kernel", kernel, "-initrd", initrd, "-append", CMDLINE, "-device",
            "vmcoreinfo", "-qmp", "unix:%s,server=on,wait=off" % sock]


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """Highest VmRSS of @pid until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))
                self.samples += 1
            except OSError:
                return
            time.sleep(0.002)


def has_vmcoreinfo(path):
    """Whether the ELF core at @path has a VMCOREINFO note (program headers at e_phoff)."""
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        f.seek(phoff)
        phdrs = f.read(phentsize * phnum)
        for i in range(phnum):
            ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", phdrs, i * phentsize)
            if ptype != 4:  # PT_NOTE
                continue
            f.seek(off)
            notes, pos = f.read(filesz), 0
            while pos + 12 <= len(notes):
                namesz, descsz, _ = struct.unpack_from("<III", notes, pos)
                name = notes[pos + 12:pos + 12 + namesz].rstrip(b"\0")
                if name == b"VMCOREINFO":
                    return True
                pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def warm_up(mib):
    """Write @mib MiB of anonymous memory once (at most MemAvailable less 512 MiB) and free it.
    In the rig the outer QEMU backs the rig's RAM on first use; without this the VMM that dumped
    first (minivmm) paid for it: its 1 GiB dump took 7.0 s as the first of a run, 4.1 and 4.3 s
    after the 4 GiB pair. On a host this costs only the kernel's page zeroing."""
    with open("/proc/meminfo") as f:
        avail = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:"))
    n = max(0, min(mib, avail // 1024 - 512))
    t0 = time.monotonic()
    buf = bytearray(b"\x01") * (n << 20)
    del buf
    return n, time.monotonic() - t0


def one_dump(name, kernel, initrd, mib, outdir, timeout):
    tmp = tempfile.mkdtemp(prefix="minivmm-dumpbench-")
    sock = os.path.join(tmp, "qmp.sock")
    core = os.path.join(outdir, "bench-%s-%d.vmcore" % (name, mib))
    touch = mib - spare_mib(mib)
    p = subprocess.Popen(vmm_argv(name, kernel, initrd, mib, sock), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = Stream(p.stdout), Stream(p.stderr)
    try:
        qmp = QMPClient(sock, timeout=timeout)
        if not out.wait_for(r"TOUCHED %d" % touch, timeout):
            raise RuntimeError("%s %d MiB: the guest never touched its RAM\n%s\n%s" % (
                name, mib, out.text()[-2000:], err.text()[-2000:]))
        time.sleep(1)
        rss0, hwm0 = status_kib(p.pid, "VmRSS"), status_kib(p.pid, "VmHWM")
        sampler = Sampler(p.pid)
        sampler.start()
        t0 = time.monotonic()
        qmp.sock.sendall(json.dumps({"execute": "dump-guest-memory", "arguments": {
            "paging": False, "protocol": "file:" + core}}).encode())
        while True:  # events (STOP, DUMP_COMPLETED, RESUME) come first
            r = qmp.recv(timeout)
            if "event" not in r:
                break
        t = time.monotonic() - t0
        sampler.stop.set()
        sampler.join()
        if "return" not in r:
            raise RuntimeError("%s: %s" % (name, r))
        hwm1 = status_kib(p.pid, "VmHWM")
        st = os.stat(core)
        vmcoreinfo = has_vmcoreinfo(core)
        qmp.close()
        return {"time": t, "gibs": touch / 1024 / t, "rss": max(0, sampler.peak - rss0),
                "hwm": hwm1 - hwm0, "size": st.st_size, "disk": st.st_blocks * 512,
                "rss0": rss0, "samples": sampler.samples, "touched": touch,
                "vmcoreinfo": vmcoreinfo}
    finally:
        p.kill()
        p.wait()
        if os.path.exists(core):
            os.unlink(core)
        shutil.rmtree(tmp, ignore_errors=True)


def table(results, sizes):
    """The table's lines from one_dump's results by (VMM, MiB)."""
    rows = [("guest", "metric", "minivmm", "qemu microvm", "qemu/minivmm")]
    fmt = {"time": lambda v: "%.2f s" % v, "gibs": lambda v: "%.2f" % v,
           "rss": lambda v: "%d KiB" % v, "hwm": lambda v: "%d KiB" % v,
           "size": lambda v: "%.0f MiB" % (v / 2**20), "disk": lambda v: "%.0f MiB" % (v / 2**20),
           "vmcoreinfo": lambda v: "yes" if v else "no"}
    label = {"time": "time", "gibs": "GiB/s", "rss": "rss-grow", "hwm": "hwm-grow",
             "size": "file", "disk": "on disk", "vmcoreinfo": "VMCOREINFO note"}
    for mib in sizes:
        for key in ("time", "gibs", "rss", "hwm", "size", "disk", "vmcoreinfo"):
            mv, qm = results.get(("minivmm", mib)), results.get(("qemu", mib))
            ratio = ""
            if mv and qm and mv[key] and key != "vmcoreinfo":
                ratio = "%.2f" % (qm[key] / mv[key])
            rows.append(("%d MiB (%d touched)" % (mib, mib - spare_mib(mib)), label[key],
                         fmt[key](mv[key]) if mv else "-", fmt[key](qm[key]) if qm else "-",
                         ratio))
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    return ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1024,4096", help="guest RAM sizes in MiB")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the cores go")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--only", choices=["minivmm", "qemu"], help="one VMM only")
    a = ap.parse_args()
    kernel = guest_kernel()
    results = {}
    names = [a.only] if a.only else ["minivmm", "qemu"]
    sizes = [int(s) for s in a.sizes.split(",")]
    # Enough for the biggest guest's RAM and its core (and a little for the guest's VMM).
    n, t = warm_up(2 * max(sizes) + 256)
    print("dump-bench: warm-up wrote %d MiB in %.1f s" % (n, t), file=sys.stderr, flush=True)
    for mib in sizes:
        initrd = initrd_with_script("memtouch %d\n" % (mib - spare_mib(mib)))
        try:
            for name in names:
                print("dump-bench: %s, %d MiB ..." % (name, mib), file=sys.stderr, flush=True)
                try:
                    results[(name, mib)] = one_dump(name, kernel, initrd, mib, a.dir,
                                                    a.timeout)
                except (RuntimeError, OSError, AssertionError, EOFError) as e:
                    print("dump-bench:   %s %d MiB failed: %s" % (name, mib, e),
                          file=sys.stderr, flush=True)
                    continue
                print("dump-bench:   %r" % results[(name, mib)], file=sys.stderr, flush=True)
        finally:
            os.unlink(initrd)
    qemu_version = subprocess.run([os.environ.get("QEMU", "qemu-system-x86_64"), "--version"],
                                  capture_output=True, text=True).stdout.splitlines()[0]
    print("dump-guest-memory (ELF, not detached), one run each; guest kernel %s; %s; cores in "
          "%s" % (os.path.basename(kernel), qemu_version, a.dir))
    print("\n".join(table(results, sizes)))


if __name__ == "__main__":
    main()
