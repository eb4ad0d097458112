/* test_acpi.c - the generated ACPI tables: checksums, pointers, layout, and `iasl -d`
 * decompiling each one without errors into the AML we meant; the fixed-hardware device. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "core/aml.h"
#include "devices/acpi_pm.h"
#include "devices/fw_cfg.h"
#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/serial_16550.h"
#include "core/layout.h"
#include "tests/unit/unit.h"

static uint8_t buf[ACPI_TABLES_SIZE];

static void machine(struct fw_desc *fw, unsigned ncpus, int s5)
{
	struct fw_device d;

	memset(fw, 0, sizeof(*fw));
	fw->ncpus = ncpus;
	acpi_pm_fill_fw(fw, s5);
	serial_fw_device(&d, 0x3f8, 4, "COM1", 1);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
	pvpanic_fw_device(&d, FW_RES_IO, 0x505, 0);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
	pvpanic_fw_device(&d, FW_RES_MMIO, 0xfedc0000, 1);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
	fw_cfg_fw_device(&d);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
}

static uint8_t *at(uint64_t gpa)
{
	ck_assert_uint_ge(gpa, ACPI_TABLES_GPA);
	ck_assert_uint_lt(gpa, ACPI_TABLES_GPA + ACPI_TABLES_SIZE);
	return buf + (gpa - ACPI_TABLES_GPA);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int sums_to_zero(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s += p[i];
	return s == 0;
}

/* Decompile one table with iasl; returns the .dsl text (caller frees). */
static char *decompile(const char *sig, const uint8_t *table)
{
	char dir[] = "/tmp/minivmm-acpi-XXXXXX", path[128], cmd[512], *dsl;
	FILE *f;
	long n;
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(table, 1, le32(table + 4), f), le32(table + 4));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat > iasl.log 2>&1", dir, sig);
	rc = system(cmd);
	snprintf(cmd, sizeof(cmd), "%s/iasl.log", dir);
	f = fopen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	{
		char line[512];

		while (fgets(line, sizeof(line), f))
			ck_assert_msg(!strstr(line, "Error") && !strstr(line, "Warning"),
				      "iasl on %s: %s", sig, line);
	}
	fclose(f);
	ck_assert_msg(rc == 0, "iasl -d %s failed", sig);
	snprintf(path, sizeof(path), "%s/%s.dsl", dir, sig);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	dsl = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(dsl, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	return dsl;
}

