/*
 * pci.c - a minimal PCI host for bus 0: its config space, type-0 headers (PCI Local Bus 3.0
 * section 6.1), BARs with the sizing protocol (section 6.2.5.1) mapped on the VM's buses while
 * the COMMAND register enables their decode, INTx. The guest reaches the config space through
 * the front end in pci_config.c (ports 0xCF8/0xCFC and ECAM).
 *
 * Locks, in the only order they are taken:
 *   1. the host lock: every header and the BAR mappings. Config accesses hold it while they
 *      call a device's cfg_read/cfg_write hooks and while BARs move on the buses;
 *   2. a device's own lock, taken by those hooks (and by its BAR callbacks, which the buses
 *      run without a bus lock of their own, bus.c: so a config write on the PIO bus may move
 *      an I/O BAR on that same bus);
 *   3. a bus lock, taken by bus_register/bus_unregister while BARs move;
 *   4. the INTx lock: pin levels, their INTX_DISABLE mirror and the GSI levels. It is a leaf:
 *      nothing is locked under it, and it calls out only to irq_set (KVM_IRQ_LINE).
 * pci_host_set_intx takes the INTx lock alone, so a device may call it from anywhere: holding
 * its own lock, from a BAR callback, a timer or a cfg hook. The order cannot be inverted.
 * The front end's CONFIG_ADDRESS lock is a leaf too, never held across a config access.
 */
#include "pci.h"
#include "pci_config.h"
#include "core/layout.h" /* PCI_ECAM_LEN */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCI_COMMAND_RW                                                                             \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)
#define PCI_NO_IRQ_LINE 0xff /* "unknown or no connection" on x86 */
#define PCI_IO_LIMIT	0x10000ull
#define PCI_MEM32_LIMIT 0x100000000ull
#define PCI_BAR_MIN_MEM 16
#define PCI_BAR_MIN_IO	4

struct pci_bar {
	struct pci_bar_info info;
	uint32_t assigned; /* what firmware put there (power-on value) */
	uint32_t addr;	   /* current address bits of the register */
	int mapped;	   /* registered on the bus at @mapped_at */
	uint32_t mapped_at;
};

struct pci_dev {
	int present;
	struct pci_device_info info;
	struct pci_bar bars[PCI_NUM_BARS];
	uint16_t command, power_on_command;
	uint8_t irq_line;
	int intx;	 /* the device's pin level, before INTX_DISABLE; INTx lock */
	int intx_masked; /* COMMAND.INTX_DISABLE as intx_update sees it; INTx lock */
};

struct pci_host {
	pthread_mutex_t lock; /* headers, BARs: see the lock order at the top */
	pthread_mutex_t
	    intx_lock; /* leaf: intx, intx_masked, present (writes), gsi_level, irq_set */
	struct bus *pio, *mmio;
	uint32_t io_base, io_len, io_next;
	uint32_t mem_base, mem_len, mem_next;
	struct pci_config cfg; /* the front end: 0xCF8/0xCFC and ECAM (pci_config.c) */
	struct pci_dev devs[PCI_MAX_SLOTS];
	void (*irq_set)(void *ctx, unsigned gsi, int level);
	void *irq_ctx;
	int gsi_level[PCI_INTX_GSIS];
};

static const struct pci_device_info pci_host_bridge = {
	.name = "pci-host",
	.vendor = PCI_HOST_VENDOR,
	.device = PCI_HOST_DEVICE,
	.class_code = PCI_HOST_CLASS,
};

static uint32_t len_mask(unsigned len)
{
	return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
}

/* --- INTx ------------------------------------------------------------------------------------ */

static unsigned intx_gsi_index(unsigned slot, unsigned pin)
{
	return (slot + pin - 1) % PCI_INTX_GSIS;
}

/* Recompute the wired-OR of every GSI and tell the irqchip about changes. INTx lock held. */
static void intx_update(struct pci_host *h)
{
	int level[PCI_INTX_GSIS] = { 0 };

	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		const struct pci_dev *d = &h->devs[s];

		if (d->present && d->info.irq_pin && d->intx && !d->intx_masked)
			level[intx_gsi_index(s, d->info.irq_pin)] = 1;
	}
	for (unsigned i = 0; i < PCI_INTX_GSIS; i++) {
		if (level[i] == h->gsi_level[i])
			continue;
		h->gsi_level[i] = level[i];
		if (h->irq_set)
			h->irq_set(h->irq_ctx, PCI_INTX_GSI + i, level[i]);
	}
}

