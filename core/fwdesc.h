/*
 * fwdesc.h - the machine as firmware describes it. One list, filled as devices are put on the
 * buses, is what the ACPI tables and the FDT are generated from, so an address can never
 * disagree between the bus, the AML and the device tree.
 */
#ifndef MINIVMM_FWDESC_H
#define MINIVMM_FWDESC_H

#include <stdint.h>

#define FW_MAX_RES     4
#define FW_MAX_DEVICES 32

enum fw_res_kind { FW_RES_IO, FW_RES_MMIO, FW_RES_IRQ };

struct fw_resource {
	enum fw_res_kind kind;
	uint64_t base; /* port, guest-physical address, or GSI */
	uint64_t len;  /* bytes; 0 for FW_RES_IRQ */
};

struct aml;

/*
 * One device as firmware describes it. The table builders make the generic parts from the
 * fields: an ACPI Device () under \_SB with _HID, _UID, _STA and a _CRS of @res, and an FDT
 * node with compatible, reg and interrupts. What only the device knows it adds itself
 * through the hooks, so the builders never ask what kind of device they are looking at.
 */
struct fw_device {
	char acpi_name[5];    /* 4-character AML name under \_SB, e.g. "COM1" */
	const char *acpi_hid; /* "PNP0501" (EISA id, compressed in AML) or "QEMU0001" */
	uint32_t acpi_uid;
	const char *fdt_node;	/* node name without unit address ("serial"), NULL: not in FDT */
	const char *fdt_compat; /* "ns16550a", "qemu,pvpanic-mmio" */
	int fdt_console;	/* /chosen/stdout-path names the first such node */
	unsigned nres;
	struct fw_resource res[FW_MAX_RES];
	/* More AML inside the Device (), after _CRS. NULL: none. */
	void (*aml)(struct aml *a, const struct fw_device *d);
	/* More properties of the FDT node (sequential-write @fdt), after interrupts. Returns 0
	 * or a negative libfdt error. NULL: none. */
	int (*fdt)(void *fdt, const struct fw_device *d);
};

/* Fixed ACPI hardware: the PM1a blocks, the reset register, the SCI. */
struct fw_acpi_hw {
	uint16_t pm1a_evt;   /* PM1a_EVT_BLK port (4 bytes: status, enable) */
	uint16_t pm1a_cnt;   /* PM1a_CNT_BLK port (2 bytes) */
	uint16_t pm_tmr;     /* PM_TMR_BLK port (4 bytes, 32-bit counter at 3.579545 MHz) */
	uint16_t reset_port; /* FADT RESET_REG (1 byte, system I/O) */
	uint8_t reset_value;
	uint8_t sci_irq;
	uint8_t s5_slp_typ; /* value the guest writes to SLP_TYP for S5 */
	int has_s5;	    /* \_S5 exists (off: the guest cannot power off via ACPI) */
	/* Root-scope AML of this hardware (the \_S5 package), after \_SB. NULL: none. */
	void (*aml)(struct aml *a, const struct fw_acpi_hw *hw);
};

/*
 * The PCI host bridge: present when a PCI host was created. The MCFG table comes from the
 * fields; the bridge's Device () under \_SB (before the other devices) from its own hook.
 * INTx of slot s, pin p (0 = INTA) goes to GSI gsi_base + (s + p) % 4.
 */
struct fw_pci_host {
	int present;
	uint64_t ecam_base; /* ECAM of segment 0, bus_start..bus_end, 1 MiB per bus */
	uint8_t bus_start, bus_end;
	uint16_t io_base, io_len;   /* I/O window the host forwards to devices */
	uint32_t mem_base, mem_len; /* 32-bit memory window */
	unsigned gsi_base;	    /* first of four INTx GSIs */
	void (*aml)(struct aml *a, const struct fw_pci_host *p);
};

struct fw_desc {
	unsigned ncpus;
	struct fw_acpi_hw acpi;
	struct fw_pci_host pci;
	unsigned ndevices;
	struct fw_device devices[FW_MAX_DEVICES];
};

/* Append a copy of @dev. Returns 0, or -ENOSPC when the table is full. */
int fw_desc_add(struct fw_desc *fw, const struct fw_device *dev)
    __attribute__((warn_unused_result));

#endif
