/*
 * kvm-probe.c - can /dev/kvm run an ordinary guest? Some hosts expose a /dev/kvm that only
 * runs paravirtualised guests (PVM, for instance), on which an unmodified Linux cannot boot.
 * This enters 64-bit long mode directly, as minivmm boots Linux (identity-mapped 2 MiB page,
 * flat 64-bit code segment), runs "mov al, 0x42; out 0x10, al; hlt" and checks the exit.
 * Exit status 0: usable; 1: not usable (the reason on stderr).
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE 0x200000
#define PML4	 0x2000
#define PDPT	 0x3000
#define PD	 0x4000
#define CODE	 0x10000

static int fail(const char *what)
{
	fprintf(stderr, "kvm-probe: %s\n", what);
	return 1;
}

int main(void)
{
	/* mov al, 0x42; out 0x10, al; hlt */
	static const unsigned char code[] = { 0xb0, 0x42, 0xe6, 0x10, 0xf4 };
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("cannot open /dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return fail("unexpected KVM API version");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM failed");
	uint8_t *mem =
	    mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap failed");
	memcpy(mem + CODE, code, sizeof(code));
	uint64_t *pml4 = (uint64_t *)(mem + PML4), *pdpt = (uint64_t *)(mem + PDPT);
	uint64_t *pd = (uint64_t *)(mem + PD);
	pml4[0] = PDPT | 0x3; /* present, writable */
	pdpt[0] = PD | 0x3;
	pd[0] = 0x0 | 0x83; /* 2 MiB page at 0 */
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION failed");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU failed");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE failed");
	struct kvm_run *run =
	    mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap of kvm_run failed");
	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS failed");
	struct kvm_segment seg = {
		.base = 0,
		.limit = 0xffffffff,
		.present = 1,
		.s = 1,
		.g = 1,
		.dpl = 0,
	};
	seg.type = 11; /* execute/read, accessed */
	seg.selector = 0x10;
	seg.l = 1;
	sregs.cs = seg;
	seg.type = 3; /* read/write, accessed */
	seg.selector = 0x18;
	seg.l = 0;
	seg.db = 1;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	sregs.cr3 = PML4;
	sregs.cr4 = 1u << 5;		      /* PAE */
	sregs.cr0 = 1u | 1u << 31 | 1u << 16; /* PE, PG, WP */
	sregs.efer = 1u << 8 | 1u << 10;      /* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS failed");
	struct kvm_regs regs = { .rip = CODE, .rflags = 0x2, .rsp = CODE };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS failed");
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN failed");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10 ||
	    run->io.direction != KVM_EXIT_IO_OUT || ((uint8_t *)run)[run->io.data_offset] != 0x42) {
		fprintf(stderr,
			"kvm-probe: /dev/kvm did not run a long-mode guest (exit reason %u)\n",
			run->exit_reason);
		return 1;
	}
	return 0;
}