/* --- BAR decode ------------------------------------------------------------------------------ */

static struct bus *bar_bus(struct pci_host *h, const struct pci_bar *b)
{
	return b->info.type == PCI_BAR_IO ? h->pio : h->mmio;
}

/* Whether the BAR should be on its bus now: decode enabled and an address that makes sense. */
static int bar_wanted(const struct pci_dev *d, const struct pci_bar *b)
{
	uint64_t limit = b->info.type == PCI_BAR_IO ? PCI_IO_LIMIT : PCI_MEM32_LIMIT;
	uint16_t enable = b->info.type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

	if (b->info.type == PCI_BAR_NONE || !(d->command & enable))
		return 0;
	return b->addr != 0 && (uint64_t)b->addr + b->info.size <= limit;
}

/* Bring one BAR's bus mapping in line with its register and COMMAND. Host lock held. */
static void bar_sync(struct pci_host *h, struct pci_dev *d, struct pci_bar *b)
{
	int want = bar_wanted(d, b);
	int ret;

	if (b->mapped && (!want || b->mapped_at != b->addr)) {
		if (bus_unregister(bar_bus(h, b), b->mapped_at, b->info.opaque))
			pr_debug("pci: %s: BAR at 0x%x was not mapped", d->info.name, b->mapped_at);
		b->mapped = 0;
	}
	if (want && !b->mapped) {
		ret = bus_register(bar_bus(h, b), b->addr, b->info.size, b->info.ops,
				   b->info.opaque, d->info.name);
		if (ret) {
			/* Overlapping another device: real hardware would conflict; we decode
			 * nothing there until the guest moves the BAR somewhere free. */
			pr_guest_debug("pci: %s: BAR at 0x%x (size 0x%x) not mapped: %s",
				       d->info.name, b->addr, b->info.size, strerror(-ret));
			return;
		}
		b->mapped = 1;
		b->mapped_at = b->addr;
	}
}

static void dev_sync_bars(struct pci_host *h, struct pci_dev *d)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		bar_sync(h, d, &d->bars[i]);
}

/*
 * Map every BAR that should decode but is not on its bus: one that lost an overlap comes back
 * once the range it wanted is free (the other BAR moved away or stopped decoding). Call after
 * anything that unmaps or moves a BAR. Host lock held.
 */
static void host_sync_unmapped(struct pci_host *h)
{
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *d = &h->devs[s];

		if (!d->present)
			continue;
		for (unsigned i = 0; i < PCI_NUM_BARS; i++)
			if (!d->bars[i].mapped && bar_wanted(d, &d->bars[i]))
				bar_sync(h, d, &d->bars[i]);
	}
}

static void dev_unmap_bars(struct pci_host *h, struct pci_dev *d)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];

		if (b->mapped)
			bus_unregister(bar_bus(h, b), b->mapped_at, b->info.opaque);
		b->mapped = 0;
	}
}

/* Power-on header: BARs where firmware put them, decode on for what the device has, INTx
 * deasserted (the caller updates the GSIs). Host lock held. */
static void dev_power_on(struct pci_host *h, struct pci_dev *d, unsigned slot)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		d->bars[i].addr = d->bars[i].assigned;
	d->command = d->power_on_command;
	d->irq_line = d->info.irq_pin
			  ? (uint8_t)(PCI_INTX_GSI + intx_gsi_index(slot, d->info.irq_pin))
			  : PCI_NO_IRQ_LINE;
	pthread_mutex_lock(&h->intx_lock);
	d->intx = 0;
	d->intx_masked = !!(d->command & PCI_COMMAND_INTX_DISABLE);
	pthread_mutex_unlock(&h->intx_lock);
}

static int dev_intx(struct pci_host *h, const struct pci_dev *d)
{
	int level;

	pthread_mutex_lock(&h->intx_lock);
	level = d->intx;
	pthread_mutex_unlock(&h->intx_lock);
	return level;
}

/* --- the type-0 header ----------------------------------------------------------------------- */

