/* kvm.h - the KVM VM: /dev/kvm, the VM fd, in-kernel irqchip and PIT, memory slots. */
#ifndef MINIVMM_KVM_H
#define MINIVMM_KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "core/guest_mem.h"

struct kvm_vm {
	int sys_fd;
	int vm_fd;
	int run_size;		  /* mmap size of struct kvm_run */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, fixed up per vcpu later */
	int coalesced_page; /* page of the coalesced-write ring in a vcpu's mapping; 0: none */
};

/*
 * Open /dev/kvm (or $MINIVMM_KVM_DEV), check the API version and the capabilities minivmm
 * needs, create the VM with an in-kernel irqchip and PIT, and set the TSS and identity-map
 * addresses. On failure prints one line and returns a negative errno.
 */
int kvm_vm_create(struct kvm_vm *vm) __attribute__((warn_unused_result));

/*
 * A new VM fd on the same /dev/kvm fd (a reset): the old VM fd is closed, its vcpus must be
 * gone. /dev/kvm is not opened again, so this works after --chroot. Returns 0 or -errno.
 */
int kvm_vm_recreate(struct kvm_vm *vm) __attribute__((warn_unused_result));

/* Register every region of @gm as a memory slot. Call after kvm_vm_create. */
int kvm_vm_set_memory(struct kvm_vm *vm, const struct guest_mem *gm)
    __attribute__((warn_unused_result));

/* Drive GSI @gsi to @level through the in-kernel irqchip (an irq_line->set). */
void kvm_vm_irq_line(void *vm, unsigned gsi, int level);

/*
 * Let KVM batch the guest's port writes to @port..@port+@len-1 (@on) in the ring every vcpu
 * drains at its next exit (vcpus_drain_coalesced), or stop (!@on): such a write then costs no
 * exit of its own. Only for registers whose writes need no immediate answer. Returns 0 or
 * -errno (-ENOTSUP: this KVM cannot).
 */
int kvm_vm_coalesce_pio(struct kvm_vm *vm, uint16_t port, unsigned len, int on);

void kvm_vm_destroy(struct kvm_vm *vm);

#endif
