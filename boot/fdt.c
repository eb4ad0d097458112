/*
 * fdt.c - the machine's flattened device tree (Devicetree Specification v0.4), written with
 * libfdt's sequential-write API. Devices come from the firmware description the buses were
 * populated from, so a port or address in the DTB is the one the device answers on; what is
 * particular to a device comes from its own hook, never from a switch on its kind here.
 */
#include "fdt.h"
#include "core/layout.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#define MAX_CELLS 16

/* The tree under construction; the first libfdt error sticks and ends the build. */
struct fdt_ctx {
	void *fdt;
	int err;
};

static void ck(struct fdt_ctx *c, int ret)
{
	if (ret < 0 && !c->err)
		c->err = ret;
}

static void begin(struct fdt_ctx *c, const char *name)
{
	if (!c->err)
		ck(c, fdt_begin_node(c->fdt, name));
}

static void end(struct fdt_ctx *c)
{
	if (!c->err)
		ck(c, fdt_end_node(c->fdt));
}

static void prop_str(struct fdt_ctx *c, const char *name, const char *val)
{
	if (!c->err)
		ck(c, fdt_property_string(c->fdt, name, val));
}

static void prop_empty(struct fdt_ctx *c, const char *name)
{
	if (!c->err)
		ck(c, fdt_property(c->fdt, name, NULL, 0));
}

static void prop_u32(struct fdt_ctx *c, const char *name, uint32_t val)
{
	if (!c->err)
		ck(c, fdt_property_u32(c->fdt, name, val));
}

/* A property of @n 32-bit cells, given in CPU order. */
static void prop_cells(struct fdt_ctx *c, const char *name, const uint32_t *cells, unsigned n)
{
	fdt32_t be[MAX_CELLS];

	if (c->err)
		return;
	if (n > MAX_CELLS) {
		c->err = -FDT_ERR_BADVALUE;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	ck(c, fdt_property(c->fdt, name, be, (int)(n * sizeof(be[0]))));
}

/* Append (addr, size) as 2 + 2 cells, the root's address and size format. */
static unsigned cells_addr_size(uint32_t *cells, unsigned n, uint64_t addr, uint64_t size)
{
	cells[n++] = (uint32_t)(addr >> 32);
	cells[n++] = (uint32_t)addr;
	cells[n++] = (uint32_t)(size >> 32);
	cells[n++] = (uint32_t)size;
	return n;
}

static const struct fw_resource *first_res(const struct fw_device *d, enum fw_res_kind kind)
{
	for (unsigned i = 0; i < d->nres; i++)
		if (d->res[i].kind == kind)
			return &d->res[i];
	return NULL;
}

/* Where a device's node goes: under /isa for an I/O-port device, at the root for MMIO. */
static int dev_is_isa(const struct fw_device *d)
{
	return first_res(d, FW_RES_IO) != NULL;
}

/* "serial@i3f8" (ISA I/O space) or "pvpanic@feb00000". */
static void dev_node_name(const struct fw_device *d, char *buf, size_t len)
{
	const struct fw_resource *r = first_res(d, FW_RES_IO);

	if (r)
		snprintf(buf, len, "%s@i%llx", d->fdt_node, (unsigned long long)r->base);
	else if ((r = first_res(d, FW_RES_MMIO)))
		snprintf(buf, len, "%s@%llx", d->fdt_node, (unsigned long long)r->base);
	else
		snprintf(buf, len, "%s", d->fdt_node);
}

static void dev_node(struct fdt_ctx *c, const struct fw_device *d)
{
	uint32_t reg[MAX_CELLS], irq[MAX_CELLS];
	unsigned nreg = 0, nirq = 0;
	char name[64];

	for (unsigned i = 0; i < d->nres; i++) {
		const struct fw_resource *r = &d->res[i];

		if (r->kind == FW_RES_IO && nreg + 3 <= MAX_CELLS) {
			reg[nreg++] = FDT_ISA_SPACE_IO;
			reg[nreg++] = (uint32_t)r->base;
			reg[nreg++] = (uint32_t)r->len;
		} else if (r->kind == FW_RES_MMIO && nreg + 4 <= MAX_CELLS) {
			nreg = cells_addr_size(reg, nreg, r->base, r->len);
		} else if (r->kind == FW_RES_IRQ && nirq + 2 <= MAX_CELLS) {
			irq[nirq++] = (uint32_t)r->base;
			irq[nirq++] = FDT_IRQ_EDGE_RISING;
		}
	}
	dev_node_name(d, name, sizeof(name));
	begin(c, name);
	prop_str(c, "compatible", d->fdt_compat);
	if (nreg)
		prop_cells(c, "reg", reg, nreg);
	if (nirq)
		prop_cells(c, "interrupts", irq, nirq);
	if (!c->err && d->fdt)
		ck(c, d->fdt(c->fdt, d));
	end(c);
}

static const struct fw_device *stdout_device(const struct fw_desc *fw)
{
	for (unsigned i = 0; i < fw->ndevices; i++)
		if (fw->devices[i].fdt_node && fw->devices[i].fdt_console)
			return &fw->devices[i];
	return NULL;
}

static void chosen_node(struct fdt_ctx *c, const struct fdt_machine *m)
{
	const struct fw_device *con = stdout_device(m->fw);

	begin(c, "chosen");
	prop_str(c, "bootargs", m->cmdline ? m->cmdline : "");
	if (con) {
		char name[64], path[80];

		dev_node_name(con, name, sizeof(name));
		snprintf(path, sizeof(path), "%s%s", dev_is_isa(con) ? "/isa/" : "/", name);
		prop_str(c, "stdout-path", path);
	}
	end(c);
}

/*
 * RAM as the e820 table gives it: region 0 without the EBDA and the 640K-1M legacy hole
 * (where the ACPI tables are), then each region above 4 GiB in its own node.
 */
static void memory_nodes(struct fdt_ctx *c, const struct guest_mem *mem)
{
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->regions[i];
		uint32_t reg[8];
		unsigned n = 0;
		char name[40];

		if (!r->size)
			continue;
		if (r->gpa == 0 && r->size > HIGH_RAM_START) {
			n = cells_addr_size(reg, n, 0, EBDA_START);
			n = cells_addr_size(reg, n, HIGH_RAM_START, r->size - HIGH_RAM_START);
		} else {
			n = cells_addr_size(reg, n, r->gpa, r->size);
		}
		snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)r->gpa);
		begin(c, name);
		prop_str(c, "device_type", "memory");
		prop_cells(c, "reg", reg, n);
		end(c);
	}
}

