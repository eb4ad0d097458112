/*
 * pci_config.c - the PCI host's configuration-access front end: mechanism #1 (CONFIG_ADDRESS
 * at 0xCF8, CONFIG_DATA at 0xCFC-0xCFF; PCI Local Bus 3.0 section 3.2.2.3.2) and ECAM (PCI
 * Express Base 4.0 section 7.2.2), decoded for the host's config space (pci.c).
 */
#include "pci.h"
#include "pci_config.h"
#include "core/layout.h"
#include "core/log.h"

#include <errno.h>
#include <string.h>

#define PCI_CONFIG_ENABLE  0x80000000u /* CONFIG_ADDRESS bit 31 */
#define PCI_CONFIG_ADDR_RW 0x80fffffcu /* bits 30:24 reserved, 1:0 fixed 0 */

/* The memory map's ECAM (PCI_ECAM_LEN) is one whole bus: 32 slots x 8 functions x 4 KiB. */
_Static_assert(PCI_ECAM_LEN == PCI_ECAM_FUNC * 8 * PCI_MAX_SLOTS, "ECAM is not one bus");

/* ECAM: bus in bits 27:20 (one bus here), device 19:15, function 14:12, register 11:0. */
static void ecam_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_config *c = opaque;
	unsigned reg = off & 0xfff;

	if (reg & (len - 1)) {
		pr_guest_debug("pci: misaligned ECAM read of %u at 0x%llx", len,
			       (unsigned long long)off);
		bus_data_set(data, len, 0xffffffffu);
		return;
	}
	bus_data_set(data, len,
		     c->space.read(c->space.host, (unsigned)(off >> 20), (off >> 15) & 31,
				   (off >> 12) & 7, reg, len));
}

static void ecam_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_config *c = opaque;
	unsigned reg = off & 0xfff;

	if (reg & (len - 1)) {
		pr_guest_debug("pci: misaligned ECAM write of %u at 0x%llx", len,
			       (unsigned long long)off);
		return;
	}
	c->space.write(c->space.host, (unsigned)(off >> 20), (off >> 15) & 31, (off >> 12) & 7, reg,
		       (uint32_t)bus_data_get(data, len), len);
}

static const struct bus_ops ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* 0xCF8-0xCFB: CONFIG_ADDRESS to a dword at 0xCF8, anything else to the sharing device. */
static void cf8_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_config *c = opaque;
	const struct pci_config_shared *sp = &c->shared[off];

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&c->lock);
		bus_data_set(data, 4, c->config_address);
		pthread_mutex_unlock(&c->lock);
	} else if (sp->ops && sp->ops->read && len == 1 && (sp->ops->sizes & BUS_SIZE_1)) {
		sp->ops->read(sp->opaque, 0, data, len);
	} else {
		bus_data_set(data, len, 0xffffffffu);
	}
}

static void cf8_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_config *c = opaque;
	const struct pci_config_shared *sp = &c->shared[off];

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&c->lock);
		c->config_address = (uint32_t)bus_data_get(data, 4) & PCI_CONFIG_ADDR_RW;
		pthread_mutex_unlock(&c->lock);
	} else if (sp->ops && sp->ops->write && len == 1 && (sp->ops->sizes & BUS_SIZE_1)) {
		sp->ops->write(sp->opaque, 0, data, len);
	} else {
		pr_guest_debug("pci: write of %u to port 0x%llx ignored", len,
			       (unsigned long long)(PCI_CONFIG_ADDR_PORT + off));
	}
}

static const struct bus_ops cf8_ops = {
	.read = cf8_read,
	.write = cf8_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* CONFIG_ADDRESS decoded for an access at CONFIG_DATA + @off; 0 when disabled or misaligned. */
static int cfc_target(struct pci_config *c, uint64_t off, unsigned len, unsigned *bus,
		      unsigned *slot, unsigned *fn, unsigned *reg)
{
	uint32_t a;

	pthread_mutex_lock(&c->lock);
	a = c->config_address;
	pthread_mutex_unlock(&c->lock);
	if (!(a & PCI_CONFIG_ENABLE) || (off & (len - 1)))
		return 0;
	*bus = (a >> 16) & 0xff;
	*slot = (a >> 11) & 31;
	*fn = (a >> 8) & 7;
	*reg = (a & 0xfc) + (unsigned)off;
	return 1;
}

static void cfc_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_config *c = opaque;
	unsigned bus, slot, fn, reg;

	if (!cfc_target(c, off, len, &bus, &slot, &fn, &reg)) {
		bus_data_set(data, len, 0xffffffffu);
		return;
	}
	bus_data_set(data, len, c->space.read(c->space.host, bus, slot, fn, reg, len));
}

static void cfc_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_config *c = opaque;
	unsigned bus, slot, fn, reg;

	if (!cfc_target(c, off, len, &bus, &slot, &fn, &reg)) {
		pr_guest_debug("pci: CONFIG_DATA write of %u at +%llu ignored", len,
			       (unsigned long long)off);
		return;
	}
	c->space.write(c->space.host, bus, slot, fn, reg, (uint32_t)bus_data_get(data, len), len);
}

static const struct bus_ops cfc_ops = {
	.read = cfc_read,
	.write = cfc_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

/* --- setup ----------------------------------------------------------------------------------- */

static void unclaim(struct pci_config *c)
{
	if (c->registered & 1)
		bus_unregister(c->pio, PCI_CONFIG_ADDR_PORT, c);
	if (c->registered & 2)
		bus_unregister(c->pio, PCI_CONFIG_DATA_PORT, c);
	if (c->registered & 4)
		bus_unregister(c->mmio, c->ecam_base, c);
	c->registered = 0;
}

int pci_config_init(struct pci_config *c, struct bus *pio, struct bus *mmio, uint64_t ecam_base,
		    const struct pci_config_space *space)
{
	int ret;

	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->space = *space;
	c->pio = pio;
	c->mmio = mmio;
	c->ecam_base = ecam_base;
	ret = bus_register(pio, PCI_CONFIG_ADDR_PORT, 4, &cf8_ops, c, "pci-config-address");
	if (!ret) {
		c->registered |= 1;
		ret = bus_register(pio, PCI_CONFIG_DATA_PORT, 4, &cfc_ops, c, "pci-config-data");
	}
	if (!ret) {
		c->registered |= 2;
		ret = bus_register(mmio, ecam_base, PCI_ECAM_LEN, &ecam_ops, c, "pci-ecam");
	}
	if (!ret)
		c->registered |= 4;
	else
		unclaim(c);
	return ret;
}

void pci_config_destroy(struct pci_config *c)
{
	unclaim(c);
	pthread_mutex_destroy(&c->lock);
}

void pci_config_reset(struct pci_config *c)
{
	pthread_mutex_lock(&c->lock);
	c->config_address = 0;
	pthread_mutex_unlock(&c->lock);
}

int pci_config_share_port(struct pci_config *c, unsigned port, const struct bus_ops *ops,
			  void *opaque)
{
	unsigned i = port - PCI_CONFIG_ADDR_PORT;

	if (port < PCI_CONFIG_ADDR_PORT || i >= 4 || !ops || !(ops->sizes & BUS_SIZE_1))
		return -EINVAL;
	if (c->shared[i].ops)
		return -EEXIST;
	c->shared[i] = (struct pci_config_shared){ ops, opaque };
	return 0;
}
