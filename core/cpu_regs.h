/* cpu_regs.h - one vCPU's registers (x86-64), read once: a core's NT_PRSTATUS and the panic
 * report both format this snapshot. */
#ifndef MINIVMM_CPU_REGS_H
#define MINIVMM_CPU_REGS_H

#include <stdint.h>

struct cpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t cs, ss, ds, es, fs, gs; /* selectors */
	uint64_t fs_base, gs_base;
	uint64_t cr0, cr2, cr3, cr4, efer;
};

#endif
