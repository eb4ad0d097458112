/* x86_cpu.h - the CPU state the 64-bit boot protocol asks for: paging, GDT, long mode, regs. */
#ifndef MINIVMM_X86_CPU_H
#define MINIVMM_X86_CPU_H

#include <linux/kvm.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* Flat GDT selectors the boot protocol names (__BOOT_CS, __BOOT_DS) plus a TSS for TR. */
#define BOOT_CS	 0x10
#define BOOT_DS	 0x18
#define BOOT_TSS 0x20

/* Write the identity page tables (0-4 GiB, 2 MiB pages) and the GDT into guest memory. */
int x86_boot_tables_write(const struct guest_mem *gm) __attribute__((warn_unused_result));

/* Turn @sregs (as read from a fresh vcpu) into 64-bit long mode on those tables. */
void x86_boot_sregs(struct kvm_sregs *sregs);

/* General registers at the 64-bit entry: rip = @entry, rsi = @zero_page, rflags = 2. */
void x86_boot_regs(struct kvm_regs *regs, uint64_t entry, uint64_t zero_page);

#endif
