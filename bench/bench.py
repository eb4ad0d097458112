#!/usr/bin/env python3
"""bench.py - minivmm beside QEMU (-M microvm, KVM) on the same kernel and initramfs.

Prints one table, every metric with minivmm, QEMU, the ratio QEMU/minivmm and the target:
  setup      process start (just before fork) to the first KVM_RUN, wall and the VMM's CPU
             time (all threads), taken from outside by bench/first_run.c: a seccomp filter
             hands the first KVM_RUN to it, which reads the clocks and kills the VMM (separate
             runs from the boots); the same for a static and a dynamic VMM
  to-init    process start to the guest init's marker on the console
  exits      VM exits from start to the init marker, by reason, read from outside both VMMs
             the same way: KVM's per-VM statistics in debugfs (/sys/kernel/debug/kvm/PID-FD/)
  rss-over   peak RSS of the VMM minus the guest RAM it has touched (from /proc/PID/smaps)
  binary     size of the VMM executable
  panic      p50/p90/p99 over --panics pvpanic writes in one boot per VMM: the guest
             (tests/guest/progs/portio.c panicloop) writes 'Z' to the UART, then the pvpanic
             register, 150 ms apart (under minivmm's bound on guest event floods), with the
             panic action run (panic=none: each write is one GUEST_PANICKED {action: run} and
             the guest goes on). Two measures of each write, from the same boot:
             - the VMM's own cost, timestamped by the host kernel (ftrace, trace_clock mono,
               PanicTrace): from the kvm_pio event of the guest's write to port 0x505 (taken
               in KVM as the exit happens, before the VMM sees it) to the VMM's first
               write/writev/sendmsg/sendto after it on one of its sockets (the QMP client's:
               the fds are read from /proc/PID/fd once the client is in; the console pipe and
               a journal file are not sockets). Only the VMM's threads are traced: it is
               started as sh -c 'echo $$ > set_event_pid; exec VMM', with event-fork set.
               Taken the same way for both VMMs, from outside. A second row takes out of each
               sample the time other processes ran while a VMM thread was preempted
               (switched out in state R and not run since; until one of its threads runs):
               on the rig's one CPU the bench's own reader, woken by the console byte that
               minivmm writes within the pvpanic exit (its COM1 output is batched by KVM and
               written before the exit is handled), would otherwise count as minivmm's.
               Without ftrace (not root, no tracefs, no kvm_pio) these rows are left out and
               the bench says why.
             - what a client sees: from the 'Z' arriving on the VMM's stdout to its
               GUEST_PANICKED arriving at a QMP client (select on both, Python's wakeups
               included; minivmm's 'Z' leaves at the pvpanic exit, QEMU's at its own exit).
             minivmm twice: without and with --event-log (a journal line each, written
             before the send; a repeatable GUEST_PANICKED is fdatasync'd at most once a second).
             MINIVMM_BENCH_PANIC_SAMPLES=FILE appends every sample there.
  density    --density VMs (80 MiB each, the same initramfs) launched at once: time until all
             printed the init marker, and the memory they use together then (sum of PSS)
Absolute times on a nested, emulated host are inflated and noisy; the ratios are the point.
Run it where /dev/kvm exists, or through tests/rig/rig.sh. --quick: one boot, 20 panics,
2 VMs; checks that every metric is produced (exit status 1 if one is missing), for CI.

Environment: MINIVMM_BIN, MINIVMM_GUEST_KERNEL, MINIVMM_GUEST_INITRD (as the tests), QEMU
(default qemu-system-x86_64).
"""
import argparse
import glob
import json
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
from harness import (Stream, connect_unix, guest_kernel, initrd_with_script,  # noqa: E402
                     minivmm_bin, INIT_MARKER)

