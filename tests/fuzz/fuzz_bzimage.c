/* fuzz_bzimage.c - libFuzzer harness: the bzImage loader (probe, placement, load, zero page). */
/*
 * Input: byte 0 picks the RAM size (1..64 MiB), byte 1 the initrd size (KiB), bytes 2-3 the
 * command line length (little-endian, mod 4 KiB); the rest is the kernel file. Guest RAM is
 * one region with an inaccessible page on each side, so a write outside it faults. Invariants,
 * beyond "no crash" (ASan also guards the header buffers):
 *  - an accepted header is what the file says: version, protected-mode part = rest of the
 *    file, preferred address in low RAM above 1 MiB, the header copy equal to the file bytes;
 *  - a plan keeps the kernel, initrd, zero page and command line inside RAM below the hole,
 *    apart, the initrd page-aligned and below initrd_addr_max, the command line not longer
 *    than the kernel accepts;
 *  - after a load, RAM holds exactly the kernel's protected-mode part, the initrd and the
 *    command line where the plan says, and the zero page points at them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/bzimage.h"
#include "core/layout.h"

#define PAGE 4096ull

static void fail(const char *why, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "%s (0x%llx, 0x%llx)\n", why, a, b);
	abort();
}

static int memfd_with(const void *buf, size_t len)
{
	int fd = memfd_create("fuzz", 0);

	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len))
		abort();
	return fd;
}

/* Disjoint [a, a + alen) and [b, b + blen). */
static int apart(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a + alen <= b || b + blen <= a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage_info info;
	struct boot_plan plan;
	struct guest_mem gm = { 0 };
	uint64_t ram, initrd_size;
	size_t clen, fsize;
	const uint8_t *file;
	uint8_t *map, *initrd;
	char err[256], *cmdline;
	int kfd, ifd = -1, ret;

	if (size < 4)
		return 0;
	ram = (uint64_t)(1 + data[0] % 64) << 20;
	initrd_size = (uint64_t)data[1] << 10;
	clen = (data[2] | (size_t)data[3] << 8) % 4096;
	file = data + 4;
	fsize = size - 4;

	kfd = memfd_with(file, fsize);
	ret = bzimage_probe(kfd, fsize, &info, err, sizeof(err));
	if (ret) {
		close(kfd);
		return 0;
	}
	if (info.version < BZIMAGE_MIN_VERSION || info.version != (file[0x206] | file[0x207] << 8))
		fail("accepted version", info.version, 0);
	if (info.pm_offset + info.pm_size != fsize ||
	    info.pm_offset != (info.setup_sects + 1) * 512u)
		fail("protected-mode part", info.pm_offset, info.pm_size);
	if (info.pref_address < HIGH_RAM_START || info.pref_address >= MMIO_HOLE_START)
		fail("preferred address", info.pref_address, 0);
	if (info.header_len > sizeof(info.header))
		fail("header length", info.header_len, sizeof(info.header));
	for (size_t i = 0; i < info.header_len && 0x1f1 + i < fsize; i++)
		if (info.header[i] != file[0x1f1 + i])
			fail("header copy differs from the file at", 0x1f1 + i, info.header[i]);

	/* RAM [0, ram) with a guard page on each side. */
	map = mmap(NULL, ram + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		   0);
	if (map == MAP_FAILED || mprotect(map + PAGE, ram, PROT_READ | PROT_WRITE))
		abort();
	gm.ram_size = ram;
	gm.nregions = 1;
	gm.regions[0] = (struct guest_region){ 0, ram, map + PAGE };

	ret = boot_plan_make(&info, &gm, initrd_size, clen, &plan, err, sizeof(err));
	if (ret)
		goto out;
	if (plan.kernel_gpa != info.pref_address || plan.kernel_end > ram ||
	    plan.kernel_end < plan.kernel_gpa + info.pm_size ||
	    plan.kernel_end < plan.kernel_gpa + info.init_size)
		fail("kernel placement", plan.kernel_gpa, plan.kernel_end);
	if (clen > info.cmdline_size || clen >= BOOT_CMDLINE_MAX)
		fail("command line longer than the kernel takes", clen, info.cmdline_size);
	if (!apart(plan.zero_page_gpa, PAGE, plan.kernel_gpa, plan.kernel_end - plan.kernel_gpa) ||
	    !apart(plan.cmdline_gpa, clen + 1, plan.kernel_gpa,
		   plan.kernel_end - plan.kernel_gpa) ||
	    !apart(plan.cmdline_gpa, clen + 1, plan.zero_page_gpa, PAGE))
		fail("zero page or command line overlaps", plan.zero_page_gpa, plan.cmdline_gpa);
	if (initrd_size) {
		if (plan.initrd_size != initrd_size || plan.initrd_gpa % PAGE ||
		    plan.initrd_gpa < plan.kernel_end || plan.initrd_gpa + initrd_size > ram ||
		    plan.initrd_gpa + initrd_size - 1 > info.initrd_addr_max)
			fail("initrd placement", plan.initrd_gpa, plan.initrd_size);
	} else if (plan.initrd_gpa || plan.initrd_size) {
		fail("an initrd placed without one", plan.initrd_gpa, plan.initrd_size);
	}

	cmdline = malloc(clen + 1);
	initrd = malloc(initrd_size + 1);
	if (!cmdline || !initrd)
		abort();
	for (size_t i = 0; i < clen; i++)
		cmdline[i] = (char)('a' + i % 26);
	cmdline[clen] = 0;
	for (uint64_t i = 0; i < initrd_size; i++)
		initrd[i] = (uint8_t)(i * 13 + 5);
	if (initrd_size)
		ifd = memfd_with(initrd, initrd_size);
	ret = boot_load(&gm, &info, &plan, kfd, ifd, cmdline, 0xe0000, 0, err, sizeof(err));
	if (!ret) {
		const uint8_t *host = map + PAGE;
		const struct boot_params *bp = (const void *)(host + plan.zero_page_gpa);

		if (memcmp(host + plan.kernel_gpa, file + info.pm_offset, info.pm_size))
			fail("kernel bytes in RAM differ", plan.kernel_gpa, info.pm_size);
		if (initrd_size && memcmp(host + plan.initrd_gpa, initrd, initrd_size))
			fail("initrd bytes in RAM differ", plan.initrd_gpa, initrd_size);
		if (memcmp(host + plan.cmdline_gpa, cmdline, clen + 1))
			fail("command line in RAM differs", plan.cmdline_gpa, clen);
		if (bp->hdr.cmd_line_ptr != plan.cmdline_gpa ||
		    bp->hdr.code32_start != plan.kernel_gpa ||
		    bp->hdr.ramdisk_image != plan.initrd_gpa ||
		    bp->hdr.ramdisk_size != plan.initrd_size ||
		    bp->e820_entries > E820_MAX_ENTRIES_ZEROPAGE)
			fail("zero page", bp->hdr.cmd_line_ptr, bp->hdr.ramdisk_image);
		for (unsigned i = 0; i < bp->e820_entries; i++)
			if (bp->e820_table[i].type == 1 &&
			    bp->e820_table[i].addr + bp->e820_table[i].size > ram)
				fail("e820 RAM past the end of RAM", bp->e820_table[i].addr,
				     bp->e820_table[i].size);
	}
	free(cmdline);
	free(initrd);
	if (ifd >= 0)
		close(ifd);
out:
	munmap(map, ram + 2 * PAGE);
	close(kfd);
	return 0;
}
