#!/usr/bin/env python3
"""probe.py SOCKET - send QMP edge cases to a server and print each raw reply line.

Used to compare minivmm's control socket with QEMU's byte for byte (timestamps aside). The
reference is QEMU 10.0.2 (Debian's 1:10.0.2+ds-2+deb13u1~bpo12+1); any machine will do, since
these are monitor-only cases:
    qemu-system-x86_64 -M none -display none -qmp unix:/tmp/q.sock,server=on,wait=off &
    tests/qmp/probe.py /tmp/q.sock > qemu.txt; tests/qmp/probe.py /tmp/m.sock > minivmm.txt
tests/integration/test_qemu_compare.py runs the same cases against both and compares them
case by case; the cases where minivmm deliberately differs are listed there, with reasons.
"""
import re
import socket
import time
import sys

CASES = [
    b'{"execute": "query-status"}',
    b'{"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}',
    b'{"execute": "qmp_capabilities", "id": "neg"}',
    b'{"execute": "qmp_capabilities"}',
    b'{"execute": "query-status", "id": 1}',
    b'{"execute": "query-status", "id": {"a": [1, 2]}}',
    b'{"execute": "nope", "id": "x"}',
    b'[1, 2]',
    b'"str"',
    b'{"id": 5}',
    b'{"execute": 5}',
    b'{"execute": "stop", "arguments": []}',
    b'{"execute": "stop", "foo": 1}',
    b'{"execute": "watchdog-set-action"}',
    b'{"execute": "watchdog-set-action", "arguments": {"action": 5}}',
    b'{"execute": "watchdog-set-action", "arguments": {"action": "bogus"}}',
    b'{"execute": "watchdog-set-action", "arguments": {"action": "pause", "x": 1}}',
    b'{"execute": "set-action", "arguments": {"panic": "pause", "reboot": "shutdown"}}',
    b'{"execute": "set-action", "arguments": {"panic": true}}',
    b'{"execute": "qmp_capabilities", "arguments": {"enable": ["oob", "x"]}}',
    b'{"execute": "qmp_capabilities", "arguments": {"enable": ["oob", 5]}}',
    b'{"execute": "query-version", "id": "v"}',
    b'{"execute": "stop"}',
    b'{"execute": "query-status"}',
    b'{"execute": "cont"}',
    b'{"execute": "query-status"}',
    b'{"execute": "system_powerdown"}',
    b'{"execute": "set-action", "arguments": {"reboot": "reset"}}',
    b'{"execute": "stop"}',
    b'{"execute": "system_reset"}',
    b'{"execute": "query-status"}',
    b'{"execute": "cont"}',
    b'{"execute"',
    b': "query-status"}',
    b'{"execute": "query-status"} {"execute": "query-status", "id": 2}',
    b'{bad json}',
    b'}',
    b'{"execute": "query-status", "id": 3}',
    b'\xff\xfe',
    b'{"execute": "query-status", "id": 4}',
    b'[' * 1100 + b']' * 1100,
    b'{"execute": "query-status", "id": 5}',
    b'{"execute": "query-status", "arguments": {}}',
    b'{"execute": "query-status", "arguments": null}',
    b'{"execute": "stop", "id": null}',
    b'{"exec-oob": "query-status"}',
    # Commands that answer the same whatever the machine (a QEMU with -M none and no -name).
    b'{"execute": "query-target"}',
    b'{"execute": "query-name"}',
    b'{"execute": "query-uuid", "id": "u"}',
    b'{"execute": "query-kvm", "arguments": {"x": 1}}',
    b'{"execute": "query-machines", "arguments": {"compat-props": 1}}',
    b'{"execute": "human-monitor-command"}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": 5}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info status", '
    b'"cpu-index": "x"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info status", '
    b'"cpu-index": 1.5}}',
    # HMP: the texts and the parser's messages.
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "  info   status "}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info name"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info uuid"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": ""}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "bogus"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "  bogus  x"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info  bogus"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "INFO status"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "s x"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info version x"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "help s"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "help info status"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "help info  x"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "c"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}',
    b'{"execute": "human-monitor-command", "arguments": {"command-line": "stop"}}',
    # JSON edges. Each is followed by a plain command, which must be served the same way.
    b'{"execute": "query-status", "id": "a", "id": "b"}',
    b'{"execute": "query-status", "id": 6}',
    b"{'execute': 'query-status', 'id': 'single'}",
    b'{"execute": "query-status", "id": 7}',
    b'{"execute": "query-status", "id": 1e3}',
    b'{"execute": "query-status", "id": 123456789012345678901234567890}',
    b'{"execute": "query-status", "id": 8}',
    b'{"execute": "' + b'a' * 300 + b'"}',
    b'{"execute": "query-status", "id": 9}',
    b'{"execute": "query-status", "id": "\xff"}',
    b'{"execute": "query-status", "id": 10}',
    b'{"execute": "query-status", "id": "\\ud800"}',
    b'{"execute": "query-status", "id": 11}',
    b'{"execute": "query-status", "id": "\x01"}',
    b'{"execute": "query-status", "id": 12}',
    b'{"execute": "query-status", "id": "\xc3\xa9\\u00e9"}',
    # Lexical errors, as QEMU's json-lexer finds them: "stray" with the token so far, then the
    # bytes up to a bracket, brace, comma, colon or control character skipped.
    b'#abc}',
    b'{"execute": "query-status", "id": 0123}',
    b'{"execute": "query-status", "id": 09999999999999999499}',
    b'{"execute": "query-status", "id": 1.x}',
    b'{"execute": "query-status", "id": -}',
    b'{"execute": "query-status", "id": True}',
    b'{"execute": "query-status" # "id": 1}',
    b'{"execute": "query-status", "id": [0123, 4]}',
    b'0e5\n',
    b'12abc\n',
    b'%d\n',
    b'{"execute": "query-status", "id": "\xc3\xa9\x1f"}',
    b'{"execute": "query-status", "id": 13}',
    # UTF-8 in strings, as QEMU's parser takes it (modified UTF-8: C0 80 is U+0000).
    b'{"execute": "query-status", "id": "a\xc3(b"}',
    b'{"execute": "query-status", "id": "a\xc0\x80b"}',
    b'{"execute": "query-status", "id": "a\xed\xa0\x80b"}',
    b'{"execute": "query-status", "id": 14}',
    # The parser's words (jansson's in minivmm) and DEL in a string: listed differences.
    b'{"execute": "query-status", "id": [1 2]}',
    b'{"execute": "query-status", "id": "\x7f"}',
    b'{"execute": "query-status", "id": 15}',
]


