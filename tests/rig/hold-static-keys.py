#!/usr/bin/env python3
"""hold-static-keys.py - keep one idle KVM VM alive inside the rig.

KVM counts vCPUs whose local APIC is software-disabled in a static key (apic_sw_disabled);
each guest boot moves that count across zero twice, and every crossing live-patches the
kernel's text. Under QEMU's multi-threaded TCG such patching can race with the other vCPU's
translated code (seen as an "Oops: int3" in apic_has_pending_timer). One vCPU that is created
and never run keeps the count above zero, so guests started by the tests patch nothing.
"""
import fcntl
import os
import signal

KVM_CREATE_VM = 0xAE01
KVM_CREATE_IRQCHIP = 0xAE60
KVM_CREATE_VCPU = 0xAE41

kvm = os.open("/dev/kvm", os.O_RDWR)
vm = fcntl.ioctl(kvm, KVM_CREATE_VM, 0)
fcntl.ioctl(vm, KVM_CREATE_IRQCHIP, 0)
vcpu = fcntl.ioctl(vm, KVM_CREATE_VCPU, 0)
while True:
    signal.pause()
