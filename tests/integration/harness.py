"""harness.py - start minivmm on a real guest and watch what a user would: console, stderr, exit.

Used by the integration tests. Paths come from the environment (set by tests/run-integration.sh):
  MINIVMM_BIN          the minivmm binary under test
  MINIVMM_GUEST_KERNEL a Debian cloud kernel (bzImage)
  MINIVMM_GUEST_INITRD the busybox initramfs built by tests/guest/mkinitramfs.sh (uncompressed)
Timeouts are generous: inside the nested rig a guest boot takes ~15 s of emulated time.
"""
import os
import json
import re
import socket
import signal
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOT_TIMEOUT = float(os.environ.get("MINIVMM_TEST_BOOT_TIMEOUT", "180"))
INIT_MARKER = "MINIVMM-GUEST-INIT-OK"


def _env_file():
    """Values from .cache/kernels.env (written by tests/guest/fetch-kernels.sh)."""
    vals = {}
    cache = os.environ.get("MINIVMM_CACHE", os.path.join(ROOT, ".cache"))
    path = os.path.join(cache, "kernels.env")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if "=" in line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    vals[k] = v.strip("'\"")
    return vals


def minivmm_bin():
    return os.environ.get("MINIVMM_BIN", os.path.join(ROOT, "build", "minivmm"))


def guest_kernel():
    return os.environ.get("MINIVMM_GUEST_KERNEL") or _env_file().get("GUEST_KERNEL")


def guest_initrd():
    return os.environ.get("MINIVMM_GUEST_INITRD",
                          os.path.join(ROOT, "build", "guest", "initramfs.cpio"))


def cpio_newc(files):
    """An uncompressed newc cpio archive of {path: (mode, bytes)}; the kernel appends it."""
    out = bytearray()
    ino = 1000

    def entry(name, mode, data):
        nonlocal ino
        ino += 1
        namez = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(namez), 0))
        out.extend(hdr.encode() + namez)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for name, (mode, data) in files.items():
        entry(name, mode, data)
    entry("TRAILER!!!", 0, b"")
    return bytes(out)


def initrd_with_script(script, extra=None):
    """Base initramfs plus /test.sh (run by the guest's /init after its marker)."""
    with open(guest_initrd(), "rb") as f:
        base = f.read()
    files = {"test.sh": (0o100755, script.encode())}
    files.update(extra or {})
    fd, path = tempfile.mkstemp(prefix="minivmm-initrd-", suffix=".cpio")
    with os.fdopen(fd, "wb") as f:
        f.write(base)
        f.write(b"\0" * (-len(base) % 4))
        f.write(cpio_newc(files))
    return path


