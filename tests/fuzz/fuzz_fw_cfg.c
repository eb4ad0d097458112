/* fuzz_fw_cfg.c - libFuzzer harness: fw_cfg's ports and DMA against a hostile guest. */
/*
 * The device sits on a port I/O bus at 0x510 over 16 KiB of guest RAM with an inaccessible
 * page on each side. The input is a sequence of operations: port reads and writes of any
 * size around the device, DMA descriptors written into RAM, DMA started at addresses in RAM,
 * across its end or anywhere in the 64-bit space, resets. Invariants after each step:
 *  - the device never touches memory outside guest RAM (the guard pages fault), and a DMA
 *    changes RAM only in its descriptor's control word and, for a read, inside the range the
 *    descriptor names; nothing else ever changes RAM;
 *  - a descriptor in RAM ends with its control word 0 or just the error bit;
 *  - the read-only items (signature, id, file directory) never change; etc/vmcoreinfo changes
 *    only by a DMA write or a reset;
 *  - the selected item and offset stay in range; a data read returns the item's next byte
 *    (0 past its end or with nothing selected).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devices/fw_cfg.h"
#include "core/be.h"
#include "tests/fuzz/fuzz_input.h"

#define RAM_SIZE (16 * 1024u)
#define PAGE	 4096u

static uint8_t *ram, shadow[RAM_SIZE];
static struct guest_mem gm;

static void fail(const char *why, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "%s (0x%llx, 0x%llx)\n", why, a, b);
	abort();
}

/* A guest-physical address: mostly in RAM, sometimes at its end, sometimes anywhere. */
static uint64_t pick_addr(struct fuzz_in *in)
{
	uint8_t how = fin_u8(in);

	switch (how % 4) {
	case 0:
	case 1:
		return fin_le(in, 2) % RAM_SIZE;
	case 2:
		return RAM_SIZE - 32 + fin_u8(in) % 64; /* across the end */
	default:
		return fin_le(in, 8);
	}
}

static unsigned item_len(const struct fw_cfg *fw, int i)
{
	switch (i) {
	case FW_CFG_E_SIGNATURE:
	case FW_CFG_E_ID:
		return 4;
	case FW_CFG_E_DIR:
		return sizeof(fw->dir);
	default:
		return FW_CFG_VMCOREINFO_LEN;
	}
}

