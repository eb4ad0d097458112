/*
 * layout.h - the guest-physical memory map minivmm builds, in one place.
 *
 *   0x0000_0500  GDT (boot, flat)
 *   0x0000_7000  zero page (struct boot_params)
 *   0x0000_9000  PML4, 0xA000 PDPT, 0xB000..0xEFFF four page directories (identity 0-4 GiB)
 *   0x0002_0000  kernel command line (up to BOOT_CMDLINE_MAX bytes)
 *   0x0003_0000  setup_data list: the DTB (SETUP_DTB), up to BOOT_SETUP_DATA_MAX bytes
 *   0x0009_FC00  EBDA, reserved            0x000A_0000 - 0x000F_FFFF legacy hole
 *   0x000E_0000  ACPI tables (RSDP first; inside the BIOS scan area)
 *   0x0010_0000  RAM ... up to min(RAM, 3 GiB)
 *   0xC000_0000  32-bit MMIO hole: PCI memory window 0xC000_0000-0xDFFF_FFFF, ECAM (bus 0)
 *                0xE000_0000, pvpanic MMIO 0xFEB0_0000, IOAPIC 0xFEC0_0000, LAPIC 0xFEE0_0000
 *   0x1_0000_0000 RAM above 4 GiB, when RAM > 3 GiB
 */
#ifndef MINIVMM_LAYOUT_H
#define MINIVMM_LAYOUT_H

#define BOOT_GDT_GPA	   0x500ull
#define BOOT_ZERO_PAGE_GPA 0x7000ull
#define BOOT_PML4_GPA	   0x9000ull
#define BOOT_PDPT_GPA	   0xA000ull
#define BOOT_PD_GPA	   0xB000ull /* 4 pages */
#define BOOT_CMDLINE_GPA   0x20000ull
#define BOOT_CMDLINE_MAX   0x10000ull
/* Below 1 MiB, which Linux never hands out; it also memblock-reserves every setup_data entry. */
#define BOOT_SETUP_DATA_GPA 0x30000ull
#define BOOT_SETUP_DATA_MAX 0x10000ull
#define EBDA_START	    0x9FC00ull
#define LEGACY_HOLE_END	    0x100000ull
#define HIGH_RAM_START	    0x100000ull

/* RSDP first (16-byte aligned, inside the BIOS area Linux scans), then every other table. */
#define ACPI_TABLES_GPA	 0xE0000ull
#define ACPI_TABLES_SIZE (LEGACY_HOLE_END - ACPI_TABLES_GPA)

#define MMIO_HOLE_START	   0xC0000000ull
#define MMIO_HOLE_END	   0x100000000ull
#define RAM_ABOVE_4G_START 0x100000000ull

/* Of @ram_size bytes of RAM, how many lie below the hole; the rest start at 4 GiB. */
static inline unsigned long long layout_ram_below_4g(unsigned long long ram_size)
{
	return ram_size < MMIO_HOLE_START ? ram_size : MMIO_HOLE_START;
}

#define PCI_MEM_WINDOW_GPA 0xC0000000ull
#define PCI_MEM_WINDOW_LEN 0x20000000ull
#define PCI_ECAM_GPA	   0xE0000000ull
#define PCI_ECAM_LEN	   0x100000ull /* bus 0 only: 32 slots x 8 functions x 4 KiB */
#define PCI_IO_WINDOW_PORT 0xC000u
#define PCI_IO_WINDOW_LEN  0x4000u
#define PVPANIC_MMIO_GPA   0xFEB00000ull

#define IOAPIC_GPA    0xFEC00000ull
#define LAPIC_GPA     0xFEE00000ull
#define KVM_TSS_GPA   0xFFFBD000ull /* 3 pages, inside the hole, below the reset vector */
#define KVM_IDMAP_GPA 0xFFFBC000ull

#endif