/* The aligned dword at @reg (< PCI_DEVICE_SPECIFIC) of the standard header. Host lock held. */
static uint32_t hdr_read_dword(struct pci_host *h, const struct pci_dev *d, unsigned reg)
{
	const struct pci_device_info *in = &d->info;
	uint16_t status = dev_intx(h, d) ? PCI_STATUS_INTERRUPT : 0; /* no capability list */

	switch (reg) {
	case PCI_VENDOR_ID:
		return in->vendor | (uint32_t)in->device << 16;
	case PCI_COMMAND:
		return d->command | (uint32_t)status << 16;
	case PCI_REVISION_ID:
		return in->revision | (in->class_code & 0xffffffu) << 8;
	case PCI_SUBSYS_VENDOR:
		return in->subsys_vendor | (uint32_t)in->subsys << 16;
	case PCI_INTERRUPT_LINE:
		return d->irq_line | (uint32_t)in->irq_pin << 8;
	default:
		break;
	}
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 4 * PCI_NUM_BARS) {
		const struct pci_bar *b = &d->bars[(reg - PCI_BAR0) / 4];

		if (b->info.type == PCI_BAR_IO)
			return b->addr | PCI_BAR_IO_SPACE;
		return b->addr; /* MEM32: type bits 0 (32-bit, not prefetchable); NONE: 0 */
	}
	/* Cache line size, latency, header type 0 single-function, BIST, CardBus CIS,
	 * expansion ROM (none: sizing reads back 0), capability pointer: all zero. */
	return 0;
}

/* Write @val (@len bytes at @reg, within one dword) to the standard header. Host lock held. */
static void hdr_write(struct pci_host *h, struct pci_dev *d, unsigned reg, uint32_t val,
		      unsigned len)
{
	unsigned dw = reg & ~3u, shift = 8 * (reg & 3);
	uint32_t lanes = len_mask(len) << shift;
	uint32_t merged = (hdr_read_dword(h, d, dw) & ~lanes) | ((val << shift) & lanes);

	if (dw == PCI_COMMAND) {
		if (!(lanes & 0xffff))
			return; /* STATUS only: read-only here */
		d->command = (uint16_t)(merged & PCI_COMMAND_RW);
		dev_sync_bars(h, d);
		host_sync_unmapped(h);
		pthread_mutex_lock(&h->intx_lock);
		d->intx_masked = !!(d->command & PCI_COMMAND_INTX_DISABLE);
		intx_update(h);
		pthread_mutex_unlock(&h->intx_lock);
	} else if (dw >= PCI_BAR0 && dw < PCI_BAR0 + 4 * PCI_NUM_BARS) {
		struct pci_bar *b = &d->bars[(dw - PCI_BAR0) / 4];

		if (b->info.type == PCI_BAR_NONE)
			return;
		/* Address bits below the size are hardwired 0: all-ones reads back the size. */
		b->addr = merged & ~(b->info.size - 1);
		bar_sync(h, d, b);
		host_sync_unmapped(h);
	} else if (dw == PCI_INTERRUPT_LINE && (lanes & 0xff)) {
		d->irq_line = (uint8_t)merged;
	}
}

/* --- config space ---------------------------------------------------------------------------- */

static struct pci_dev *cfg_dev(struct pci_host *h, unsigned bus, unsigned slot, unsigned fn)
{
	if (bus != 0 || fn != 0 || slot >= PCI_MAX_SLOTS || !h->devs[slot].present)
		return NULL;
	return &h->devs[slot];
}

/* A config read of @len bytes at @reg (aligned to @len) of bus/slot/fn; @reg < 4096. */
static uint32_t cfg_read(void *host, unsigned bus, unsigned slot, unsigned fn, unsigned reg,
			 unsigned len)
{
	struct pci_host *h = host;
	struct pci_dev *d;
	uint32_t v;

	pthread_mutex_lock(&h->lock);
	d = cfg_dev(h, bus, slot, fn);
	if (!d)
		v = 0xffffffffu; /* no device: master abort */
	else if (reg >= PCI_CFG_SPACE)
		v = 0; /* extended config space of a conventional device */
	else if (reg >= PCI_DEVICE_SPECIFIC)
		v = d->info.cfg_read ? d->info.cfg_read(d->info.opaque, reg, len) : 0;
	else
		v = hdr_read_dword(h, d, reg & ~3u) >> (8 * (reg & 3));
	pthread_mutex_unlock(&h->lock);
	return v & len_mask(len);
}

