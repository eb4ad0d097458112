/* test_pci.c - the PCI host through the buses a guest uses: 0xCF8/0xCFC and ECAM, the header,
 * BAR sizing and decode, INTx routing, reset, and the reset register sharing 0xCF8-0xCFB. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/reset_cf9.h"
#include "core/layout.h"
#include "tests/unit/unit.h"

/* A BAR device that records what reaches it. */
struct rec {
	int reads, writes;
	uint64_t last_off;
	uint64_t last_val;
};

static void rec_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct rec *r = opaque;

	r->reads++;
	r->last_off = off;
	bus_data_set(data, len, 0xa5);
}

static void rec_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct rec *r = opaque;

	r->writes++;
	r->last_off = off;
	r->last_val = bus_data_get(data, len);
}

static const struct bus_ops rec_ops = { rec_read, rec_write, BUS_SIZE_1 | BUS_SIZE_4 };

static struct bus pio, mmio;
static struct pci_host *host;
static struct rec mem_rec, io_rec;
static int gsi_level[24];
static int reqs[VM_REQ__MAX];

static void fake_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	ck_assert_uint_lt(gsi, 24);
	gsi_level[gsi] = level;
}

static void fake_post(void *ctx, enum vm_request_kind k, enum shutdown_cause c)
{
	(void)ctx;
	(void)c;
	reqs[k]++;
}

/* slot 1: one 4 KiB memory BAR and a 32-byte I/O BAR (BAR2), INTA. */
static const struct pci_device_info test_dev = {
	.name = "test",
	.vendor = 0x1234,
	.device = 0x5678,
	.revision = 3,
	.class_code = 0x088000,
	.subsys_vendor = 0x1af4,
	.subsys = 0x1100,
	.irq_pin = 1,
	.bars = { [0] = { PCI_BAR_MEM32, 0x1000, &rec_ops, &mem_rec },
		  [2] = { PCI_BAR_IO, 0x20, &rec_ops, &io_rec } },
};

static void setup(void)
{
	memset(&mem_rec, 0, sizeof(mem_rec));
	memset(&io_rec, 0, sizeof(io_rec));
	memset(gsi_level, 0, sizeof(gsi_level));
	ck_assert_int_eq(bus_init(&pio, "pio"), 0);
	ck_assert_int_eq(bus_init(&mmio, "mmio"), 0);
	ck_assert_int_eq(pci_host_create(&pio, &mmio, PCI_ECAM_GPA, PCI_IO_WINDOW_PORT,
					 PCI_IO_WINDOW_LEN, PCI_MEM_WINDOW_GPA, PCI_MEM_WINDOW_LEN,
					 &host),
			 0);
	pci_host_set_irq(host, fake_irq, NULL);
	ck_assert_int_eq(pci_host_add(host, &test_dev), 1);
}

static void teardown(void)
{
	pci_host_destroy(host);
	ck_assert_uint_eq(pio.n, 0); /* every range the host claimed is gone */
	ck_assert_uint_eq(mmio.n, 0);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static uint32_t addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* Config access through mechanism #1. */
static uint32_t cf8_read(unsigned bus, unsigned slot, unsigned fn, unsigned reg, unsigned len)
{
	uint8_t b[4];

	bus_data_set(b, 4, addr(bus, slot, fn, reg));
	ck_assert_int_eq(bus_write(&pio, 0xcf8, b, 4), BUS_OK);
	ck_assert_int_eq(bus_read(&pio, 0xcfc + (reg & 3), b, len), BUS_OK);
	return (uint32_t)bus_data_get(b, len);
}

static void cf8_write(unsigned bus, unsigned slot, unsigned fn, unsigned reg, uint32_t v,
		      unsigned len)
{
	uint8_t b[4];

	bus_data_set(b, 4, addr(bus, slot, fn, reg));
	ck_assert_int_eq(bus_write(&pio, 0xcf8, b, 4), BUS_OK);
	bus_data_set(b, len, v);
	ck_assert_int_eq(bus_write(&pio, 0xcfc + (reg & 3), b, len), BUS_OK);
}

/* Config access through ECAM. */
static uint32_t ecam_read(unsigned slot, unsigned fn, unsigned reg, unsigned len)
{
	uint8_t b[4];

	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (slot << 15 | fn << 12 | reg), b, len),
			 BUS_OK);
	return (uint32_t)bus_data_get(b, len);
}

