/* fuzz_pci.c - libFuzzer harness: the PCI host's config space and BARs against a hostile guest. */
/*
 * Bus 0 holds the host bridge, an i6300esb (memory BAR), a pvpanic-pci (memory BAR) and a
 * test function with a memory and an I/O BAR and INTA; a fixed device sits inside each PCI
 * window so BARs can be moved onto it. The input is a sequence of operations: config reads and
 * writes through 0xCF8/0xCFC and through ECAM (any slot, function, register, size; values
 * biased to BAR sizing, window addresses and COMMAND bits), raw accesses on both buses, INTx
 * changes, resets. Invariants after each step, for every function:
 *  - a BAR marked mapped is on its bus at its address with its size and device, and nothing
 *    else of that device is on the bus; a BAR's address is aligned to its size;
 *  - a BAR with decode on, an address in range and nothing else on the bus in its way is
 *    mapped (the guest moved it somewhere free, so it decodes there);
 *  - each INTx GSI is the wired-OR of the functions routed to it that assert and are not
 *    masked by COMMAND's INTx disable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/pvpanic_pci.h"
#include "devices/wdt_i6300esb.h"
#include "core/layout.h"
#include "tests/fuzz/fuzz_input.h"

#define NSLOTS 4 /* host bridge, i6300esb, pvpanic-pci, test function */

static void rec_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	bus_data_set(data, len, off);
}

static void rec_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

static const struct bus_ops rec_ops = { rec_read, rec_write, BUS_SIZE_ANY };
static char rec_mem, rec_io, fixed_mem, fixed_io;

static int gsi_level[24];

static void fake_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	if (gsi >= 24)
		abort();
	gsi_level[gsi] = level;
}

static void fake_post(void *ctx, enum vm_request_kind k, enum shutdown_cause c)
{
	(void)ctx;
	(void)k;
	(void)c;
}

static const struct pci_device_info test_dev = {
	.name = "test",
	.vendor = 0x1234,
	.device = 0x5678,
	.class_code = 0x088000,
	.irq_pin = 1,
	.bars = { [0] = { PCI_BAR_MEM32, 0x1000, &rec_ops, &rec_mem },
		  [2] = { PCI_BAR_IO, 0x20, &rec_ops, &rec_io } },
};

static void fail(const char *why, unsigned slot, unsigned bar, unsigned long long v)
{
	fprintf(stderr, "%s: slot %u BAR %u (0x%llx)\n", why, slot, bar, v);
	abort();
}