static void cfg_write(void *host, unsigned bus, unsigned slot, unsigned fn, unsigned reg,
		      uint32_t val, unsigned len)
{
	struct pci_host *h = host;
	struct pci_dev *d;

	pthread_mutex_lock(&h->lock);
	d = cfg_dev(h, bus, slot, fn);
	if (d && reg >= PCI_DEVICE_SPECIFIC && reg < PCI_CFG_SPACE) {
		if (d->info.cfg_write)
			d->info.cfg_write(d->info.opaque, reg, val & len_mask(len), len);
	} else if (d && reg < PCI_DEVICE_SPECIFIC) {
		hdr_write(h, d, reg, val & len_mask(len), len);
	}
	pthread_mutex_unlock(&h->lock);
}

/* --- setup ----------------------------------------------------------------------------------- */

/* Natural alignment from the window's next free address; 0 or -ENOSPC. */
static int window_take(uint32_t base, uint32_t len, uint32_t *next, uint32_t size, uint32_t *out)
{
	uint64_t at = ((uint64_t)*next + size - 1) & ~(uint64_t)(size - 1);

	if (at + size > (uint64_t)base + len)
		return -ENOSPC;
	*out = (uint32_t)at;
	*next = (uint32_t)(at + size);
	return 0;
}

static int bar_info_ok(const struct pci_bar_info *b)
{
	uint32_t min = b->type == PCI_BAR_IO ? PCI_BAR_MIN_IO : PCI_BAR_MIN_MEM;

	if (b->type == PCI_BAR_NONE)
		return 1;
	if (b->type != PCI_BAR_IO && b->type != PCI_BAR_MEM32)
		return 0;
	if (!b->ops || b->size < min || (b->size & (b->size - 1)))
		return 0;
	return b->type != PCI_BAR_IO || b->size <= 256; /* PCI: I/O BARs are at most 256 bytes */
}

static int host_put(struct pci_host *h, unsigned slot, const struct pci_device_info *info)
{
	struct pci_dev *d = &h->devs[slot];
	uint32_t io_next = h->io_next, mem_next = h->mem_next;
	int ret = 0;

	memset(d, 0, sizeof(*d));
	d->info = *info;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *b = &d->bars[i];

		b->info = info->bars[i];
		if (!bar_info_ok(&b->info))
			return -EINVAL;
		if (b->info.type == PCI_BAR_IO) {
			ret = window_take(h->io_base, h->io_len, &io_next, b->info.size,
					  &b->assigned);
			d->power_on_command |= PCI_COMMAND_IO;
		} else if (b->info.type == PCI_BAR_MEM32) {
			ret = window_take(h->mem_base, h->mem_len, &mem_next, b->info.size,
					  &b->assigned);
			d->power_on_command |= PCI_COMMAND_MEMORY;
		}
		if (ret)
			return ret;
	}
	dev_power_on(h, d, slot);
	pthread_mutex_lock(&h->intx_lock);
	d->present = 1;
	pthread_mutex_unlock(&h->intx_lock);
	dev_sync_bars(h, d);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		if (d->bars[i].info.type != PCI_BAR_NONE && !d->bars[i].mapped) {
			dev_unmap_bars(h, d);
			pthread_mutex_lock(&h->intx_lock);
			d->present = 0;
			pthread_mutex_unlock(&h->intx_lock);
			return -EEXIST;
		}
	}
	h->io_next = io_next;
	h->mem_next = mem_next;
	return 0;
}

