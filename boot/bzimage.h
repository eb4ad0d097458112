/* bzimage.h - Linux x86 64-bit boot protocol: bzImage header, placement, zero page, e820. */
#ifndef MINIVMM_BZIMAGE_H
#define MINIVMM_BZIMAGE_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* Oldest boot protocol accepted: 2.12 brings xloadflags and the 64-bit entry point. */
#define BZIMAGE_MIN_VERSION 0x020c

/* What minivmm needs from a bzImage's setup header (Documentation/arch/x86/boot.rst). */
struct bzimage_info {
	uint16_t version;
	unsigned setup_sects;  /* 0 means 4 */
	uint64_t pm_offset;    /* file offset of the protected-mode kernel */
	uint64_t pm_size;      /* its size in the file */
	uint64_t pref_address; /* where it wants to run */
	uint32_t init_size;    /* bytes it needs from there while decompressing */
	uint32_t kernel_alignment;
	uint32_t cmdline_size;	  /* longest command line, without the NUL */
	uint32_t initrd_addr_max; /* highest address the initrd's last byte may have */
	uint16_t xloadflags;
	uint8_t
	    header[0x202 + 0x80 - 0x1f1]; /* raw setup header bytes, copied into the zero page */
	size_t header_len;
};

/* Where everything goes, decided before any byte is loaded. */
struct boot_plan {
	uint64_t kernel_gpa; /* protected-mode kernel; 64-bit entry is kernel_gpa + 0x200 */
	uint64_t kernel_end; /* kernel_gpa + max(pm_size, init_size) */
	uint64_t initrd_gpa; /* 0 when there is no initrd */
	uint64_t initrd_size;
	uint64_t entry_gpa;
	uint64_t zero_page_gpa;
	uint64_t cmdline_gpa;
};

/*
 * Read and check the setup header of the bzImage open on @fd (@file_size bytes). On failure
 * returns a negative errno and writes a one-line reason into @err ("not a bzImage: ...").
 */
int bzimage_probe(int fd, uint64_t file_size, struct bzimage_info *info, char *err, size_t errlen);

/*
 * Decide where kernel, initrd, zero page and command line go in @gm (only its layout is used).
 * The initrd goes as high as initrd_addr_max and RAM below the hole allow. Fails with -ENOSPC
 * and a reason in @err when memory is too small, -E2BIG when the command line is too long.
 */
int boot_plan_make(const struct bzimage_info *info, const struct guest_mem *gm,
		   uint64_t initrd_size, size_t cmdline_len, struct boot_plan *plan, char *err,
		   size_t errlen);

/*
 * Fill the e820 table for @gm: RAM below the EBDA, reserved EBDA and BIOS area (ACPI tables
 * live there), RAM from 1 MiB to the hole, the PCI ECAM reserved, RAM above 4 GiB. Returns
 * the number of entries.
 */
unsigned boot_e820_build(const struct guest_mem *gm, struct boot_e820_entry *table, unsigned max);

/*
 * Build the zero page in @bp: setup header from @info with minivmm's loader fields, command
 * line pointer, initrd, e820, RSDP address (@rsdp_gpa, 0 for none), and @setup_data_gpa
 * (head of the setup_data list, 0 for none).
 */
void boot_zero_page_build(struct boot_params *bp, const struct bzimage_info *info,
			  const struct boot_plan *plan, const struct guest_mem *gm,
			  uint64_t rsdp_gpa, uint64_t setup_data_gpa);

/*
 * Load kernel (from @kfd) and initrd (from @ifd, -1 for none) into guest memory by reading
 * straight into it, write the command line and the zero page. Returns 0 or a negative errno
 * with a reason in @err.
 */
int boot_load(const struct guest_mem *gm, const struct bzimage_info *info,
	      const struct boot_plan *plan, int kfd, int ifd, const char *cmdline,
	      uint64_t rsdp_gpa, uint64_t setup_data_gpa, char *err, size_t errlen);

#endif
