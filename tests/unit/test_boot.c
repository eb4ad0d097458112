/* test_boot.c - bzImage header checks, placement, e820, zero page and command line. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "core/layout.h"
#include "tests/unit/unit.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* A synthetic bzImage: a real setup header and a protected-mode part of @pm_size bytes. */
static int make_image(uint8_t *img, size_t size, uint16_t version, uint16_t xlf)
{
	memset(img, 0, size);
	img[0x1f1] = 3; /* setup_sects: setup is 4 sectors incl. boot sector */
	img[0x1fe] = 0x55, img[0x1ff] = 0xaa;
	img[0x201] = 0x68; /* header ends at 0x202 + 0x68 = 0x26a */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = version & 0xff, img[0x207] = version >> 8;
	img[0x211] = 0x01;			 /* LOADED_HIGH */
	*(uint32_t *)(img + 0x22c) = 0x7fffffff; /* initrd_addr_max */
	*(uint32_t *)(img + 0x230) = 0x200000;	 /* kernel_alignment */
	img[0x236] = xlf & 0xff, img[0x237] = xlf >> 8;
	*(uint32_t *)(img + 0x238) = 2047;	/* cmdline_size */
	*(uint64_t *)(img + 0x258) = 0x1000000; /* pref_address */
	*(uint32_t *)(img + 0x260) = 0x2000000; /* init_size: 32 MiB */
	/* protected-mode part: recognisable bytes */
	for (size_t i = 4 * 512; i < size; i++)
		img[i] = (uint8_t)(i * 7);
	return 0;
}

static int write_tmp(const void *buf, size_t len)
{
	char path[] = "/tmp/minivmm-test-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	return fd;
}

static uint8_t image[64 * 1024];

START_TEST(test_probe_accepts_and_reads_header)
{
	struct bzimage_info info;
	char err[128];
	int fd;

	make_image(image, sizeof(image), 0x020f, XLF_KERNEL_64);
	fd = write_tmp(image, sizeof(image));
	ck_assert_int_eq(bzimage_probe(fd, sizeof(image), &info, err, sizeof(err)), 0);
	ck_assert_uint_eq(info.version, 0x020f);
	ck_assert_uint_eq(info.setup_sects, 3);
	ck_assert_uint_eq(info.pm_offset, 4 * 512);
	ck_assert_uint_eq(info.pm_size, sizeof(image) - 4 * 512);
	ck_assert_uint_eq(info.pref_address, 0x1000000);
	ck_assert_uint_eq(info.init_size, 0x2000000);
	ck_assert_uint_eq(info.cmdline_size, 2047);
	ck_assert_uint_eq(info.header_len, 0x26a - 0x1f1);
	close(fd);
}
END_TEST

START_TEST(test_probe_setup_sects_zero_means_four)
{
	struct bzimage_info info;
	char err[128];
	int fd;

	make_image(image, sizeof(image), 0x020f, XLF_KERNEL_64);
	image[0x1f1] = 0;
	fd = write_tmp(image, sizeof(image));
	ck_assert_int_eq(bzimage_probe(fd, sizeof(image), &info, err, sizeof(err)), 0);
	ck_assert_uint_eq(info.pm_offset, 5 * 512);
	close(fd);
}
END_TEST

START_TEST(test_probe_rejects)
{
	static const struct {
		const char *what;
		size_t off;
		uint8_t val;
		const char *expect;
	} cases[] = {
		{ "no magic", 0x202, 'X', "not a bzImage" },
		{ "no boot flag", 0x1fe, 0, "not a bzImage" },
		{ "old protocol", 0x207, 0x01, "too old" },
		{ "zImage", 0x211, 0x00, "zImage" },
		{ "no 64-bit entry", 0x236, 0x00, "64-bit" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bzimage_info info;
		char err[128] = "";
		int fd;

		make_image(image, sizeof(image), 0x020f, XLF_KERNEL_64);
		image[cases[i].off] = cases[i].val;
		fd = write_tmp(image, sizeof(image));
		ck_assert_msg(bzimage_probe(fd, sizeof(image), &info, err, sizeof(err)) == -EINVAL,
			      "%s accepted", cases[i].what);
		ck_assert_msg(strstr(err, cases[i].expect), "%s: '%s'", cases[i].what, err);
		close(fd);
	}
	/* A file too short to hold a header. */
	{
		struct bzimage_info info;
		char err[128];
		int fd = write_tmp("hello", 5);

		ck_assert_int_eq(bzimage_probe(fd, 5, &info, err, sizeof(err)), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, "not a bzImage"));
		close(fd);
	}
}
END_TEST

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

