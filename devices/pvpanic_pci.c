/* pvpanic_pci.c - PCI glue for the pvpanic core: identity and BAR0 over the event register. */
#include "pvpanic_pci.h"

#include <string.h>

/* Any size at any offset the bus allows: byte 0 is the register, the rest of the page 0. */
static void pvpanic_bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	uint8_t reg;

	memset(data, 0, len);
	if (offset == 0) {
		pvpanic_bus_ops.read(opaque, 0, &reg, 1);
		*(uint8_t *)data = reg;
	}
}

static void pvpanic_bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	(void)len;
	if (offset == 0)
		pvpanic_write_event(opaque, *(const uint8_t *)data);
}

static const struct bus_ops pvpanic_bar_ops = {
	.read = pvpanic_bar_read,
	.write = pvpanic_bar_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

void pvpanic_pci_info(struct pci_device_info *out, struct pvpanic *p)
{
	memset(out, 0, sizeof(*out));
	out->name = "pvpanic-pci";
	out->vendor = PVPANIC_PCI_VENDOR;
	out->device = PVPANIC_PCI_DEVICE;
	out->revision = PVPANIC_PCI_REVISION;
	out->class_code = PVPANIC_PCI_CLASS;
	out->subsys_vendor = PVPANIC_PCI_SUBVENDOR;
	out->subsys = PVPANIC_PCI_SUBSYS;
	out->bars[0] =
	    (struct pci_bar_info){ PCI_BAR_MEM32, PVPANIC_PCI_BAR_SIZE, &pvpanic_bar_ops, p };
}
