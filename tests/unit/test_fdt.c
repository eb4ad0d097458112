/* test_fdt.c - the device tree builder, checked with libfdt and by decompiling with `dtc`;
 * the SETUP_DTB entry and its link from the zero page. */
#include <check.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "boot/fdt.h"
#include "boot/setup_data.h"
#include "devices/acpi_pm.h"
#include "devices/pvpanic.h"
#include "devices/serial_16550.h"
#include "core/layout.h"
#include "tests/unit/unit.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static uint8_t blob[64 * 1024];

/* The machine minivmm builds: COM1, an ISA and an MMIO pvpanic, @ncpus cpus. */
static void machine(struct fw_desc *fw, unsigned ncpus)
{
	struct fw_device d;

	memset(fw, 0, sizeof(*fw));
	fw->ncpus = ncpus;
	acpi_pm_fill_fw(fw, 1);
	serial_fw_device(&d, 0x3f8, 4, "COM1", 1);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
	pvpanic_fw_device(&d, FW_RES_IO, 0x505, 0);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
	pvpanic_fw_device(&d, FW_RES_MMIO, PVPANIC_MMIO_GPA, 1);
	ck_assert_int_eq(fw_desc_add(fw, &d), 0);
}

static struct guest_mem shape(uint64_t ram)
{
	struct guest_mem gm = { .ram_size = ram, .nregions = 1 };

	gm.regions[0].size = layout_ram_below_4g(ram);
	if (ram > MMIO_HOLE_START) {
		gm.regions[1].gpa = RAM_ABOVE_4G_START;
		gm.regions[1].size = ram - MMIO_HOLE_START;
		gm.nregions = 2;
	}
	return gm;
}

static size_t build(unsigned ncpus, uint64_t ram, int has_shutdown)
{
	struct fw_desc fw;
	struct guest_mem gm = shape(ram);
	struct fdt_machine m = {
		.fw = &fw,
		.mem = &gm,
		.cmdline = "console=ttyS0 panic=-1",
		.has_reset = 1,
		.has_shutdown = has_shutdown,
	};
	size_t len = 0;

	machine(&fw, ncpus);
	ck_assert_int_eq(fdt_build(&m, blob, sizeof(blob), &len), 0);
	ck_assert_int_eq(fdt_check_header(blob), 0);
	ck_assert_uint_eq(len, fdt_totalsize(blob));
	return len;
}

