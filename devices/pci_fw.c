/* pci_fw.c - the PCI host bridge's ACPI description: Device (PCI0) with _CRS and _PRT. */
#include "pci.h"
#include "core/aml.h"

#define PCI_CONFIG_PORTS 8 /* 0xCF8-0xCFF: CONFIG_ADDRESS and CONFIG_DATA */
#define PCI_PRT_PINS	 4 /* INTA-INTD */

/*
 * PCI Firmware 3.2, 4.1; ACPI 6.4.3.5: PCI0 with the bus range, the config ports, the I/O and
 * 32-bit memory windows it forwards, and _PRT routing every slot's INTA-INTD to GSIs by the
 * usual swizzle (GSI form: Source 0, SourceIndex = GSI).
 */
void pci_host_aml(struct aml *a, const struct fw_pci_host *p)
{
	struct aml res;
	size_t dev, prt;

	dev = aml_device_begin(a, "PCI0");
	aml_name_id(a, "_HID", "PNP0A08"); /* PCI Express root bridge: config space via MCFG */
	aml_name_id(a, "_CID", "PNP0A03");
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", p->bus_start);
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_STA", 0x0f); /* present, enabled, shown, functioning */

	aml_init(&res);
	aml_res_word_addr(&res, AML_RES_ADDR_BUS, 0, p->bus_start,
			  (uint32_t)(p->bus_end - p->bus_start) + 1);
	aml_res_io(&res, PCI_CONFIG_ADDR_PORT, PCI_CONFIG_PORTS);
	aml_res_word_addr(&res, AML_RES_ADDR_IO, AML_RES_IO_ENTIRE, p->io_base, p->io_len);
	aml_res_dword_addr(&res, AML_RES_ADDR_MEM, AML_RES_MEM_RW, p->mem_base, p->mem_len);
	aml_name_resources(a, "_CRS", &res);
	aml_free(&res);

	/* Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, 0, gsi }, ... }) */
	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	prt = aml_pkg_begin(a);
	aml_byte(a, PCI_MAX_SLOTS * PCI_PRT_PINS);
	for (unsigned slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_PRT_PINS; pin++) {
			size_t e;

			aml_byte(a, AML_PACKAGE);
			e = aml_pkg_begin(a);
			aml_byte(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff); /* any function */
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, p->gsi_base + (slot + pin) % PCI_INTX_GSIS);
			aml_pkg_end(a, e);
		}
	}
	aml_pkg_end(a, prt);
	aml_pkg_end(a, dev);
}