static uint32_t cfg_addr(unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* A value worth writing to config space. */
static uint32_t pick_value(struct fuzz_in *in)
{
	uint8_t how = fin_u8(in);

	switch (how % 8) {
	case 0:
		return 0xffffffffu; /* BAR sizing */
	case 1:			    /* somewhere in the memory window, page-aligned */
		return (uint32_t)(PCI_MEM_WINDOW_GPA + (fin_le(in, 2) << 12) % PCI_MEM_WINDOW_LEN);
	case 2: /* somewhere in the I/O window */
		return (uint32_t)(PCI_IO_WINDOW_PORT + (fin_le(in, 2) << 4) % PCI_IO_WINDOW_LEN) |
		       1;
	case 3:
		return fin_u8(in) & 7; /* COMMAND: I/O, memory, bus master */
	case 4:
		return PCI_COMMAND_INTX_DISABLE | (fin_u8(in) & 7);
	default:
		return (uint32_t)fin_le(in, 4);
	}
}

/* COMMAND as the guest would read it (ECAM reads have no side effect). */
static uint16_t command_of(struct bus *mmio, unsigned slot)
{
	uint8_t b[2];

	if (bus_read(mmio, PCI_ECAM_GPA + (slot << 15) + PCI_COMMAND, b, 2) != BUS_OK)
		abort();
	return (uint16_t)bus_data_get(b, 2);
}

/* Ranges on @bus over [base, base + len) other than @opaque's; how many of @opaque's. */
static void ranges_over(struct bus *bus, uint64_t base, uint64_t len, void *opaque, int *others,
			int *own, int *own_exact)
{
	*others = *own = *own_exact = 0;
	for (size_t i = 0; i < bus->n; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (r->opaque == opaque) {
			(*own)++;
			*own_exact += r->base == base && r->len == len;
		} else if (r->base < base + len && base < r->base + r->len) {
			(*others)++;
		}
	}
}

static void check(struct pci_host *host, struct bus *pio, struct bus *mmio)
{
	for (unsigned s = 0; s < NSLOTS; s++) {
		struct pci_function_state st;
		uint16_t cmd = command_of(mmio, s);

		if (pci_host_query(host, s, &st))
			fail("function gone", s, 0, 0);
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar_info *b = &st.info.bars[i];
			uint32_t addr = st.bars[i].addr;
			struct bus *bus = b->type == PCI_BAR_IO ? pio : mmio;
			uint64_t limit = b->type == PCI_BAR_IO ? 0x10000 : 0x100000000ull;
			int decode =
			    cmd & (b->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
			int others, own, exact;

			if (b->type == PCI_BAR_NONE)
				continue;
			if (addr & (b->size - 1))
				fail("BAR address not aligned to its size", s, i, addr);
			ranges_over(bus, addr, b->size, b->opaque, &others, &own, &exact);
			if (st.bars[i].mapped && (own != 1 || exact != 1))
				fail("mapped BAR not on its bus as it says", s, i, addr);
			if (!st.bars[i].mapped && own)
				fail("unmapped BAR still on its bus", s, i, addr);
			if (!st.bars[i].mapped && decode && addr &&
			    addr + (uint64_t)b->size <= limit && !others)
				fail("BAR with decode on and nothing in its way is not mapped", s,
				     i, addr);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct request_sink sink = { fake_post, NULL };
	struct pci_device_info esb_info, pvp_info;
	struct timer_clock clock;
	struct wdt_i6300esb esb;
	struct pvpanic pvp;
	struct pci_host *host;
	struct bus pio, mmio;
	int intx[NSLOTS] = { 0 };
	unsigned steps = 0;

	memset(gsi_level, 0, sizeof(gsi_level));
	timer_clock_init(&clock, NULL, 1);
	pvpanic_init(&pvp, PVPANIC_EVENTS_ALL, &sink);
	if (bus_init(&pio, "pio") || bus_init(&mmio, "mmio") ||
	    wdt_i6300esb_init(&esb, &clock, &sink) ||
	    pci_host_create(&pio, &mmio, PCI_ECAM_GPA, PCI_IO_WINDOW_PORT, PCI_IO_WINDOW_LEN,
			    PCI_MEM_WINDOW_GPA, PCI_MEM_WINDOW_LEN, &host))
		abort();
	pci_host_set_irq(host, fake_irq, NULL);
	wdt_i6300esb_pci_info(&esb, &esb_info);
	pvpanic_pci_info(&pvp_info, &pvp);
	if (pci_host_add(host, &esb_info) != 1 || pci_host_add(host, &pvp_info) != 2 ||
	    pci_host_add(host, &test_dev) != 3 ||
	    bus_register(&mmio, PCI_MEM_WINDOW_GPA + 0x100000, 0x1000, &rec_ops, &fixed_mem,
			 "fixed") ||
	    bus_register(&pio, PCI_IO_WINDOW_PORT + 0x100, 0x10, &rec_ops, &fixed_io, "fixed"))
		abort();
	check(host, &pio, &mmio);

	while (in.n && steps++ < 1024) {
		uint8_t op = fin_u8(&in), sel = fin_u8(&in), buf[8];
		unsigned slot = sel & 0x80 ? (sel >> 2) & 31 : (sel >> 2) % NSLOTS;
		unsigned fn = sel & 0x40 ? fin_u8(&in) & 7 : 0;
		unsigned reg = fin_u8(&in), len = 1u << (fin_u8(&in) % 3);

		switch (op % 8) {
		case 0: /* config write through 0xCF8/0xCFC */
		case 1: /* config read */
			bus_data_set(buf, 4, cfg_addr(slot, fn, reg));
			bus_write(&pio, PCI_CONFIG_ADDR_PORT, buf, 4);
			reg = (reg & 3 & ~(len - 1));
			if (op % 8 == 0) {
				bus_data_set(buf, len, pick_value(&in));
				bus_write(&pio, PCI_CONFIG_DATA_PORT + reg, buf, len);
			} else {
				bus_read(&pio, PCI_CONFIG_DATA_PORT + reg, buf, len);
			}
			break;
		case 2: /* config write through ECAM */
		case 3: {
			uint64_t a = PCI_ECAM_GPA + (slot << 15 | fn << 12 | (reg & ~(len - 1)));

			if (op % 8 == 2) {
				bus_data_set(buf, len, pick_value(&in));
				bus_write(&mmio, a, buf, len);
			} else {
				bus_read(&mmio, a, buf, len);
			}
			break;
		}
		case 4: { /* the guest touches either window, or the config ports, raw */
			int io = sel & 1;
			uint64_t a =
			    io ? (reg & 0x10 ? PCI_CONFIG_ADDR_PORT + (reg & 7)
					     : PCI_IO_WINDOW_PORT + fin_le(&in, 2) % 0x4000)
			       : PCI_MEM_WINDOW_GPA + fin_le(&in, 4) % PCI_MEM_WINDOW_LEN;

			len = 1u << (reg % 4);
			bus_data_set(buf, len, fin_le(&in, len));
			if (op & 8)
				bus_write(io ? &pio : &mmio, a, buf, len);
			else
				bus_read(io ? &pio : &mmio, a, buf, len);
			break;
		}
		case 5: /* a device raises or drops INTx */
			intx[slot % NSLOTS] = reg & 1;
			pci_host_set_intx(host, (int)(slot % NSLOTS), reg & 1);
			break;
		case 6:
			if (reg == 0xff) {
				pci_host_reset(host);
				wdt_i6300esb_reset(&esb);
				memset(intx, 0, sizeof(intx)); /* the functions reset too */
			}
			break;
		case 7: /* CONFIG_ADDRESS written raw (enable bit off, odd registers, bus 1) */
			bus_data_set(buf, 4, fin_le(&in, 4));
			bus_write(&pio, PCI_CONFIG_ADDR_PORT, buf, 4);
			break;
		}
		check(host, &pio, &mmio);
		/* INTx: the test function (slot 3, INTA) alone can assert; GSI (3 + 1 - 1) % 4. */
		{
			int masked = !!(command_of(&mmio, 3) & PCI_COMMAND_INTX_DISABLE);

			if (gsi_level[PCI_INTX_GSI + 3] != (intx[3] && !masked))
				fail("INTx GSI is not the wired-OR", 3, 0, (unsigned)intx[3]);
		}
	}
	bus_unregister(&mmio, PCI_MEM_WINDOW_GPA + 0x100000, &fixed_mem);
	bus_unregister(&pio, PCI_IO_WINDOW_PORT + 0x100, &fixed_io);
	pci_host_destroy(host);
	if (pio.n || mmio.n)
		fail("ranges left on the buses after the host went", 0, 0, pio.n + mmio.n);
	wdt_i6300esb_destroy(&esb);
	timer_clock_destroy(&clock);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	return 0;
}
