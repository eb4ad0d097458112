#!/usr/bin/env python3
"""sandbox_runner.py - start a guest under minivmm and report its fate, the way a sandbox runner
would: over the QMP control socket, without ever missing the outcome.

    examples/sandbox_runner.py --kernel bzImage [--initrd initrd] [--cmdline "..."] [-- ARGS]

Never missing an event takes two sources, because a client can only see events sent after it
connected and negotiated:
  1. the journal (--event-log): every lifecycle event, written and flushed to disk before the
     action that follows it, kept after minivmm exits;
  2. the live socket: after `qmp_capabilities`, every new event arrives at once.
The runner connects, negotiates, then reads the journal; events in the journal that it has not
yet seen live are the ones it missed. `query-status` tells the current state either way.

A failed run (a panic, a watchdog, no clean shutdown) leaves its evidence in --out DIR, one
folder per run: report.json (minivmm's __org.minivmm_GUEST_PANIC_REPORT: the panic message,
the kernel log's tail read from guest memory, the vCPU and its registers), the ELF core
(--panic-dump) for crash or makedumpfile, the journal, and dmesg-tail.txt. A clean run leaves
nothing. Standard library only.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FATAL = {"SHUTDOWN", "GUEST_PANICKED", "GUEST_PVSHUTDOWN", "WATCHDOG"}
REPORT = "__org.minivmm_GUEST_PANIC_REPORT"  # follows GUEST_PANICKED, precedes the action
CLEAN = ("shut down (guest-shutdown)", "shut down (pvpanic)")


class QMP:
    """A minimal QMP client: JSON objects separated by CRLF."""

    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.buf = b""
        self.events = []
        self.greeting = self._read()
        self.command("qmp_capabilities")

    def _read(self, timeout=None):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("minivmm closed the control socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\r\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError("%s: %s" % (name, reply["error"]["desc"]))
            return reply["return"]

    def next_event(self, timeout):
        if self.events:
            return self.events.pop(0)
        return self._read(timeout)


def read_journal(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def fate_of(event):
    name = event["event"]
    data = event.get("data", {})
    if name == "GUEST_PANICKED":
        return "panicked (action %s)" % data.get("action")
    if name == "GUEST_PVSHUTDOWN":
        return "shut down (pvpanic)"
    if name == "SHUTDOWN":
        return "shut down (%s)" % data.get("reason")
    if name == "WATCHDOG":
        return "watchdog expired (action %s)" % data.get("action")
    return name


def keep_failed_run(run_dir, report):
    """What a failed run leaves for a person: the report, the log tail; the core and the
    journal are already in @run_dir."""
    if report is not None:
        with open(os.path.join(run_dir, "report.json"), "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        if report.get("log"):
            with open(os.path.join(run_dir, "dmesg-tail.txt"), "w") as f:
                f.write(report["log"])
        print("panic: %s (vCPU %s, rip %s)" % (report.get("message"), report.get("cpu"),
                                               (report.get("registers") or {}).get("rip")))
        if report.get("log_error"):
            print("no kernel log: %s" % report["log_error"])
    print("kept: %s" % ", ".join(sorted(os.listdir(run_dir))) or "nothing")
    print("in:", run_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minivmm", default=os.environ.get("MINIVMM_BIN", "minivmm"))
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd")
    ap.add_argument("--cmdline", default="console=ttyS0 panic=-1")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--out", default="sandbox-runs",
                    help="where failed runs keep their report, core and journal")
    ap.add_argument("extra", nargs="*", help="more minivmm arguments (after --)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="sandbox-")  # the socket only
    run_dir = os.path.join(a.out, time.strftime("run-%Y%m%dT%H%M%SZ", time.gmtime())
                           + "-%d" % os.getpid())
    os.makedirs(run_dir)
    sock, journal = os.path.join(work, "qmp.sock"), os.path.join(run_dir, "events.jsonl")
    argv = [a.minivmm, "--kernel", a.kernel, "--cmdline", a.cmdline, "--pvpanic",
            "--qmp", "unix:" + sock, "--event-log", journal, "--serial", "none",
            "--panic-dump", run_dir]
    if a.initrd:
        argv += ["--initrd", a.initrd]
    proc = subprocess.Popen(argv + a.extra)

    qmp = QMP(sock)
    seen = set()
    fate = report = None
    # Anything that happened before we negotiated is in the journal.
    for ev in read_journal(journal):
        seen.add(json.dumps(ev, sort_keys=True))
        print("journal:", ev["event"])
        if ev["event"] in FATAL and fate is None:
            fate = fate_of(ev)
        if ev["event"] == REPORT:
            report = ev["data"]
    print("status:", qmp.command("query-status")["status"])
    deadline = time.monotonic() + a.timeout
    # After a panic, the report comes next (before the action): wait for it too.
    while (fate is None or (fate.startswith("panicked") and report is None)) \
            and time.monotonic() < deadline:
        try:
            ev = qmp.next_event(max(0.1, deadline - time.monotonic()))
        except (EOFError, ConnectionResetError):
            break
        key = json.dumps(ev, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        print("event:", ev["event"], json.dumps(ev.get("data", {}))[:200])
        if ev["event"] in FATAL and fate is None:
            fate = fate_of(ev)
        if ev["event"] == REPORT:
            report = ev["data"]
    # The socket closed first: the journal still has the answer.
    for ev in read_journal(journal):
        if ev["event"] in FATAL and fate is None:
            fate = fate_of(ev)
        if ev["event"] == REPORT and report is None:
            report = ev["data"]
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        qmp.command("quit")
        code = proc.wait(30)
    print("fate: %s; minivmm exit status %d" % (fate or "unknown", code))
    if fate in CLEAN and code == 0:
        shutil.rmtree(run_dir, True)
    else:
        keep_failed_run(run_dir, report)
    shutil.rmtree(work, True)
    return 0 if fate else 1


if __name__ == "__main__":
    sys.exit(main())
