#!/usr/bin/env python3
"""demo.py - boot a Debian guest under minivmm and show its console and its QMP events.

The guest prints a little about itself, then panics on purpose; minivmm's pvpanic device
reports it and the QMP client below prints each event as it arrives. Run by scripts/demo.sh
(through the nested rig where there is no /dev/kvm). Standard library only.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import guest_kernel, initrd_with_script, minivmm_bin  # noqa: E402

GUEST_SCRIPT = """
echo; echo "=== hello from the guest: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPUs"
echo "=== pvpanic: $(cat /sys/bus/platform/drivers/pvpanic-mmio/*/events 2>/dev/null || echo '?')"
echo "=== panicking on purpose in 1 s"; sleep 1
echo c > /proc/sysrq-trigger
"""


def qmp_events(path, out):
    while not os.path.exists(path):
        time.sleep(0.01)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rwb")
    f.readline()  # greeting
    f.write(b'{"execute": "qmp_capabilities"}\r\n')
    f.flush()
    for line in f:
        msg = json.loads(line)
        if "event" in msg:
            out.write("\033[1;36m[qmp event] %s\033[0m\n" % json.dumps(msg))
            out.flush()


def main():
    work = tempfile.mkdtemp(prefix="minivmm-demo-")
    sock = os.path.join(work, "qmp.sock")
    initrd = initrd_with_script(GUEST_SCRIPT)
    argv = [minivmm_bin(), "--kernel", guest_kernel(), "--initrd", initrd, "--cpus", "2",
            "--cmdline", "console=ttyS0 quiet", "--pvpanic", "--qmp", "unix:" + sock,
            "--event-log", os.path.join(work, "events.jsonl")]
    print("$ " + " ".join(argv), flush=True)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    threading.Thread(target=qmp_events, args=(sock, sys.stdout), daemon=True).start()
    code = proc.wait()
    time.sleep(0.2)
    print("minivmm exited with %d after %.1f s; journal:" % (code, time.monotonic() - t0))
    with open(os.path.join(work, "events.jsonl")) as f:
        sys.stdout.write(f.read())
    os.unlink(initrd)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
