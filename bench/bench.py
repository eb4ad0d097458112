#!/usr/bin/env python3
"""bench.py - minivmm beside QEMU (-M microvm, KVM) on the same kernel and initramfs.

Prints a table of medians over --runs boots:
  setup      process start (just before fork) to the first KVM_RUN, recorded by an LD_PRELOAD
             shim (bench/first_run.c) in both VMMs; strace would stop the process on every
             ioctl, and inside the nested rig that cost dominates what it measures
  to-init    process start to the guest init's marker on the console
  rss-over   peak RSS of the VMM minus the guest RAM it has touched (from /proc/PID/smaps)
  binary     size of the VMM executable
  panic      guest's pvpanic write (marked by a byte it writes to the UART just before) to
             GUEST_PANICKED arriving at a QMP client (QEMU: -device pvpanic on microvm)
and the ratios QEMU/minivmm. Absolute times on a nested, emulated host are inflated and noisy;
the ratios are the point. Run it where /dev/kvm exists, or through tests/rig/rig.sh.

Environment: MINIVMM_BIN, MINIVMM_GUEST_KERNEL, MINIVMM_GUEST_INITRD (as the tests), QEMU
(default qemu-system-x86_64).
"""
import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import (QMPClient, Stream, guest_kernel, initrd_with_script,  # noqa: E402
                     minivmm_bin, INIT_MARKER)

MEM_MIB = 256
CMDLINE = "console=ttyS0 panic=-1"


def vmm_commands(kernel, initrd):
    qemu = os.environ.get("QEMU", "qemu-system-x86_64")
    return {
        "minivmm": [minivmm_bin(), "--kernel", kernel, "--initrd", initrd,
                    "--memory", str(MEM_MIB), "--cmdline", CMDLINE],
        "qemu": [qemu, "-M", "microvm,rtc=off,x-option-roms=off", "-enable-kvm", "-cpu", "host",
                 "-m", str(MEM_MIB), "-smp", "1", "-nodefaults", "-no-user-config",
                 "-display", "none", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                 "-append", CMDLINE],
    }


def guest_ram_rss_kib(pid, mem_mib):
    """Rss of the anonymous mappings at least as big as guest RAM below the hole."""
    total = 0
    size = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                a, b = line.split()[0].split("-")
                size = (int(b, 16) - int(a, 16)) >> 10
            elif line.startswith("Rss:") and size is not None:
                if size >= mem_mib * 1024:
                    total += int(line.split()[1])
                size = None
    return total


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def build_shim(workdir):
    """Compile the first-KVM_RUN shim; returns its path."""
    so = os.path.join(workdir, "first_run.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", so,
                    os.path.join(HERE, "first_run.c"), "-ldl"], check=True)
    return so


