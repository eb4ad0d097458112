/*
 * acpi.c - RSDP, XSDT, FADT, FACS, MADT, DSDT and MCFG. Layouts follow the ACPI 6.x
 * specification (chapter 5.2) and, for the MCFG, the PCI Firmware Specification 3.2. Every
 * device in the DSDT comes from the firmware description the buses were populated from, so a
 * port or address in the AML is the one the device answers on.
 */
#include "acpi.h"
#include "aml.h"
#include "core/layout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACPI_OEM_ID       "MINVMM"
#define ACPI_OEM_TABLE_ID "MINIVMM "
#define ACPI_CREATOR_ID   "MVMM"
#define ACPI_HEADER_LEN   36

/* FADT (5.2.9) */
#define FADT_LEN                276
#define FADT_REVISION           6
#define FADT_F_WBINVD           (1u << 0)
#define FADT_F_PROC_C1          (1u << 2)
#define FADT_F_SLP_BUTTON       (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_F_FIX_RTC          (1u << 6) /* set: no RTC wake status in PM1 */
#define FADT_F_TMR_VAL_EXT      (1u << 8) /* 32-bit PM timer */
#define FADT_F_RESET_REG_SUP    (1u << 10)
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_BOOT_CMOS_RTC_NOT_PRESENT (1u << 5)
#define GAS_SYSTEM_IO           1
#define GAS_ACCESS_BYTE         1

/* MADT (5.2.12) */
#define MADT_PCAT_COMPAT     1
#define MADT_LAPIC           0
#define MADT_IOAPIC          1
#define MADT_ISO             2
#define MADT_LAPIC_NMI       4
#define MADT_LAPIC_ENABLED   1
#define MPS_INTI_HIGH_LEVEL  0x000d /* polarity active high (01), trigger level (11) */

/* Small resource descriptors (6.4.2) and large ones (6.4.3). */
#define RES_IRQ_NOFLAGS  0x22
#define RES_IO           0x47
#define RES_END          0x79
#define RES_MEM32_FIXED  0x86
#define RES_DWORD_ADDR   0x87 /* 6.4.3.5.2, 26 bytes */
#define RES_WORD_ADDR    0x88 /* 6.4.3.5.3, 16 bytes */
#define RES_ADDR_MEM     0    /* resource type */
#define RES_ADDR_IO      1
#define RES_ADDR_BUS     2
#define RES_ADDR_FIXED   0x0c /* general flags: _MIF, _MAF; producer, positive decode */
#define RES_IO_ENTIRE    0x03 /* I/O type flags: _RNG both ISA and non-ISA ranges */
#define RES_MEM_RW       0x01 /* memory type flags: read/write, non-cacheable */
#define FACS_LEN         64

/* MCFG (PCI Firmware 3.2, 4.1.2): header, 8 reserved bytes, one 16-byte allocation each. */
#define MCFG_LEN         (ACPI_HEADER_LEN + 8 + 16)

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
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put32(t + 24, 1);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = acpi_checksum(t, len);
}

/* Generic Address Structure (5.2.3.2) for a system I/O register block. */
static void gas_io(uint8_t *p, uint16_t port, unsigned bytes, uint8_t access)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = (uint8_t)(bytes * 8);
	p[2] = 0;
	p[3] = access;
	put64(p + 4, port);
}

/* --- DSDT --------------------------------------------------------------------------------- */

static int looks_like_eisaid(const char *id)
{
	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
	for (int i = 3; i < 7; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F')))
			return 0;
	return 1;
}

static void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_integer(a, v);
}

/* Name (@name, Buffer () { @res, EndTag }) */
static void aml_name_resources(struct aml *a, const char *name, struct aml *res)
{
	size_t mark;

	aml_byte(res, RES_END);
	aml_byte(res, 0); /* checksum 0: "treat as correct" */
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_byte(a, AML_BUFFER);
	mark = aml_pkg_begin(a);
	aml_integer(a, res->len);
	aml_bytes(a, res->buf, res->len);
	aml_pkg_end(a, mark);
	if (res->err)
		a->err = 1;
}

