/* acpi.h - the ACPI tables minivmm gives the guest, generated from the firmware description. */
#ifndef MINIVMM_ACPI_H
#define MINIVMM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/fwdesc.h"
#include "core/layout.h" /* ACPI_TABLES_GPA, ACPI_TABLES_SIZE: where the tables go */

/* Where each table landed (guest-physical), for the zero page and for tests. */
struct acpi_layout {
	uint64_t rsdp, xsdt, fadt, facs, madt, dsdt, mcfg; /* mcfg 0: no PCI host */
	size_t used;
};

/*
 * Build RSDP, XSDT, FADT (rev 6, fixed hardware at fw->acpi), FACS, MADT (one LAPIC per
 * vcpu, the IOAPIC, the SCI override), the DSDT (processors, the PCI host bridge's own AML
 * when fw->pci.present, a Device () per fw->devices entry with what its hook adds, then
 * fw->acpi's root-scope AML such as \_S5) and then the MCFG into @buf, which the caller
 * copies to guest-physical @gpa. Returns 0, -ENOSPC or -ENOMEM.
 */
int acpi_build(const struct fw_desc *fw, uint8_t *buf, size_t size, uint64_t gpa,
	       struct acpi_layout *out) __attribute__((warn_unused_result));

/* The DSDT's AML body alone (no header), for tests. Caller frees *@aml. */
int acpi_build_dsdt_body(const struct fw_desc *fw, uint8_t **aml, size_t *len);

/* The byte that makes @len bytes at @p sum to zero. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