static void ecam_write(unsigned slot, unsigned fn, unsigned reg, uint32_t v, unsigned len)
{
	uint8_t b[4];

	bus_data_set(b, len, v);
	ck_assert_int_eq(bus_write(&mmio, PCI_ECAM_GPA + (slot << 15 | fn << 12 | reg), b, len),
			 BUS_OK);
}

START_TEST(test_ids_both_mechanisms)
{
	/* Host bridge, as QEMU's gpex. */
	ck_assert_uint_eq(cf8_read(0, 0, 0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(ecam_read(0, 0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(cf8_read(0, 0, 0, 0x08, 4) >> 8, 0x060000);
	ck_assert_uint_eq(ecam_read(0, 0, 0x0e, 1), 0); /* header type 0, single function */
	/* The device: ids by dword, word and byte, both ways. */
	ck_assert_uint_eq(cf8_read(0, 1, 0, 0, 4), 0x56781234);
	ck_assert_uint_eq(cf8_read(0, 1, 0, 2, 2), 0x5678);
	ck_assert_uint_eq(cf8_read(0, 1, 0, 3, 1), 0x56);
	ck_assert_uint_eq(ecam_read(1, 0, 2, 2), 0x5678);
	ck_assert_uint_eq(ecam_read(1, 0, 8, 4), 0x08800003);
	ck_assert_uint_eq(ecam_read(1, 0, 0x2c, 4), 0x11001af4);
	ck_assert_uint_eq(ecam_read(1, 0, 0x3d, 1), 1);			   /* INTA */
	ck_assert_uint_eq(ecam_read(1, 0, 0x3c, 1), 16 + (1 + 1 - 1) % 4); /* swizzled GSI 17 */
	ck_assert_uint_eq(ecam_read(1, 0, 0x06, 2), 0); /* status: no capability list */
	ck_assert_uint_eq(ecam_read(1, 0, 0x34, 1), 0);
	/* CONFIG_ADDRESS reads back what was written, reserved bits clear. */
	{
		uint8_t b[4];

		bus_data_set(b, 4, 0xffffffff);
		ck_assert_int_eq(bus_write(&pio, 0xcf8, b, 4), BUS_OK);
		ck_assert_int_eq(bus_read(&pio, 0xcf8, b, 4), BUS_OK);
		ck_assert_uint_eq(bus_data_get(b, 4), 0x80fffffc);
	}
}
END_TEST

START_TEST(test_empty_slots_functions_buses)
{
	ck_assert_uint_eq(cf8_read(0, 2, 0, 0, 4), 0xffffffff);
	ck_assert_uint_eq(cf8_read(0, 31, 0, 0, 2), 0xffff);
	ck_assert_uint_eq(cf8_read(0, 1, 1, 0, 4), 0xffffffff); /* function 1 */
	ck_assert_uint_eq(cf8_read(1, 1, 0, 0, 4), 0xffffffff); /* bus 1 */
	ck_assert_uint_eq(ecam_read(2, 0, 0, 4), 0xffffffff);
	ck_assert_uint_eq(ecam_read(1, 7, 0, 4), 0xffffffff);
	ck_assert_uint_eq(ecam_read(0, 3, 0x100, 4), 0xffffffff);
	/* Writes there change nothing. */
	cf8_write(0, 2, 0, 0x04, 0xffff, 2);
	ecam_write(1, 1, 0x04, 0xffff, 2);
	ck_assert_uint_eq(ecam_read(2, 0, 0x04, 4), 0xffffffff);
	ck_assert_uint_eq(ecam_read(1, 0, 0x04, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	/* CONFIG_DATA with the enable bit clear: all-ones, writes dropped. */
	{
		uint8_t b[4] = { 0 };

		bus_data_set(b, 4, addr(0, 1, 0, 0) & ~0x80000000u);
		ck_assert_int_eq(bus_write(&pio, 0xcf8, b, 4), BUS_OK);
		ck_assert_int_eq(bus_read(&pio, 0xcfc, b, 4), BUS_OK);
		ck_assert_uint_eq(bus_data_get(b, 4), 0xffffffff);
	}
}
END_TEST

START_TEST(test_read_only_fields)
{
	ecam_write(1, 0, 0x00, 0xdeadbeef, 4);
	ecam_write(1, 0, 0x08, 0xffffffff, 4);
	ecam_write(1, 0, 0x2c, 0, 4);
	ecam_write(1, 0, 0x3d, 4, 1);	     /* pin */
	cf8_write(0, 1, 0, 0x06, 0xffff, 2); /* status */
	ck_assert_uint_eq(ecam_read(1, 0, 0, 4), 0x56781234);
	ck_assert_uint_eq(ecam_read(1, 0, 8, 4), 0x08800003);
	ck_assert_uint_eq(ecam_read(1, 0, 0x2c, 4), 0x11001af4);
	ck_assert_uint_eq(ecam_read(1, 0, 0x3d, 1), 1);
	ck_assert_uint_eq(ecam_read(1, 0, 0x06, 2), 0);
	/* COMMAND: only IO, MEM, BUSMASTER and INTX_DISABLE stick. */
	ecam_write(1, 0, 0x04, 0xffff, 2);
	ck_assert_uint_eq(ecam_read(1, 0, 0x04, 2), 0x0407);
	/* The interrupt line is writable. */
	cf8_write(0, 1, 0, 0x3c, 0x0b, 1);
	ck_assert_uint_eq(cf8_read(0, 1, 0, 0x3c, 1), 0x0b);
	/* Expansion ROM: none, sizing reads back 0. Beyond 256 (ECAM): zero, writes dropped. */
	ecam_write(1, 0, 0x30, 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(1, 0, 0x30, 4), 0);
	ecam_write(1, 0, 0x100, 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(1, 0, 0x100, 4), 0);
	ck_assert_uint_eq(ecam_read(1, 0, 0xffc, 4), 0);
	ck_assert_uint_eq(ecam_read(1, 0, 0x40, 4), 0); /* no device-specific registers */
}
END_TEST

START_TEST(test_bar_sizing_and_assignment)
{
	uint32_t mem = ecam_read(1, 0, 0x10, 4), io = ecam_read(1, 0, 0x18, 4);

	/* Pre-assigned from the windows, naturally aligned; unused BARs read 0. */
	ck_assert_uint_eq(mem, PCI_MEM_WINDOW_GPA);
	ck_assert_uint_eq(io, PCI_IO_WINDOW_PORT | 1);
	ck_assert_uint_eq(ecam_read(1, 0, 0x14, 4), 0);
	ck_assert_uint_eq(ecam_read(1, 0, 0x24, 4), 0);
	/* Sizing (decode off, as Linux does): all-ones reads back the size mask and type. */
	ecam_write(1, 0, 0x04, 0, 2);
	ecam_write(1, 0, 0x10, 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(1, 0, 0x10, 4), 0xfffff000);
	cf8_write(0, 1, 0, 0x18, 0xffffffff, 4);
	ck_assert_uint_eq(cf8_read(0, 1, 0, 0x18, 4), 0xffffffe1);
	ecam_write(1, 0, 0x14, 0xffffffff, 4); /* unimplemented BAR stays 0 */
	ck_assert_uint_eq(ecam_read(1, 0, 0x14, 4), 0);
	/* Restored; low bits ignored. */
	ecam_write(1, 0, 0x10, mem | 0xfff, 4);
	ecam_write(1, 0, 0x18, io | 0x1f, 4);
	ck_assert_uint_eq(ecam_read(1, 0, 0x10, 4), mem);
	ck_assert_uint_eq(ecam_read(1, 0, 0x18, 4), io);
	/* Byte-wise BAR writes merge into the register. */
	ecam_write(1, 0, 0x13, 0xd0, 1);
	ck_assert_uint_eq(ecam_read(1, 0, 0x10, 4), 0xd0000000);
	/* A second device gets the next aligned addresses; a device with a bad BAR is refused. */
	{
		struct pci_device_info d2 = test_dev, bad = test_dev;

		ck_assert_int_eq(pci_host_add(host, &d2), 2);
		ck_assert_uint_eq(ecam_read(2, 0, 0x10, 4), PCI_MEM_WINDOW_GPA + 0x1000);
		ck_assert_uint_eq(ecam_read(2, 0, 0x18, 4), (PCI_IO_WINDOW_PORT + 0x20) | 1);
		ck_assert_uint_eq(ecam_read(2, 0, 0x3c, 1), 16 + (2 + 1 - 1) % 4);
		bad.bars[0].size = 0x1800;
		ck_assert_int_eq(pci_host_add(host, &bad), -EINVAL);
		ck_assert_uint_eq(ecam_read(3, 0, 0, 4), 0xffffffff);
	}
}
END_TEST

START_TEST(test_decode_on_off)
{
	uint8_t b[4];

	/* Power-on: decode enabled, both BARs answer at their assigned addresses. */
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA + 0x10, b, 1), BUS_OK);
	ck_assert_int_eq(mem_rec.reads, 1);
	ck_assert_uint_eq(mem_rec.last_off, 0x10);
	ck_assert_int_eq(bus_write(&pio, PCI_IO_WINDOW_PORT + 4, "\x07", 1), BUS_OK);
	ck_assert_int_eq(io_rec.writes, 1);
	ck_assert_uint_eq(io_rec.last_off, 4);
	/* MEM off: the memory BAR is gone, the I/O BAR stays. */
	ecam_write(1, 0, 0x04, PCI_COMMAND_IO, 2);
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA, b, 1), BUS_UNMAPPED);
	ck_assert_int_eq(bus_read(&pio, PCI_IO_WINDOW_PORT, b, 1), BUS_OK);
	/* A BAR moved while decode is off takes effect when it comes back on. */
	ecam_write(1, 0, 0x10, 0xc0100000, 4);
	ck_assert_int_eq(bus_read(&mmio, 0xc0100000, b, 1), BUS_UNMAPPED);
	ecam_write(1, 0, 0x04, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	ck_assert_int_eq(bus_read(&mmio, 0xc0100000, b, 1), BUS_OK);
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA, b, 1), BUS_UNMAPPED);
	/* Moved while decode is on: re-mapped at once. */
	ecam_write(1, 0, 0x10, 0xc0200000, 4);
	ck_assert_int_eq(bus_read(&mmio, 0xc0100000, b, 1), BUS_UNMAPPED);
	ck_assert_int_eq(bus_read(&mmio, 0xc0200fff, b, 1), BUS_OK);
	ck_assert_uint_eq(mem_rec.last_off, 0xfff);
	/* IO off. */
	ecam_write(1, 0, 0x04, PCI_COMMAND_MEMORY, 2);
	ck_assert_int_eq(bus_read(&pio, PCI_IO_WINDOW_PORT, b, 1), BUS_UNMAPPED);
	/* A BAR at 0 or over another device's range is not decoded, and nothing breaks. */
	ecam_write(1, 0, 0x10, 0, 4);
	ck_assert_uint_eq(mmio.n, 1); /* only the ECAM */
	ecam_write(1, 0, 0x10, PCI_ECAM_GPA, 4);
	ck_assert_uint_eq(mmio.n, 1);
	ck_assert_uint_eq(ecam_read(1, 0, 0x10, 4), PCI_ECAM_GPA); /* the register holds it */
	ecam_write(1, 0, 0x10, 0xc0000000, 4);
	ck_assert_uint_eq(mmio.n, 2);
}
END_TEST

/* A second device with one 4 KiB memory BAR, to collide with test_dev's. */
static struct rec other_rec;
static const struct pci_device_info other_dev = {
	.name = "other",
	.vendor = 0x1234,
	.device = 0x0002,
	.class_code = 0x088000,
	.bars = { [0] = { PCI_BAR_MEM32, 0x1000, &rec_ops, &other_rec } },
};

START_TEST(test_bar_mapped_once_overlap_ends)
{
	uint8_t b[4];
	uint32_t mine = PCI_MEM_WINDOW_GPA, theirs;

	memset(&other_rec, 0, sizeof(other_rec));
	ck_assert_int_eq(pci_host_add(host, &other_dev), 2);
	theirs = ecam_read(2, 0, 0x10, 4);
	ck_assert_uint_ne(theirs, mine);
	/* The other device's BAR moved onto test_dev's: it loses, test_dev keeps the range. */
	ecam_write(2, 0, 0x10, mine, 4);
	ck_assert_int_eq(bus_read(&mmio, mine, b, 1), BUS_OK);
	ck_assert_int_eq(mem_rec.reads, 1);
	ck_assert_int_eq(other_rec.reads, 0);
	/* test_dev's BAR moves away: the range is free and the waiting BAR decodes there. */
	ecam_write(1, 0, 0x10, 0xc0100000, 4);
	ck_assert_int_eq(bus_read(&mmio, mine + 8, b, 1), BUS_OK);
	ck_assert_int_eq(other_rec.reads, 1);
	ck_assert_uint_eq(other_rec.last_off, 8);
	ck_assert_int_eq(bus_read(&mmio, 0xc0100000, b, 1), BUS_OK);
	ck_assert_int_eq(mem_rec.reads, 2);
	/* Same when the winner stops decoding instead of moving. */
	ecam_write(1, 0, 0x10, theirs, 4);
	ecam_write(2, 0, 0x10, theirs, 4); /* taken: loses again */
	ck_assert_int_eq(bus_read(&mmio, theirs, b, 1), BUS_OK);
	ck_assert_int_eq(mem_rec.reads, 3);
	ecam_write(1, 0, 0x04, PCI_COMMAND_IO, 2);
	ck_assert_int_eq(bus_read(&mmio, theirs, b, 1), BUS_OK);
	ck_assert_int_eq(other_rec.reads, 2);
	/* Reset puts both back where firmware assigned them, both decoded. */
	pci_host_reset(host);
	ck_assert_int_eq(bus_read(&mmio, mine, b, 1), BUS_OK);
	ck_assert_int_eq(mem_rec.reads, 4);
	ck_assert_int_eq(bus_read(&mmio, theirs, b, 1), BUS_OK);
	ck_assert_int_eq(other_rec.reads, 3);
}
END_TEST

/* What a monitor reads (query-pci): identity and BARs as the header shows them, "mapped" only
 * while decoded; empty slots are absent. */
START_TEST(test_query_for_monitor)
{
	struct pci_function_state st;

	ck_assert_int_eq(pci_host_query(host, 0, &st), 0);
	ck_assert_uint_eq(st.info.vendor, PCI_HOST_VENDOR);
	ck_assert_uint_eq(st.info.class_code, PCI_HOST_CLASS);
	ck_assert_int_eq(pci_host_query(host, 2, &st), -ENOENT);
	ck_assert_int_eq(pci_host_query(host, PCI_MAX_SLOTS, &st), -ENOENT);
	ck_assert_int_eq(pci_host_query(host, 1, &st), 0);
	ck_assert_uint_eq(st.info.device, 0x5678);
	ck_assert_uint_eq(st.info.irq_pin, 1);
	ck_assert_uint_eq(st.irq_line, cf8_read(0, 1, 0, 0x3c, 1));
	ck_assert_uint_eq(st.bars[0].addr, PCI_MEM_WINDOW_GPA);
	ck_assert_int_eq(st.bars[0].mapped, 1);
	ck_assert_int_eq(st.bars[2].mapped, 1);
	ck_assert_int_eq(st.bars[1].mapped, 0);
	ecam_write(1, 0, 0x04, PCI_COMMAND_IO, 2); /* memory decode off */
	ecam_write(1, 0, 0x3c, 0x0b, 1);
	ck_assert_int_eq(pci_host_query(host, 1, &st), 0);
	ck_assert_int_eq(st.bars[0].mapped, 0);
	ck_assert_int_eq(st.bars[2].mapped, 1);
	ck_assert_uint_eq(st.irq_line, 0x0b);
}
END_TEST

/* The I/O BAR moved by a CONFIG_DATA write: a range added and removed on the PIO bus from
 * inside a PIO bus callback. Deadlocks (and times out) if callbacks held the bus lock. */
START_TEST(test_remap_from_inside_a_callback)
{
	uint8_t b[4];

	cf8_write(0, 1, 0, 0x18, 0xd000, 4);
	ck_assert_int_eq(bus_read(&pio, PCI_IO_WINDOW_PORT, b, 1), BUS_UNMAPPED);
	ck_assert_int_eq(bus_read(&pio, 0xd01f, b, 1), BUS_OK);
	ck_assert_uint_eq(io_rec.last_off, 0x1f);
	cf8_write(0, 1, 0, 0x04, 0, 2);
	ck_assert_int_eq(bus_read(&pio, 0xd000, b, 1), BUS_UNMAPPED);
	cf8_write(0, 1, 0, 0x04, PCI_COMMAND_IO, 2);
	ck_assert_int_eq(bus_read(&pio, 0xd000, b, 1), BUS_OK);
	/* And the memory BAR through ECAM on the MMIO bus. */
	ecam_write(1, 0, 0x10, 0xc8000000, 4);
	ecam_write(1, 0, 0x04, PCI_COMMAND_MEMORY, 2);
	ck_assert_int_eq(bus_read(&mmio, 0xc8000000, b, 1), BUS_OK);
}
END_TEST

START_TEST(test_misaligned_and_odd_accesses)
{
	uint8_t b[8];

	/* ECAM: misaligned reads are all-ones, misaligned writes dropped; 8 bytes refused. */
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15) + 1, b, 2), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 2), 0xffff);
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15) + 2, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0xffffffff);
	bus_data_set(b, 4, 0);
	ck_assert_int_eq(bus_write(&mmio, PCI_ECAM_GPA + (1 << 15) + 0x12, b, 4), BUS_OK);
	ck_assert_uint_eq(ecam_read(1, 0, 0x10, 4), PCI_MEM_WINDOW_GPA);
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA, b, 8), BUS_BAD_SIZE);
	/* CONFIG_DATA: a word at 0xCFD is misaligned, a dword at 0xCFD crosses the range. */
	bus_data_set(b, 4, addr(0, 1, 0, 0));
	ck_assert_int_eq(bus_write(&pio, 0xcf8, b, 4), BUS_OK);
	ck_assert_int_eq(bus_read(&pio, 0xcfd, b, 2), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 2), 0xffff);
	ck_assert_int_eq(bus_read(&pio, 0xcfd, b, 4), BUS_UNMAPPED);
	ck_assert_int_eq(bus_read(&pio, 0xcfe, b, 2), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 2), 0x5678);
	/* CONFIG_ADDRESS is a dword at 0xCF8 only: a word there does not change it. */
	bus_data_set(b, 2, 0);
	ck_assert_int_eq(bus_write(&pio, 0xcf8, b, 2), BUS_OK);
	ck_assert_int_eq(bus_read(&pio, 0xcf8, b, 2), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 2), 0xffff);
	ck_assert_uint_eq(cf8_read(0, 1, 0, 0, 4), 0x56781234);
	/* Junk everywhere in every header survives. */
	for (unsigned reg = 0; reg < 0x100; reg += 4)
		ecam_write(0, 0, reg, 0xffffffff, 4);
	for (unsigned reg = 0; reg < 0x100; reg++)
		ecam_write(1, 0, reg, 0xff, 1);
	ck_assert_uint_eq(ecam_read(0, 0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(ecam_read(1, 0, 0, 4), 0x56781234);
}
END_TEST

START_TEST(test_cf9_still_resets)
{
	struct request_sink sink = { fake_post, NULL };
	struct reset_cf9 rc;
	uint8_t b[4];

	memset(reqs, 0, sizeof(reqs));
	reset_cf9_init(&rc, &sink);
	/* 0xCF9 lies inside the host's 0xCF8-0xCFB: the bus refuses a second claim. */
	ck_assert_int_eq(bus_register(&pio, RESET_CF9_PORT, 1, &reset_cf9_bus_ops, &rc, "cf9"),
			 -EEXIST);
	ck_assert_int_eq(pci_host_share_port(host, RESET_CF9_PORT, &reset_cf9_bus_ops, &rc), 0);
	ck_assert_int_eq(pci_host_share_port(host, RESET_CF9_PORT, &reset_cf9_bus_ops, &rc),
			 -EEXIST);
	ck_assert_int_eq(pci_host_share_port(host, 0xcfc, &reset_cf9_bus_ops, &rc), -EINVAL);
	/* Linux's reboot=p: 0x02 then 0x06 to 0xCF9, with CONFIG_ADDRESS set around it. */
	cf8_read(0, 1, 0, 0, 4);
	ck_assert_int_eq(bus_write(&pio, 0xcf9, "\x02", 1), BUS_OK);
	ck_assert_int_eq(bus_read(&pio, 0xcf9, b, 1), BUS_OK);
	ck_assert_uint_eq(b[0], 0x02);
	ck_assert_int_eq(reqs[VM_REQ_RESET], 0);
	ck_assert_int_eq(bus_write(&pio, 0xcf9, "\x06", 1), BUS_OK);
	ck_assert_int_eq(reqs[VM_REQ_RESET], 1);
	/* CONFIG_ADDRESS is untouched by the byte accesses. */
	ck_assert_int_eq(bus_read(&pio, 0xcf8, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), addr(0, 1, 0, 0));
	/* The other bytes of the range are nobody's. */
	ck_assert_int_eq(bus_read(&pio, 0xcfb, b, 1), BUS_OK);
	ck_assert_uint_eq(b[0], 0xff);
}
END_TEST

START_TEST(test_intx)
{
	/* Slot 1 INTA -> GSI 16 + (1 + 1 - 1) % 4 = 17. */
	pci_host_set_intx(host, 1, 1);
	ck_assert_int_eq(gsi_level[17], 1);
	ck_assert_uint_eq(ecam_read(1, 0, 0x06, 2), PCI_STATUS_INTERRUPT);
	/* INTX_DISABLE masks the line, the status bit still shows the device's pin. */
	ecam_write(1, 0, 0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE, 2);
	ck_assert_int_eq(gsi_level[17], 0);
	ck_assert_uint_eq(ecam_read(1, 0, 0x06, 2), PCI_STATUS_INTERRUPT);
	ecam_write(1, 0, 0x04, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	ck_assert_int_eq(gsi_level[17], 1);
	pci_host_set_intx(host, 1, 0);
	ck_assert_int_eq(gsi_level[17], 0);
	pci_host_set_intx(host, 7, 1); /* empty slot: nothing */
	pci_host_set_intx(host, 99, 1);
	for (unsigned g = 0; g < 24; g++)
		ck_assert_int_eq(gsi_level[g], 0);
}
END_TEST

/* A device that raises INTx from its own config hook, as a device may from any context. */
static uint32_t hook_cfg_read(void *opaque, unsigned off, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)len;
	return 0;
}

static void hook_cfg_write(void *opaque, unsigned off, uint32_t val, unsigned len)
{
	(void)off;
	(void)len;
	pci_host_set_intx(host, *(int *)opaque, (int)val);
}

START_TEST(test_intx_from_cfg_hook)
{
	static int slot;
	struct pci_device_info info = test_dev;

	info.name = "hook";
	info.bars[0].type = info.bars[2].type = PCI_BAR_NONE;
	info.cfg_read = hook_cfg_read;
	info.cfg_write = hook_cfg_write;
	info.opaque = &slot;
	slot = pci_host_add(host, &info);
	ck_assert_int_eq(slot, 2);
	/* Slot 2 INTA -> GSI 16 + (2 + 1 - 1) % 4 = 18; the host lock is held around the hook,
	 * so this would hang if pci_host_set_intx took it. */
	ecam_write(2, 0, 0x40, 1, 1);
	ck_assert_int_eq(gsi_level[18], 1);
	ck_assert_uint_eq(ecam_read(2, 0, 0x06, 2), PCI_STATUS_INTERRUPT);
	ecam_write(2, 0, 0x40, 0, 1);
	ck_assert_int_eq(gsi_level[18], 0);
}
END_TEST

START_TEST(test_reset_restores_power_on)
{
	uint8_t b[4];

	ecam_write(1, 0, 0x04, PCI_COMMAND_MASTER, 2);
	ecam_write(1, 0, 0x10, 0xc4000000, 4);
	ecam_write(1, 0, 0x18, 0xe000, 4);
	ecam_write(1, 0, 0x3c, 5, 1);
	pci_host_set_intx(host, 1, 1);
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA, b, 1), BUS_UNMAPPED);
	pci_host_reset(host);
	ck_assert_uint_eq(ecam_read(1, 0, 0x04, 2), PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(ecam_read(1, 0, 0x10, 4), PCI_MEM_WINDOW_GPA);
	ck_assert_uint_eq(ecam_read(1, 0, 0x18, 4), PCI_IO_WINDOW_PORT | 1);
	ck_assert_uint_eq(ecam_read(1, 0, 0x3c, 1), 17);
	ck_assert_uint_eq(ecam_read(1, 0, 0x06, 2), 0);
	ck_assert_int_eq(gsi_level[17], 0);
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA, b, 1), BUS_OK);
	ck_assert_int_eq(bus_read(&pio, PCI_IO_WINDOW_PORT, b, 1), BUS_OK);
	ck_assert_int_eq(bus_read(&pio, 0xe000, b, 1), BUS_UNMAPPED);
	ck_assert_uint_eq(mmio.n, 2);
	ck_assert_uint_eq(pio.n, 3);
	/* CONFIG_ADDRESS is back to 0: CONFIG_DATA reads all-ones until it is set. */
	ck_assert_int_eq(bus_read(&pio, 0xcfc, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0xffffffff);
}
END_TEST

