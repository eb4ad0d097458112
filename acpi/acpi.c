/*
 * acpi.c - RSDP, XSDT, FADT, FACS, MADT, DSDT and MCFG. Layouts follow the ACPI 6.x
 * specification (chapter 5.2) and, for the MCFG, the PCI Firmware Specification 3.2. The DSDT
 * is made from the firmware description the buses were populated from, so a port or address in
 * the AML is the one the device answers on; what is particular to a device comes from the
 * device's own hook, never from a switch on its kind here.
 */
#include "acpi.h"
#include "core/aml.h"
#include "core/layout.h"
#include "core/le.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACPI_OEM_ID	  "MINVMM"
#define ACPI_OEM_TABLE_ID "MINIVMM "
#define ACPI_CREATOR_ID	  "MVMM"

/* System description table header (5.2.6). */
#define HDR_SIGNATURE	     0
#define HDR_LENGTH	     4
#define HDR_REVISION	     8
#define HDR_CHECKSUM	     9
#define HDR_OEM_ID	     10
#define HDR_OEM_TABLE_ID     16
#define HDR_OEM_REVISION     24
#define HDR_CREATOR_ID	     28
#define HDR_CREATOR_REVISION 32
#define ACPI_HEADER_LEN	     36

/* RSDP (5.2.5.3): the ACPI 1.0 part is the first 20 bytes. */
#define RSDP_SIGNATURE	  0
#define RSDP_CHECKSUM	  8
#define RSDP_OEM_ID	  9
#define RSDP_REVISION	  15
#define RSDP_LENGTH	  20
#define RSDP_XSDT	  24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_V1_LEN	  20
#define RSDP_LEN	  36
#define RSDP_REV_ACPI2	  2

/* XSDT (5.2.8): 64-bit pointers after the header. */
#define XSDT_ENTRY0 ACPI_HEADER_LEN

/* FADT (5.2.9) */
#define FADT_LEN		       276
#define FADT_REVISION		       6
#define FADT_FIRMWARE_CTRL	       36
#define FADT_DSDT		       40
#define FADT_SCI_INT		       46
#define FADT_SMI_CMD		       48
#define FADT_PM1A_EVT_BLK	       56
#define FADT_PM1A_CNT_BLK	       64
#define FADT_PM_TMR_BLK		       76
#define FADT_PM1_EVT_LEN	       88
#define FADT_PM1_CNT_LEN	       89
#define FADT_PM_TMR_LEN		       91
#define FADT_P_LVL2_LAT		       96
#define FADT_P_LVL3_LAT		       98
#define FADT_IAPC_BOOT_ARCH	       109
#define FADT_FLAGS		       112
#define FADT_RESET_REG		       116
#define FADT_RESET_VALUE	       128
#define FADT_X_FIRMWARE_CTRL	       132
#define FADT_X_DSDT		       140
#define FADT_X_PM1A_EVT_BLK	       148
#define FADT_X_PM1A_CNT_BLK	       172
#define FADT_X_PM_TMR_BLK	       208
#define FADT_HYPERVISOR_VENDOR	       268
#define FADT_F_WBINVD		       (1u << 0)
#define FADT_F_PROC_C1		       (1u << 2)
#define FADT_F_SLP_BUTTON	       (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_F_FIX_RTC		       (1u << 6) /* set: no RTC wake status in PM1 */
#define FADT_F_TMR_VAL_EXT	       (1u << 8) /* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP	       (1u << 10)
#define FADT_BOOT_VGA_NOT_PRESENT      (1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)
#define FADT_P_LVL2_NONE	       101  /* > 100: C2 not supported */
#define FADT_P_LVL3_NONE	       1001 /* > 1000: C3 not supported */
#define PM1_EVT_BYTES		       4    /* status and enable, 2 bytes each */
#define PM1_CNT_BYTES		       2
#define PM_TMR_BYTES		       4

/* Generic Address Structure (5.2.3.2) */
#define GAS_SPACE	0
#define GAS_BIT_WIDTH	1
#define GAS_BIT_OFFSET	2
#define GAS_ACCESS_SIZE 3
#define GAS_ADDRESS	4
#define GAS_SYSTEM_IO	1
#define GAS_ACCESS_BYTE 1