START_TEST(test_pointers_and_checksums)
{
	struct fw_desc fw;
	struct acpi_layout l;
	uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt, *facs;

	machine(&fw, 2, 1);
	ck_assert_int_eq(acpi_build(&fw, buf, sizeof(buf), ACPI_TABLES_GPA, &l), 0);
	ck_assert_uint_eq(l.rsdp, ACPI_TABLES_GPA);
	rsdp = at(l.rsdp);
	ck_assert_int_eq(memcmp(rsdp, "RSD PTR ", 8), 0);
	ck_assert(sums_to_zero(rsdp, 20));
	ck_assert(sums_to_zero(rsdp, 36));
	ck_assert_uint_eq(rsdp[15], 2);
	ck_assert_uint_eq(le64(rsdp + 24), l.xsdt);
	xsdt = at(l.xsdt);
	ck_assert_int_eq(memcmp(xsdt, "XSDT", 4), 0);
	ck_assert(sums_to_zero(xsdt, le32(xsdt + 4)));
	ck_assert_uint_eq(le32(xsdt + 4), 36 + 16);
	ck_assert_uint_eq(le64(xsdt + 36), l.fadt);
	ck_assert_uint_eq(le64(xsdt + 44), l.madt);
	fadt = at(l.fadt);
	ck_assert_int_eq(memcmp(fadt, "FACP", 4), 0);
	ck_assert_uint_eq(le32(fadt + 4), 276);
	ck_assert(sums_to_zero(fadt, 276));
	ck_assert_uint_eq(le64(fadt + 140), l.dsdt);
	ck_assert_uint_eq(le64(fadt + 132), l.facs);
	ck_assert_uint_eq(le32(fadt + 36), 0); /* FIRMWARE_CTRL 0 when X_FIRMWARE_CTRL is set */
	ck_assert_uint_eq(fadt[46], ACPI_SCI_IRQ);
	ck_assert_uint_eq(le32(fadt + 56), ACPI_PM1_EVT);
	ck_assert_uint_eq(le64(fadt + 148 + 4), ACPI_PM1_EVT); /* X_PM1a_EVT agrees */
	ck_assert_uint_eq(le64(fadt + 116 + 4), ACPI_RESET_PORT);
	ck_assert_uint_eq(fadt[128], ACPI_RESET_VALUE);
	ck_assert_uint_eq(le32(fadt + 112) & (1u << 20), 0); /* not hardware-reduced */
	facs = at(l.facs);
	ck_assert_int_eq(memcmp(facs, "FACS", 4), 0);
	ck_assert_uint_eq(l.facs % 64, 0);
	madt = at(l.madt);
	ck_assert(sums_to_zero(madt, le32(madt + 4)));
	ck_assert_uint_eq(le32(madt + 36), 0xFEE00000);
	ck_assert_uint_eq(madt[44], 0);	    /* LAPIC 0 */
	ck_assert_uint_eq(madt[44 + 3], 0); /* APIC id 0 */
	ck_assert_uint_eq(madt[52 + 3], 1); /* APIC id 1 */
	ck_assert_uint_eq(madt[60], 1);	    /* then the IOAPIC */
	ck_assert_uint_eq(le32(madt + 64), 0xFEC00000);
	dsdt = at(l.dsdt);
	ck_assert(sums_to_zero(dsdt, le32(dsdt + 4)));
	ck_assert_uint_le(l.used, ACPI_TABLES_SIZE);
	/* A buffer too small is refused, not overrun. */
	ck_assert_int_eq(acpi_build(&fw, buf, 256, ACPI_TABLES_GPA, &l), -ENOSPC);
}
END_TEST

