/* test_fw_cfg.c - the fw_cfg device through its bus ops: selector, data, file directory, DMA,
 * hostile guests. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devices/fw_cfg.h"
#include "core/be.h"
#include "tests/unit/unit.h"

#define RAM_SIZE (64 * 1024)
#define PAGE	 4096

/* Guest RAM at 0 with an inaccessible page on each side: a stray access kills the test. */
static void fake_ram(struct guest_mem *gm)
{
	uint8_t *p = mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(mprotect(p + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE), 0);
	memset(gm, 0, sizeof(*gm));
	gm->regions[0] = (struct guest_region){ 0, RAM_SIZE, p + PAGE };
	gm->nregions = 1;
	gm->ram_size = RAM_SIZE;
}

static void sel(struct fw_cfg *fw, uint16_t key)
{
	uint8_t d[2] = { (uint8_t)key, (uint8_t)(key >> 8) }; /* outw: little-endian */

	fw_cfg_bus_ops.write(fw, FW_CFG_SEL_OFF, d, 2);
}

static uint8_t rd8(struct fw_cfg *fw, uint64_t off)
{
	uint8_t v;

	fw_cfg_bus_ops.read(fw, off, &v, 1);
	return v;
}

static void read_blob(struct fw_cfg *fw, uint16_t key, uint8_t *buf, unsigned len)
{
	sel(fw, key);
	for (unsigned i = 0; i < len; i++)
		buf[i] = rd8(fw, FW_CFG_DATA_OFF);
}

/* Linux's way: iowrite32be(high) at +4, then iowrite32be(low) at +8, which starts it. */
static void dma_kick(struct fw_cfg *fw, uint64_t desc)
{
	uint8_t hi[4], lo[4];

	be_put32(hi, (uint32_t)(desc >> 32));
	be_put32(lo, (uint32_t)desc);
	fw_cfg_bus_ops.write(fw, FW_CFG_DMA_OFF, hi, 4);
	fw_cfg_bus_ops.write(fw, FW_CFG_DMA_OFF + 4, lo, 4);
}

/* Put a descriptor at @desc in guest RAM, run it, return its control word afterwards. */
static uint32_t dma(struct fw_cfg *fw, struct guest_mem *gm, uint64_t desc, uint32_t control,
		    uint32_t length, uint64_t addr)
{
	uint8_t d[16];

	be_put32(d, control);
	be_put32(d + 4, length);
	be_put32(d + 8, (uint32_t)(addr >> 32));
	be_put32(d + 12, (uint32_t)addr);
	ck_assert_int_eq(guest_mem_write(gm, desc, d, 16), 0);
	dma_kick(fw, desc);
	ck_assert_int_eq(guest_mem_read(gm, d, desc, 4), 0);
	return be_get32(d);
}

