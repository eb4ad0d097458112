/* bzimage.c - bzImage header parsing, placement, zero page and e820 (64-bit boot protocol). */
#include "bzimage.h"
#include "core/layout.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Setup header field offsets within the file / zero page (boot.rst, "THE REAL-MODE KERNEL HEADER").
 */
#define HDR_SETUP_SECTS	     0x1f1
#define HDR_SYSSIZE	     0x1f4
#define HDR_BOOT_FLAG	     0x1fe /* 0xAA55 */
#define HDR_JUMP_LEN	     0x201 /* header ends at 0x202 + this byte */
#define HDR_MAGIC	     0x202 /* "HdrS" */
#define HDR_VERSION	     0x206
#define HDR_LOADFLAGS	     0x211
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_XLOADFLAGS	     0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE	     0x260
#define HDR_JUMP_LEN_MAX     0x80 /* longest header minivmm copies: ends at 0x202 + 0x80 */
#define HDR_END_MAX	     (0x202 + HDR_JUMP_LEN_MAX)

#define LOADFLAG_LOADED_HIGH  0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define TYPE_OF_LOADER_UNDEF  0xff   /* "undefined" loader id, as boot.rst allows */
#define SETUP_HEAP_END	      0xfe00 /* heap_end_ptr: end of setup stack/heap, relative to setup */