class Stream:
    """Collects a pipe's bytes on a thread; lets a test wait for a pattern."""

    def __init__(self, pipe):
        self.data = b""
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self.thread.start()

    def _pump(self, pipe):
        while True:
            chunk = os.read(pipe.fileno(), 65536)
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self._arrived(chunk)
                self.data += chunk
                self.cond.notify_all()

    def _arrived(self, chunk):
        """Called on the pump thread, under the lock, before @chunk joins self.data."""

    def text(self):
        with self.cond:
            return self.data.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=BOOT_TIMEOUT, start=0):
        """Wait until regex @pattern appears (after offset @start); returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.data.decode("utf-8", "replace"), start)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(min(left, 1.0))


class VM:
    """One minivmm process."""

    def __init__(self, args, kernel=None, initrd=None, cmdline=None, stdin=True,
                 extra_env=None, pass_fds=()):
        self.args = [minivmm_bin()]
        if kernel is not False:
            self.args += ["--kernel", kernel or guest_kernel()]
        if initrd:
            self.args += ["--initrd", initrd]
        if cmdline is not None:
            self.args += ["--cmdline", cmdline]
        self.args += list(args)
        env = dict(os.environ)
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, pass_fds=pass_fds)
        self.out = Stream(self.proc.stdout)
        self.err = Stream(self.proc.stderr)

    def send(self, data):
        self.proc.stdin.write(data.encode() if isinstance(data, str) else data)
        self.proc.stdin.flush()

    def wait_console(self, pattern, timeout=BOOT_TIMEOUT, start=0):
        m = self.out.wait_for(pattern, timeout, start)
        if not m:
            raise AssertionError("console never showed %r within %ss\n--- console tail:\n%s\n"
                                 "--- stderr:\n%s" % (pattern, timeout, self.out.text()[-3000:],
                                                      self.err.text()[-2000:]))
        return m

    def wait_exit(self, timeout=BOOT_TIMEOUT):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("minivmm did not exit within %ss\n--- console tail:\n%s\n"
                                 "--- stderr:\n%s" % (timeout, self.out.text()[-3000:],
                                                      self.err.text()[-2000:]))
        self.out.thread.join(5)
        self.err.thread.join(5)
        return code

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_lines(self):
        return [l for l in self.err.text().splitlines() if l.strip()]


def run_usage(args, timeout=30):
    """Run minivmm expecting it to refuse before any guest runs: (status, stderr lines)."""
    p = subprocess.run([minivmm_bin()] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, [l for l in p.stderr.decode().splitlines() if l.strip()], p.stdout


def assert_refused(tc, args, needle):
    """@tc (a TestCase) checks that minivmm refuses @args as a usage error: status 2, one
    'minivmm: ' line on stderr containing @needle, nothing on stdout."""
    code, lines, out = run_usage(args)
    tc.assertEqual(code, 2, (args, lines))
    tc.assertEqual(len(lines), 1, lines)
    tc.assertTrue(lines[0].startswith("minivmm: "), lines)
    tc.assertIn(needle, lines[0])
    tc.assertEqual(out, b"")


def connect_unix(path, timeout):
    """A stream socket connected to @path, retried until the VMM listens there (or @timeout
    seconds have passed: the last error is raised)."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except OSError:
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class QMPClient:
    """A QMP client that keeps every message, so tests can assert exact sequences."""

    def __init__(self, path, timeout=BOOT_TIMEOUT, negotiate=True, early_events=False):
        """@early_events: events that arrive before the greeting are kept in self.events
        (QEMU, reached while it starts, can send its start-up RESUME first); otherwise the
        first message is the greeting, whatever it is."""
        self.sock = connect_unix(path, timeout)
        self.buf = b""
        self.events = []
        self.raw = []
        self.greeting = self.recv()
        while early_events and "event" in self.greeting:
            self.events.append(self.greeting)
            self.greeting = self.recv()
        if negotiate:
            reply = self.execute("qmp_capabilities")
            assert reply == {"return": {}}, (self.greeting, reply)

    def recv(self, timeout=BOOT_TIMEOUT):
        self.sock.settimeout(timeout)
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("control socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        self.raw.append(line)
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def execute(self, name, args=None, **extra):
        """Send a command; events that arrive first are kept in self.events."""
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        msg.update(extra)
        self.sock.sendall(json.dumps(msg).encode())
        while True:
            reply = self.recv()
            if "event" in reply:
                self.events.append(reply)
            else:
                return reply

    def wait_events(self, names, timeout=BOOT_TIMEOUT):
        """Collect events until every name in @names has been seen in order; returns all."""
        deadline = time.monotonic() + timeout
        want = list(names)
        seen = [e["event"] for e in self.events]
        while not _subsequence(want, seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("events %r never arrived; got %r" % (want, seen))
            ev = self.recv(left)
            if "event" in ev:
                self.events.append(ev)
                seen.append(ev["event"])
        return self.events

    def event_list(self):
        """QEMU's events as (name, data) pairs, timestamps dropped; downstream extensions
        (minivmm's "__org.minivmm_" events) left out, as a QEMU client ignores them."""
        return [(e["event"], e.get("data")) for e in self.events
                if not e["event"].startswith("__")]

    def extension_events(self, name):
        """The data of every downstream-extension event @name received so far."""
        return [e.get("data") for e in self.events if e["event"] == name]

    def close(self):
        self.sock.close()


def _subsequence(want, seen):
    it = iter(seen)
    return all(any(w == s for s in it) for w in want)


def read_journal(path, extensions=False):
    """The journal's events; downstream extensions only with @extensions."""
    with open(path) as f:
        events = [json.loads(l) for l in f if l.strip()]
    return [e for e in events if extensions or not e["event"].startswith("__")]
