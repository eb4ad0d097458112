/* kvm.c - VM creation on /dev/kvm with the in-kernel LAPIC/IOAPIC/PIC and PIT. */
#include "kvm.h"
#include "core/layout.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVM_MAX_CPUID_ENTRIES 256

/* Intel SDM vol. 2A, CPUID leaf 1: ECX bit 24, the local APIC's TSC-deadline timer mode. */
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
/* The hypervisor range: 0x40000000 EAX is its highest leaf (KVM's own stop at 0x40000001). */
#define CPUID_HV_BASE 0x40000000u
/* The timing leaf VMware defined and QEMU fills ("vmware-cpuid-freq"): EAX the TSC and EBX the
 * local APIC bus in kHz, so that a guest that reads it need not calibrate either. */
#define CPUID_HV_TIMING 0x40000010u
/* KVM's emulated local APIC timer counts at 1 GHz (APIC_BUS_CYCLE_NS_DEFAULT, x86/kvm/lapic.h). */
#define KVM_APIC_BUS_KHZ 1000000u

static const struct {
	int cap;
	const char *name;
} kvm_required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_HLT, "KVM_CAP_HLT" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == function && !c->entries[i].index)
			return &c->entries[i];
	return NULL;
}

/*
 * What spares the guest its timer calibrations, as QEMU's -cpu host does: the TSC-deadline
 * timer when KVM emulates it (a Linux guest then never calibrates its local APIC timer
 * against the PIT, about 100 ms of PIT ticks), and the timing leaf with the TSC and APIC bus
 * frequencies (KVM_GET_TSC_KHZ on the VM; left out when this KVM cannot say).
 */
static void kvm_cpuid_timing(struct kvm_vm *vm)
{
	struct kvm_cpuid_entry2 *leaf1 = cpuid_find(vm->cpuid, 1);
	struct kvm_cpuid_entry2 *hv = cpuid_find(vm->cpuid, CPUID_HV_BASE);
	int khz;

	if (leaf1 && ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		leaf1->ecx |= CPUID_1_ECX_TSC_DEADLINE;
	if (!hv || cpuid_find(vm->cpuid, CPUID_HV_TIMING) ||
	    vm->cpuid->nent >= KVM_MAX_CPUID_ENTRIES)
		return;
	khz = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TSC_CONTROL) > 0
		  ? ioctl(vm->vm_fd, KVM_GET_TSC_KHZ, 0)
		  : -1;
	if (khz <= 0)
		return;
	if (hv->eax < CPUID_HV_TIMING)
		hv->eax = CPUID_HV_TIMING;
	vm->cpuid->entries[vm->cpuid->nent++] = (struct kvm_cpuid_entry2){
		.function = CPUID_HV_TIMING,
		.eax = (uint32_t)khz,
		.ebx = KVM_APIC_BUS_KHZ,
	};
}

static int kvm_vm_create_vm(struct kvm_vm *vm);

int kvm_vm_create(struct kvm_vm *vm)
{
	const char *dev = getenv("MINIVMM_KVM_DEV");
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	if (!dev)
		dev = "/dev/kvm";
	vm->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0) {
		ret = -errno;
		pr_err("cannot open %s: %s (is KVM available and are you allowed to use it?)", dev,
		       strerror(errno));
		return ret;
	}
	ret = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		pr_err("%s: KVM API version %d, need %d", dev, ret, KVM_API_VERSION);
		ret = -EINVAL;
		goto err_sys;
	}
	for (size_t i = 0; i < sizeof(kvm_required_caps) / sizeof(kvm_required_caps[0]); i++) {
		if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
			pr_err("%s lacks %s", dev, kvm_required_caps[i].name);
			ret = -ENOTSUP;
			goto err_sys;
		}
	}
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		pr_warn(
		    "%s is PVM (kvm_pvm), which runs only PVM-enabled guest kernels; an "
		    "unmodified Linux will stop with a KVM internal error (tests/rig/rig.sh runs "
		    "minivmm in a nested rig instead)",
		    dev);
	vm->run_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		ret = -EINVAL;
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto err_sys;
	}

	vm->cpuid =
	    calloc(1, sizeof(*vm->cpuid) + KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!vm->cpuid) {
		ret = -ENOMEM;
		goto err_sys;
	}
	vm->cpuid->nent = KVM_MAX_CPUID_ENTRIES;
	if (ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0) {
		ret = -errno;
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		goto err_cpuid;
	}

	ret = kvm_vm_create_vm(vm);
	if (ret)
		goto err_cpuid;
	return 0;

err_cpuid:
	free(vm->cpuid);
	vm->cpuid = NULL;
err_sys:
	close(vm->sys_fd);
	vm->sys_fd = -1;
	return ret;
}

/* The VM fd on the open /dev/kvm: created, with the TSS, identity map, irqchip and PIT. */
static int kvm_vm_create_vm(struct kvm_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = KVM_IDMAP_GPA;
	int ret;

	do
		vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	/* Both live in the 32-bit hole, where no RAM and no device is. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		ret = -errno;
		pr_err("KVM_SET_TSS_ADDR/IDENTITY_MAP_ADDR: %s", strerror(errno));
		goto err_vm;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto err_vm;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		goto err_vm;
	}
	kvm_cpuid_timing(vm);
	if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) > 0) {
		ret = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
		if (ret > 0 && (ret + 1) * 4096 <= vm->run_size)
			vm->coalesced_page = ret;
	}
	return 0;

err_vm:
	close(vm->vm_fd);
	vm->vm_fd = -1;
	return ret;
}

int kvm_vm_recreate(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
	return kvm_vm_create_vm(vm);
}

int kvm_vm_set_memory(struct kvm_vm *vm, const struct guest_mem *gm)
{
	for (unsigned i = 0; i < gm->nregions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = gm->regions[i].gpa,
			.memory_size = gm->regions[i].size,
			.userspace_addr = (uintptr_t)gm->regions[i].host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			int ret = -errno;

			pr_err("KVM_SET_USER_MEMORY_REGION (slot %u, %llu MiB): %s", i,
			       (unsigned long long)(r.memory_size >> 20), strerror(errno));
			return ret;
		}
	}
	return 0;
}

void kvm_vm_irq_line(void *opaque, unsigned gsi, int level)
{
	struct kvm_vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_guest_debug("KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}

int kvm_vm_coalesce_pio(struct kvm_vm *vm, uint16_t port, unsigned len, int on)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = port, .size = len, .pio = 1 };

	if (!vm->coalesced_page)
		return -ENOTSUP;
	if (ioctl(vm->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
		  &zone) < 0)
		return -errno;
	return 0;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	free(vm->cpuid);
	vm->cpuid = NULL;
	vm->vm_fd = vm->sys_fd = -1;
}