START_TEST(test_iasl_decompiles_every_table)
{
	struct fw_desc fw;
	struct acpi_layout l;
	char *dsl;

	machine(&fw, 4, 1);
	ck_assert_int_eq(acpi_build(&fw, buf, sizeof(buf), ACPI_TABLES_GPA, &l), 0);
	dsl = decompile("dsdt", at(l.dsdt));
	/* Every device, from the firmware description, with its resources. */
	ck_assert_ptr_nonnull(strstr(dsl, "Device (COM1)"));
	ck_assert_ptr_nonnull(strstr(dsl, "EisaId (\"PNP0501\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x03F8,             // Range Minimum"));
	ck_assert_ptr_nonnull(strstr(dsl, "IRQNoFlags ()\n                    {4}"));
	ck_assert_ptr_nonnull(strstr(dsl, "Device (PEVT)"));
	ck_assert_ptr_nonnull(strstr(dsl, "\"QEMU0001\""));
	ck_assert_ptr_nonnull(strstr(dsl, "OperationRegion (PEOR, SystemIO, 0x0505, One)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Method (RDPT, 0, NotSerialized)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Method (WRPT, 1, NotSerialized)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Device (PEV1)"));
	ck_assert_ptr_nonnull(strstr(dsl, "OperationRegion (PEOR, SystemMemory, 0xFEDC0000, One)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Memory32Fixed (ReadWrite,"));
	/* fw_cfg as QEMU describes it: QEMU0002 over 0x510-0x51B (with DMA). */
	ck_assert_ptr_nonnull(strstr(dsl, "Device (FWCF)"));
	ck_assert_ptr_nonnull(strstr(dsl, "\"QEMU0002\""));
	ck_assert_ptr_nonnull(strstr(dsl, "0x0510,             // Range Minimum"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x0C,               // Length"));
	ck_assert_ptr_nonnull(strstr(dsl, "Device (C003)"));
	ck_assert_ptr_nonnull(strstr(dsl, "\"ACPI0007\""));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (\\_S5, Package (0x04)"));
	free(dsl);
	free(decompile("facp", at(l.fadt)));
	free(decompile("apic", at(l.madt)));
	free(decompile("xsdt", at(l.xsdt)));

	/* Without ACPI power-off there is no \_S5 at all. */
	machine(&fw, 1, 0);
	ck_assert_int_eq(acpi_build(&fw, buf, sizeof(buf), ACPI_TABLES_GPA, &l), 0);
	dsl = decompile("dsdt", at(l.dsdt));
	ck_assert_ptr_null(strstr(dsl, "_S5"));
	free(dsl);
}
END_TEST

/* The machine above plus the PCI host, described the way vm.c does it. */
static void machine_pci(struct fw_desc *fw, struct bus *pio, struct bus *mmio, struct pci_host **h)
{
	machine(fw, 2, 1);
	ck_assert_int_eq(bus_init(pio, "pio"), 0);
	ck_assert_int_eq(bus_init(mmio, "mmio"), 0);
	ck_assert_int_eq(pci_host_create(pio, mmio, PCI_ECAM_GPA, PCI_IO_WINDOW_PORT,
					 PCI_IO_WINDOW_LEN, PCI_MEM_WINDOW_GPA, PCI_MEM_WINDOW_LEN,
					 h),
			 0);
	ck_assert_int_eq(pci_host_fill_fw(*h, fw), 0);
}

START_TEST(test_mcfg)
{
	struct fw_desc fw;
	struct acpi_layout l;
	struct bus pio, mmio;
	struct pci_host *h;
	uint8_t *xsdt, *mcfg;

	/* No PCI host: no MCFG, two XSDT entries. */
	machine(&fw, 1, 1);
	ck_assert_int_eq(acpi_build(&fw, buf, sizeof(buf), ACPI_TABLES_GPA, &l), 0);
	ck_assert_uint_eq(l.mcfg, 0);
	ck_assert_uint_eq(le32(at(l.xsdt) + 4), 36 + 16);

	machine_pci(&fw, &pio, &mmio, &h);
	ck_assert_int_eq(acpi_build(&fw, buf, sizeof(buf), ACPI_TABLES_GPA, &l), 0);
	xsdt = at(l.xsdt);
	ck_assert_uint_eq(le32(xsdt + 4), 36 + 24);
	ck_assert(sums_to_zero(xsdt, le32(xsdt + 4)));
	ck_assert_uint_eq(le64(xsdt + 52), l.mcfg);
	mcfg = at(l.mcfg);
	ck_assert_int_eq(memcmp(mcfg, "MCFG", 4), 0);
	ck_assert_uint_eq(le32(mcfg + 4), 60); /* header, reserved, one allocation */
	ck_assert(sums_to_zero(mcfg, 60));
	ck_assert_uint_eq(le64(mcfg + 44), PCI_ECAM_GPA);
	ck_assert_uint_eq(mcfg[52] | mcfg[53] << 8, 0); /* segment */
	ck_assert_uint_eq(mcfg[54], 0);			/* start bus */
	ck_assert_uint_eq(mcfg[55], 0);			/* end bus */
	ck_assert(sums_to_zero(at(l.dsdt), le32(at(l.dsdt) + 4)));
	pci_host_destroy(h);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}
END_TEST

START_TEST(test_iasl_pci)
{
	struct fw_desc fw;
	struct acpi_layout l;
	struct bus pio, mmio;
	struct pci_host *h;
	char *dsl;

	machine_pci(&fw, &pio, &mmio, &h);
	ck_assert_int_eq(acpi_build(&fw, buf, sizeof(buf), ACPI_TABLES_GPA, &l), 0);
	dsl = decompile("dsdt", at(l.dsdt));
	ck_assert_ptr_nonnull(strstr(dsl, "Device (PCI0)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_HID, EisaId (\"PNP0A08\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_CID, EisaId (\"PNP0A03\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_SEG, Zero)"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_BBN, Zero)"));
	ck_assert_ptr_nonnull(strstr(dsl, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x0CF8,             // Range Minimum"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x08,               // Length"));
	ck_assert_ptr_nonnull(
	    strstr(dsl, "WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xC000,             // Range Minimum"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xFFFF,             // Range Maximum"));
	ck_assert_ptr_nonnull(strstr(dsl, "DWordMemory (ResourceProducer, PosDecode, MinFixed, "
					  "MaxFixed, NonCacheable, ReadWrite"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xC0000000,         // Range Minimum"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xDFFFFFFF,         // Range Maximum"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x20000000,         // Length"));
	/* _PRT: 128 entries; spot-check the swizzle at both ends. */
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_PRT, Package (0x80)"));
	ck_assert_ptr_nonnull(strstr(dsl, "{\n                    0xFFFF, \n"
					  "                    Zero, \n"
					  "                    Zero, \n"
					  "                    0x10\n")); /* 00 INTA -> 16 */
	ck_assert_ptr_nonnull(strstr(dsl,
				     "{\n                    0x001FFFFF, \n"
				     "                    0x03, \n"
				     "                    Zero, \n"
				     "                    0x12\n")); /* 31 INTD -> 16 + 34 % 4 */
	/* The ECAM reserved as a motherboard resource. */
	ck_assert_ptr_nonnull(strstr(dsl, "Device (PRES)"));
	ck_assert_ptr_nonnull(strstr(dsl, "EisaId (\"PNP0C02\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xE0000000,         // Address Base"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x00100000,         // Address Length"));
	free(dsl);
	dsl = decompile("mcfg", at(l.mcfg));
	ck_assert_ptr_nonnull(strstr(dsl, "Signature : \"MCFG\""));
	ck_assert_ptr_nonnull(strstr(dsl, "Base Address : 00000000E0000000"));
	ck_assert_ptr_nonnull(strstr(dsl, "End Bus Number : 00"));
	free(dsl);
	free(decompile("xsdt", at(l.xsdt)));
	pci_host_destroy(h);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}
END_TEST

START_TEST(test_aml_encodings)
{
	struct aml a;
	size_t mark;

	aml_init(&a);
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 0x0f);
	aml_integer(&a, 0x1234);
	aml_integer(&a, 0xfedc0000);
	aml_integer(&a, 0x100000000ull);
	{
		static const uint8_t want[] = { 0x00, 0x01, 0x0a, 0x0f, 0x0b, 0x34, 0x12,
						0x0c, 0x00, 0x00, 0xdc, 0xfe, 0x0e, 0,
						0,    0,    0,	  1,	0,    0,    0 };

		ck_assert_uint_eq(a.len, sizeof(want));
		ck_assert_mem_eq(a.buf, want, sizeof(want));
	}
	aml_free(&a);
	/* EisaId("PNP0501") is 0x41 0xD0 0x05 0x01. */
	aml_init(&a);
	aml_eisaid(&a, "PNP0501");
	ck_assert_mem_eq(a.buf, "\x0c\x41\xd0\x05\x01", 5);
	aml_free(&a);
	/* Package lengths: 1 byte below 64, 2 bytes above, counting themselves. */
	aml_init(&a);
	mark = aml_pkg_begin(&a);
	for (int i = 0; i < 62; i++)
		aml_byte(&a, 0);
	aml_pkg_end(&a, mark);
	ck_assert_uint_eq(a.buf[0], 63);
	aml_free(&a);
	aml_init(&a);
	mark = aml_pkg_begin(&a);
	for (int i = 0; i < 100; i++)
		aml_byte(&a, 0);
	aml_pkg_end(&a, mark);
	ck_assert_uint_eq(a.len, 102);
	ck_assert_uint_eq(a.buf[0], 0x40 | (102 & 0xf));
	ck_assert_uint_eq(a.buf[1], 102 >> 4);
	aml_free(&a);
	aml_init(&a);
	aml_namestring(&a, "\\_SB.COM1");
	ck_assert_mem_eq(a.buf, "\\\x2e_SB_COM1", 10);
	aml_free(&a);
}
END_TEST

/* --- the fixed hardware ---------------------------------------------------------------------- */

static int reqs[VM_REQ__MAX], sci;

static void fake_post(void *ctx, enum vm_request_kind k, enum shutdown_cause c)
{
	(void)ctx;
	ck_assert(c == CAUSE_GUEST_SHUTDOWN || c == CAUSE_GUEST_RESET);
	reqs[k]++;
}

static void fake_sci(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	ck_assert_uint_eq(gsi, ACPI_SCI_IRQ);
	sci = level;
}

static void pm_w(struct acpi_pm *pm, unsigned off, uint32_t v, unsigned len)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	acpi_pm_bus_ops.write(pm, off, b, len);
}

static uint32_t pm_r(struct acpi_pm *pm, unsigned off, unsigned len)
{
	uint8_t b[4] = { 0 };

	acpi_pm_bus_ops.read(pm, off, b, len);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

START_TEST(test_pm_device)
{
	struct acpi_pm_config cfg = { { fake_post, NULL }, { fake_sci, NULL, ACPI_SCI_IRQ } };
	struct acpi_pm *pm;
	uint8_t v;
	uint32_t t1, t2;

	memset(reqs, 0, sizeof(reqs));
	sci = 0;
	ck_assert_int_eq(acpi_pm_create(&cfg, &pm), 0);
	ck_assert_uint_eq(pm_r(pm, 4, 2) & 1, 1); /* SCI_EN always set */
	/* Sleep type other than S5: nothing. S5: one shutdown request. */
	pm_w(pm, 4, (3u << 10) | (1u << 13), 2);
	ck_assert_int_eq(reqs[VM_REQ_SHUTDOWN], 0);
	pm_w(pm, 4, (ACPI_S5_SLP_TYP << 10) | (1u << 13), 2);
	ck_assert_int_eq(reqs[VM_REQ_SHUTDOWN], 1);
	ck_assert_uint_eq(pm_r(pm, 4, 2) & (1u << 13), 0); /* SLP_EN reads as 0 */
	/* Byte-wise write of the same: high byte carries SLP_EN. */
	pm_w(pm, 5, ((ACPI_S5_SLP_TYP << 10) | (1u << 13)) >> 8, 1);
	ck_assert_int_eq(reqs[VM_REQ_SHUTDOWN], 2);
	/* Power button: status set; SCI only once enabled; write-1-to-clear. */
	acpi_pm_press_power_button(pm);
	ck_assert_uint_eq(pm_r(pm, 0, 2) & ACPI_PM1_PWRBTN, ACPI_PM1_PWRBTN);
	ck_assert_int_eq(sci, 0);
	pm_w(pm, 2, ACPI_PM1_PWRBTN, 2);
	ck_assert_int_eq(sci, 1);
	pm_w(pm, 0, 0, 2); /* writing 0 clears nothing */
	ck_assert_int_eq(sci, 1);
	pm_w(pm, 0, ACPI_PM1_PWRBTN, 2);
	ck_assert_int_eq(sci, 0);
	ck_assert_uint_eq(pm_r(pm, 0, 2), 0);
	/* PM timer counts up at 3.58 MHz. */
	t1 = pm_r(pm, 8, 4);
	usleep(2000);
	t2 = pm_r(pm, 8, 4);
	ck_assert_uint_gt(t2 - t1, 3579 * 2 / 2);
	/* Reset register: only the reset value resets. */
	v = 0x02;
	acpi_reset_bus_ops.write(pm, 0, &v, 1);
	ck_assert_int_eq(reqs[VM_REQ_RESET], 0);
	v = ACPI_RESET_VALUE;
	acpi_reset_bus_ops.write(pm, 0, &v, 1);
	ck_assert_int_eq(reqs[VM_REQ_RESET], 1);
	/* Junk everywhere survives; reset returns power-on state. */
	for (unsigned off = 0; off < ACPI_PM_LEN; off++)
		for (unsigned x = 0; x < 256; x++)
			pm_w(pm, off, x & ~0x20u, 1); /* all but SLP_EN */
	acpi_pm_reset(pm);
	ck_assert_uint_eq(pm_r(pm, 0, 4), 0x00000000);
	ck_assert_int_eq(sci, 0);
	acpi_pm_destroy(pm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("tables");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pointers_and_checksums);
	tcase_add_test(tc, test_iasl_decompiles_every_table);
	tcase_add_test(tc, test_aml_encodings);
	tcase_add_test(tc, test_mcfg);
	tcase_add_test(tc, test_iasl_pci);
	tcase_add_test(tc, test_pm_device);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