/* Run `dtc -I dtb -O dts` on the blob: returns the DTS text; stderr must stay empty. */
static char *decompile(size_t len)
{
	char dir[] = "/tmp/minivmm-fdt-XXXXXX", path[128], cmd[512], *dts;
	FILE *f;
	long n;
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.dtb", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(blob, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && dtc -I dtb -O dts -o t.dts t.dtb 2> dtc.err", dir);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "dtc failed (%d)", rc);
	snprintf(path, sizeof(path), "%s/dtc.err", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	{
		char line[512];

		while (fgets(line, sizeof(line), f))
			ck_abort_msg("dtc said: %s", line);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/t.dts", dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	dts = calloc(1, (size_t)n + 1);
	ck_assert_uint_eq(fread(dts, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	return dts;
}

static int node(const char *path)
{
	int off = fdt_path_offset(blob, path);

	ck_assert_msg(off >= 0, "no node %s", path);
	return off;
}

static void assert_str(const char *path, const char *prop, const char *want)
{
	int len;
	const char *v = fdt_getprop(blob, node(path), prop, &len);

	ck_assert_msg(v != NULL, "%s has no %s", path, prop);
	ck_assert_int_eq(len, (int)strlen(want) + 1);
	ck_assert_str_eq(v, want);
}

static void assert_cells(const char *path, const char *prop, const uint32_t *want, int n)
{
	int len;
	const fdt32_t *v = fdt_getprop(blob, node(path), prop, &len);

	ck_assert_msg(v != NULL, "%s has no %s", path, prop);
	ck_assert_int_eq(len, n * 4);
	for (int i = 0; i < n; i++)
		ck_assert_msg(fdt32_to_cpu(v[i]) == want[i], "%s %s cell %d: 0x%x, want 0x%x", path,
			      prop, i, fdt32_to_cpu(v[i]), want[i]);
}

static int has_prop(const char *path, const char *prop)
{
	return fdt_getprop(blob, node(path), prop, NULL) != NULL;
}

START_TEST(test_dtc_decompiles_without_warnings)
{
	char *dts = decompile(build(2, 256 * MIB, 1));

	ck_assert_ptr_nonnull(strstr(dts, "serial@i3f8 {"));
	ck_assert_ptr_nonnull(strstr(dts, "pvpanic@feb00000 {"));
	ck_assert_ptr_nonnull(strstr(dts, "memory@0 {"));
	ck_assert_ptr_nonnull(strstr(dts, "cpu@1 {"));
	ck_assert_ptr_nonnull(strstr(dts, "hypervisor {"));
	ck_assert_ptr_nonnull(strstr(dts, "has-reset;"));
	ck_assert_ptr_nonnull(strstr(dts, "has-shutdown;"));
	free(dts);
	/* Many cpus and RAM above 4 GiB: still clean. */
	dts = decompile(build(64, 6 * GIB, 1));
	ck_assert_ptr_nonnull(strstr(dts, "memory@100000000 {"));
	ck_assert_ptr_nonnull(strstr(dts, "cpu@3f {"));
	free(dts);
}
END_TEST

START_TEST(test_root_chosen_cpus)
{
	build(3, 256 * MIB, 1);
	assert_cells("/", "#address-cells", (uint32_t[]){ 2 }, 1);
	assert_cells("/", "#size-cells", (uint32_t[]){ 2 }, 1);
	assert_str("/", "compatible", "minivmm,microvm");
	assert_str("/", "model", "minivmm");
	assert_str("/chosen", "bootargs", "console=ttyS0 panic=-1");
	assert_str("/chosen", "stdout-path", "/isa/serial@i3f8");
	assert_cells("/cpus", "#address-cells", (uint32_t[]){ 1 }, 1);
	assert_cells("/cpus", "#size-cells", (uint32_t[]){ 0 }, 1);
	for (unsigned i = 0; i < 3; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/cpus/cpu@%x", i);
		assert_str(path, "device_type", "cpu");
		assert_cells(path, "reg", (uint32_t[]){ i }, 1);
	}
	ck_assert_int_lt(fdt_path_offset(blob, "/cpus/cpu@3"), 0);
}
END_TEST

START_TEST(test_memory_nodes)
{
	/* Below the hole: RAM minus the EBDA and the 640K-1M legacy hole, as in e820. */
	build(1, 256 * MIB, 1);
	assert_str("/memory@0", "device_type", "memory");
	assert_cells(
	    "/memory@0", "reg",
	    (uint32_t[]){ 0, 0, 0, EBDA_START, 0, HIGH_RAM_START, 0, 256 * MIB - HIGH_RAM_START },
	    8);
	ck_assert_int_lt(fdt_path_offset(blob, "/memory@100000000"), 0);

	build(1, 6 * GIB, 1);
	assert_cells("/memory@0", "reg",
		     (uint32_t[]){ 0, 0, 0, EBDA_START, 0, HIGH_RAM_START, 0,
				   MMIO_HOLE_START - HIGH_RAM_START },
		     8);
	assert_str("/memory@100000000", "device_type", "memory");
	assert_cells("/memory@100000000", "reg",
		     (uint32_t[]){ 1, 0, (uint32_t)((6 * GIB - MMIO_HOLE_START) >> 32),
				   (uint32_t)(6 * GIB - MMIO_HOLE_START) },
		     4);
}
END_TEST

START_TEST(test_devices_from_fw_desc)
{
	int off;

	build(1, 256 * MIB, 1);
	/* The serial port in ISA I/O space, its IRQ on the IOAPIC. */
	assert_cells("/isa", "#address-cells", (uint32_t[]){ 2 }, 1);
	assert_cells("/isa", "#size-cells", (uint32_t[]){ 1 }, 1);
	assert_str("/isa/serial@i3f8", "compatible", "ns16550a");
	assert_cells("/isa/serial@i3f8", "reg", (uint32_t[]){ 1, 0x3f8, 8 }, 3);
	assert_cells("/isa/serial@i3f8", "clock-frequency", (uint32_t[]){ 1843200 }, 1);
	assert_cells("/isa/serial@i3f8", "interrupts", (uint32_t[]){ 4, 0 }, 2);
	assert_cells("/", "interrupt-parent", (uint32_t[]){ FDT_PHANDLE_IOAPIC }, 1);
	off = fdt_node_offset_by_phandle(blob, FDT_PHANDLE_IOAPIC);
	ck_assert_int_eq(off, node("/interrupt-controller@fec00000"));
	ck_assert(has_prop("/interrupt-controller@fec00000", "interrupt-controller"));
	assert_cells("/interrupt-controller@fec00000", "#interrupt-cells", (uint32_t[]){ 2 }, 1);
	assert_cells("/interrupt-controller@fec00000", "reg",
		     (uint32_t[]){ 0, 0xfec00000, 0, 0x1000 }, 4);
	/* The MMIO pvpanic where the bus has it; the ISA pvpanic has no FDT binding. */
	assert_str("/pvpanic@feb00000", "compatible", "qemu,pvpanic-mmio");
	assert_cells("/pvpanic@feb00000", "reg", (uint32_t[]){ 0, 0xfeb00000, 0, 1 }, 4);
	ck_assert_int_lt(fdt_node_offset_by_compatible(blob, -1, "qemu,pvpanic"), 0);
	ck_assert_int_lt(fdt_path_offset(blob, "/isa/pvpanic@i505"), 0);
}
END_TEST

START_TEST(test_hypervisor_node)
{
	build(1, 256 * MIB, 1);
	assert_str("/hypervisor", "compatible", "minivmm,hypervisor");
	ck_assert(has_prop("/hypervisor", "has-reset"));
	ck_assert(has_prop("/hypervisor", "has-shutdown"));
	ck_assert_int_eq(fdt_getprop(blob, node("/hypervisor"), "has-reset", NULL) ? 0 : 1, 0);
	{
		int len = -1;

		fdt_getprop(blob, node("/hypervisor"), "has-shutdown", &len);
		ck_assert_int_eq(len, 0); /* <none>: presence is the value (ePAPR) */
	}
	build(1, 256 * MIB, 0);
	ck_assert(!has_prop("/hypervisor", "has-shutdown"));
	ck_assert(has_prop("/hypervisor", "has-reset"));
}
END_TEST

START_TEST(test_too_small_buffer)
{
	struct fw_desc fw;
	struct guest_mem gm = shape(256 * MIB);
	struct fdt_machine m = { .fw = &fw, .mem = &gm, .cmdline = "" };
	size_t len;

	machine(&fw, 1);
	ck_assert_int_eq(fdt_build(&m, blob, 200, &len), -ENOSPC);
	m.fw = NULL;
	ck_assert_int_eq(fdt_build(&m, blob, sizeof(blob), &len), -EINVAL);
}
END_TEST

START_TEST(test_setup_data_linked_from_zero_page)
{
	struct bzimage_info info = { .version = 0x020f };
	struct guest_mem gm;
	struct boot_plan plan = { .zero_page_gpa = BOOT_ZERO_PAGE_GPA,
				  .cmdline_gpa = BOOT_CMDLINE_GPA };
	struct boot_params *bp = calloc(1, sizeof(*bp));
	struct setup_data sd;
	size_t len = build(2, 128 * MIB, 1);
	uint8_t *back;

	ck_assert_int_eq(guest_mem_init(&gm, 128 * MIB), 0);
	ck_assert_int_eq(boot_setup_data_write(&gm, &info, BOOT_SETUP_DATA_GPA, SETUP_DTB, blob,
					       (uint32_t)len, 0),
			 0);
	boot_zero_page_build(bp, &info, &plan, &gm, 0, BOOT_SETUP_DATA_GPA);
	ck_assert_uint_eq(bp->hdr.setup_data, BOOT_SETUP_DATA_GPA);
	/* setup_data is at zero-page offset 0x250 (boot.rst). */
	ck_assert_uint_eq(*(uint64_t *)((uint8_t *)bp + 0x250), BOOT_SETUP_DATA_GPA);
	ck_assert_int_eq(guest_mem_read(&gm, &sd, BOOT_SETUP_DATA_GPA, sizeof(sd)), 0);
	ck_assert_uint_eq(sd.next, 0);
	ck_assert_uint_eq(sd.type, SETUP_DTB);
	ck_assert_uint_eq(sd.type, 2);
	ck_assert_uint_eq(sd.len, len);
	back = guest_mem_ptr(&gm, BOOT_SETUP_DATA_GPA + sizeof(sd), len);
	ck_assert_ptr_nonnull(back);
	ck_assert_mem_eq(back, blob, len);
	ck_assert_int_eq(fdt_check_header(back), 0);
	/* The entry stays clear of the command line, the zero page and the EBDA. */
	ck_assert_uint_ge(BOOT_SETUP_DATA_GPA, BOOT_CMDLINE_GPA + BOOT_CMDLINE_MAX);
	ck_assert_uint_le(BOOT_SETUP_DATA_GPA + BOOT_SETUP_DATA_MAX, EBDA_START);

	/* Kernels before boot protocol 2.09 have no setup_data field. */
	info.version = 0x0208;
	ck_assert_int_eq(boot_setup_data_write(&gm, &info, BOOT_SETUP_DATA_GPA, SETUP_DTB, blob,
					       (uint32_t)len, 0),
			 -ENOTSUP);
	/* Not in RAM: refused. */
	info.version = 0x020f;
	ck_assert_int_eq(
	    boot_setup_data_write(&gm, &info, MMIO_HOLE_START, SETUP_DTB, blob, (uint32_t)len, 0),
	    -ENOSPC);
	guest_mem_destroy(&gm);
	free(bp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fdt");
	TCase *tc = tcase_create("fdt");

	tcase_add_test(tc, test_dtc_decompiles_without_warnings);
	tcase_add_test(tc, test_root_chosen_cpus);
	tcase_add_test(tc, test_memory_nodes);
	tcase_add_test(tc, test_devices_from_fw_desc);
	tcase_add_test(tc, test_hypervisor_node);
	tcase_add_test(tc, test_too_small_buffer);
	tcase_add_test(tc, test_setup_data_linked_from_zero_page);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