START_TEST(test_signature_id_dir)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint8_t buf[80];

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	read_blob(&fw, FW_CFG_SIGNATURE, buf, 6);
	ck_assert_mem_eq(buf, "QEMU\0\0", 6); /* past the end: zeroes */
	/* A byte read of the selector port is a data read, as in QEMU's combined region. */
	sel(&fw, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(rd8(&fw, FW_CFG_SEL_OFF), 'Q');
	ck_assert_uint_eq(rd8(&fw, FW_CFG_DATA_OFF), 'E');
	read_blob(&fw, FW_CFG_ID, buf, 4);
	ck_assert_uint_eq(buf[0], FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	ck_assert_uint_eq(buf[1] | buf[2] | buf[3], 0);
	read_blob(&fw, FW_CFG_FILE_DIR, buf, 4 + 64);
	ck_assert_uint_eq(be_get32(buf), 1);
	ck_assert_uint_eq(be_get32(buf + 4), FW_CFG_VMCOREINFO_LEN);
	ck_assert_uint_eq(buf[8] << 8 | buf[9], FW_CFG_VMCOREINFO_KEY);
	ck_assert_str_eq((char *)buf + 12, "etc/vmcoreinfo");
	/* The write-channel bit is ignored in a key. */
	read_blob(&fw, FW_CFG_WRITE_CHANNEL | FW_CFG_FILE_DIR, buf, 4);
	ck_assert_uint_eq(be_get32(buf), 1);
	/* The file as offered: host format 1 (ELF), nothing from the guest yet. */
	read_blob(&fw, FW_CFG_VMCOREINFO_KEY, buf, 16);
	ck_assert_uint_eq(buf[0] | buf[1] << 8, FW_CFG_VMCOREINFO_FORMAT_ELF);
	for (int i = 2; i < 16; i++)
		ck_assert_uint_eq(buf[i], 0);
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_unknown_selectors)
{
	static const uint16_t keys[] = { 0x0002, 0x0018, 0x001a, 0x0021,
					 0x3fff, 0x8000, 0x8019, 0xffff };
	struct guest_mem gm;
	struct fw_cfg fw;

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		sel(&fw, keys[i]);
		for (int j = 0; j < 8; j++)
			ck_assert_uint_eq(rd8(&fw, FW_CFG_DATA_OFF), 0);
	}
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_bad_sizes)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint8_t b[4] = { 0x19, 0, 0, 0 };
	uint32_t v;
	uint16_t w;

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	sel(&fw, FW_CFG_SIGNATURE);
	/* Word and dword reads of the data port, a word write to it, a dword selector write,
	 * word accesses to the DMA register, the unused ports 0x512/0x513: refused. */
	fw_cfg_bus_ops.read(&fw, FW_CFG_DATA_OFF, &w, 2);
	ck_assert_uint_eq(w, 0xffff);
	fw_cfg_bus_ops.read(&fw, FW_CFG_SEL_OFF, &v, 4);
	ck_assert_uint_eq(v, 0xffffffff);
	fw_cfg_bus_ops.write(&fw, FW_CFG_DATA_OFF, b, 2);
	fw_cfg_bus_ops.write(&fw, FW_CFG_SEL_OFF, b, 4);
	fw_cfg_bus_ops.read(&fw, FW_CFG_DMA_OFF, &w, 2);
	ck_assert_uint_eq(w, 0xffff);
	fw_cfg_bus_ops.read(&fw, FW_CFG_DMA_OFF + 2, &v, 4);
	ck_assert_uint_eq(v, 0xffffffff);
	fw_cfg_bus_ops.write(&fw, FW_CFG_DMA_OFF + 6, b, 2);
	fw_cfg_bus_ops.write(&fw, 2, b, 1);
	ck_assert_uint_eq(rd8(&fw, 3), 0xff);
	ck_assert_uint_ge(fw.guest_errors, 8);
	/* None of it moved the selection: the signature goes on. */
	ck_assert_uint_eq(rd8(&fw, FW_CFG_DATA_OFF), 'Q');
	/* A byte write of data is ignored and does not advance. */
	fw_cfg_bus_ops.write(&fw, FW_CFG_DATA_OFF, b, 1);
	ck_assert_uint_eq(rd8(&fw, FW_CFG_DATA_OFF), 'E');
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_dma_signature_register)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint8_t b[4];

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	fw_cfg_bus_ops.read(&fw, FW_CFG_DMA_OFF, b, 4);
	ck_assert_mem_eq(b, "QEMU", 4);
	fw_cfg_bus_ops.read(&fw, FW_CFG_DMA_OFF + 4, b, 4);
	ck_assert_mem_eq(b, " CFG", 4);
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_dma_read)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint8_t buf[8];

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	memset(gm.regions[0].host + 0x2000, 0xaa, 16);
	/* Select and read the signature, 8 bytes: 4 of data and 4 zeroes past its end. */
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000,
			      FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			      8, 0x2000),
			  0);
	ck_assert_int_eq(guest_mem_read(&gm, buf, 0x2000, 8), 0);
	ck_assert_mem_eq(buf, "QEMU\0\0\0\0", 8);
	ck_assert_uint_eq(gm.regions[0].host[0x2008], 0xaa);
	/* Skip then read, the item still selected from the port. */
	sel(&fw, FW_CFG_FILE_DIR);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000, FW_CFG_DMA_CTL_SKIP, 12, 0), 0);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000, FW_CFG_DMA_CTL_READ, 8, 0x2000), 0);
	ck_assert_int_eq(guest_mem_read(&gm, buf, 0x2000, 8), 0);
	ck_assert_mem_eq(buf, "etc/vmco", 8);
	/* No operation bit: nothing happens, and it completes. */
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000, 0, 8, 0x2000), 0);
	ck_assert_mem_eq(buf, "etc/vmco", 8);
	fw_cfg_fini(&fw);
}
END_TEST