def normalise(data):
    """Reply bytes as text with what legitimately differs masked: event timestamps and the
    version's package (minivmm's own; the QEMU release numbers must match). Each CRLF shows as
    a literal \\r\\n ending a line."""
    data = re.sub(rb'"seconds": \d+, "microseconds": \d+', b'"seconds": S, "microseconds": U', data)
    data = re.sub(rb'"package": "[^"]*"', b'"package": P', data)
    return data.decode("utf-8", "replace").replace("\r\n", "\\r\\n\n")


def probe(path, cases=CASES, idle=0.5):
    """Connect to the QMP server at @path, send each case and collect what comes back until
    the server has been quiet for @idle seconds. Returns [(case, text)], text normalised:
    first the greeting (case None), then every case, then quit (case b'quit')."""
    # The socket file exists from bind(); a server may not listen() yet: retry for a while.
    deadline = time.monotonic() + 30
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            break
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    s.settimeout(idle)

    def drain():
        out = b""
        while True:
            try:
                chunk = s.recv(1 << 20)
            except socket.timeout:
                return out
            if not chunk:
                return out + b"<EOF>"
            out += chunk

    try:
        got = [(None, normalise(drain()))]
        for c in cases:
            s.sendall(c)
            got.append((c, normalise(drain())))
        s.sendall(b'{"execute": "quit"}')
        got.append((b"quit", normalise(drain())))
    finally:
        s.close()
    return got


def main():
    for case, text in probe(sys.argv[1]):
        if case is not None:
            print(">>> " + case[:120].decode("utf-8", "replace"))
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
