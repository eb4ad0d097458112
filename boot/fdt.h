/* fdt.h - the flattened device tree of the machine, from the same description as the ACPI tables.
 */
#ifndef MINIVMM_FDT_H
#define MINIVMM_FDT_H

#include <stddef.h>

#include "core/fwdesc.h"
#include "core/guest_mem.h"

#define FDT_COMPATIBLE	   "minivmm,microvm"
#define FDT_MODEL	   "minivmm"
#define FDT_PHANDLE_IOAPIC 1

/*
 * Bus encoding of I/O-port devices: they sit under /isa, whose two address cells follow the
 * IEEE 1275 ISA binding (first cell 1 = I/O space, 0 = memory; second cell the address) and
 * whose unit addresses are "i<port>" (serial@i3f8).
 */
#define FDT_ISA_SPACE_IO 1

/* IOAPIC interrupt specifier, second cell (intel,ce4100-ioapic binding): 0 = edge rising. */
#define FDT_IRQ_EDGE_RISING 0

/* What the tree describes. */
struct fdt_machine {
	const struct fw_desc *fw;    /* cpus and every device with an fdt_node */
	const struct guest_mem *mem; /* RAM regions (only gpa/size are read) */
	const char *cmdline;	     /* /chosen/bootargs */
	int has_reset;		     /* /hypervisor has-reset: a guest reset request is honoured */
	int has_shutdown;	     /* /hypervisor has-shutdown: so is a guest shutdown request */
};

/*
 * Build the DTB of @m into @buf (@size bytes). Nodes: root (#address-cells = #size-cells = 2),
 * /chosen (bootargs, stdout-path to the first console device), /memory@... for the RAM below
 * the hole (minus the legacy 640K-1M hole) and above 4 GiB, /cpus with cpu@N (reg = APIC id),
 * the IOAPIC, /isa with the I/O-port devices, MMIO devices at the root, and /hypervisor
 * (has-reset, has-shutdown, as the ePAPR reset/shutdown proposal has them). Returns 0 with the
 * blob's size in *@len, or -ENOSPC / -EINVAL.
 */
int fdt_build(const struct fdt_machine *m, void *buf, size_t size, size_t *len)
    __attribute__((warn_unused_result));

#endif