static void aml_crs(struct aml *a, const struct fw_device *d)
{
	struct aml res;

	aml_init(&res);
	for (unsigned i = 0; i < d->nres; i++) {
		const struct fw_resource *r = &d->res[i];
		uint8_t b[12];

		switch (r->kind) {
		case FW_RES_IO: /* IO (Decode16, base, base, 1, len) */
			b[0] = RES_IO;
			b[1] = 1; /* 16-bit decode */
			put16(b + 2, (uint16_t)r->base);
			put16(b + 4, (uint16_t)r->base);
			b[6] = 1;
			b[7] = (uint8_t)(r->len > 0xff ? 0xff : r->len);
			aml_bytes(&res, b, 8);
			break;
		case FW_RES_MMIO: /* Memory32Fixed (ReadWrite, base, len) */
			b[0] = RES_MEM32_FIXED;
			put16(b + 1, 9);
			b[3] = 1; /* read/write */
			put32(b + 4, (uint32_t)r->base);
			put32(b + 8, (uint32_t)r->len);
			aml_bytes(&res, b, 12);
			break;
		case FW_RES_IRQ: /* IRQNoFlags () {n}: ISA, edge, active high */
			b[0] = RES_IRQ_NOFLAGS;
			put16(b + 1, (uint16_t)(r->base < 16 ? 1u << r->base : 0));
			aml_bytes(&res, b, 3);
			break;
		}
	}
	aml_name_resources(a, "_CRS", &res);
	aml_free(&res);
}

/* pvpanic (seed 000): an operation region over its register and RDPT/WRPT over it. */
static void aml_pvpanic_methods(struct aml *a, const struct fw_device *d)
{
	const struct fw_resource *r = &d->res[0];
	size_t mark;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_OPREGION);
	aml_nameseg(a, "PEOR");
	aml_byte(a, r->kind == FW_RES_IO ? 1 : 0); /* SystemIO : SystemMemory */
	aml_integer(a, r->base);
	aml_integer(a, 1);

	aml_byte(a, AML_EXT_PREFIX); /* Field (PEOR, ByteAcc, NoLock, Preserve) { PEPT, 8 } */
	aml_byte(a, AML_EXT_FIELD);
	mark = aml_pkg_begin(a);
	aml_nameseg(a, "PEOR");
	aml_byte(a, 0x01);
	aml_nameseg(a, "PEPT");
	aml_byte(a, 8);
	aml_pkg_end(a, mark);

	aml_byte(a, AML_METHOD); /* Method (RDPT, 0) { Store (PEPT, Local0) Return (Local0) } */
	mark = aml_pkg_begin(a);
	aml_nameseg(a, "RDPT");
	aml_byte(a, 0);
	aml_byte(a, AML_STORE);
	aml_nameseg(a, "PEPT");
	aml_byte(a, AML_LOCAL0);
	aml_byte(a, AML_RETURN);
	aml_byte(a, AML_LOCAL0);
	aml_pkg_end(a, mark);

	aml_byte(a, AML_METHOD); /* Method (WRPT, 1) { Store (Arg0, PEPT) } */
	mark = aml_pkg_begin(a);
	aml_nameseg(a, "WRPT");
	aml_byte(a, 1);
	aml_byte(a, AML_STORE);
	aml_byte(a, AML_ARG0);
	aml_nameseg(a, "PEPT");
	aml_pkg_end(a, mark);
}

static void aml_device(struct aml *a, const struct fw_device *d)
{
	size_t mark;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	mark = aml_pkg_begin(a);
	aml_nameseg(a, d->acpi_name);
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_HID");
	if (looks_like_eisaid(d->acpi_hid))
		aml_eisaid(a, d->acpi_hid);
	else
		aml_string(a, d->acpi_hid);
	aml_name_integer(a, "_UID", d->acpi_uid);
	aml_name_integer(a, "_STA", 0x0f); /* present, enabled, shown, functioning */
	if (d->nres)
		aml_crs(a, d);
	if (d->extra == FW_AML_PVPANIC && d->nres)
		aml_pvpanic_methods(a, d);
	aml_pkg_end(a, mark);
}

