/*
 * acpi.c - RSDP, XSDT, FADT, FACS, MADT, DSDT and MCFG. Layouts follow the ACPI 6.x
 * specification (chapter 5.2) and, for the MCFG, the PCI Firmware Specification 3.2. The DSDT
 * is made from the firmware description the buses were populated from, so a port or address in
 * the AML is the one the device answers on; what is particular to a device comes from the
 * device's own hook, never from a switch on its kind here.
 */
#include "acpi.h"
#include "aml.h"
#include "vmm/layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACPI_OEM_ID       "MINVMM"
#define ACPI_OEM_TABLE_ID "MINIVMM "
#define ACPI_CREATOR_ID   "MVMM"

/* System description table header (5.2.6). */
#define HDR_SIGNATURE        0
#define HDR_LENGTH           4
#define HDR_REVISION         8
#define HDR_CHECKSUM         9
#define HDR_OEM_ID           10
#define HDR_OEM_TABLE_ID     16
#define HDR_OEM_REVISION     24
#define HDR_CREATOR_ID       28
#define HDR_CREATOR_REVISION 32
#define ACPI_HEADER_LEN      36

/* RSDP (5.2.5.3): the ACPI 1.0 part is the first 20 bytes. */
#define RSDP_SIGNATURE    0
#define RSDP_CHECKSUM     8
#define RSDP_OEM_ID       9
#define RSDP_REVISION     15
#define RSDP_LENGTH       20
#define RSDP_XSDT         24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_V1_LEN       20
#define RSDP_LEN          36
#define RSDP_REV_ACPI2    2

/* XSDT (5.2.8): 64-bit pointers after the header. */
#define XSDT_ENTRY0 ACPI_HEADER_LEN

/* FADT (5.2.9) */
#define FADT_LEN                276
#define FADT_REVISION           6
#define FADT_FIRMWARE_CTRL      36
#define FADT_DSDT               40
#define FADT_SCI_INT            46
#define FADT_SMI_CMD            48
#define FADT_PM1A_EVT_BLK       56
#define FADT_PM1A_CNT_BLK       64
#define FADT_PM_TMR_BLK         76
#define FADT_PM1_EVT_LEN        88
#define FADT_PM1_CNT_LEN        89
#define FADT_PM_TMR_LEN         91
#define FADT_P_LVL2_LAT         96
#define FADT_P_LVL3_LAT         98
#define FADT_IAPC_BOOT_ARCH     109
#define FADT_FLAGS              112
#define FADT_RESET_REG          116
#define FADT_RESET_VALUE        128
#define FADT_X_FIRMWARE_CTRL    132
#define FADT_X_DSDT             140
#define FADT_X_PM1A_EVT_BLK     148
#define FADT_X_PM1A_CNT_BLK     172
#define FADT_X_PM_TMR_BLK       208
#define FADT_HYPERVISOR_VENDOR  268
#define FADT_F_WBINVD           (1u << 0)
#define FADT_F_PROC_C1          (1u << 2)
#define FADT_F_SLP_BUTTON       (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_F_FIX_RTC          (1u << 6) /* set: no RTC wake status in PM1 */
#define FADT_F_TMR_VAL_EXT      (1u << 8) /* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP    (1u << 10)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)
#define FADT_P_LVL2_NONE        101  /* > 100: C2 not supported */
#define FADT_P_LVL3_NONE        1001 /* > 1000: C3 not supported */
#define PM1_EVT_BYTES           4    /* status and enable, 2 bytes each */
#define PM1_CNT_BYTES           2
#define PM_TMR_BYTES            4

/* Generic Address Structure (5.2.3.2) */
#define GAS_SPACE       0
#define GAS_BIT_WIDTH   1
#define GAS_BIT_OFFSET  2
#define GAS_ACCESS_SIZE 3
#define GAS_ADDRESS     4
#define GAS_SYSTEM_IO   1
#define GAS_ACCESS_BYTE 1

/* FACS (5.2.10): no checksum; the firmware waking vector is unused (no S3). */
#define FACS_LEN       64
#define FACS_SIGNATURE 0
#define FACS_LENGTH    4
#define FACS_VERSION   32
#define FACS_VERSION_2 2