static struct bzimage_info probe_image(void)
{
	struct bzimage_info info;
	char err[128];
	int fd;

	make_image(image, sizeof(image), 0x020f, XLF_KERNEL_64);
	fd = write_tmp(image, sizeof(image));
	ck_assert_int_eq(bzimage_probe(fd, sizeof(image), &info, err, sizeof(err)), 0);
	close(fd);
	return info;
}

START_TEST(test_plan_initrd_as_high_as_allowed)
{
	struct bzimage_info info = probe_image();
	struct guest_mem gm = shape(256 * MIB);
	struct boot_plan plan;
	char err[256];

	ck_assert_int_eq(boot_plan_make(&info, &gm, 10 * MIB + 123, 20, &plan, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(plan.kernel_gpa, 0x1000000);
	ck_assert_uint_eq(plan.entry_gpa, 0x1000200);
	ck_assert_uint_eq(plan.kernel_end, 0x1000000 + 0x2000000);
	ck_assert_uint_eq(plan.initrd_gpa % 4096, 0);
	ck_assert_uint_le(plan.initrd_gpa + plan.initrd_size, 256 * MIB);
	ck_assert_uint_gt(plan.initrd_gpa + plan.initrd_size, 256 * MIB - 4096);

	/* With lots of RAM, initrd_addr_max (2 GiB - 1) is the ceiling, not the hole. */
	gm = shape(8 * GIB);
	ck_assert_int_eq(boot_plan_make(&info, &gm, 1 * MIB, 20, &plan, err, sizeof(err)), 0);
	ck_assert_uint_eq(plan.initrd_gpa + plan.initrd_size, 0x80000000ull);
}
END_TEST

START_TEST(test_plan_too_small)
{
	struct bzimage_info info = probe_image();
	struct guest_mem gm = shape(40 * MIB);
	struct boot_plan plan;
	char err[256];

	/* Kernel needs up to 48 MiB. */
	ck_assert_int_eq(boot_plan_make(&info, &gm, 0, 0, &plan, err, sizeof(err)), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "memory too small"));
	/* Kernel fits, initrd does not. */
	gm = shape(64 * MIB);
	ck_assert_int_eq(boot_plan_make(&info, &gm, 20 * MIB, 0, &plan, err, sizeof(err)), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(err, "initrd"));
	ck_assert_int_eq(boot_plan_make(&info, &gm, 10 * MIB, 0, &plan, err, sizeof(err)), 0);
	/* Command line longer than cmdline_size. */
	ck_assert_int_eq(boot_plan_make(&info, &gm, 0, 2048, &plan, err, sizeof(err)), -E2BIG);
	ck_assert_int_eq(boot_plan_make(&info, &gm, 0, 2047, &plan, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_e820_small_and_large)
{
	struct boot_e820_entry t[16];
	struct guest_mem gm = shape(256 * MIB);
	unsigned n = boot_e820_build(&gm, t, 16);
	uint64_t ram = 0;

	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(t[0].addr, 0);
	ck_assert_uint_eq(t[0].size, EBDA_START);
	ck_assert_uint_eq(t[0].type, 1);
	ck_assert_uint_eq(t[1].type, 2);
	ck_assert_uint_eq(t[2].addr, 0xE0000);
	ck_assert_uint_eq(t[2].type, 2);
	ck_assert_uint_eq(t[3].addr, 0x100000);
	ck_assert_uint_eq(t[3].addr + t[3].size, 256 * MIB);
	ck_assert_uint_eq(t[4].addr, PCI_ECAM_GPA); /* reserved for the MCFG */
	ck_assert_uint_eq(t[4].size, PCI_ECAM_LEN);
	ck_assert_uint_eq(t[4].type, 2);

	gm = shape(6 * GIB);
	n = boot_e820_build(&gm, t, 16);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(t[3].addr + t[3].size, MMIO_HOLE_START);
	ck_assert_uint_eq(t[4].addr, PCI_ECAM_GPA);
	ck_assert_uint_eq(t[5].addr, 4 * GIB);
	ck_assert_uint_eq(t[5].size, 6 * GIB - MMIO_HOLE_START);
	/* Entries are sorted, disjoint, and no RAM lies in the hole. */
	for (unsigned i = 0; i < n; i++) {
		if (i)
			ck_assert_uint_ge(t[i].addr, t[i - 1].addr + t[i - 1].size);
		if (t[i].type == 1) {
			ram += t[i].size;
			ck_assert(t[i].addr + t[i].size <= MMIO_HOLE_START ||
				  t[i].addr >= MMIO_HOLE_END);
		}
	}
	ck_assert_uint_eq(ram, 6 * GIB - (LEGACY_HOLE_END - EBDA_START));
}
END_TEST

START_TEST(test_long_header_copies_only_file_bytes)
{
	struct bzimage_info info;
	struct guest_mem gm = shape(256 * MIB);
	struct boot_plan plan;
	struct boot_params *bp = calloc(1, sizeof(*bp));
	const uint8_t *zp = (const uint8_t *)bp;
	char err[256];
	int fd;

	/*
	 * A jump byte of 0xff says the header runs to 0x301; minivmm copies it up to 0x282
	 * (the longest header it knows), and every byte copied comes from the file: the two
	 * last ones (0x280, 0x281) once came from the host stack past the header buffer.
	 */
	make_image(image, sizeof(image), 0x020f, XLF_KERNEL_64);
	image[0x201] = 0xff;
	image[0x27f] = 0x3c, image[0x280] = 0xa5, image[0x281] = 0x5a, image[0x282] = 0x77;
	fd = write_tmp(image, sizeof(image));
	ck_assert_int_eq(bzimage_probe(fd, sizeof(image), &info, err, sizeof(err)), 0);
	close(fd);
	ck_assert_uint_eq(info.header_len, 0x282 - 0x1f1);
	ck_assert_mem_eq(info.header, image + 0x1f1, info.header_len);
	ck_assert_int_eq(boot_plan_make(&info, &gm, 0, 0, &plan, err, sizeof(err)), 0);
	boot_zero_page_build(bp, &info, &plan, &gm, 0, 0);
	ck_assert_uint_eq(zp[0x27f], 0x3c);
	ck_assert_uint_eq(zp[0x280], 0xa5);
	ck_assert_uint_eq(zp[0x281], 0x5a);
	ck_assert_uint_eq(zp[0x282], 0); /* past the longest header: not copied */
	free(bp);
}
END_TEST

START_TEST(test_zero_page)
{
	struct bzimage_info info = probe_image();
	struct guest_mem gm = shape(5 * GIB);
	struct boot_plan plan;
	struct boot_params *bp = calloc(1, sizeof(*bp));
	char err[256];

	ck_assert_int_eq(boot_plan_make(&info, &gm, 4 * MIB, 30, &plan, err, sizeof(err)), 0);
	boot_zero_page_build(bp, &info, &plan, &gm, 0xE0000, 0x12345000);
	ck_assert_uint_eq(bp->hdr.boot_flag, 0xAA55);
	ck_assert_uint_eq(bp->hdr.header, 0x53726448); /* "HdrS" */
	ck_assert_uint_eq(bp->hdr.version, 0x020f);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	ck_assert_uint_eq(bp->hdr.loadflags & 0x81, 0x81);
	ck_assert_uint_eq(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_GPA);
	ck_assert_uint_eq(bp->hdr.ramdisk_image, plan.initrd_gpa);
	ck_assert_uint_eq(bp->hdr.ramdisk_size, 4 * MIB);
	ck_assert_uint_eq(bp->ext_ramdisk_image, 0);
	ck_assert_uint_eq(bp->hdr.code32_start, 0x1000000);
	ck_assert_uint_eq(bp->hdr.setup_data, 0x12345000);
	ck_assert_uint_eq(bp->acpi_rsdp_addr, 0xE0000);
	ck_assert_uint_eq(bp->e820_entries, 6);
	ck_assert_uint_eq(bp->e820_table[5].addr, 4 * GIB);
	free(bp);
}
END_TEST

START_TEST(test_load_into_memory)
{
	struct bzimage_info info;
	struct guest_mem gm;
	struct boot_plan plan;
	struct boot_params bp;
	char err[256], cmd[64];
	uint8_t initrd[5000];
	int kfd, ifd;

	make_image(image, sizeof(image), 0x020f, XLF_KERNEL_64);
	kfd = write_tmp(image, sizeof(image));
	memset(initrd, 0x5a, sizeof(initrd));
	ifd = write_tmp(initrd, sizeof(initrd));
	ck_assert_int_eq(bzimage_probe(kfd, sizeof(image), &info, err, sizeof(err)), 0);
	ck_assert_int_eq(guest_mem_init(&gm, 128 * MIB), 0);
	ck_assert_int_eq(boot_plan_make(&info, &gm, sizeof(initrd), 12, &plan, err, sizeof(err)),
			 0);
	ck_assert_int_eq(
	    boot_load(&gm, &info, &plan, kfd, ifd, "console=ttyS0", 0xE0000, 0, err, sizeof(err)),
	    0);
	ck_assert_mem_eq(guest_mem_ptr(&gm, plan.kernel_gpa, info.pm_size), image + info.pm_offset,
			 info.pm_size);
	ck_assert_mem_eq(guest_mem_ptr(&gm, plan.initrd_gpa, sizeof(initrd)), initrd,
			 sizeof(initrd));
	/* Mapped from the file, not read: the rest of the initrd's last page is still zeros. */
	{
		static const uint8_t zeros[8192 - sizeof(initrd)];

		ck_assert_mem_eq(
		    guest_mem_ptr(&gm, plan.initrd_gpa + sizeof(initrd), sizeof(zeros)), zeros,
		    sizeof(zeros));
	}
	ck_assert_int_eq(guest_mem_read(&gm, cmd, BOOT_CMDLINE_GPA, 14), 0);
	ck_assert_str_eq(cmd, "console=ttyS0");
	ck_assert_int_eq(guest_mem_read(&gm, &bp, BOOT_ZERO_PAGE_GPA, sizeof(bp)), 0);
	ck_assert_uint_eq(bp.hdr.ramdisk_image, plan.initrd_gpa);
	/* Guest memory accessors refuse what is not RAM. */
	ck_assert_ptr_null(guest_mem_ptr(&gm, 128 * MIB - 8, 16));
	ck_assert_ptr_null(guest_mem_ptr(&gm, UINT64_MAX - 4, 16));
	ck_assert_ptr_null(guest_mem_ptr(&gm, 0, 0));
	ck_assert_int_eq(guest_mem_write(&gm, MMIO_HOLE_START, "x", 1), -EFAULT);
	guest_mem_destroy(&gm);
	close(kfd);
	close(ifd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("boot");
	TCase *tc = tcase_create("bzimage");

	tcase_add_test(tc, test_probe_accepts_and_reads_header);
	tcase_add_test(tc, test_probe_setup_sects_zero_means_four);
	tcase_add_test(tc, test_probe_rejects);
	tcase_add_test(tc, test_plan_initrd_as_high_as_allowed);
	tcase_add_test(tc, test_plan_too_small);
	tcase_add_test(tc, test_e820_small_and_large);
	tcase_add_test(tc, test_zero_page);
	tcase_add_test(tc, test_long_header_copies_only_file_bytes);
	tcase_add_test(tc, test_load_into_memory);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
