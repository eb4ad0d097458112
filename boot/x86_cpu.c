/* x86_cpu.c - identity paging, flat GDT and long-mode segment state for the boot CPU. */
#include "x86_cpu.h"
#include "core/layout.h"

#include <string.h>

#define X86_CR0_PE   (1ull << 0)
#define X86_CR0_ET   (1ull << 4)
#define X86_CR0_PG   (1ull << 31)
#define X86_CR4_PAE  (1ull << 5)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)

#define PTE_PRESENT (1ull << 0)
#define PTE_RW	    (1ull << 1)
#define PTE_PS	    (1ull << 7) /* 2 MiB page in a page directory */

/* GDT descriptors: base 0, limit 4 GiB, flags as the SDM's segment descriptor layout. */
#define GDT_ENTRY(flags, base, limit)                                                              \
	((((base)&0xff000000ull) << (56 - 24)) | (((flags)&0x0000f0ffull) << 40) |                 \
	 (((limit)&0x000f0000ull) << (48 - 16)) | (((base)&0x00ffffffull) << 16) |                 \
	 ((limit)&0x0000ffffull))
#define GDT_CODE64 GDT_ENTRY(0xa09b, 0, 0xfffff) /* P, S, exec/read accessed, L, G */
#define GDT_DATA   GDT_ENTRY(0xc093, 0, 0xfffff) /* P, S, read/write accessed, D/B, G */
#define GDT_TSS	   GDT_ENTRY(0x808b, 0, 0xfffff) /* P, busy 64-bit TSS (VMX wants a usable TR) */

int x86_boot_tables_write(const struct guest_mem *gm)
{
	uint64_t gdt[5] = { 0, 0, GDT_CODE64, GDT_DATA, GDT_TSS };
	uint64_t *pml4 = guest_mem_ptr(gm, BOOT_PML4_GPA, 4096);
	uint64_t *pdpt = guest_mem_ptr(gm, BOOT_PDPT_GPA, 4096);
	uint64_t *pd = guest_mem_ptr(gm, BOOT_PD_GPA, 4 * 4096);

	if (!pml4 || !pdpt || !pd || guest_mem_write(gm, BOOT_GDT_GPA, gdt, sizeof(gdt)))
		return -1;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_GPA | PTE_PRESENT | PTE_RW;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_GPA + i * 4096ull) | PTE_PRESENT | PTE_RW;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
	return 0;
}

static struct kvm_segment seg_from_gdt(uint64_t desc, uint16_t sel)
{
	struct kvm_segment s = {
		.base = ((desc >> 16) & 0xffffff) | (((desc >> 56) & 0xff) << 24),
		.limit = (uint32_t)((desc & 0xffff) | (((desc >> 48) & 0xf) << 16)),
		.selector = sel,
		.type = (desc >> 40) & 0xf,
		.present = (desc >> 47) & 1,
		.dpl = (desc >> 45) & 3,
		.db = (desc >> 54) & 1,
		.s = (desc >> 44) & 1,
		.l = (desc >> 53) & 1,
		.g = (desc >> 55) & 1,
	};

	if (s.g) /* the limit is in 4 KiB units; KVM wants bytes */
		s.limit = (s.limit << 12) | 0xfff;
	return s;
}

void x86_boot_sregs(struct kvm_sregs *sregs)
{
	struct kvm_segment code = seg_from_gdt(GDT_CODE64, BOOT_CS);
	struct kvm_segment data = seg_from_gdt(GDT_DATA, BOOT_DS);

	sregs->gdt.base = BOOT_GDT_GPA;
	sregs->gdt.limit = 5 * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = seg_from_gdt(GDT_TSS, BOOT_TSS);
	sregs->cr3 = BOOT_PML4_GPA;
	sregs->cr4 |= X86_CR4_PAE;
	sregs->cr0 |= X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
	sregs->efer |= X86_EFER_LME | X86_EFER_LMA;
}

void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t zero_page)
{
	memset(regs, 0, sizeof(*regs));
	regs->rflags = 2; /* bit 1 is reserved and reads as one */
	regs->rip = entry;
	regs->rsi = zero_page;
}
