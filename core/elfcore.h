/* elfcore.h - an ELF64 core of guest RAM, streamed from the guest mapping, for crash and
 * makedumpfile. */
#ifndef MINIVMM_ELFCORE_H
#define MINIVMM_ELFCORE_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_regs.h"
#include "guest_mem.h"

/*
 * One vCPU's general registers in the order of Linux's x86_64 user_regs_struct, which is the
 * elf_gregset_t inside NT_PRSTATUS (arch/x86/include/asm/user_64.h).
 */
struct elfcore_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};

/* @c in NT_PRSTATUS's register order (orig_rax, which a guest's trap has no use for, 0). */
void elfcore_prstatus_regs(const struct cpu_regs *c, struct elfcore_regs *o);

/* A piece of guest RAM: one PT_LOAD at guest-physical @gpa, read from @host. */
struct elfcore_range {
	uint64_t gpa;
	uint64_t size;
	const uint8_t *host;
};

#define ELFCORE_MAX_RANGES GUEST_MEM_MAX_REGIONS

/* What goes into a core. */
struct elfcore_desc {
	const struct elfcore_range *ranges;
	unsigned nranges;
	const struct cpu_regs *cpus; /* one NT_PRSTATUS each, pr_pid = index + 1 */
	unsigned ncpus;
	const char *vmcoreinfo; /* the VMCOREINFO note's descriptor (text), NULL for none */
	size_t vmcoreinfo_len;
};

/* x86_64 struct elf_prstatus: 336 bytes, the registers at offset 112. */
#define ELFCORE_PRSTATUS_SIZE 336
#define ELFCORE_PRSTATUS_REGS 112
#define ELFCORE_PRSTATUS_PID  32
/* Guest RAM starts at this file offset alignment, so zero pages can be holes. */
#define ELFCORE_PAGE	       4096
#define ELFCORE_VMCOREINFO_MAX (64 * 1024)

/*
 * The RAM of @gm within [@begin, @begin + @length) as ranges (@length 0: all of it), at most
 * ELFCORE_MAX_RANGES into @out. Returns how many, or -EINVAL when the window overflows or
 * holds no RAM at all.
 */
int elfcore_ranges(const struct guest_mem *gm, uint64_t begin, uint64_t length,
		   struct elfcore_range *out);

/*
 * The guest's VMCOREINFO note at guest-physical [@paddr, @paddr + @size) (what Linux writes
 * to fw_cfg's etc/vmcoreinfo): 0 with *@desc pointing at its text in guest RAM and *@len its
 * length, if the range is RAM and starts with one whole ELF note named "VMCOREINFO" whose text
 * fits both @size and ELFCORE_VMCOREINFO_MAX; else -EINVAL. Every value is the guest's.
 */
int elfcore_guest_vmcoreinfo(const struct guest_mem *gm, uint64_t paddr, uint32_t size,
			     const char **desc, size_t *len);

/*
 * Look for Linux's VMCOREINFO note in guest RAM, for a guest that did not say where it is
 * (no qemu_fw_cfg driver): the first page-aligned note named "VMCOREINFO" whose text starts
 * with "OSRELEASE=" (Linux allocates the note page-aligned). Returns 0 with *@paddr and
 * *@size (to the end of that RAM region, at most two pages), or -ENOENT.
 */
int elfcore_find_vmcoreinfo(const struct guest_mem *gm, uint64_t *paddr, uint32_t *size);

/* The PT_NOTE's contents for @d: its size, and the notes written into @buf (that size, zeroed
 * by the caller); returns where in them the VMCOREINFO text starts (0: none). */
uint64_t elfcore_notes_size(const struct elfcore_desc *d);
uint64_t elfcore_notes(const struct elfcore_desc *d, uint8_t *buf);

/* The size of the core file elfcore_write makes of @d (holes included). */
uint64_t elfcore_size(const struct elfcore_desc *d);

/*
 * Write the core of @d to @fd from its current position: ELF header, a PT_NOTE (one
 * NT_PRSTATUS per vCPU, then VMCOREINFO if given), one PT_LOAD per range with p_paddr its
 * guest-physical address. Guest RAM is written straight from the mapping, never copied; on a
 * regular file, pages of zeroes are skipped with lseek and left as holes. @done, if not NULL,
 * is kept at the bytes written so far (atomically, so another thread may read it).
 * Returns 0 or a negative errno.
 */
int elfcore_write(int fd, const struct elfcore_desc *d, uint64_t *done)
    __attribute__((warn_unused_result));

#endif