static void cpu_nodes(struct fdt_ctx *c, unsigned ncpus)
{
	begin(c, "cpus");
	prop_u32(c, "#address-cells", 1);
	prop_u32(c, "#size-cells", 0);
	for (unsigned i = 0; i < ncpus; i++) {
		char name[16];

		snprintf(name, sizeof(name), "cpu@%x", i);
		begin(c, name);
		prop_str(c, "device_type", "cpu");
		prop_u32(c, "reg", i); /* local APIC id, as in the MADT */
		end(c);
	}
	end(c);
}

static void ioapic_node(struct fdt_ctx *c)
{
	uint32_t reg[4];
	char name[48];

	snprintf(name, sizeof(name), "interrupt-controller@%llx", IOAPIC_GPA);
	begin(c, name);
	prop_str(c, "compatible", "intel,ce4100-ioapic");
	prop_cells(c, "reg", reg, cells_addr_size(reg, 0, IOAPIC_GPA, 0x1000));
	prop_empty(c, "interrupt-controller");
	prop_u32(c, "#interrupt-cells", 2);
	prop_u32(c, "#address-cells", 0);
	prop_u32(c, "phandle", FDT_PHANDLE_IOAPIC);
	end(c);
}

/*
 * x86 I/O ports are an address space of their own; the node has no "ranges" because they
 * do not map into the CPU's memory space. Emitted only when some device needs it.
 */
static void isa_node(struct fdt_ctx *c, const struct fw_desc *fw)
{
	int any = 0;

	for (unsigned i = 0; i < fw->ndevices; i++)
		any |= fw->devices[i].fdt_node && dev_is_isa(&fw->devices[i]);
	if (!any)
		return;
	begin(c, "isa");
	prop_str(c, "compatible", "isa");
	prop_u32(c, "#address-cells", 2);
	prop_u32(c, "#size-cells", 1);
	for (unsigned i = 0; i < fw->ndevices; i++)
		if (fw->devices[i].fdt_node && dev_is_isa(&fw->devices[i]))
			dev_node(c, &fw->devices[i]);
	end(c);
}

/*
 * The ePAPR proposal for reset and shutdown: properties without a value whose presence says
 * the hypervisor honours the guest's request. minivmm takes those requests through the ACPI
 * reset register, \_S5 and pvpanic, not through ePAPR hypercalls, so the node does not claim
 * "epapr,hypervisor-1" (that would promise hcall-instructions).
 */
static void hypervisor_node(struct fdt_ctx *c, const struct fdt_machine *m)
{
	begin(c, "hypervisor");
	prop_str(c, "compatible", "minivmm,hypervisor");
	if (m->has_reset)
		prop_empty(c, "has-reset");
	if (m->has_shutdown)
		prop_empty(c, "has-shutdown");
	end(c);
}

int fdt_build(const struct fdt_machine *m, void *buf, size_t size, size_t *len)
{
	struct fdt_ctx c = { buf, 0 };

	if (!m->fw || !m->mem || size > INT32_MAX)
		return -EINVAL;
	ck(&c, fdt_create(buf, (int)size));
	if (!c.err)
		ck(&c, fdt_finish_reservemap(buf));
	begin(&c, "");
	prop_u32(&c, "#address-cells", 2);
	prop_u32(&c, "#size-cells", 2);
	prop_str(&c, "compatible", FDT_COMPATIBLE);
	prop_str(&c, "model", FDT_MODEL);
	prop_u32(&c, "interrupt-parent", FDT_PHANDLE_IOAPIC);

	chosen_node(&c, m);
	memory_nodes(&c, m->mem);
	cpu_nodes(&c, m->fw->ncpus);
	ioapic_node(&c);
	isa_node(&c, m->fw);
	for (unsigned i = 0; i < m->fw->ndevices; i++)
		if (m->fw->devices[i].fdt_node && !dev_is_isa(&m->fw->devices[i]))
			dev_node(&c, &m->fw->devices[i]);
	hypervisor_node(&c, m);
	end(&c);
	if (!c.err)
		ck(&c, fdt_finish(buf));
	if (c.err)
		return c.err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	*len = fdt_totalsize(buf);
	return 0;
}
