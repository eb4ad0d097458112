/* pvpanic.c - the pvpanic event register: reads give the supported events, writes report. */
#include "pvpanic.h"
#include "core/aml.h"
#include "core/log.h"

#include <stdio.h>
#include <string.h>

void pvpanic_init(struct pvpanic *p, uint8_t events, const struct request_sink *sink)
{
	p->events = events & PVPANIC_EVENTS_ALL;
	p->sink = *sink;
	p->unknown_logged = 0;
}

void pvpanic_write_event(struct pvpanic *p, uint8_t val)
{
	uint8_t known = val & p->events;

	if ((val & ~PVPANIC_EVENTS_ALL) &&
	    !__atomic_exchange_n(&p->unknown_logged, 1, __ATOMIC_RELAXED))
		pr_warn("pvpanic: guest wrote unknown event bits 0x%02x (ignored)",
			val & ~PVPANIC_EVENTS_ALL);
	if (known & PVPANIC_PANICKED)
		request_post(&p->sink, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	else if (known & PVPANIC_CRASH_LOADED)
		request_post(&p->sink, VM_REQ_CRASHLOADED, CAUSE_GUEST_PANIC);
	else if (known & PVPANIC_SHUTDOWN)
		request_post(&p->sink, VM_REQ_PVSHUTDOWN, CAUSE_GUEST_SHUTDOWN);
}

static void pvpanic_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct pvpanic *p = opaque;

	(void)offset;
	(void)len;
	*(uint8_t *)data = p->events;
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	(void)offset;
	(void)len;
	pvpanic_write_event(opaque, *(const uint8_t *)data);
}

const struct bus_ops pvpanic_bus_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
	.sizes = BUS_SIZE_1,
};

/*
 * The AML QEMU gives its pvpanic device (docs/specs/pvpanic.rst): an operation region over the
 * register and methods to read and write it, after the generic _HID/_UID/_STA/_CRS.
 */
static void pvpanic_aml(struct aml *a, const struct fw_device *d)
{
	const struct fw_resource *r = &d->res[0];
	size_t mark;

	if (!d->nres)
		return;
	/* OperationRegion (PEOR, SystemIO or SystemMemory, base, 1) */
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_OPREGION);
	aml_nameseg(a, "PEOR");
	aml_byte(a, r->kind == FW_RES_IO ? AML_REGION_SYSTEM_IO : AML_REGION_SYSTEM_MEMORY);
	aml_integer(a, r->base);
	aml_integer(a, PVPANIC_REG_LEN);

	aml_byte(a, AML_EXT_PREFIX); /* Field (PEOR, ByteAcc, NoLock, Preserve) { PEPT, 8 } */
	aml_byte(a, AML_EXT_FIELD);
	mark = aml_pkg_begin(a);
	aml_nameseg(a, "PEOR");
	aml_byte(a, AML_FIELD_BYTE_ACC);
	aml_nameseg(a, "PEPT");
	aml_byte(a, 8);
	aml_pkg_end(a, mark);

	mark = aml_method_begin(a, "RDPT", 0); /* { Store (PEPT, Local0) Return (Local0) } */
	aml_byte(a, AML_STORE);
	aml_nameseg(a, "PEPT");
	aml_byte(a, AML_LOCAL0);
	aml_byte(a, AML_RETURN);
	aml_byte(a, AML_LOCAL0);
	aml_pkg_end(a, mark);

	mark = aml_method_begin(a, "WRPT", 1); /* { Store (Arg0, PEPT) } */
	aml_byte(a, AML_STORE);
	aml_byte(a, AML_ARG0);
	aml_nameseg(a, "PEPT");
	aml_pkg_end(a, mark);
}

void pvpanic_fw_device(struct fw_device *out, enum fw_res_kind kind, uint64_t base, uint32_t uid)
{
	memset(out, 0, sizeof(*out));
	/* PEVT, PEV1, ...: unique 4-character names under \_SB for several instances. */
	if (uid == 0)
		snprintf(out->acpi_name, sizeof(out->acpi_name), "PEVT");
	else
		snprintf(out->acpi_name, sizeof(out->acpi_name), "PEV%X", uid & 0xf);
	out->acpi_hid = "QEMU0001";
	out->acpi_uid = uid;
	out->aml = pvpanic_aml;
	out->nres = 1;
	out->res[0] = (struct fw_resource){ kind, base, PVPANIC_REG_LEN };
	if (kind == FW_RES_MMIO) {
		out->fdt_node = "pvpanic";
		out->fdt_compat = "qemu,pvpanic-mmio";
	}
}