def one_boot(name, argv, timeout, shim):
    tmp = tempfile.mkdtemp(prefix="minivmm-bench-")
    stamp = os.path.join(tmp, "first-run")
    env = dict(os.environ, LD_PRELOAD=shim, BENCH_FIRST_RUN_FILE=stamp)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    out = Stream(p.stdout)
    m = out.wait_for(INIT_MARKER, timeout)
    t_init = time.monotonic() - t0 if m else None
    out.wait_for(r"BENCH-IDLE", timeout)
    time.sleep(0.5)
    try:
        hwm = vm_hwm_kib(p.pid)
        guest = guest_ram_rss_kib(p.pid, MEM_MIB * 3 // 4)
    finally:
        p.kill()
        p.wait()
    setup = None
    if os.path.exists(stamp):
        with open(stamp) as f:
            setup = float(f.read()) - t0
    shutil.rmtree(tmp, ignore_errors=True)
    return {"setup": setup, "init": t_init, "rss": (hwm - guest) if hwm else None}


def panic_latency(name, argv, sock, timeout):
    """Seconds from the guest's marker byte on the console to GUEST_PANICKED on QMP."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        qmp = QMPClient(sock, timeout=timeout)
        fd = proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        # The 'Z' after PANIC-NOW is the marker written just before the pvpanic write.
        while b"Z" not in buf.split(b"PANIC-NOW", 1)[-1] or b"PANIC-NOW" not in buf:
            if time.monotonic() > deadline:
                raise RuntimeError("%s: no panic marker within %ss" % (name, timeout))
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                continue
            chunk = os.read(fd, 1 if b"PANIC-NOW" in buf else 65536)
            if not chunk:
                raise RuntimeError("%s ended before the panic marker" % name)
            buf += chunk
        t_mark = time.monotonic()
        qmp.wait_events(["GUEST_PANICKED"], timeout)
        t_event = time.monotonic()
        qmp.close()
        return t_event - t_mark
    finally:
        proc.kill()
        proc.wait()


def progress(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def fmt_ms(v, digits=1):
    return "-" if v is None else "%.*f ms" % (digits, v * 1000)


def fmt_kib(v):
    return "-" if v is None else "%.2f MiB" % (v / 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=180)
    a = ap.parse_args()
    if not os.path.exists("/dev/kvm") or os.path.isdir("/sys/module/kvm_pvm"):
        sys.exit("bench.py needs a /dev/kvm that runs ordinary guests: run it through tests/rig/rig.sh")
    shim_dir = tempfile.mkdtemp(prefix="minivmm-bench-shim-")
    shim = build_shim(shim_dir)
    initrd = initrd_with_script("echo BENCH-IDLE; sleep 1000\n")
    cmds = vmm_commands(guest_kernel(), initrd)
    results = {}
    for name, argv in cmds.items():
        runs = []
        for i in range(a.runs):
            runs.append(one_boot(name, argv, a.timeout, shim))
            progress("%s boot %d/%d: %r" % (name, i + 1, a.runs, runs[-1]))

        def med(key):
            vals = [r[key] for r in runs if r[key] is not None]
            return statistics.median(vals) if vals else None

        results[name] = {"setup": med("setup"), "init": med("init"), "rss": med("rss"),
                         "binary": os.path.getsize(shutil.which(argv[0]) or argv[0])}
    os.unlink(initrd)
    shutil.rmtree(shim_dir, ignore_errors=True)

    # Panic to event: same guest, pvpanic on port 0x505 in both, panic action pause.
    pinitrd = initrd_with_script("echo PANIC-NOW; portio mark 0x3f8 0x505; sleep 1000\n")
    work = tempfile.mkdtemp(prefix="minivmm-bench-")
    sock = os.path.join(work, "qmp.sock")
    lat = {}
    for name, argv in vmm_commands(guest_kernel(), pinitrd).items():
        if name == "qemu":
            # microvm has an ISA bus for QEMU's pvpanic; the guest writes the port directly.
            argv += ["-device", "pvpanic", "-action", "panic=pause",
                     "-qmp", "unix:%s,server=on,wait=off" % sock]
        else:
            argv += ["--pvpanic", "--action", "panic=pause", "--qmp", "unix:" + sock]
        vals = []
        for _ in range(a.runs):
            if os.path.exists(sock):
                os.unlink(sock)
            try:
                vals.append(panic_latency(name, argv, sock, a.timeout))
                progress("%s panic %d/%d: %.3f ms" % (name, len(vals), a.runs, vals[-1] * 1000))
            except (RuntimeError, AssertionError, OSError) as e:
                progress("%s panic run failed: %s" % (name, e))
        lat[name] = statistics.median(vals) if vals else None
    os.unlink(pinitrd)
    shutil.rmtree(work, ignore_errors=True)
    results["minivmm"]["panic"] = lat["minivmm"]
    results["qemu"]["panic"] = lat["qemu"]

    mv, qm = results["minivmm"], results["qemu"]

    def ratio(key):
        if not mv[key] or not qm[key]:
            return "-"
        return "%.1fx" % (qm[key] / mv[key])

    rows = [
        ("start -> first KVM_RUN", fmt_ms(mv["setup"]), fmt_ms(qm["setup"]), ratio("setup"),
         ">= 10x"),
        ("start -> guest init marker", fmt_ms(mv["init"]), fmt_ms(qm["init"]), ratio("init"), ""),
        ("peak RSS - touched guest RAM", fmt_kib(mv["rss"]), fmt_kib(qm["rss"]), ratio("rss"),
         ">= 5x, < 2 MiB"),
        ("binary size", fmt_kib(mv["binary"] / 1024), fmt_kib(qm["binary"] / 1024),
         ratio("binary"), ""),
        ("guest pvpanic write -> QMP event", fmt_ms(mv["panic"], 3), fmt_ms(qm["panic"], 3),
         ratio("panic"), ">= 2x"),
    ]
    qemu_version = subprocess.run([os.environ.get("QEMU", "qemu-system-x86_64"), "--version"],
                                  capture_output=True, text=True).stdout.split("\n")[0]
    print("median of %d boots, %d MiB guest, kernel %s; %s" % (
        a.runs, MEM_MIB, os.path.basename(guest_kernel()), qemu_version))
    w = [max(len(r[i]) for r in rows + [("metric", "minivmm", "qemu", "qemu/minivmm", "target")])
         for i in range(5)]
    hdr = ("metric", "minivmm", "qemu microvm", "qemu/minivmm", "target")
    w = [max(w[i], len(hdr[i])) for i in range(5)]
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
    print("|" + "|".join("-" * (w[i] + 2) for i in range(5)) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")


if __name__ == "__main__":
    main()
