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

#include "core/bus.h"
#include "core/fwdesc.h"

#define PCI_CONFIG_ADDR_PORT 0xCF8 /* 4 bytes, CONFIG_ADDRESS */
#define PCI_CONFIG_DATA_PORT 0xCFC /* 4 bytes, CONFIG_DATA (byte/word/dword at offsets 0-3) */

#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS  6
#define PCI_CFG_SPACE 256  /* conventional header + device-specific registers */
#define PCI_ECAM_FUNC 4096 /* ECAM bytes per function; beyond 256 reads as zero */

/* Standard header offsets used by the host and device glue. */
#define PCI_VENDOR_ID	    0x00
#define PCI_DEVICE_ID	    0x02
#define PCI_COMMAND	    0x04
#define PCI_STATUS	    0x06
#define PCI_REVISION_ID	    0x08
#define PCI_CLASS_PROG	    0x09
#define PCI_HEADER_TYPE	    0x0e
#define PCI_BAR0	    0x10
#define PCI_SUBSYS_VENDOR   0x2c
#define PCI_SUBSYS_ID	    0x2e
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d
#define PCI_DEVICE_SPECIFIC 0x40 /* first offset handed to pci_device_info.cfg_read/write */

#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_CAPABILITY_LIST 0x34
#define PCI_ROM_ADDRESS	    0x30

#define PCI_COMMAND_IO		 0x1
#define PCI_COMMAND_MEMORY	 0x2
#define PCI_COMMAND_MASTER	 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT	 0x8 /* INTx asserted (whether or not it is disabled) */
#define PCI_BAR_IO_SPACE	 0x1 /* BAR bit 0: I/O space; MEM32 BARs read type bits 0 */

/* The host bridge at 00:00.0 (as QEMU's generic PCIe host, "gpex"). */
#define PCI_HOST_VENDOR 0x1b36
#define PCI_HOST_DEVICE 0x0008
#define PCI_HOST_CLASS	0x060000

/* Legacy INTx: pin p (1..4 = INTA..INTD) of slot s goes to GSI PCI_INTX_GSI + (s + p - 1) % 4. */
#define PCI_INTX_GSI  16
#define PCI_INTX_GSIS 4

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_IO };

struct pci_bar_info {
	enum pci_bar_type type;
	uint32_t size;		   /* power of two; >= 16 for memory, >= 4 for I/O */
	const struct bus_ops *ops; /* offsets are relative to the BAR's base */
	void *opaque;
};

struct pci_device_info {
	const char *name; /* for messages and bus ranges; must outlive the host */
	uint16_t vendor, device;
	uint8_t revision;
	uint32_t class_code; /* 24 bits: class, subclass, prog-if (0x088000 = "other system") */
	uint16_t subsys_vendor, subsys;
	uint8_t irq_pin; /* 0 none, 1..4 INTA..INTD */
	struct pci_bar_info bars[PCI_NUM_BARS];
	/*
	 * Device-specific config registers at offsets PCI_DEVICE_SPECIFIC..255, optional (NULL:
	 * they read as zero and ignore writes). @off is absolute within config space; the access
	 * lies within one dword. Called on vcpu threads with the host lock held: they may take
	 * the device's own lock, and must not call back into the host except pci_host_set_intx.
	 */
	uint32_t (*cfg_read)(void *opaque, unsigned off, unsigned len);
	void (*cfg_write)(void *opaque, unsigned off, uint32_t val, unsigned len);
	void *opaque;
};

struct pci_host;

/*
 * Create the host on @pio (0xCF8/0xCFC) and @mmio (ECAM at @ecam_base, one bus), with the
 * host bridge at 00:00.0. BARs are assigned from the I/O window @io_base/@io_len and the
 * 32-bit memory window @mem_base/@mem_len, as firmware would, and decoding is left on.
 * Returns 0 or -errno.
 */
int pci_host_create(struct bus *pio, struct bus *mmio, uint64_t ecam_base, uint32_t io_base,
		    uint32_t io_len, uint32_t mem_base, uint32_t mem_len, struct pci_host **out)
    __attribute__((warn_unused_result));

/* Unmap every BAR and the config-space ranges, free the host. Vcpus must be stopped. */
void pci_host_destroy(struct pci_host *h);

/*
 * Ports 0xCF8-0xCFB are CONFIG_ADDRESS only to a dword access at 0xCF8; any other access
 * there is ordinary port I/O (on a PC, the byte at 0xCF9 is the reset control register).
 * The host owns the range on the bus, so it hands such accesses to @port (0xCF8..0xCFB) to
 * @ops at offset 0 (sizes per @ops, one byte wide). Call before vcpus run. Returns 0 or -errno.
 */
int pci_host_share_port(struct pci_host *h, unsigned port, const struct bus_ops *ops, void *opaque)
    __attribute__((warn_unused_result));

/*
 * Where INTx goes: @set(@ctx, gsi, level) for GSIs PCI_INTX_GSI..+3, each the wired-OR of
 * the devices swizzled onto it. Call before vcpus run.
 */
void pci_host_set_irq(struct pci_host *h, void (*set)(void *ctx, unsigned gsi, int level),
		      void *ctx);

/*
 * Put a device in the next free slot (1..31), assign and map its BARs. @info is copied; its
 * BAR ops and opaques must outlive the host. Returns the slot or -errno.
 */
int pci_host_add(struct pci_host *h, const struct pci_device_info *info)
    __attribute__((warn_unused_result));

/*
 * The device in @slot drives its INTx pin to @level (1 asserted). COMMAND.INTX_DISABLE masks
 * it. Safe from any thread and under any lock, the device's own included, and from inside its
 * cfg_read/cfg_write hooks: it takes only the host's INTx lock, a leaf (pci.c, lock order).
 */
void pci_host_set_intx(struct pci_host *h, int slot, int level);

/* Back to power-on state: every header as at creation (BARs as firmware assigned them,
 * mapped again), INTx deasserted. Vcpus must be stopped. */
void pci_host_reset(struct pci_host *h);

/*
 * The host bridge's firmware description: fw->pci (the MCFG's ECAM, and pci_host_aml for
 * ACPI PCI0) and a PNP0C02 device reserving the ECAM. Returns 0 or -ENOSPC.
 */
int pci_host_fill_fw(const struct pci_host *h, struct fw_desc *fw)
    __attribute__((warn_unused_result));

/* What a function's header says now, for a monitor (QMP query-pci). */
struct pci_function_state {
	struct pci_device_info info; /* identity, class, pin, BAR types and sizes */
	uint8_t irq_line;
	struct {
		uint32_t addr; /* the BAR register's address bits */
		int mapped;    /* decoded there now (decode bit on, address sane, no clash) */
	} bars[PCI_NUM_BARS];
};

/* The function in @slot of bus 0 (0 is the host bridge). Returns 0, or -ENOENT for an empty
 * slot. Any thread; takes the host lock. */
int pci_host_query(struct pci_host *h, unsigned slot, struct pci_function_state *out)
    __attribute__((warn_unused_result));

struct aml;

/* The fw_pci_host hook: Device (PCI0) with _HID/_CID, _SEG, _BBN, _CRS (bus range, config
 * ports, windows) and _PRT for every slot's INTA-INTD (devices/pci_fw.c). */
void pci_host_aml(struct aml *a, const struct fw_pci_host *p);

#endif
