/* test_pvpanic.c - the pvpanic register through its bus ops, against a fake request sink. */
#include <check.h>
#include <string.h>

#include "devices/pvpanic.h"
#include "devices/pvpanic_pci.h"
#include "core/layout.h"
#include "tests/unit/unit.h"

struct fake_sink {
	int n;
	enum vm_request_kind kind[16];
	enum shutdown_cause cause[16];
};

static void fake_post(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	struct fake_sink *f = ctx;

	if (f->n < 16) {
		f->kind[f->n] = kind;
		f->cause[f->n] = cause;
	}
	f->n++;
}

static void wr(struct pvpanic *p, uint8_t v)
{
	pvpanic_bus_ops.write(p, 0, &v, 1);
}

START_TEST(test_read_returns_mask)
{
	struct fake_sink f = { 0 };
	struct request_sink sink = { fake_post, &f };
	struct pvpanic p;
	uint8_t v = 0;

	pvpanic_init(&p, PVPANIC_EVENTS_ALL, &sink);
	pvpanic_bus_ops.read(&p, 0, &v, 1);
	ck_assert_uint_eq(v, 7);
	pvpanic_init(&p, 0xff, &sink); /* only known bits can be offered */
	pvpanic_bus_ops.read(&p, 0, &v, 1);
	ck_assert_uint_eq(v, 7);
	pvpanic_init(&p, PVPANIC_PANICKED, &sink);
	pvpanic_bus_ops.read(&p, 0, &v, 1);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(f.n, 0);
	/* The bus refuses anything but byte access to this device. */
	ck_assert_uint_eq(pvpanic_bus_ops.sizes, BUS_SIZE_1);
}
END_TEST

START_TEST(test_each_value)
{
	/* For every byte: which request (if any) one write makes with all events enabled. */
	for (unsigned v = 0; v < 256; v++) {
		struct fake_sink f = { 0 };
		struct request_sink sink = { fake_post, &f };
		struct pvpanic p;

		pvpanic_init(&p, PVPANIC_EVENTS_ALL, &sink);
		wr(&p, (uint8_t)v);
		if (v & 1) {
			ck_assert_int_eq(f.n, 1);
			ck_assert_int_eq(f.kind[0], VM_REQ_PANIC);
			ck_assert_int_eq(f.cause[0], CAUSE_GUEST_PANIC);
		} else if (v & 2) {
			ck_assert_int_eq(f.n, 1);
			ck_assert_int_eq(f.kind[0], VM_REQ_CRASHLOADED);
		} else if (v & 4) {
			ck_assert_int_eq(f.n, 1);
			ck_assert_int_eq(f.kind[0], VM_REQ_PVSHUTDOWN);
			ck_assert_int_eq(f.cause[0], CAUSE_GUEST_SHUTDOWN);
		} else {
			ck_assert_msg(f.n == 0, "value 0x%02x made a request", v);
		}
	}
}
END_TEST

START_TEST(test_mask_limits_events)
{
	struct fake_sink f = { 0 };
	struct request_sink sink = { fake_post, &f };
	struct pvpanic p;

	pvpanic_init(&p, PVPANIC_SHUTDOWN, &sink);
	wr(&p, PVPANIC_PANICKED);
	wr(&p, PVPANIC_CRASH_LOADED);
	ck_assert_int_eq(f.n, 0);
	/* panicked is masked out, so the next bit set wins. */
	wr(&p, PVPANIC_PANICKED | PVPANIC_SHUTDOWN);
	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(f.kind[0], VM_REQ_PVSHUTDOWN);
}
END_TEST

START_TEST(test_unknown_bits_logged_once)
{
	struct fake_sink f = { 0 };
	struct request_sink sink = { fake_post, &f };
	struct pvpanic p;

	pvpanic_init(&p, PVPANIC_EVENTS_ALL, &sink);
	ck_assert_int_eq(p.unknown_logged, 0);
	wr(&p, 0x80);
	ck_assert_int_eq(p.unknown_logged, 1);
	wr(&p, 0x81);
	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(f.kind[0], VM_REQ_PANIC);
}
END_TEST