/* FACS (5.2.10): no checksum; the firmware waking vector is unused (no S3). */
#define FACS_LEN       64
#define FACS_SIGNATURE 0
#define FACS_LENGTH    4
#define FACS_VERSION   32
#define FACS_VERSION_2 2

/* MADT (5.2.12): header, local APIC address, flags, then interrupt controller structures. */
#define MADT_REVISION	     5
#define MADT_LAPIC_ADDR	     36
#define MADT_FLAGS	     40
#define MADT_ENTRY0	     44
#define MADT_PCAT_COMPAT     1
#define MADT_TYPE	     0 /* every structure: type, length */
#define MADT_LENGTH	     1
#define MADT_LAPIC	     0 /* 5.2.12.2: UID, APIC id, flags */
#define MADT_LAPIC_LEN	     8
#define MADT_LAPIC_UID	     2
#define MADT_LAPIC_ID	     3
#define MADT_LAPIC_FLAGS     4
#define MADT_LAPIC_ENABLED   1
#define MADT_IOAPIC	     1 /* 5.2.12.3: id, reserved, address, GSI base */
#define MADT_IOAPIC_LEN	     12
#define MADT_IOAPIC_ID	     2
#define MADT_IOAPIC_ADDR     4
#define MADT_IOAPIC_GSI_BASE 8
#define MADT_ISO	     2 /* 5.2.12.5: bus, source, GSI, flags */
#define MADT_ISO_LEN	     10
#define MADT_ISO_BUS	     2
#define MADT_ISO_SOURCE	     3
#define MADT_ISO_GSI	     4
#define MADT_ISO_FLAGS	     8
#define MADT_LAPIC_NMI	     4 /* 5.2.12.7: UID, flags, LINT# */
#define MADT_LAPIC_NMI_LEN   6
#define MADT_NMI_UID	     2
#define MADT_NMI_FLAGS	     3
#define MADT_NMI_LINT	     5
#define MADT_ALL_CPUS	     0xff
#define MPS_INTI_HIGH_LEVEL  0x000d /* polarity active high (01), trigger level (11) */

/* MCFG (PCI Firmware 3.2, 4.1.2): header, 8 reserved bytes, one 16-byte allocation each. */
#define MCFG_REVISION	 1
#define MCFG_ALLOC0	 (ACPI_HEADER_LEN + 8)
#define MCFG_ALLOC_BASE	 0
#define MCFG_ALLOC_SEG	 8
#define MCFG_ALLOC_START 10
#define MCFG_ALLOC_END	 11
#define MCFG_ALLOC_LEN	 16
#define MCFG_LEN	 (MCFG_ALLOC0 + MCFG_ALLOC_LEN)

#define DSDT_REVISION 2
#define XSDT_REVISION 1
#define STA_PRESENT   0x0f /* _STA: present, enabled, shown, functioning */

/* The buffer the tables are placed in, and where it will sit in the guest. */
struct tbuf {
	uint8_t *buf;
	size_t size, off;
	uint64_t gpa;
	int err;
};