/* MADT (5.2.12): header, local APIC address, flags, then interrupt controller structures. */
#define MADT_REVISION        5
#define MADT_LAPIC_ADDR      36
#define MADT_FLAGS           40
#define MADT_ENTRY0          44
#define MADT_PCAT_COMPAT     1
#define MADT_TYPE            0 /* every structure: type, length */
#define MADT_LENGTH          1
#define MADT_LAPIC           0 /* 5.2.12.2: UID, APIC id, flags */
#define MADT_LAPIC_LEN       8
#define MADT_LAPIC_UID       2
#define MADT_LAPIC_ID        3
#define MADT_LAPIC_FLAGS     4
#define MADT_LAPIC_ENABLED   1
#define MADT_IOAPIC          1 /* 5.2.12.3: id, reserved, address, GSI base */
#define MADT_IOAPIC_LEN      12
#define MADT_IOAPIC_ID       2
#define MADT_IOAPIC_ADDR     4
#define MADT_IOAPIC_GSI_BASE 8
#define MADT_ISO             2 /* 5.2.12.5: bus, source, GSI, flags */
#define MADT_ISO_LEN         10
#define MADT_ISO_BUS         2
#define MADT_ISO_SOURCE      3
#define MADT_ISO_GSI         4
#define MADT_ISO_FLAGS       8
#define MADT_LAPIC_NMI       4 /* 5.2.12.7: UID, flags, LINT# */
#define MADT_LAPIC_NMI_LEN   6
#define MADT_NMI_UID         2
#define MADT_NMI_FLAGS       3
#define MADT_NMI_LINT        5
#define MADT_ALL_CPUS        0xff
#define MPS_INTI_HIGH_LEVEL  0x000d /* polarity active high (01), trigger level (11) */

