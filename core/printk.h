/* printk.h - the guest kernel's log read from its RAM: Linux's lockless printk ring buffer. */
#ifndef MINIVMM_PRINTK_H
#define MINIVMM_PRINTK_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

/* x86_64 Linux's kernel text mapping (arch/x86/include/asm/page_64_types.h). */
#define PRINTK_START_KERNEL_MAP 0xffffffff80000000ull
/* The physical-address bits of a page-table entry (bits 12-51), as makedumpfile masks them. */
#define PRINTK_ENTRY_MASK 0x000ffffffffff000ull
/* The largest ring read (text or descriptors): Linux's log_buf_len is at most 2^25 bytes. */
#define PRINTK_MAX_RING (64u << 20)
/* The most formatted text kept (a newline becomes a newline and an indent, a byte "\xNN"). */
#define PRINTK_MAX_OUT (256u << 20)

/*
 * The value of "@key=..." in a VMCOREINFO text (@len bytes, lines "KEY=VALUE\n"), parsed in
 * @base (16 for SYMBOL(...) and KERNELOFFSET, 10 for NUMBER, OFFSET, SIZE). 0 or -ENOENT.
 */
int printk_vmcoreinfo(const char *info, size_t len, const char *key, int base, uint64_t *val);

/* How kernel virtual addresses become guest-physical ones: a walk of the guest's page tables. */
struct printk_mmu {
	const struct guest_mem *gm;
	uint64_t pgd;	     /* guest-physical address of the top-level table */
	int la57;	     /* 5-level paging */
	uint64_t entry_mask; /* physical-address bits of an entry (PRINTK_ENTRY_MASK less SME) */
};

/*
 * Translate @va through @m (4- or 5-level, 1 GiB and 2 MiB pages): 0 with *@pa, or -EFAULT when
 * an entry is not present or a table is not in RAM. Every entry is read with guest_mem_read.
 */
int printk_vtop(const struct printk_mmu *m, uint64_t va, uint64_t *pa);

/* Copy @len bytes at guest-virtual @va (page by page through @m). 0 or -EFAULT. */
int printk_read_virt(const struct printk_mmu *m, void *dst, uint64_t va, uint64_t len);

/*
 * The page tables Linux itself uses, as makedumpfile finds them: SYMBOL(init_top_pgt) in the
 * kernel text mapping (NUMBER(phys_base)), 5-level if NUMBER(pgtable_l5_enabled) says so, less
 * NUMBER(sme_mask). Without init_top_pgt, @cr3 (a vcpu's, 0 for none) with @cr4_la57.
 * 0 or -ENOENT.
 */
int printk_mmu_init(struct printk_mmu *m, const struct guest_mem *gm, const char *info, size_t len,
		    uint64_t cr3, int cr4_la57);

/*
 * The kernel log of a Linux >= 5.10 guest (the lockless ring buffer SYMBOL(prb) points at, laid
 * out as VMCOREINFO's OFFSET()s and SIZE()s say), formatted byte for byte as Debian's
 * makedumpfile 1.7.2 `--dump-dmesg` writes it: records from the tail id to the head id, the
 * committed and finalized ones, each "[%5llu.%06lu] " then its text with a newline inside the
 * text followed by spaces as wide as that prefix, characters neither printable nor space as
 * "\xNN" of the signed char (so 0xc3 is "\xffffffc3"), and a newline. The caller id is not
 * printed (makedumpfile 1.7.5 added it). Every guest value is checked: a corrupt ring gives
 * -EINVAL or a shorter log, never a read outside guest RAM.
 * With @keep 0 the whole log; else only its end: the fewest last records that make @keep
 * bytes or more (all of them if the log is shorter). Returns 0 with a malloc'd NUL-terminated
 * *@out of *@outlen bytes and the whole log's length in *@total, or -errno with a reason in
 * @why.
 */
int printk_read_log(const struct printk_mmu *m, const char *info, size_t len, size_t keep,
		    char **out, size_t *outlen, size_t *total, char *why, size_t whylen);

/*
 * The panic message in @log: the last line holding "Kernel panic - not syncing: ", from that
 * text to the end of its line. Returns its start and *@n, or NULL.
 */
const char *printk_panic_message(const char *log, size_t len, size_t *n);

#endif
