/* pvpanic.c - the pvpanic event register: reads give the supported events, writes report. */
#include "pvpanic.h"
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

	if ((val & ~PVPANIC_EVENTS_ALL) && !__atomic_exchange_n(&p->unknown_logged, 1, __ATOMIC_RELAXED))
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
	out->extra = FW_AML_PVPANIC;
	out->nres = 1;
	out->res[0] = (struct fw_resource){ kind, base, PVPANIC_REG_LEN };
	if (kind == FW_RES_MMIO) {
		out->fdt_node = "pvpanic";
		out->fdt_compat = "qemu,pvpanic-mmio";
	}
}