int pci_host_create(struct bus *pio, struct bus *mmio, uint64_t ecam_base, uint32_t io_base,
		    uint32_t io_len, uint32_t mem_base, uint32_t mem_len, struct pci_host **out)
{
	struct pci_config_space space = { cfg_read, cfg_write, NULL };
	struct pci_host *h;
	int ret;

	if (!io_len || !mem_len || (uint64_t)io_base + io_len > PCI_IO_LIMIT ||
	    (uint64_t)mem_base + mem_len > PCI_MEM32_LIMIT)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->intx_lock, NULL);
	h->pio = pio;
	h->mmio = mmio;
	h->io_base = h->io_next = io_base;
	h->io_len = io_len;
	h->mem_base = h->mem_next = mem_base;
	h->mem_len = mem_len;
	ret = host_put(h, 0, &pci_host_bridge); /* no BARs: nothing to undo if it fails */
	if (ret)
		goto err_free;
	space.host = h;
	ret = pci_config_init(&h->cfg, pio, mmio, ecam_base, &space);
	if (ret) {
		pci_host_destroy(h);
		return ret;
	}
	*out = h;
	return 0;

err_free:
	pthread_mutex_destroy(&h->intx_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return ret;
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		if (h->devs[s].present)
			dev_unmap_bars(h, &h->devs[s]);
	pci_config_destroy(&h->cfg);
	pthread_mutex_destroy(&h->intx_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int pci_host_share_port(struct pci_host *h, unsigned port, const struct bus_ops *ops, void *opaque)
{
	return pci_config_share_port(&h->cfg, port, ops, opaque);
}

void pci_host_set_irq(struct pci_host *h, void (*set)(void *ctx, unsigned gsi, int level),
		      void *ctx)
{
	pthread_mutex_lock(&h->intx_lock);
	h->irq_set = set;
	h->irq_ctx = ctx;
	pthread_mutex_unlock(&h->intx_lock);
}

int pci_host_add(struct pci_host *h, const struct pci_device_info *info)
{
	int ret = -ENOSPC;

	if (info->irq_pin > 4)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		if (h->devs[s].present)
			continue;
		ret = host_put(h, s, info);
		if (!ret)
			ret = (int)s;
		break;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void pci_host_set_intx(struct pci_host *h, int slot, int level)
{
	if (slot <= 0 || slot >= PCI_MAX_SLOTS)
		return;
	pthread_mutex_lock(&h->intx_lock);
	if (h->devs[slot].present) {
		h->devs[slot].intx = !!level;
		intx_update(h);
	}
	pthread_mutex_unlock(&h->intx_lock);
}

void pci_host_reset(struct pci_host *h)
{
	pthread_mutex_lock(&h->lock);
	pci_config_reset(&h->cfg);
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		struct pci_dev *d = &h->devs[s];

		if (!d->present)
			continue;
		dev_power_on(h, d, s);
		dev_sync_bars(h, d);
	}
	host_sync_unmapped(h); /* a BAR may have met another's old place before it moved back */
	pthread_mutex_lock(&h->intx_lock);
	intx_update(h);
	pthread_mutex_unlock(&h->intx_lock);
	pthread_mutex_unlock(&h->lock);
}

int pci_host_query(struct pci_host *h, unsigned slot, struct pci_function_state *out)
{
	const struct pci_dev *d;

	if (slot >= PCI_MAX_SLOTS)
		return -ENOENT;
	pthread_mutex_lock(&h->lock);
	d = &h->devs[slot];
	if (!d->present) {
		pthread_mutex_unlock(&h->lock);
		return -ENOENT;
	}
	out->info = d->info;
	out->irq_line = d->irq_line;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		out->bars[i].addr = d->bars[i].addr;
		out->bars[i].mapped = d->bars[i].mapped;
	}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int pci_host_fill_fw(const struct pci_host *h, struct fw_desc *fw)
{
	struct fw_device res = {
		.acpi_name = "PRES",
		.acpi_hid = "PNP0C02", /* motherboard resources: Linux wants the ECAM here */
		.acpi_uid = 0,
		.nres = 1,
		.res = { { FW_RES_MMIO, h->cfg.ecam_base, PCI_ECAM_LEN } },
	};

	fw->pci = (struct fw_pci_host){
		.present = 1,
		.ecam_base = h->cfg.ecam_base,
		.bus_start = 0,
		.bus_end = 0,
		.io_base = (uint16_t)h->io_base,
		.io_len = (uint16_t)h->io_len,
		.mem_base = h->mem_base,
		.mem_len = h->mem_len,
		.gsi_base = PCI_INTX_GSI,
		.aml = pci_host_aml,
	};
	return fw_desc_add(fw, &res);
}
