/*
 * pci.h - a minimal PCI host: bus 0, function 0 of each slot, type-0 headers, BARs with the
 * sizing protocol, reached through ports 0xCF8/0xCFC and through ECAM. A device driver
 * (pvpanic-pci, i6300esb) describes itself with a struct pci_device_info; the host owns the
 * standard header, BAR sizing and decode, and maps each BAR on the VM's PIO or MMIO bus, so
 * the device's BAR callbacks see offsets inside the BAR like any other bus device.
 */
#ifndef MINIVMM_PCI_H
#define MINIVMM_PCI_H

#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/fwdesc.h"

#define PCI_CONFIG_ADDR_PORT 0xCF8 /* 4 bytes, CONFIG_ADDRESS */
#define PCI_CONFIG_DATA_PORT 0xCFC /* 4 bytes, CONFIG_DATA (byte/word/dword at offsets 0-3) */

#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS  6
#define PCI_CFG_SPACE 256  /* conventional header + device-specific registers */
#define PCI_ECAM_FUNC 4096 /* ECAM bytes per function; beyond 256 reads as zero */

/* Standard header offsets used by the host and device glue. */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_DEVICE_SPECIFIC 0x40 /* first offset handed to pci_device_info.cfg_read/write */

#define PCI_COMMAND_IO     0x1
#define PCI_COMMAND_MEMORY 0x2

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_IO };

struct pci_bar_info {
	enum pci_bar_type type;
	uint32_t size;             /* power of two; >= 16 for memory, >= 4 for I/O */
	const struct bus_ops *ops; /* offsets are relative to the BAR's base */
	void *opaque;
};

struct pci_device_info {
	const char *name;     /* for messages and bus ranges */
	uint16_t vendor, device;
	uint8_t revision;
	uint32_t class_code;  /* 24 bits: class, subclass, prog-if (0x088000 = "other system") */
	uint16_t subsys_vendor, subsys;
	uint8_t irq_pin;      /* 0 none, 1..4 INTA..INTD */
	struct pci_bar_info bars[PCI_NUM_BARS];
	/*
	 * Device-specific config registers at offsets PCI_DEVICE_SPECIFIC..255, optional (NULL:
	 * they read as zero and ignore writes). @off is absolute within config space; the access
	 * lies within one dword. Called on vcpu threads.
	 */
	uint32_t (*cfg_read)(void *opaque, unsigned off, unsigned len);
	void (*cfg_write)(void *opaque, unsigned off, uint32_t val, unsigned len);
	void *opaque;
};

struct pci_host;

/* Create the host on @pio (0xCF8/0xCFC) and @mmio (ECAM at @ecam_base, one bus), with the
 * host bridge at 00:00.0. BARs are assigned from the I/O window @io_base/@io_len and the
 * 32-bit memory window @mem_base/@mem_len, as firmware would. Returns 0 or -errno. */
int pci_host_create(struct bus *pio, struct bus *mmio, uint64_t ecam_base, uint32_t io_base,
		    uint32_t io_len, uint32_t mem_base, uint32_t mem_len, struct pci_host **out)
	__attribute__((warn_unused_result));
void pci_host_destroy(struct pci_host *h);

/* Put a device in the next free slot, assign and map its BARs. Returns the slot or -errno. */
int pci_host_add(struct pci_host *h, const struct pci_device_info *info)
	__attribute__((warn_unused_result));

/* Back to power-on state: every header as at creation (BARs as firmware assigned them). */
void pci_host_reset(struct pci_host *h);

/* The host bridge's firmware description (ACPI PCI0 with _CRS, _PRT; MCFG). */
void pci_host_fill_fw(const struct pci_host *h, struct fw_desc *fw);

#endif