START_TEST(test_create_and_fill_fw)
{
	struct fw_desc fw;
	struct pci_host *h2;

	/* A second host cannot claim the same ports. */
	ck_assert_int_eq(
	    pci_host_create(&pio, &mmio, 0xe0100000, 0xc000, 0x100, 0xd0000000, 0x1000, &h2),
	    -EEXIST);
	ck_assert_int_eq(
	    pci_host_create(&pio, &mmio, 0xe0100000, 0xf000, 0x2000, 0xd0000000, 0x1000, &h2),
	    -EINVAL); /* I/O window beyond 64 KiB */
	memset(&fw, 0, sizeof(fw));
	ck_assert_int_eq(pci_host_fill_fw(host, &fw), 0);
	ck_assert(fw.pci.present);
	ck_assert_uint_eq(fw.pci.ecam_base, PCI_ECAM_GPA);
	ck_assert_uint_eq(fw.pci.io_base, PCI_IO_WINDOW_PORT);
	ck_assert_uint_eq(fw.pci.io_len, PCI_IO_WINDOW_LEN);
	ck_assert_uint_eq(fw.pci.mem_base, PCI_MEM_WINDOW_GPA);
	ck_assert_uint_eq(fw.pci.mem_len, PCI_MEM_WINDOW_LEN);
	ck_assert_uint_eq(fw.pci.gsi_base, 16);
	ck_assert_uint_eq(fw.ndevices, 1);
	ck_assert_str_eq(fw.devices[0].acpi_hid, "PNP0C02");
	ck_assert_uint_eq(fw.devices[0].res[0].base, PCI_ECAM_GPA);
	ck_assert_uint_eq(fw.devices[0].res[0].len, PCI_ECAM_LEN);
	/* Slots run out at 31. */
	for (int s = 2; s < PCI_MAX_SLOTS; s++) {
		struct pci_device_info d = { .name = "x", .vendor = 1 };

		ck_assert_int_eq(pci_host_add(host, &d), s);
	}
	{
		struct pci_device_info d = { .name = "x", .vendor = 1 };

		ck_assert_int_eq(pci_host_add(host, &d), -ENOSPC);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("host");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_ids_both_mechanisms);
	tcase_add_test(tc, test_empty_slots_functions_buses);
	tcase_add_test(tc, test_read_only_fields);
	tcase_add_test(tc, test_bar_sizing_and_assignment);
	tcase_add_test(tc, test_decode_on_off);
	tcase_add_test(tc, test_bar_mapped_once_overlap_ends);
	tcase_add_test(tc, test_query_for_monitor);
	tcase_add_test(tc, test_remap_from_inside_a_callback);
	tcase_add_test(tc, test_misaligned_and_odd_accesses);
	tcase_add_test(tc, test_cf9_still_resets);
	tcase_add_test(tc, test_intx);
	tcase_add_test(tc, test_intx_from_cfg_hook);
	tcase_add_test(tc, test_reset_restores_power_on);
	tcase_add_test(tc, test_create_and_fill_fw);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