/* MCFG (PCI Firmware 3.2, 4.1.2): header, 8 reserved bytes, one 16-byte allocation each. */
#define MCFG_REVISION    1
#define MCFG_ALLOC0      (ACPI_HEADER_LEN + 8)
#define MCFG_ALLOC_BASE  0
#define MCFG_ALLOC_SEG   8
#define MCFG_ALLOC_START 10
#define MCFG_ALLOC_END   11
#define MCFG_ALLOC_LEN   16
#define MCFG_LEN         (MCFG_ALLOC0 + MCFG_ALLOC_LEN)

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

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t + HDR_SIGNATURE, sig, 4);
	put32(t + HDR_LENGTH, len);
	t[HDR_REVISION] = rev;
	memcpy(t + HDR_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	put32(t + HDR_OEM_REVISION, 1);
	memcpy(t + HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	put32(t + HDR_CREATOR_REVISION, 1);
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
	put64(p + GAS_ADDRESS, port);
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

int acpi_build(const struct fw_desc *fw, uint8_t *buf, size_t size, uint64_t gpa,
	       struct acpi_layout *out)
{
	struct tbuf t = { buf, size, 0, gpa, 0 };
	uint8_t *rsdp, *xsdt, *fadt, *facs, *madt, *dsdt, *mcfg = NULL, *p, *aml = NULL;
	size_t aml_len = 0, madt_len, xsdt_len = ACPI_HEADER_LEN + (fw->pci.present ? 3 : 2) * 8;
	const struct fw_acpi_hw *hw = &fw->acpi;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = acpi_build_dsdt_body(fw, &aml, &aml_len);
	if (ret)
		return ret;

	rsdp = tb_alloc(&t, 36, 16, &out->rsdp);
	xsdt = tb_alloc(&t, xsdt_len, 8, &out->xsdt);
	fadt = tb_alloc(&t, FADT_LEN, 8, &out->fadt);
	facs = tb_alloc(&t, FACS_LEN, 64, &out->facs);
	madt_len = ACPI_HEADER_LEN + 8 + fw->ncpus * 8 + 12 + 10 + 6;
	madt = tb_alloc(&t, madt_len, 8, &out->madt);
	dsdt = tb_alloc(&t, ACPI_HEADER_LEN + aml_len, 8, &out->dsdt);
	if (fw->pci.present)
		mcfg = tb_alloc(&t, MCFG_LEN, 8, &out->mcfg);
	if (t.err) {
		free(aml);
		return t.err;
	}

	/* DSDT */
	header(dsdt, "DSDT", (uint32_t)(ACPI_HEADER_LEN + aml_len), 2);
	memcpy(dsdt + ACPI_HEADER_LEN, aml, aml_len);
	finish(dsdt, (uint32_t)(ACPI_HEADER_LEN + aml_len));
	free(aml);

	/* FACS: no checksum, firmware waking vector unused (no S3). */
	memcpy(facs, "FACS", 4);
	put32(facs + 4, FACS_LEN);
	facs[32] = 2; /* version */

	/* MADT */
	header(madt, "APIC", (uint32_t)madt_len, 5);
	put32(madt + 36, (uint32_t)LAPIC_GPA);
	put32(madt + 40, MADT_PCAT_COMPAT);
	p = madt + 44;
	for (unsigned i = 0; i < fw->ncpus; i++, p += 8) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = (uint8_t)i; /* processor UID, as the DSDT's C%03X _UID */
		p[3] = (uint8_t)i; /* APIC id */
		put32(p + 4, MADT_LAPIC_ENABLED);
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = 0; /* IOAPIC id */
	put32(p + 4, (uint32_t)IOAPIC_GPA);
	put32(p + 8, 0); /* GSI base */
	p += 12;
	/* The SCI is level-triggered, active high. IRQ0 needs no override: KVM's default
	 * routing sends the PIT to IOAPIC pin 0. */
	p[0] = MADT_ISO;
	p[1] = 10;
	p[2] = 0; /* ISA bus */
	p[3] = hw->sci_irq;
	put32(p + 4, hw->sci_irq);
	put16(p + 8, MPS_INTI_HIGH_LEVEL);
	p += 10;
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff; /* all processors */
	put16(p + 3, 0);
	p[5] = 1; /* LINT1 */
	finish(madt, (uint32_t)madt_len);

	/* FADT */
	header(fadt, "FACP", FADT_LEN, FADT_REVISION);
	put32(fadt + 36, 0); /* FIRMWARE_CTRL must be 0 when X_FIRMWARE_CTRL is set */
	put32(fadt + 40, (uint32_t)out->dsdt);
	put16(fadt + 46, hw->sci_irq);
	put32(fadt + 48, 0); /* SMI_CMD 0: always in ACPI mode */
	put32(fadt + 56, hw->pm1a_evt);
	put32(fadt + 64, hw->pm1a_cnt);
	put32(fadt + 76, hw->pm_tmr);
	fadt[88] = 4; /* PM1_EVT_LEN */
	fadt[89] = 2; /* PM1_CNT_LEN */
	fadt[91] = 4; /* PM_TMR_LEN */
	put16(fadt + 96, 101);  /* P_LVL2_LAT > 100: C2 not supported */
	put16(fadt + 98, 1001); /* P_LVL3_LAT > 1000: C3 not supported */
	put16(fadt + 109, FADT_BOOT_VGA_NOT_PRESENT | FADT_BOOT_CMOS_RTC_NOT_PRESENT);
	put32(fadt + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC |
				  FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP);
	gas_io(fadt + 116, hw->reset_port, 1, GAS_ACCESS_BYTE);
	fadt[128] = hw->reset_value;
	put64(fadt + 132, out->facs);
	put64(fadt + 140, out->dsdt);
	gas_io(fadt + 148, hw->pm1a_evt, 4, 0);
	gas_io(fadt + 172, hw->pm1a_cnt, 2, 0);
	gas_io(fadt + 208, hw->pm_tmr, 4, 0);
	memcpy(fadt + 268, "MINIVMM ", 8); /* hypervisor vendor identity */
	finish(fadt, FADT_LEN);

	/* MCFG: one allocation, the ECAM of segment 0 for the host's buses. */
	if (mcfg) {
		header(mcfg, "MCFG", MCFG_LEN, 1);
		p = mcfg + ACPI_HEADER_LEN + 8;
		put64(p, fw->pci.ecam_base);
		put16(p + 8, 0); /* PCI segment group */
		p[10] = fw->pci.bus_start;
		p[11] = fw->pci.bus_end;
		finish(mcfg, MCFG_LEN);
	}

	/* XSDT */
	header(xsdt, "XSDT", (uint32_t)xsdt_len, 1);
	put64(xsdt + 36, out->fadt);
	put64(xsdt + 44, out->madt);
	if (mcfg)
		put64(xsdt + 52, out->mcfg);
	finish(xsdt, (uint32_t)xsdt_len);

	/* RSDP (5.2.5): checksum over the ACPI 1.0 part, extended checksum over all 36 bytes. */
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, ACPI_OEM_ID, 6);
	rsdp[15] = 2;
	put32(rsdp + 20, 36);
	put64(rsdp + 24, out->xsdt);
	rsdp[8] = acpi_checksum(rsdp, 20);
	rsdp[32] = acpi_checksum(rsdp, 36);
	out->used = t.off;
	return 0;
}