static const uint8_t *item_data(const struct fw_cfg *fw, int i)
{
	switch (i) {
	case FW_CFG_E_SIGNATURE:
		return fw->signature;
	case FW_CFG_E_ID:
		return fw->id;
	case FW_CFG_E_DIR:
		return fw->dir;
	default:
		return fw->vmcoreinfo;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct fw_cfg fw, pristine;
	struct bus pio;
	unsigned steps = 0;

	if (!ram) {
		uint8_t *p =
		    mmap(NULL, RAM_SIZE + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || mprotect(p + PAGE, RAM_SIZE, PROT_READ | PROT_WRITE))
			abort();
		ram = p + PAGE;
		gm.regions[0] = (struct guest_region){ 0, RAM_SIZE, ram };
		gm.nregions = 1;
		gm.ram_size = RAM_SIZE;
	}
	memset(ram, 0, RAM_SIZE);
	memset(shadow, 0, RAM_SIZE); /* RAM as it should be before each step */
	if (fw_cfg_init(&fw, &gm) || bus_init(&pio, "pio") ||
	    bus_register(&pio, FW_CFG_PORT_BASE, FW_CFG_PORT_LEN, &fw_cfg_bus_ops, &fw, "fw_cfg"))
		abort();
	pristine = fw;

	while (in.n && steps++ < 2048) {
		uint8_t op = fin_u8(&in), buf[8];
		uint8_t vmci[FW_CFG_VMCOREINFO_LEN];
		uint64_t desc = 0, addr = 0;
		uint32_t control = 0, length = 0;
		int dma = 0, desc_in_ram = 0;

		memcpy(vmci, fw.vmcoreinfo, sizeof(vmci));
		switch (op % 6) {
		case 0: { /* port read */
			uint64_t port = FW_CFG_PORT_BASE - 2 + fin_u8(&in) % 16;
			unsigned len = fin_size(&in);
			int cur = fw.cur;
			uint32_t off = fw.offset;

			if (bus_read(&pio, port, buf, len) != BUS_OK)
				break;
			if (port - FW_CFG_PORT_BASE <= FW_CFG_DATA_OFF && len == 1) {
				uint8_t want = cur >= 0 && off < item_len(&fw, cur)
						   ? item_data(&fw, cur)[off]
						   : 0;

				if (buf[0] != want)
					fail("data read", buf[0], want);
			}
			break;
		}
		case 1: { /* port write; a write that completes the DMA address starts a DMA */
			uint64_t port = FW_CFG_PORT_BASE - 2 + fin_u8(&in) % 16;
			unsigned len = fin_size(&in);

			for (unsigned i = 0; i < len; i++)
				buf[i] = fin_u8(&in);
			if (port + len == FW_CFG_PORT_BASE + FW_CFG_PORT_LEN &&
			    (len == 4 || len == 8)) {
				uint8_t a[8];

				memcpy(a, fw.dma_addr, 8);
				memcpy(a + 8 - len, buf, len);
				desc = (uint64_t)be_get32(a) << 32 | be_get32(a + 4);
				dma = 1;
			}
			if (bus_write(&pio, port, buf, len) != BUS_OK)
				dma = 0; /* a size the device refuses: nothing happened */
			break;
		}
		case 2: { /* a descriptor in RAM */
			uint64_t at = fin_le(&in, 2) % (RAM_SIZE - 15);
			uint8_t d[16];

			be_put32(d, (uint32_t)fin_u8(&in) | (uint32_t)fin_u8(&in) << 16);
			be_put32(d + 4, (uint32_t)fin_le(&in, 2));
			addr = pick_addr(&in);
			be_put32(d + 8, (uint32_t)(addr >> 32));
			be_put32(d + 12, (uint32_t)addr);
			memcpy(ram + at, d, 16);
			memcpy(shadow + at, d, 16);
			break;
		}
		case 3: { /* start a DMA the way Linux does: high half, then low half */
			desc = pick_addr(&in);
			be_put32(buf, (uint32_t)(desc >> 32));
			be_put32(buf + 4, (uint32_t)desc);
			bus_write(&pio, FW_CFG_PORT_BASE + FW_CFG_DMA_OFF, buf, 4);
			bus_write(&pio, FW_CFG_PORT_BASE + FW_CFG_DMA_OFF + 4, buf + 4, 4);
			dma = 1;
			break;
		}
		case 4:
			fw_cfg_reset(&fw);
			memcpy(vmci, fw.vmcoreinfo, sizeof(vmci));
			break;
		case 5: { /* the guest fills some RAM */
			uint64_t at = fin_le(&in, 2) % RAM_SIZE;
			unsigned n = fin_u8(&in) % 32;

			for (unsigned i = 0; i < n && at + i < RAM_SIZE; i++)
				ram[at + i] = shadow[at + i] = fin_u8(&in);
			break;
		}
		}

		if (dma && desc <= RAM_SIZE - 16) {
			desc_in_ram = 1;
			control = be_get32(shadow + desc);
			length = be_get32(shadow + desc + 4);
			addr = (uint64_t)be_get32(shadow + desc + 8) << 32 |
			       be_get32(shadow + desc + 12);
		}
		if (memcmp(ram, shadow, RAM_SIZE)) {
			for (uint64_t i = 0; i < RAM_SIZE; i++) {
				if (ram[i] == shadow[i] ||
				    (desc_in_ram && i >= desc && i < desc + 4))
					continue;
				if (desc_in_ram && (control & FW_CFG_DMA_CTL_READ) && i >= addr &&
				    i - addr < length)
					continue;
				fail("RAM changed outside what the DMA named", i, desc);
			}
			memcpy(shadow, ram, RAM_SIZE);
		}
		if (desc_in_ram && be_get32(ram + desc) > FW_CFG_DMA_CTL_ERROR)
			fail("DMA control word after the transfer", be_get32(ram + desc), desc);
		if (memcmp(fw.signature, pristine.signature, 4) || memcmp(fw.id, pristine.id, 4) ||
		    memcmp(fw.dir, pristine.dir, sizeof(fw.dir)))
			fail("a read-only item changed", 0, 0);
		if (!dma && memcmp(vmci, fw.vmcoreinfo, sizeof(vmci)))
			fail("etc/vmcoreinfo changed without a DMA write", op, 0);
		if (fw.cur < -1 || fw.cur >= FW_CFG_NENTRIES ||
		    (fw.cur >= 0 && fw.offset > item_len(&fw, fw.cur)) || (fw.cur < 0 && fw.offset))
			fail("selection", (unsigned long long)fw.cur, fw.offset);
	}
	bus_unregister(&pio, FW_CFG_PORT_BASE, &fw);
	bus_destroy(&pio);
	fw_cfg_fini(&fw);
	return 0;
}