/* Word or DWord Address Space Descriptor for [min, min + len), fixed, producer. */
static void res_addr(struct aml *res, uint8_t type, uint8_t type_flags, uint32_t min, uint32_t len,
		     int dword)
{
	uint8_t b[26] = { 0 };

	b[3] = type;
	b[4] = RES_ADDR_FIXED;
	b[5] = type_flags;
	if (dword) {
		b[0] = RES_DWORD_ADDR;
		put16(b + 1, 23);
		put32(b + 10, min);
		put32(b + 14, min + len - 1);
		put32(b + 22, len);
		aml_bytes(res, b, 26);
	} else {
		b[0] = RES_WORD_ADDR;
		put16(b + 1, 13);
		put16(b + 8, (uint16_t)min);
		put16(b + 10, (uint16_t)(min + len - 1));
		put16(b + 14, (uint16_t)len);
		aml_bytes(res, b, 16);
	}
}

/*
 * The PCI host bridge (PCI Firmware 3.2, 4.1; ACPI 6.4.3.5): PCI0 with the bus range, the
 * config ports, the I/O and 32-bit memory windows it forwards, and _PRT routing every slot's
 * INTA-INTD to GSIs by the usual swizzle (GSI form: Source 0, SourceIndex = GSI).
 */
static void aml_pci_host(struct aml *a, const struct fw_pci_host *p)
{
	struct aml res;
	uint8_t io[8] = { RES_IO, 1 };
	size_t dev, prt;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	dev = aml_pkg_begin(a);
	aml_nameseg(a, "PCI0");
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_HID");
	aml_eisaid(a, "PNP0A08"); /* PCI Express root bridge: config space through the MCFG */
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", p->bus_start);
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_STA", 0x0f);

	aml_init(&res);
	res_addr(&res, RES_ADDR_BUS, 0, p->bus_start, (uint32_t)(p->bus_end - p->bus_start) + 1, 0);
	put16(io + 2, 0xcf8); /* IO (Decode16, 0xCF8, 0xCF8, 1, 8): the config ports */
	put16(io + 4, 0xcf8);
	io[6] = 1;
	io[7] = 8;
	aml_bytes(&res, io, 8);
	res_addr(&res, RES_ADDR_IO, RES_IO_ENTIRE, p->io_base, p->io_len, 0);
	res_addr(&res, RES_ADDR_MEM, RES_MEM_RW, p->mem_base, p->mem_len, 1);
	aml_name_resources(a, "_CRS", &res);
	aml_free(&res);

	/* Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, 0, gsi }, ... }) */
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	prt = aml_pkg_begin(a);
	aml_byte(a, 32 * 4);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t e;

			aml_byte(a, AML_PACKAGE);
			e = aml_pkg_begin(a);
			aml_byte(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, p->gsi_base + (slot + pin) % 4);
			aml_pkg_end(a, e);
		}
	}
	aml_pkg_end(a, prt);
	aml_pkg_end(a, dev);
}

int acpi_build_dsdt_body(const struct fw_desc *fw, uint8_t **out, size_t *len)
{
	struct aml a;
	size_t scope;

	aml_init(&a);
	aml_byte(&a, AML_SCOPE);
	scope = aml_pkg_begin(&a);
	aml_namestring(&a, "\\_SB");
	for (unsigned i = 0; i < fw->ncpus; i++) {
		char name[5];
		size_t mark;

		snprintf(name, sizeof(name), "C%03X", i & 0xfff);
		aml_byte(&a, AML_EXT_PREFIX);
		aml_byte(&a, AML_EXT_DEVICE);
		mark = aml_pkg_begin(&a);
		aml_nameseg(&a, name);
		aml_byte(&a, AML_NAME);
		aml_nameseg(&a, "_HID");
		aml_string(&a, "ACPI0007");
		aml_name_integer(&a, "_UID", i);
		aml_pkg_end(&a, mark);
	}
	if (fw->pci.present)
		aml_pci_host(&a, &fw->pci);
	for (unsigned i = 0; i < fw->ndevices; i++)
		aml_device(&a, &fw->devices[i]);
	aml_pkg_end(&a, scope);

	if (fw->acpi.has_s5) { /* Name (\_S5, Package (4) { typ, typ, 0, 0 }) */
		size_t mark;

		aml_byte(&a, AML_NAME);
		aml_namestring(&a, "\\_S5");
		aml_byte(&a, AML_PACKAGE);
		mark = aml_pkg_begin(&a);
		aml_byte(&a, 4);
		aml_integer(&a, fw->acpi.s5_slp_typ);
		aml_integer(&a, fw->acpi.s5_slp_typ);
		aml_integer(&a, 0);
		aml_integer(&a, 0);
		aml_pkg_end(&a, mark);
	}
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
