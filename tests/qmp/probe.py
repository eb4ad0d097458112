#!/usr/bin/env python3
"""probe.py SOCKET - send QMP edge cases to a server and print each raw reply line.

Used to compare minivmm's control socket with QEMU's byte for byte (timestamps aside):
    qemu-system-x86_64 -M none -display none -qmp unix:/tmp/q.sock,server=on,wait=off &
    tests/qmp/probe.py /tmp/q.sock > qemu.txt; tests/qmp/probe.py /tmp/m.sock > minivmm.txt
"""
import re
import socket
import sys
import time

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
    b'{"execute": "query-version", "id": "v"}',
    b'{"execute": "stop"}',
    b'{"execute": "query-status"}',
    b'{"execute": "cont"}',
    b'{"execute": "query-status"}',
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
]


def main():
    path = sys.argv[1]
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.settimeout(0.5)

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

    def show(data):
        data = re.sub(rb'"seconds": \d+, "microseconds": \d+', b'"seconds": S, "microseconds": U', data)
        data = re.sub(rb'"package": "[^"]*"', b'"package": P', data)
        data = re.sub(rb'"micro": \d+, "minor": \d+, "major": \d+', b'"micro": X, "minor": Y, "major": Z', data)
        sys.stdout.write(data.decode("utf-8", "replace").replace("\r\n", "\\r\\n\n"))

    show(drain())
    for c in CASES:
        print(">>> " + c[:120].decode("utf-8", "replace"))
        s.sendall(c)
        show(drain())
    print(">>> quit")
    s.sendall(b'{"execute": "quit"}')
    show(drain())


if __name__ == "__main__":
    main()