static uint8_t *tb_alloc(struct tbuf *t, size_t len, size_t align, uint64_t *gpa)
{
	size_t off = (t->off + align - 1) & ~(align - 1);
	uint8_t *p;

	if (t->err || off > t->size || len > t->size - off) {
		t->err = -ENOSPC;
		return NULL;
	}
	p = t->buf + off;
	memset(p, 0, len);
	t->off = off + len;
	*gpa = t->gpa + off;
	return p;
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t + HDR_SIGNATURE, sig, 4);
	le_put32(t + HDR_LENGTH, len);
	t[HDR_REVISION] = rev;
	memcpy(t + HDR_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	le_put32(t + HDR_OEM_REVISION, 1);
	memcpy(t + HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	le_put32(t + HDR_CREATOR_REVISION, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = acpi_checksum(t, len);
}

/* A Generic Address Structure for a system I/O register block of @bytes at @port. */
static void gas_io(uint8_t *p, uint16_t port, unsigned bytes, uint8_t access)
{
	p[GAS_SPACE] = GAS_SYSTEM_IO;
	p[GAS_BIT_WIDTH] = (uint8_t)(bytes * 8);
	p[GAS_BIT_OFFSET] = 0;
	p[GAS_ACCESS_SIZE] = access;
	le_put64(p + GAS_ADDRESS, port);
}

/* --- DSDT --------------------------------------------------------------------------------- */

/* _CRS from the description's resources, in their order. */
static void aml_crs(struct aml *a, const struct fw_device *d)
{
	struct aml res;

	aml_init(&res);
	for (unsigned i = 0; i < d->nres; i++) {
		const struct fw_resource *r = &d->res[i];

		switch (r->kind) {
		case FW_RES_IO:
			aml_res_io(&res, (uint16_t)r->base, r->len);
			break;
		case FW_RES_MMIO:
			aml_res_mem32_fixed(&res, (uint32_t)r->base, (uint32_t)r->len);
			break;
		case FW_RES_IRQ:
			aml_res_irq_noflags(&res, r->base);
			break;
		}
	}
	aml_name_resources(a, "_CRS", &res);
	aml_free(&res);
}

/* Device (NAME) { _HID, _UID, _STA, _CRS, then what the device adds itself }. */
static void aml_device(struct aml *a, const struct fw_device *d)
{
	size_t mark = aml_device_begin(a, d->acpi_name);

	aml_name_id(a, "_HID", d->acpi_hid);
	aml_name_integer(a, "_UID", d->acpi_uid);
	aml_name_integer(a, "_STA", STA_PRESENT);
	if (d->nres)
		aml_crs(a, d);
	if (d->aml)
		d->aml(a, d);
	aml_pkg_end(a, mark);
}

/* Device (Cnnn) { Name (_HID, "ACPI0007") Name (_UID, n) }: processor n, as the MADT's UID n. */
static void aml_processor(struct aml *a, unsigned i)
{
	char name[5];
	size_t mark;

	snprintf(name, sizeof(name), "C%03X", i & 0xfff);
	mark = aml_device_begin(a, name);
	aml_name_id(a, "_HID", "ACPI0007");
	aml_name_integer(a, "_UID", i);
	aml_pkg_end(a, mark);
}

int acpi_build_dsdt_body(const struct fw_desc *fw, uint8_t **out, size_t *len)
{
	struct aml a;
	size_t scope;

	aml_init(&a);
	aml_byte(&a, AML_SCOPE);
	scope = aml_pkg_begin(&a);
	aml_namestring(&a, "\\_SB");
	for (unsigned i = 0; i < fw->ncpus; i++)
		aml_processor(&a, i);
	if (fw->pci.present && fw->pci.aml)
		fw->pci.aml(&a, &fw->pci);
	for (unsigned i = 0; i < fw->ndevices; i++)
		aml_device(&a, &fw->devices[i]);
	aml_pkg_end(&a, scope);
	if (fw->acpi.aml)
		fw->acpi.aml(&a, &fw->acpi);
	if (a.err) {
		aml_free(&a);
		return -ENOMEM;
	}
	*out = a.buf;
	*len = a.len;
	return 0;
}

/* --- the tables --------------------------------------------------------------------------- */

static size_t xsdt_len(const struct fw_desc *fw)
{
	return ACPI_HEADER_LEN + (fw->pci.present ? 3 : 2) * 8;
}

static size_t madt_len(const struct fw_desc *fw)
{
	return MADT_ENTRY0 + fw->ncpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + MADT_ISO_LEN +
	       MADT_LAPIC_NMI_LEN;
}

static void build_dsdt(uint8_t *t, const uint8_t *aml, size_t aml_len)
{
	uint32_t len = (uint32_t)(ACPI_HEADER_LEN + aml_len);

	header(t, "DSDT", len, DSDT_REVISION);
	memcpy(t + ACPI_HEADER_LEN, aml, aml_len);
	finish(t, len);
}

static void build_facs(uint8_t *t)
{
	memcpy(t + FACS_SIGNATURE, "FACS", 4);
	le_put32(t + FACS_LENGTH, FACS_LEN);
	t[FACS_VERSION] = FACS_VERSION_2;
}

/* One LAPIC per vcpu, the IOAPIC, the SCI's override and the LINT1 NMI. */
static void build_madt(uint8_t *t, size_t len, const struct fw_desc *fw)
{
	uint8_t sci = fw->acpi.sci_irq;
	uint8_t *p = t + MADT_ENTRY0;

	header(t, "APIC", (uint32_t)len, MADT_REVISION);
	le_put32(t + MADT_LAPIC_ADDR, (uint32_t)LAPIC_GPA);
	le_put32(t + MADT_FLAGS, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < fw->ncpus; i++, p += MADT_LAPIC_LEN) {
		p[MADT_TYPE] = MADT_LAPIC;
		p[MADT_LENGTH] = MADT_LAPIC_LEN;
		p[MADT_LAPIC_UID] = (uint8_t)i; /* as the DSDT's C%03X _UID */
		p[MADT_LAPIC_ID] = (uint8_t)i;
		le_put32(p + MADT_LAPIC_FLAGS, MADT_LAPIC_ENABLED);
	}
	p[MADT_TYPE] = MADT_IOAPIC;
	p[MADT_LENGTH] = MADT_IOAPIC_LEN;
	p[MADT_IOAPIC_ID] = 0;
	le_put32(p + MADT_IOAPIC_ADDR, (uint32_t)IOAPIC_GPA);
	le_put32(p + MADT_IOAPIC_GSI_BASE, 0);
	p += MADT_IOAPIC_LEN;
	/* The SCI is level-triggered, active high. IRQ0 needs no override: KVM's default
	 * routing sends the PIT to IOAPIC pin 0. */
	p[MADT_TYPE] = MADT_ISO;
	p[MADT_LENGTH] = MADT_ISO_LEN;
	p[MADT_ISO_BUS] = 0; /* ISA */
	p[MADT_ISO_SOURCE] = sci;
	le_put32(p + MADT_ISO_GSI, sci);
	le_put16(p + MADT_ISO_FLAGS, MPS_INTI_HIGH_LEVEL);
	p += MADT_ISO_LEN;
	p[MADT_TYPE] = MADT_LAPIC_NMI;
	p[MADT_LENGTH] = MADT_LAPIC_NMI_LEN;
	p[MADT_NMI_UID] = MADT_ALL_CPUS;
	le_put16(p + MADT_NMI_FLAGS, 0);
	p[MADT_NMI_LINT] = 1;
	finish(t, (uint32_t)len);
}

/* Revision 6, the fixed hardware at @hw, no SMI (always in ACPI mode), no C2/C3. */
static void build_fadt(uint8_t *t, const struct fw_acpi_hw *hw, const struct acpi_layout *l)
{
	header(t, "FACP", FADT_LEN, FADT_REVISION);
	le_put32(t + FADT_FIRMWARE_CTRL, 0); /* must be 0 when X_FIRMWARE_CTRL is set */
	le_put32(t + FADT_DSDT, (uint32_t)l->dsdt);
	le_put16(t + FADT_SCI_INT, hw->sci_irq);
	le_put32(t + FADT_SMI_CMD, 0);
	le_put32(t + FADT_PM1A_EVT_BLK, hw->pm1a_evt);
	le_put32(t + FADT_PM1A_CNT_BLK, hw->pm1a_cnt);
	le_put32(t + FADT_PM_TMR_BLK, hw->pm_tmr);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_BYTES;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_BYTES;
	t[FADT_PM_TMR_LEN] = PM_TMR_BYTES;
	le_put16(t + FADT_P_LVL2_LAT, FADT_P_LVL2_NONE);
	le_put16(t + FADT_P_LVL3_LAT, FADT_P_LVL3_NONE);
	le_put16(t + FADT_IAPC_BOOT_ARCH,
		 FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_CMOS_RTC_NOT_PRESENT);
	le_put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
				     FADT_F_FIX_RTC | FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP);
	gas_io(t + FADT_RESET_REG, hw->reset_port, 1, GAS_ACCESS_BYTE);
	t[FADT_RESET_VALUE] = hw->reset_value;
	le_put64(t + FADT_X_FIRMWARE_CTRL, l->facs);
	le_put64(t + FADT_X_DSDT, l->dsdt);
	gas_io(t + FADT_X_PM1A_EVT_BLK, hw->pm1a_evt, PM1_EVT_BYTES, 0);
	gas_io(t + FADT_X_PM1A_CNT_BLK, hw->pm1a_cnt, PM1_CNT_BYTES, 0);
	gas_io(t + FADT_X_PM_TMR_BLK, hw->pm_tmr, PM_TMR_BYTES, 0);
	memcpy(t + FADT_HYPERVISOR_VENDOR, "MINIVMM ", 8);
	finish(t, FADT_LEN);
}

/* One allocation: the ECAM of segment 0 for the host's buses. */
static void build_mcfg(uint8_t *t, const struct fw_pci_host *pci)
{
	uint8_t *p = t + MCFG_ALLOC0;

	header(t, "MCFG", MCFG_LEN, MCFG_REVISION);
	le_put64(p + MCFG_ALLOC_BASE, pci->ecam_base);
	le_put16(p + MCFG_ALLOC_SEG, 0);
	p[MCFG_ALLOC_START] = pci->bus_start;
	p[MCFG_ALLOC_END] = pci->bus_end;
	finish(t, MCFG_LEN);
}

/* FADT, MADT and, with a PCI host, MCFG. */
static void build_xsdt(uint8_t *t, size_t len, const struct acpi_layout *l)
{
	header(t, "XSDT", (uint32_t)len, XSDT_REVISION);
	le_put64(t + XSDT_ENTRY0, l->fadt);
	le_put64(t + XSDT_ENTRY0 + 8, l->madt);
	if (l->mcfg)
		le_put64(t + XSDT_ENTRY0 + 16, l->mcfg);
	finish(t, (uint32_t)len);
}

/* Checksum over the ACPI 1.0 part, extended checksum over all of it. */
static void build_rsdp(uint8_t *t, uint64_t xsdt)
{
	memcpy(t + RSDP_SIGNATURE, "RSD PTR ", 8);
	memcpy(t + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	t[RSDP_REVISION] = RSDP_REV_ACPI2;
	le_put32(t + RSDP_LENGTH, RSDP_LEN);
	le_put64(t + RSDP_XSDT, xsdt);
	t[RSDP_CHECKSUM] = acpi_checksum(t, RSDP_V1_LEN);
	t[RSDP_EXT_CHECKSUM] = acpi_checksum(t, RSDP_LEN);
}

int acpi_build(const struct fw_desc *fw, uint8_t *buf, size_t size, uint64_t gpa,
	       struct acpi_layout *out)
{
	struct tbuf t = { buf, size, 0, gpa, 0 };
	uint8_t *rsdp, *xsdt, *fadt, *facs, *madt, *dsdt, *mcfg = NULL, *aml = NULL;
	size_t aml_len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = acpi_build_dsdt_body(fw, &aml, &aml_len);
	if (ret)
		return ret;

	/* Placement first: tables point at each other. */
	rsdp = tb_alloc(&t, RSDP_LEN, 16, &out->rsdp);
	xsdt = tb_alloc(&t, xsdt_len(fw), 8, &out->xsdt);
	fadt = tb_alloc(&t, FADT_LEN, 8, &out->fadt);
	facs = tb_alloc(&t, FACS_LEN, 64, &out->facs);
	madt = tb_alloc(&t, madt_len(fw), 8, &out->madt);
	dsdt = tb_alloc(&t, ACPI_HEADER_LEN + aml_len, 8, &out->dsdt);
	if (fw->pci.present)
		mcfg = tb_alloc(&t, MCFG_LEN, 8, &out->mcfg);
	if (t.err) {
		free(aml);
		return t.err;
	}

	build_dsdt(dsdt, aml, aml_len);
	free(aml);
	build_facs(facs);
	build_madt(madt, madt_len(fw), fw);
	build_fadt(fadt, &fw->acpi, out);
	if (mcfg)
		build_mcfg(mcfg, &fw->pci);
	build_xsdt(xsdt, xsdt_len(fw), out);
	build_rsdp(rsdp, out->xsdt);
	out->used = t.off;
	return 0;
}