MEM_MIB = 256
# Issue 14 asks for 64 MiB guests; the Debian cloud kernel does not fit: its bzImage header
# asks for pref_address 0x1000000 and init_size 0x37dc000, and its decompressor never works
# below 16 MiB, so it needs RAM up to 0x47dc000 (71.9 MiB) before the initramfs (5.9 MiB) goes
# above it: minivmm refuses 64 and 72 MiB; QEMU's guest prints nothing after its setup code at
# 64 MiB and panics at 72 (README). 80 MiB, the smallest size tried that boots under both.
DENSITY_MEM_MIB = int(os.environ.get("BENCH_DENSITY_MEM_MIB", "80"))
CMDLINE = "console=ttyS0 panic=-1"
PVPANIC_PORT = 0x505
PANIC_GAP_MS = 150  # above the 100 ms bound minivmm puts on guest event floods (README)
# QEMU 10.0.2 microvm with ACPI but without option ROMs never started the kernel in the rig
# (no console byte in 90 s, even with earlyprintk); without ACPI it boots, and that is also
# its leanest configuration (no firmware ROM, no ACPI tables): minivmm races QEMU at its best.
QEMU_MACHINE = os.environ.get("BENCH_QEMU_MACHINE", "microvm,rtc=off,x-option-roms=off,acpi=off")
KVM_DEBUGFS = "/sys/kernel/debug/kvm"
EXIT_REASONS = ["exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
                "irq_window_exits", "insn_emulation", "hypercalls", "signal_exits"]


def qemu_bin():
    return os.environ.get("QEMU", "qemu-system-x86_64")


def vmm_commands(kernel, initrd, mem_mib=MEM_MIB):
    return {
        "minivmm": [minivmm_bin(), "--kernel", kernel, "--initrd", initrd,
                    "--memory", str(mem_mib), "--cmdline", CMDLINE],
        "qemu": [qemu_bin(), "-M", QEMU_MACHINE, "-enable-kvm", "-cpu",
                 "host", "-m", str(mem_mib), "-smp", "1", "-nodefaults", "-no-user-config",
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


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pss_kib(pid):
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def mount_debugfs():
    """KVM's per-VM statistics live in debugfs; the rig does not mount it. True if there."""
    if not os.path.isdir(KVM_DEBUGFS):
        subprocess.run(["mount", "-t", "debugfs", "debugfs", "/sys/kernel/debug"],
                       stderr=subprocess.DEVNULL)
    return os.path.isdir(KVM_DEBUGFS)


def kvm_stats(pid):
    """Exit counters of the process's VM (the one with the most exits, should it have more)."""
    best = None
    for d in glob.glob("%s/%d-*" % (KVM_DEBUGFS, pid)):
        vals = {}
        for name in EXIT_REASONS:
            try:
                with open(os.path.join(d, name)) as f:
                    vals[name] = int(f.read())
            except (OSError, ValueError):
                pass
        if vals and (best is None or vals.get("exits", 0) > best.get("exits", 0)):
            best = vals
    return best


def build_stopwatch(workdir):
    """Compile the first-KVM_RUN stopwatch; returns its path."""
    exe = os.path.join(workdir, "first_run")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "first_run.c")], check=True)
    return exe