#define PAGE_SIZE 4096ull

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t le16(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* file shorter than its header says */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int bzimage_probe(int fd, uint64_t file_size, struct bzimage_info *info, char *err, size_t errlen)
{
	uint8_t hdr[HDR_END_MAX]; /* everything up to the end of the longest header copied */
	unsigned jump;
	int ret;

	memset(info, 0, sizeof(*info));
	if (file_size < sizeof(hdr)) {
		set_err(err, errlen, "not a bzImage: only %llu bytes",
			(unsigned long long)file_size);
		return -EINVAL;
	}
	ret = pread_all(fd, hdr, sizeof(hdr), 0);
	if (ret) {
		set_err(err, errlen, "cannot read kernel header: %s", strerror(-ret));
		return ret;
	}
	if (le16(hdr + HDR_BOOT_FLAG) != 0xAA55 || memcmp(hdr + HDR_MAGIC, "HdrS", 4)) {
		set_err(err, errlen,
			"not a bzImage: no Linux boot header (boot flag/\"HdrS\" magic)");
		return -EINVAL;
	}
	info->version = le16(hdr + HDR_VERSION);
	if (info->version < BZIMAGE_MIN_VERSION) {
		set_err(err, errlen, "boot protocol %u.%02u is too old, need 2.12 or newer",
			info->version >> 8, info->version & 0xff);
		return -EINVAL;
	}
	if (!(hdr[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH)) {
		set_err(err, errlen,
			"not a bzImage: zImage (loaded low) kernels are not supported");
		return -EINVAL;
	}
	info->xloadflags = le16(hdr + HDR_XLOADFLAGS);
	if (!(info->xloadflags & XLF_KERNEL_64)) {
		set_err(err, errlen,
			"kernel has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64)");
		return -EINVAL;
	}
	info->setup_sects = hdr[HDR_SETUP_SECTS] ? hdr[HDR_SETUP_SECTS] : 4;
	info->pm_offset = (uint64_t)(info->setup_sects + 1) * 512;
	if (info->pm_offset >= file_size) {
		set_err(err, errlen, "not a bzImage: setup (%u sectors) covers the whole file",
			info->setup_sects);
		return -EINVAL;
	}
	info->pm_size = file_size - info->pm_offset;
	info->pref_address = le64(hdr + HDR_PREF_ADDRESS);
	info->init_size = le32(hdr + HDR_INIT_SIZE);
	info->kernel_alignment = le32(hdr + HDR_KERNEL_ALIGNMENT);
	info->cmdline_size = le32(hdr + HDR_CMDLINE_SIZE);
	info->initrd_addr_max = le32(hdr + HDR_INITRD_ADDR_MAX);
	if (info->pref_address < HIGH_RAM_START || info->pref_address >= MMIO_HOLE_START) {
		set_err(err, errlen, "kernel asks to run at 0x%llx, outside low RAM",
			(unsigned long long)info->pref_address);
		return -EINVAL;
	}
	/*
	 * The header ends at 0x202 + the jump's byte; a longer one is cut at HDR_END_MAX, which
	 * is both the end of what was read and the size of info->header, so the copy never
	 * leaves hdr[] (a jump byte >= 0x7f once copied stack bytes past it).
	 */
	_Static_assert(sizeof(info->header) == HDR_END_MAX - HDR_SETUP_SECTS,
		       "the setup header copy must end where the header read ends");
	jump = hdr[HDR_JUMP_LEN];
	if (jump > HDR_JUMP_LEN_MAX)
		jump = HDR_JUMP_LEN_MAX;
	info->header_len = 0x202 + jump - HDR_SETUP_SECTS;
	memcpy(info->header, hdr + HDR_SETUP_SECTS, info->header_len);
	return 0;
}

int boot_plan_make(const struct bzimage_info *info, const struct guest_mem *gm,
		   uint64_t initrd_size, size_t cmdline_len, struct boot_plan *plan, char *err,
		   size_t errlen)
{
	uint64_t low_end = guest_mem_low_end(gm);
	uint64_t need = info->pm_size > info->init_size ? info->pm_size : info->init_size;
	uint64_t limit;
	uint64_t max_cmdline = info->cmdline_size;

	memset(plan, 0, sizeof(*plan));
	if (max_cmdline > BOOT_CMDLINE_MAX - 1)
		max_cmdline = BOOT_CMDLINE_MAX - 1;
	if (cmdline_len > max_cmdline) {
		set_err(err, errlen, "command line is %zu bytes, the kernel accepts at most %llu",
			cmdline_len, (unsigned long long)max_cmdline);
		return -E2BIG;
	}
	plan->kernel_gpa = info->pref_address;
	plan->kernel_end = plan->kernel_gpa + need;
	plan->entry_gpa = plan->kernel_gpa + 0x200;
	plan->zero_page_gpa = BOOT_ZERO_PAGE_GPA;
	plan->cmdline_gpa = BOOT_CMDLINE_GPA;
	if (plan->kernel_end > low_end) {
		set_err(err, errlen,
			"memory too small: the kernel needs 0x%llx-0x%llx, RAM below 4 GiB ends at "
			"0x%llx",
			(unsigned long long)plan->kernel_gpa, (unsigned long long)plan->kernel_end,
			(unsigned long long)low_end);
		return -ENOSPC;
	}
	if (!initrd_size)
		return 0;

	/* As high as allowed: below initrd_addr_max (last byte), below the hole, page aligned. */
	limit = (uint64_t)info->initrd_addr_max + 1;
	if (limit > low_end)
		limit = low_end;
	if (initrd_size > limit || ((limit - initrd_size) & ~(PAGE_SIZE - 1)) < plan->kernel_end) {
		set_err(err, errlen,
			"memory too small: a %llu KiB initrd does not fit between the kernel (ends "
			"0x%llx) and 0x%llx",
			(unsigned long long)(initrd_size >> 10),
			(unsigned long long)plan->kernel_end, (unsigned long long)limit);
		return -ENOSPC;
	}
	plan->initrd_gpa = (limit - initrd_size) & ~(PAGE_SIZE - 1);
	plan->initrd_size = initrd_size;
	return 0;
}

static unsigned e820_add(struct boot_e820_entry *t, unsigned n, unsigned max, uint64_t addr,
			 uint64_t size, uint32_t type)
{
	if (n >= max || !size)
		return n;
	t[n].addr = addr;
	t[n].size = size;
	t[n].type = type;
	return n + 1;
}

unsigned boot_e820_build(const struct guest_mem *gm, struct boot_e820_entry *t, unsigned max)
{
	/* Values of the e820 "type" field (ACPI "Address Range Types"). */
	enum { E820_RAM = 1, E820_RESERVED = 2 };
	uint64_t low_end = guest_mem_low_end(gm);
	unsigned n = 0;

	n = e820_add(t, n, max, 0, EBDA_START, E820_RAM);
	n = e820_add(t, n, max, EBDA_START, 0xA0000 - EBDA_START, E820_RESERVED);
	/* 0xA0000 up to the ACPI tables: VGA/option ROM window, left as a gap. */
	n = e820_add(t, n, max, ACPI_TABLES_GPA, ACPI_TABLES_SIZE, E820_RESERVED);
	n = e820_add(t, n, max, HIGH_RAM_START, low_end - HIGH_RAM_START, E820_RAM);
	/* [low_end, 4 GiB) is the MMIO hole: absent from the map, so Linux puts PCI there, but
	 * for the ECAM, which Linux wants reserved (it checks before trusting the MCFG). */
	n = e820_add(t, n, max, PCI_ECAM_GPA, PCI_ECAM_LEN, E820_RESERVED);
	for (unsigned i = 1; i < gm->nregions; i++)
		n = e820_add(t, n, max, gm->regions[i].gpa, gm->regions[i].size, E820_RAM);
	return n;
}

void boot_zero_page_build(struct boot_params *bp, const struct bzimage_info *info,
			  const struct boot_plan *plan, const struct guest_mem *gm,
			  uint64_t rsdp_gpa, uint64_t setup_data_gpa)
{
	memset(bp, 0, sizeof(*bp));
	memcpy((uint8_t *)bp + HDR_SETUP_SECTS, info->header, info->header_len);
	bp->hdr.type_of_loader = TYPE_OF_LOADER_UNDEF;
	bp->hdr.loadflags |= LOADFLAG_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = SETUP_HEAP_END;
	bp->hdr.code32_start = (uint32_t)plan->kernel_gpa;
	bp->hdr.cmd_line_ptr = (uint32_t)plan->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(plan->cmdline_gpa >> 32);
	bp->hdr.ramdisk_image = (uint32_t)plan->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(plan->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)plan->initrd_size;
	bp->ext_ramdisk_size = (uint32_t)(plan->initrd_size >> 32);
	bp->hdr.setup_data = setup_data_gpa;
	bp->acpi_rsdp_addr = rsdp_gpa;
	bp->e820_entries = (uint8_t)boot_e820_build(gm, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
}

/*
 * @len bytes of @fd from @off into guest RAM at @gpa. The whole pages are mapped from the file
 * copy-on-write over guest RAM (MAP_PRIVATE | MAP_FIXED) instead of read: no copy and no page
 * fault here; the guest faults in what it reads, each page copied once from the page cache
 * then. Where @off is not page-aligned the mapping starts at the file page below it, so the
 * up to 4095 bytes below @gpa get the file's bytes before @off: @below_free says they are
 * free RAM (nothing lives there). A part that cannot be mapped (the last partial page when
 * the file goes on past it, a file system without mmap) is read.
 */
static int load_file(const struct guest_mem *gm, int fd, uint64_t gpa, uint64_t len, uint64_t off,
		     int below_free)
{
	uint64_t lead = off & (PAGE_SIZE - 1), end = off + len, map_end;
	uint8_t *dst = guest_mem_ptr(gm, gpa, len), *base;
	struct stat st;

	if (!dst)
		return -ENOSPC;
	if ((lead && !below_free) || gpa < lead || fstat(fd, &st) < 0 ||
	    (gpa - lead) & (PAGE_SIZE - 1))
		return pread_all(fd, dst, len, off);
	base = guest_mem_ptr(gm, gpa - lead, len + lead);
	/* To the file's end, the last page's rest is zeros (as fresh RAM); before it, whole pages.
	 */
	map_end = end == (uint64_t)st.st_size ? (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
					      : end & ~(PAGE_SIZE - 1);
	if (!base || map_end <= off - lead ||
	    mmap(base, map_end - (off - lead), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
		 (off_t)(off - lead)) == MAP_FAILED)
		return pread_all(fd, dst, len, off);
	/* A new mapping does not inherit guest RAM's MADV_DONTDUMP (guest_mem.c): set it again,
	 * or the images and what the guest writes over them would be in a host core dump. */
	if (madvise(base, map_end - (off - lead), MADV_DONTDUMP) < 0)
		return -errno;
	if (map_end >= end)
		return 0;
	return pread_all(fd, base + (map_end - (off - lead)), end - map_end, map_end);
}

int boot_load(const struct guest_mem *gm, const struct bzimage_info *info,
	      const struct boot_plan *plan, int kfd, int ifd, const char *cmdline,
	      uint64_t rsdp_gpa, uint64_t setup_data_gpa, char *err, size_t errlen)
{
	struct boot_params *bp;
	void *dst;
	size_t clen = strlen(cmdline);
	int ret;

	dst = guest_mem_ptr(gm, plan->kernel_gpa, info->pm_size);
	if (!dst) {
		set_err(err, errlen, "kernel does not fit in guest RAM");
		return -ENOSPC;
	}
	/* Below the kernel (at 1 MiB or above) is free RAM: the tables all live below 1 MiB. */
	ret = load_file(gm, kfd, plan->kernel_gpa, info->pm_size, info->pm_offset,
			plan->kernel_gpa >= HIGH_RAM_START + 4096);
	if (ret) {
		set_err(err, errlen, "cannot read kernel: %s", strerror(-ret));
		return ret;
	}
	if (plan->initrd_size) {
		dst = guest_mem_ptr(gm, plan->initrd_gpa, plan->initrd_size);
		if (!dst) {
			set_err(err, errlen, "initrd does not fit in guest RAM");
			return -ENOSPC;
		}
		ret = load_file(gm, ifd, plan->initrd_gpa, plan->initrd_size, 0, 0);
		if (ret) {
			set_err(err, errlen, "cannot read initrd: %s", strerror(-ret));
			return ret;
		}
	}
	if (guest_mem_write(gm, plan->cmdline_gpa, cmdline, clen + 1)) {
		set_err(err, errlen, "command line does not fit in guest RAM");
		return -ENOSPC;
	}
	bp = guest_mem_ptr(gm, plan->zero_page_gpa, sizeof(*bp));
	if (!bp) {
		set_err(err, errlen, "zero page does not fit in guest RAM");
		return -ENOSPC;
	}
	boot_zero_page_build(bp, info, plan, gm, rsdp_gpa, setup_data_gpa);
	return 0;
}