/* What Linux's qemu_fw_cfg does at boot: one DMA write of the 16-byte struct. */
static uint32_t write_vmcoreinfo(struct fw_cfg *fw, struct guest_mem *gm, uint32_t len,
				 uint16_t fmt, uint32_t size, uint64_t paddr)
{
	uint8_t v[24] = { 0 };

	v[2] = (uint8_t)fmt;
	v[3] = (uint8_t)(fmt >> 8);
	memcpy(v + 4, &size, 4); /* little-endian host */
	memcpy(v + 8, &paddr, 8);
	ck_assert_int_eq(guest_mem_write(gm, 0x3000, v, sizeof(v)), 0);
	return dma(fw, gm, 0x1000,
		   FW_CFG_VMCOREINFO_KEY << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, len,
		   0x3000);
}

START_TEST(test_vmcoreinfo_write)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint64_t paddr = 0;
	uint32_t size = 0;
	uint8_t buf[16];

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	ck_assert_int_eq(fw_cfg_vmcoreinfo(&fw, &paddr, &size), -ENOENT);
	ck_assert_uint_eq(write_vmcoreinfo(&fw, &gm, 16, 1, 0x1024, 0x12345678000ull), 0);
	ck_assert_int_eq(fw_cfg_vmcoreinfo(&fw, &paddr, &size), 0);
	ck_assert_uint_eq(paddr, 0x12345678000ull);
	ck_assert_uint_eq(size, 0x1024);
	/* The guest reads back what it wrote. */
	read_blob(&fw, FW_CFG_VMCOREINFO_KEY, buf, 16);
	ck_assert_uint_eq(buf[2], 1);
	/* A reset forgets it: the next kernel publishes its own. */
	fw_cfg_reset(&fw);
	ck_assert_int_eq(fw_cfg_vmcoreinfo(&fw, &paddr, &size), -ENOENT);
	/* Another guest format is not an ELF note: not used. */
	ck_assert_uint_eq(write_vmcoreinfo(&fw, &gm, 16, 2, 0x1024, 0x1000), 0);
	ck_assert_int_eq(fw_cfg_vmcoreinfo(&fw, &paddr, &size), -ENOENT);
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_dma_write_refused)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint64_t paddr;
	uint32_t size;
	uint8_t buf[4];

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	/* Longer than the file: error, nothing stored. */
	ck_assert_uint_eq(write_vmcoreinfo(&fw, &gm, 17, 1, 0x1024, 0x1000), FW_CFG_DMA_CTL_ERROR);
	ck_assert_int_eq(fw_cfg_vmcoreinfo(&fw, &paddr, &size), -ENOENT);
	/* Read-only items and no item at all. */
	ck_assert_int_eq(guest_mem_write(&gm, 0x3000, "XXXX", 4), 0);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000,
			      FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE,
			      4, 0x3000),
			  FW_CFG_DMA_CTL_ERROR);
	read_blob(&fw, FW_CFG_SIGNATURE, buf, 4);
	ck_assert_mem_eq(buf, "QEMU", 4);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000,
			      0x1234 << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 4,
			      0x3000),
			  FW_CFG_DMA_CTL_ERROR);
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_dma_outside_ram)
{
	struct guest_mem gm;
	struct fw_cfg fw;
	uint8_t before[RAM_SIZE];
	uint64_t paddr;
	uint32_t size;

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	/* Data addresses outside RAM, straddling its end, wrapping past 2^64: the error bit. */
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000,
			      FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			      4, RAM_SIZE),
			  FW_CFG_DMA_CTL_ERROR);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000,
			      FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ,
			      4, RAM_SIZE - 2),
			  FW_CFG_DMA_CTL_ERROR);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000,
			      0x19 << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 0xffffffff,
			      RAM_SIZE - 16),
			  FW_CFG_DMA_CTL_ERROR);
	ck_assert_uint_eq(dma(&fw, &gm, 0x1000, FW_CFG_DMA_CTL_READ, 0x1000, ~0ull - 0x10),
			  FW_CFG_DMA_CTL_ERROR);
	ck_assert_uint_eq(
	    dma(&fw, &gm, 0x1000,
		FW_CFG_VMCOREINFO_KEY << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 16,
		RAM_SIZE - 8),
	    FW_CFG_DMA_CTL_ERROR);
	ck_assert_int_eq(fw_cfg_vmcoreinfo(&fw, &paddr, &size), -ENOENT);
	/* Descriptors outside RAM or straddling its end: nothing read or written anywhere. */
	memcpy(before, gm.regions[0].host, RAM_SIZE);
	dma_kick(&fw, RAM_SIZE);
	dma_kick(&fw, RAM_SIZE - 8);
	dma_kick(&fw, ~0ull - 7);
	dma_kick(&fw, 0xfee00000);
	ck_assert_msg(!memcmp(before, gm.regions[0].host, RAM_SIZE), "RAM changed");
	ck_assert_uint_ge(fw.guest_errors, 9);
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_hostile)
{
	/* Random accesses of every size to every port, with random descriptors (some pointing
	 * at themselves, some at the end of RAM): the guard pages catch any stray access. */
	struct guest_mem gm;
	struct fw_cfg fw;
	unsigned seed = 11;

	fake_ram(&gm);
	ck_assert_int_eq(fw_cfg_init(&fw, &gm), 0);
	for (int i = 0; i < 200000; i++) {
		unsigned r = (unsigned)rand_r(&seed);
		unsigned len = 1u << (r % 3);
		uint64_t off = (r >> 2) % FW_CFG_PORT_LEN;
		uint8_t data[4];

		if (off + len > FW_CFG_PORT_LEN)
			continue;
		if ((r >> 8) % 64 == 0) {
			uint64_t desc = (uint64_t)rand_r(&seed) % (RAM_SIZE + 64);
			uint64_t addr = (r >> 12) % 4 ? (uint64_t)rand_r(&seed) % (RAM_SIZE + 64)
						      : (uint64_t)rand_r(&seed) << 33;

			if (desc + 16 <= RAM_SIZE)
				dma(&fw, &gm, desc, (uint32_t)rand_r(&seed),
				    (uint32_t)rand_r(&seed) % (RAM_SIZE * 2), addr);
			else
				dma_kick(&fw, desc);
			continue;
		}
		for (unsigned j = 0; j < len; j++)
			data[j] = (uint8_t)rand_r(&seed);
		if (r & (1u << 30))
			fw_cfg_bus_ops.read(&fw, off, data, len);
		else
			fw_cfg_bus_ops.write(&fw, off, data, len);
	}
	fw_cfg_fini(&fw);
}
END_TEST

START_TEST(test_fw_device)
{
	struct fw_device d;

	fw_cfg_fw_device(&d);
	ck_assert_str_eq(d.acpi_name, "FWCF");
	ck_assert_str_eq(d.acpi_hid, "QEMU0002");
	ck_assert_uint_eq(d.nres, 1);
	ck_assert_int_eq(d.res[0].kind, FW_RES_IO);
	ck_assert_uint_eq(d.res[0].base, 0x510);
	ck_assert_uint_eq(d.res[0].len, 12);
}
END_TEST

static Suite *fw_cfg_suite(void)
{
	Suite *s = suite_create("fw_cfg");
	TCase *tc = tcase_create("fw_cfg");

	tcase_add_test(tc, test_signature_id_dir);
	tcase_add_test(tc, test_unknown_selectors);
	tcase_add_test(tc, test_bad_sizes);
	tcase_add_test(tc, test_dma_signature_register);
	tcase_add_test(tc, test_dma_read);
	tcase_add_test(tc, test_vmcoreinfo_write);
	tcase_add_test(tc, test_dma_write_refused);
	tcase_add_test(tc, test_dma_outside_ram);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_fw_device);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(fw_cfg_suite());
}