def one_setup(argv, timeout, stopwatch):
    """(wall, cpu) seconds from start to the first KVM_RUN, or (None, None)."""
    r = subprocess.run([stopwatch, str(int(timeout))] + argv, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if r.returncode:
        progress("first_run: %s" % r.stderr.strip())
        return None, None
    wall, cpu = r.stdout.split()
    return float(wall), float(cpu)


def guest_ram_run_rss_kib(pid, mem_mib):
    """Rss of guest RAM: the biggest mapping and the ones contiguous with it, up to the guest's
    size (minivmm maps the kernel and initrd over parts of it, which splits it)."""
    vmas = []
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                a, b = line.split()[0].split("-")
                vmas.append([int(a, 16), int(b, 16), 0])
            elif line.startswith("Rss:") and vmas:
                vmas[-1][2] = int(line.split()[1])
    if not vmas:
        return 0
    i = max(range(len(vmas)), key=lambda k: vmas[k][1] - vmas[k][0])
    lo = hi = i
    size = vmas[i][1] - vmas[i][0]
    limit = mem_mib << 20
    while True:
        if lo > 0 and vmas[lo - 1][1] == vmas[lo][0] and \
                size + vmas[lo - 1][1] - vmas[lo - 1][0] <= limit:
            lo -= 1
            size += vmas[lo][1] - vmas[lo][0]
        elif hi + 1 < len(vmas) and vmas[hi + 1][0] == vmas[hi][1] and \
                size + vmas[hi + 1][1] - vmas[hi + 1][0] <= limit:
            hi += 1
            size += vmas[hi][1] - vmas[hi][0]
        else:
            break
    return sum(v[2] for v in vmas[lo:hi + 1])


def one_boot(name, argv, timeout):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = Stream(p.stdout)
    m = out.wait_for(INIT_MARKER, timeout)
    t_init = time.monotonic() - t0 if m else None
    exits = kvm_stats(p.pid) if m else None
    out.wait_for(r"BENCH-IDLE", timeout)
    time.sleep(0.5)
    try:
        hwm = status_kib(p.pid, "VmHWM")
        guest = guest_ram_run_rss_kib(p.pid, MEM_MIB)
    finally:
        p.kill()
        p.wait()
    return {"init": t_init, "rss": (hwm - guest) if hwm else None, "exits": exits}


class QMPEvents:
    """A bare QMP client for the panic loop: connect, negotiate, then hand out raw lines."""

    def __init__(self, path, timeout):
        self.sock = connect_unix(path, timeout)
        self.buf = b""
        self.sock.settimeout(timeout)
        self.lines()  # greeting
        self.sock.sendall(b'{"execute": "qmp_capabilities"}')
        while not any(b'"return"' in ln for ln in self.lines()):
            pass
        self.sock.setblocking(False)

    def lines(self):
        """Whole lines read so far (blocks for at least one when the socket blocks)."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QMP socket closed")
            self.buf += chunk
        *whole, self.buf = self.buf.split(b"\n")
        return [ln for ln in whole if ln.strip()]

    def poll_lines(self):
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return []
        if not chunk:
            raise EOFError("QMP socket closed")
        self.buf += chunk
        if b"\n" not in self.buf:
            return []
        *whole, self.buf = self.buf.split(b"\n")
        return [ln for ln in whole if ln.strip()]


class PanicTrace:
    """The VMM's own cost of a panic, timestamped by the host kernel (ftrace, clock 'mono'):
    from the kvm_pio event of the guest's write to the pvpanic port to the VMM's next
    write/writev/sendmsg/sendto on one of its sockets (the QMP client's), traced for the VMM's
    threads only (set_event_pid, inherited by the threads it makes: options/event-fork).
    sched_switch too, so that the time other processes ran while a VMM thread was preempted
    (switched out runnable and not run since) can be taken out of each sample as well."""

    SENDS = ("sys_enter_write", "sys_enter_writev", "sys_enter_sendmsg", "sys_enter_sendto")
    LINE = re.compile(r"\[(\d+)\](?:\s+\S+)?\s+(\d+\.\d+):\s+(\S+?)[:(]\s*(.*)$")
    SWITCH = re.compile(r"prev_pid=(\d+).*?prev_state=(\S+) ==> .*?next_pid=(\d+)")

    def __init__(self, port):
        self.port = port
        self.dir = None
        self.why = self._find()

    def _find(self):
        if os.geteuid() != 0:
            return "not root"
        for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
            if not os.path.exists(os.path.join(d, "trace")) and d == "/sys/kernel/tracing":
                subprocess.run(["mount", "-t", "tracefs", "nodev", d], stderr=subprocess.DEVNULL)
            if os.path.exists(os.path.join(d, "trace")):
                self.dir = d
                break
        if not self.dir:
            return "no tracefs at /sys/kernel/tracing or /sys/kernel/debug/tracing"
        need = ["events/kvm/kvm_pio/format", "events/sched/sched_switch/enable",
                "set_event_pid", "options/event-fork"]
        need += ["events/syscalls/%s/enable" % e for e in self.SENDS]
        for f in need:
            if not os.path.exists(os.path.join(self.dir, f)):
                return "no %s in %s" % (f, self.dir)
        fields = self._fields("kvm/kvm_pio")
        if "port" not in fields or "rw" not in fields:
            return "kvm_pio has no port/rw field (%s)" % " ".join(fields)
        try:
            self.reset()
            self._w("trace_clock", "mono")
            self._w("options/event-fork", "1")
            self._w("buffer_size_kb", "8192")
        except OSError as e:
            return "cannot set up ftrace: %s" % e
        return None

    def _fields(self, event):
        with open(os.path.join(self.dir, "events", event, "format")) as f:
            return re.findall(r"field:[^;]*?(\w+)(?:\[\d*\])?;", f.read())

    def _w(self, name, val):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(val)

    def reset(self):
        self._w("tracing_on", "0")
        self._w("events/enable", "0")
        for ev in ["kvm/kvm_pio"] + ["syscalls/" + e for e in self.SENDS]:
            self._w("events/%s/filter" % ev, "0")
        self._w("set_event_pid", "")
        self._w("trace", "")

    def wrap(self, argv):
        """@argv started so that its pid (and so every thread it makes) is traced."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"',
                os.path.join(self.dir, "set_event_pid")] + argv

    def tasks(self, pid):
        try:
            self.tids |= set(int(t) for t in os.listdir("/proc/%d/task" % pid))
        except OSError:
            pass

    def arm(self, pid):
        """Once the QMP client is in: filter on the VMM's socket fds, start tracing."""
        fds = []
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                    fds.append(int(fd))
            except OSError:
                pass
        self.tids = set()
        self.tasks(pid)
        self._w("events/kvm/kvm_pio/filter", "port == %d && rw == 1" % self.port)
        for e in self.SENDS:
            self._w("events/syscalls/%s/filter" % e,
                    " || ".join("fd == %d" % fd for fd in fds) or "fd == -1")
            self._w("events/syscalls/%s/enable" % e, "1")
        self._w("events/kvm/kvm_pio/enable", "1")
        # set_event_pid keeps the switches from or to a VMM thread.
        self._w("events/sched/sched_switch/enable", "1")
        self._w("trace", "")
        self._w("tracing_on", "1")
        return fds

    def collect(self, pid):
        """Per sample (pio -> the first send after it): its latency and the same less the
        time other processes ran while a VMM thread was preempted; and the number of pios
        left without a send."""
        self._w("tracing_on", "0")
        self.tasks(pid)
        with open(os.path.join(self.dir, "trace")) as f:
            text = f.read()
        return self.parse(text)

    def parse(self, text):
        ev = []
        off = []  # (from, to): another process ran while a VMM thread was preempted
        out_since = {}  # CPU -> since when another process runs there, a VMM thread waiting
        waiting = set()  # VMM threads switched out runnable (state R) and not run since
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            m = self.LINE.search(line)
            if not m:
                continue
            cpu, t, name, rest = int(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
            if name == "kvm_pio":
                ev.append((t, "pio"))
            elif name == "sched_switch":
                sw = self.SWITCH.search(rest)
                if not sw:
                    continue
                prev, state, nxt = int(sw.group(1)), sw.group(2), int(sw.group(3))
                if prev in self.tids and state.startswith("R"):
                    waiting.add(prev)
                waiting.discard(nxt)
                if nxt in self.tids:
                    if cpu in out_since:
                        off.append((out_since.pop(cpu), t))
                elif prev in self.tids and waiting:
                    # Also when the thread switching out sleeps (QEMU's main thread after
                    # the vCPU thread woke it) while another of the VMM's waits to run.
                    out_since[cpu] = t
            elif name.startswith("sys_"):
                # The filter set in arm() passed only the socket fds (how the fd is printed,
                # hex or decimal, depends on the kernel).
                ev.append((t, "send"))
        lat, own, pending, unpaired = [], [], None, 0
        for t, kind in ev:
            if kind == "pio":
                if pending is not None:
                    unpaired += 1
                pending = t
            elif pending is not None:
                lat.append(t - pending)
                own.append(lat[-1] - sum(max(0.0, min(b, t) - max(a, pending))
                                         for a, b in off if a < t and b > pending))
                pending = None
        return lat, own, unpaired + (pending is not None)


def panic_loop(name, argv, sock, count, timeout, trace=None):
    """Latencies (s) from each marker byte on the console to its GUEST_PANICKED on QMP; with
    @trace, also the kernel-timestamped ones (PanicTrace) and the pios left unpaired."""
    if trace:
        argv = trace.wrap(argv)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    marks, events = [], []
    ktrace = None
    try:
        qmp = QMPEvents(sock, timeout)
        if trace:
            try:
                progress("%s: tracing pio 0x%x and sends on socket fds %s" % (
                    name, trace.port, trace.arm(proc.pid)))
            except OSError as e:  # the client-side samples are still taken
                progress("%s: ftrace could not be armed (%s)" % (name, e))
                trace.reset()
                trace = None
        fd = proc.stdout.fileno()
        buf = b""
        started = False
        deadline = time.monotonic() + timeout
        while len(events) < count or len(marks) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("%s: %d marks, %d events of %d within %ss" % (
                    name, len(marks), len(events), count, timeout))
            ready = select.select([fd, qmp.sock], [], [], left)[0]
            now = time.monotonic()
            if fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError("%s ended during the panic loop" % name)
                if not started:
                    buf += chunk
                    if b"PANIC-LOOP\n" in buf.replace(b"\r", b""):
                        started = True
                        buf = buf.replace(b"\r", b"").split(b"PANIC-LOOP\n", 1)[1]
                        marks += [now] * buf.count(b"Z")
                else:
                    marks += [now] * chunk.count(b"Z")
            if qmp.sock in ready:
                for ln in qmp.poll_lines():
                    if json.loads(ln).get("event") == "GUEST_PANICKED":
                        events.append(now)
        qmp.sock.close()
        if trace:
            ktrace = trace.collect(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        if trace:
            trace.reset()
    return [e - m for m, e in zip(marks, events)], ktrace


class MarkedStream(Stream):
    """A Stream that also notes when @marker first arrived (on its pump thread, so VMs that
    reach init before the one being waited on get their own time, not the wait's)."""

    def __init__(self, pipe, marker):
        self.marker = marker.encode()
        self.seen = None
        super().__init__(pipe)

    def _arrived(self, chunk):
        if self.seen is None and self.marker in self.data[-len(self.marker):] + chunk:
            self.seen = time.monotonic()


def density_timeout(boot_timeout, n):
    """The VMs at once share the CPUs this process may run on (in the rig one: taskset -c 0),
    so all @n reach init after about n / CPUs boots in a row: that many times one boot's
    budget. (A flat 180 s for up to 3 VMs failed QEMU's two in a loaded rig, where one QEMU
    boot alone took 166 s.)"""
    cpus = len(os.sched_getaffinity(0))
    return boot_timeout * -(-n // cpus)


def density(name, argv_for, n, timeout):
    """Launch @n VMs at once; seconds until all printed the init marker, and their PSS (KiB).
    Every VM's stdout and stderr is drained on a thread of its own from the start."""
    procs, outs, errs = [], [], []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            p = subprocess.Popen(argv_for(), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            procs.append(p)
            outs.append(MarkedStream(p.stdout, INIT_MARKER))
            errs.append(Stream(p.stderr))
        at = [None] * n
        for i, s in enumerate(outs):
            if s.wait_for(INIT_MARKER, max(1.0, timeout - (time.monotonic() - t0))):
                at[i] = s.seen - t0
        if None in at:
            for i, p in enumerate(procs):
                lines = outs[i].text().replace("\r", "").splitlines()
                why = [ln for ln in lines if re.search(r"Kernel panic|Out of memory", ln)][:1]
                if outs[i].closed:  # its console closed: it has ended or is ending
                    try:
                        p.wait(5)
                    except subprocess.TimeoutExpired:
                        pass
                if p.poll() is not None:
                    errs[i].thread.join(2)  # all it wrote
                progress("%s VM %d: %s, init %s; console %r ... %r; stderr %r" % (
                    name, i, "running" if p.poll() is None else "exit %s" % p.returncode,
                    fmt_s(at[i]), why, lines[-3:], errs[i].text()[-300:]))
            raise RuntimeError("%s: %d of %d VMs reached init within %.0f s" % (
                name, n - at.count(None), n, timeout))
        t_all = max(at)
        progress("%s density: each VM at init after %s s" % (
            name, " ".join("%.1f" % t for t in at)))
        pss = sum(pss_kib(p.pid) for p in procs)
        rss = sum(status_kib(p.pid, "VmRSS") for p in procs)
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
    return {"t": t_all, "pss": pss, "rss": rss}


def progress(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def pct(vals, q):
    if not vals:
        return None
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(q / 100.0 * (len(s) - 1))))]


def fmt_ms(v, digits=1):
    return "-" if v is None else "%.*f ms" % (digits, v * 1000)


def fmt_s(v):
    return "-" if v is None else "%.1f s" % v


def fmt_kib(v):
    return "-" if v is None else "%.2f MiB" % (v / 1024)


def fmt_num(v):
    return "-" if v is None else "%d" % v


def fmt_rate(v):
    return "-" if v is None else "%.2f VM/s" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--panics", type=int, default=250)
    ap.add_argument("--density", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=180,
                    help="seconds one boot may take (density: per VM on one CPU, see there)")
    ap.add_argument("--quick", action="store_true",
                    help="1 boot, 20 panics, 2 VMs at once; fail unless every metric is there")
    ap.add_argument("--only", default="boot,panic,density",
                    help="comma-separated parts to run (boot, panic, density)")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.panics, a.density = 1, 20, 2
    parts = set(a.only.split(","))
    if not os.path.exists("/dev/kvm") or os.path.isdir("/sys/module/kvm_pvm"):
        sys.exit("bench.py needs a /dev/kvm that runs ordinary guests: run it through tests/rig/rig.sh")
    have_stats = mount_debugfs()
    if not have_stats:
        # Only root mounts debugfs: without it the exit counts are left out, not failed.
        progress("no %s (debugfs, root only): exit counts left out" % KVM_DEBUGFS)
    names = ("minivmm", "qemu")
    R = {n: {} for n in names}
    ftrace_why = None

    if "boot" in parts:
        shim_dir = tempfile.mkdtemp(prefix="minivmm-bench-shim-")
        stopwatch = build_stopwatch(shim_dir)
        initrd = initrd_with_script("echo BENCH-IDLE; sleep 1000\n")
        for name, argv in vmm_commands(guest_kernel(), initrd).items():
            runs = []
            for i in range(a.runs):
                runs.append(one_boot(name, argv, a.timeout))
                progress("%s boot %d/%d: %r" % (name, i + 1, a.runs, runs[-1]))
            # One unmeasured start first: both VMMs' files in the page cache alike.
            one_setup(argv, a.timeout, stopwatch)
            for i in range(max(a.runs, 5)):
                wall, cpu = one_setup(argv, a.timeout, stopwatch)
                runs.append({"setup": wall, "setup_cpu": cpu})
                progress("%s setup %d: %s %s" % (name, i + 1, wall, cpu))

            def med(key):
                vals = [r[key] for r in runs if r.get(key) is not None]
                return statistics.median(vals) if vals else None

            r = R[name]
            for key in ("setup", "setup_cpu", "init", "rss"):
                r[key] = med(key)
            r["binary"] = os.path.getsize(shutil.which(argv[0]) or argv[0])
            for reason in EXIT_REASONS:
                vals = [x["exits"][reason] for x in runs
                        if x.get("exits") and reason in x["exits"]]
                r["x_" + reason] = statistics.median(vals) if vals else None
        os.unlink(initrd)
        shutil.rmtree(shim_dir, ignore_errors=True)

    if "panic" in parts:
        script = ("echo PANIC-LOOP; portio panicloop 0x3f8 0x%x %d %d; sleep 1000\n"
                  % (PVPANIC_PORT, a.panics, PANIC_GAP_MS))
        pinitrd = initrd_with_script(script)
        work = tempfile.mkdtemp(prefix="minivmm-bench-")
        sock = os.path.join(work, "qmp.sock")
        cmds = vmm_commands(guest_kernel(), pinitrd)
        variants = [
            ("minivmm", "panic", cmds["minivmm"] + ["--pvpanic", "--action", "panic=none",
                                                    "--qmp", "unix:" + sock]),
            ("minivmm", "panic_log", cmds["minivmm"] + [
                "--pvpanic", "--action", "panic=none", "--qmp", "unix:" + sock,
                "--event-log", os.path.join(work, "events.jsonl")]),
            # microvm has an ISA bus for QEMU's pvpanic; the guest writes the port directly.
            ("qemu", "panic", cmds["qemu"] + ["-device", "pvpanic", "-action", "panic=none",
                                              "-qmp", "unix:%s,server=on,wait=off" % sock]),
        ]
        trace = PanicTrace(PVPANIC_PORT)
        if trace.why:
            progress("ftrace unavailable (%s): the kernel-timestamped panic rows are left out"
                     % trace.why)
            ftrace_why = trace.why
            trace = None
        for name, key, argv in variants:
            if os.path.exists(sock):
                os.unlink(sock)
            try:
                lat, ktrace = panic_loop(name, argv, sock, a.panics,
                                         a.timeout + a.panics * PANIC_GAP_MS / 1000.0 * 3,
                                         trace)
            except (RuntimeError, OSError, EOFError) as e:
                progress("%s %s failed: %s" % (name, key, e))
                continue
            for q in (50, 90, 99):
                R[name]["%s_p%d" % (key, q)] = pct(lat, q)
            R[name][key + "_n"] = len(lat)
            progress("%s %s client: %d panics, p50 %.3f p90 %.3f p99 %.3f ms" % (
                name, key, len(lat), pct(lat, 50) * 1e3, pct(lat, 90) * 1e3,
                pct(lat, 99) * 1e3))
            if ktrace and ktrace[0]:
                klat, kown, unpaired = ktrace
                for q in (50, 90, 99):
                    R[name]["k%s_p%d" % (key, q)] = pct(klat, q)
                    R[name]["o%s_p%d" % (key, q)] = pct(kown, q)
                R[name]["k%s_n" % key] = len(klat)
                for what, v in (("ftrace", klat), ("ftrace less preemption", kown)):
                    progress("%s %s %s: %d panics (%d pios unpaired), p50 %.3f p90 %.3f "
                             "p99 %.3f max %.3f ms" % (
                                 name, key, what, len(v), unpaired, pct(v, 50) * 1e3,
                                 pct(v, 90) * 1e3, pct(v, 99) * 1e3, max(v) * 1e3))
                if os.environ.get("MINIVMM_BENCH_PANIC_SAMPLES"):
                    with open(os.environ["MINIVMM_BENCH_PANIC_SAMPLES"], "a") as f:
                        for what, v in (("ftrace", klat), ("own", kown), ("client", lat)):
                            f.write("%s %s %s %s\n" % (name, key, what, " ".join(
                                "%.6f" % x for x in v)))
            elif trace:
                progress("%s %s ftrace: no pio/send pairs" % (name, key))
        os.unlink(pinitrd)
        shutil.rmtree(work, ignore_errors=True)

    if "density" in parts:
        dinitrd = initrd_with_script("sleep 1000\n")
        for name in names:
            def argv_for(name=name):
                return vmm_commands(guest_kernel(), dinitrd, DENSITY_MEM_MIB)[name]
            try:
                d = density(name, argv_for, a.density, density_timeout(a.timeout, a.density))
            except RuntimeError as e:
                progress(str(e))
                continue
            R[name]["dens_t"] = d["t"]
            R[name]["dens_rate"] = a.density / d["t"]
            R[name]["dens_pss"] = d["pss"] / a.density
            R[name]["dens_rss"] = d["rss"] / a.density
            progress("%s density: %r" % (name, d))
        os.unlink(dinitrd)

    mv, qm = R["minivmm"], R["qemu"]

    def ratio(key, qkey=None, inverse=False):
        q, m = qm.get(qkey or key), mv.get(key)
        if not m or not q:
            return "-"
        return "%.1fx" % ((m / q) if inverse else (q / m))

    rows = [
        ("start -> first KVM_RUN, wall", "setup", fmt_ms, ">= 10x"),
        ("start -> first KVM_RUN, VMM CPU", "setup_cpu", fmt_ms, ">= 10x"),
        ("start -> guest init marker", "init", fmt_ms, ">= 2x"),
    ]
    rows += [("VM exits to init: %s" % r, "x_" + r, fmt_num,
              "fewer" if r == "exits" else "") for r in EXIT_REASONS]
    rows += [
        ("peak RSS - touched guest RAM", "rss", fmt_kib, ">= 5x, < 2 MiB"),
        ("binary size", "binary", lambda v: fmt_kib(None if v is None else v / 1024), ""),
    ]
    # Each panic measure, then minivmm's --event-log run of it (beside the same QEMU value).
    for label, log_label, key, target in (
            ("pvpanic exit -> QMP send (ftrace)", "  same, minivmm --event-log", "kpanic",
             ">= 2x"),
            ("  less preemption by others", "  less preemption, minivmm --event-log",
             "opanic", ">= 2x"),
            ("'Z' on stdout -> event at client", "  same, minivmm --event-log", "panic", "")):
        for q in (50, 90, 99):
            rows.append(("%s p%d" % (label, q), "%s_p%d" % (key, q), lambda v: fmt_ms(v, 3),
                         target if q != 90 else ""))
        for q in (50, 90, 99):
            rows.append(("%s p%d" % (log_label, q), ("%s_log_p%d" % (key, q),
                                                     "%s_p%d" % (key, q)),
                         lambda v: fmt_ms(v, 3), ""))
    rows += [
        ("%d VMs at once -> all at init" % a.density, "dens_t", fmt_s, ""),
        ("  VMs per second", "dens_rate", fmt_rate, ""),
        ("  PSS per VM (%d MiB guests)" % DENSITY_MEM_MIB, "dens_pss", fmt_kib, ""),
        ("  RSS per VM", "dens_rss", fmt_kib, ""),
    ]
    table = []
    missing = []
    for label, key, fmt, target in rows:
        mkey, qkey = key if isinstance(key, tuple) else (key, key)
        mval, qval = mv.get(mkey), qm.get(qkey)
        if mkey == "dens_rate":
            rat = ratio(mkey, qkey, inverse=True)
        else:
            rat = ratio(mkey, qkey)
        if (mval is None or qval is None) and not (mkey.startswith("x_") and not have_stats) \
                and not (mkey[1:].startswith("panic") and ftrace_why):
            missing.append(label.strip())
        table.append((label, fmt(mval), fmt(qval), rat, target))

    qemu_version = subprocess.run([qemu_bin(), "--version"], capture_output=True,
                                  text=True).stdout.split("\n")[0]
    print("median of %d boots, %d MiB guest, kernel %s; %s; %d panics %d ms apart; "
          "%d VMs of %d MiB; %s, %d CPUs" % (
              a.runs, MEM_MIB, os.path.basename(guest_kernel()), qemu_version, a.panics,
              PANIC_GAP_MS, a.density, DENSITY_MEM_MIB, time.strftime("%Y-%m-%d"),
              os.cpu_count()))
    hdr = ("metric", "minivmm", "qemu microvm", "qemu/minivmm", "target")
    w = [max(len(r[i]) for r in table + [hdr]) for i in range(5)]
    print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(hdr)) + " |")
    print("|" + "|".join("-" * (w[i] + 2) for i in range(5)) + "|")
    for r in table:
        print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
    if ftrace_why:
        print("ftrace unavailable (%s): no kernel-timestamped panic rows" % ftrace_why)
    if missing:
        print("missing: " + ", ".join(missing))
        if a.quick:
            sys.exit(1)


if __name__ == "__main__":
    main()