START_TEST(test_fw_description)
{
	struct fw_device d;

	pvpanic_fw_device(&d, FW_RES_IO, 0x505, 0);
	ck_assert_str_eq(d.acpi_hid, "QEMU0001");
	ck_assert_str_eq(d.acpi_name, "PEVT");
	ck_assert_ptr_nonnull(d.aml); /* the operation region and RDPT/WRPT */
	ck_assert_uint_eq(d.nres, 1);
	ck_assert_int_eq(d.res[0].kind, FW_RES_IO);
	ck_assert_uint_eq(d.res[0].base, 0x505);
	ck_assert_uint_eq(d.res[0].len, 1);
	ck_assert_ptr_null(d.fdt_node);
	pvpanic_fw_device(&d, FW_RES_MMIO, 0xfe000000, 2);
	ck_assert_str_eq(d.acpi_name, "PEV2");
	ck_assert_str_eq(d.fdt_compat, "qemu,pvpanic-mmio");
}
END_TEST

/* The PCI glue, driven as a guest would: identity via ECAM, the register through BAR0. */
START_TEST(test_pci_glue)
{
	struct fake_sink f = { 0 };
	struct request_sink sink = { fake_post, &f };
	struct pvpanic p, q;
	struct pci_device_info info;
	struct pci_host *h;
	struct bus pio, mmio;
	uint8_t b[4];
	uint32_t bar;

	ck_assert_int_eq(bus_init(&pio, "pio"), 0);
	ck_assert_int_eq(bus_init(&mmio, "mmio"), 0);
	ck_assert_int_eq(pci_host_create(&pio, &mmio, PCI_ECAM_GPA, PCI_IO_WINDOW_PORT,
					 PCI_IO_WINDOW_LEN, PCI_MEM_WINDOW_GPA, PCI_MEM_WINDOW_LEN,
					 &h),
			 0);
	pvpanic_init(&p, PVPANIC_EVENTS_ALL, &sink);
	pvpanic_init(&q, PVPANIC_PANICKED, &sink);
	pvpanic_pci_info(&info, &p);
	ck_assert_int_eq(pci_host_add(h, &info), 1);
	pvpanic_pci_info(&info, &q);
	ck_assert_int_eq(pci_host_add(h, &info), 2);

	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15), b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0x00111b36);
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15) + 8, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0x08800001); /* class 0x088000, revision 1 */
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15) + 0x2c, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0x11001af4);
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15) + 0x3d, b, 1), BUS_OK);
	ck_assert_uint_eq(b[0], 0); /* no interrupt pin */
	/* BAR0: 4 KiB, 32-bit memory, in the window. */
	bus_data_set(b, 4, 0xffffffff);
	ck_assert_int_eq(bus_write(&mmio, PCI_ECAM_GPA + (1 << 15) + 0x10, b, 4), BUS_OK);
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (1 << 15) + 0x10, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0xfffff000);
	bus_data_set(b, 4, PCI_MEM_WINDOW_GPA);
	ck_assert_int_eq(bus_write(&mmio, PCI_ECAM_GPA + (1 << 15) + 0x10, b, 4), BUS_OK);
	ck_assert_int_eq(bus_read(&mmio, PCI_ECAM_GPA + (2 << 15) + 0x10, b, 4), BUS_OK);
	bar = (uint32_t)bus_data_get(b, 4);
	ck_assert_uint_eq(bar, PCI_MEM_WINDOW_GPA + 0x1000);

	/* Byte 0 reads the mask, the rest of the page 0; a write there reports. */
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA, b, 1), BUS_OK);
	ck_assert_uint_eq(b[0], 7);
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 7);
	ck_assert_int_eq(bus_read(&mmio, PCI_MEM_WINDOW_GPA + 0xffc, b, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(b, 4), 0);
	ck_assert_int_eq(bus_read(&mmio, bar, b, 1), BUS_OK);
	ck_assert_uint_eq(b[0], 1);
	ck_assert_int_eq(bus_write(&mmio, PCI_MEM_WINDOW_GPA + 1, "\x01", 1), BUS_OK);
	ck_assert_int_eq(f.n, 0);
	ck_assert_int_eq(bus_write(&mmio, PCI_MEM_WINDOW_GPA, "\x01", 1), BUS_OK);
	ck_assert_int_eq(bus_write(&mmio, bar, "\x04", 1), BUS_OK); /* not offered by q */
	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(f.kind[0], VM_REQ_PANIC);
	ck_assert_int_eq(f.cause[0], CAUSE_GUEST_PANIC);
	pci_host_destroy(h);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pvpanic");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_read_returns_mask);
	tcase_add_test(tc, test_each_value);
	tcase_add_test(tc, test_mask_limits_events);
	tcase_add_test(tc, test_unknown_bits_logged_once);
	tcase_add_test(tc, test_fw_description);
	tcase_add_test(tc, test_pci_glue);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
