/* fw_cfg.c - QEMU's fw_cfg on x86 ports 0x510-0x51b: signature, id, file directory, DMA,
 * etc/vmcoreinfo. */
#include "fw_cfg.h"
#include "core/be.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* One item: its key and bytes. Only etc/vmcoreinfo is writable, and only by DMA. */
struct entry {
	uint16_t key;
	uint8_t *data;
	uint32_t len;
	int writable;
};

static struct entry entry_of(struct fw_cfg *fw, int i)
{
	switch (i) {
	case FW_CFG_E_SIGNATURE:
		return (struct entry){ FW_CFG_SIGNATURE, fw->signature, 4, 0 };
	case FW_CFG_E_ID:
		return (struct entry){ FW_CFG_ID, fw->id, 4, 0 };
	case FW_CFG_E_DIR:
		return (struct entry){ FW_CFG_FILE_DIR, fw->dir, sizeof(fw->dir), 0 };
	default:
		return (struct entry){ FW_CFG_VMCOREINFO_KEY, fw->vmcoreinfo, FW_CFG_VMCOREINFO_LEN,
				       1 };
	}
}

static void guest_error(struct fw_cfg *fw, const char *what, uint64_t val)
{
	if (fw->guest_errors++ < 16)
		pr_debug("fw_cfg: %s (0x%llx)", what, (unsigned long long)val);
}

static void select_key(struct fw_cfg *fw, uint16_t key)
{
	fw->cur = -1;
	fw->offset = 0;
	if (key & FW_CFG_ARCH_LOCAL)
		return;
	key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
	for (int i = 0; i < FW_CFG_NENTRIES; i++)
		if (entry_of(fw, i).key == key)
			fw->cur = i;
}

/* The next data byte; past the end, or with no item selected, 0 (as QEMU). */
static uint8_t data_read(struct fw_cfg *fw)
{
	struct entry e;

	if (fw->cur < 0)
		return 0;
	e = entry_of(fw, fw->cur);
	return fw->offset < e.len ? e.data[fw->offset++] : 0;
}

/*
 * One DMA transfer, described at guest-physical @desc. Every guest address goes through the
 * guest_mem accessors; a range that is not all RAM sets the error bit and ends the transfer.
 */
static void dma_run(struct fw_cfg *fw, uint64_t desc)
{
	uint8_t d[FW_CFG_DMA_DESC_LEN], done[4];
	uint32_t control, length;
	uint64_t addr;
	int read, write;

	if (guest_mem_read(fw->mem, d, desc, sizeof(d))) {
		guest_error(fw, "DMA descriptor outside RAM", desc);
		return; /* nowhere to report the error */
	}
	control = be_get32(d);
	length = be_get32(d + 4);
	addr = be_get64(d + 8);
	if (control & FW_CFG_DMA_CTL_SELECT)
		select_key(fw, (uint16_t)(control >> 16));
	read = !!(control & FW_CFG_DMA_CTL_READ);
	write = !read && (control & FW_CFG_DMA_CTL_WRITE);
	if (!read && !write && !(control & FW_CFG_DMA_CTL_SKIP))
		length = 0;
	control = 0;
	while (length && !control) {
		struct entry e = fw->cur >= 0 ? entry_of(fw, fw->cur) : (struct entry){ 0 };
		uint32_t len = length;

		if (!e.data || fw->offset >= e.len) {
			/* Past the item: reads give zeroes, writes fail, skips do nothing. */
			if (read) {
				void *p = guest_mem_ptr(fw->mem, addr, len);

				if (p)
					memset(p, 0, len);
				else
					control = FW_CFG_DMA_CTL_ERROR;
			}
			if (write)
				control = FW_CFG_DMA_CTL_ERROR;
		} else {
			len = length < e.len - fw->offset ? length : e.len - fw->offset;
			if (read && guest_mem_write(fw->mem, addr, e.data + fw->offset, len))
				control = FW_CFG_DMA_CTL_ERROR;
			/* A write must fit the item whole, as QEMU requires. */
			if (write && (!e.writable || len != length ||
				      guest_mem_read(fw->mem, e.data + fw->offset, addr, len)))
				control = FW_CFG_DMA_CTL_ERROR;
			if (write && !control && fw->cur == FW_CFG_E_VMCOREINFO)
				fw->vmcoreinfo_written = 1;
			if (!control)
				fw->offset += len;
		}
		addr += len;
		length -= len;
	}
	if (control)
		guest_error(fw, "DMA transfer failed", desc);
	/* Done: the control word becomes 0, or just the error bit. */
	be_put32(done, control);
	if (guest_mem_write(fw->mem, desc, done, sizeof(done)))
		guest_error(fw, "DMA descriptor outside RAM", desc);
}

static void fw_cfg_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct fw_cfg *fw = opaque;

	memset(data, 0xff, len);
	pthread_mutex_lock(&fw->lock);
	if (offset < FW_CFG_DMA_OFF && offset <= FW_CFG_DATA_OFF && len == 1) {
		*(uint8_t *)data = data_read(fw);
	} else if (offset >= FW_CFG_DMA_OFF && (len == 4 || len == 8) &&
		   (offset - FW_CFG_DMA_OFF) % len == 0) {
		/* The DMA register reads as the big-endian signature "QEMU CFG". */
		memcpy(data, FW_CFG_DMA_SIG + (offset - FW_CFG_DMA_OFF), len);
	} else {
		guest_error(fw, "bad read", offset << 8 | len);
	}
	pthread_mutex_unlock(&fw->lock);
}

static void fw_cfg_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct fw_cfg *fw = opaque;
	uint64_t off = offset - FW_CFG_DMA_OFF;

	pthread_mutex_lock(&fw->lock);
	if (offset == FW_CFG_SEL_OFF && len == 2) {
		select_key(fw, (uint16_t)bus_data_get(data, 2));
	} else if (offset <= FW_CFG_DATA_OFF && len == 1) {
		/* A data write: ignored since QEMU 2.4 (writes go by DMA). */
	} else if (offset >= FW_CFG_DMA_OFF && (len == 4 || len == 8) && off % len == 0) {
		/* Big-endian register: the guest's bytes are the address's bytes in order. */
		memcpy(fw->dma_addr + off, data, len);
		if (off + len == sizeof(fw->dma_addr)) {
			uint64_t desc = be_get64(fw->dma_addr);

			memset(fw->dma_addr, 0, sizeof(fw->dma_addr));
			dma_run(fw, desc);
		}
	} else {
		guest_error(fw, "bad write", offset << 8 | len);
	}
	pthread_mutex_unlock(&fw->lock);
}

const struct bus_ops fw_cfg_bus_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

void fw_cfg_reset(void *opaque)
{
	struct fw_cfg *fw = opaque;

	pthread_mutex_lock(&fw->lock);
	fw->cur = -1;
	fw->offset = 0;
	memset(fw->dma_addr, 0, sizeof(fw->dma_addr));
	memset(fw->vmcoreinfo, 0, sizeof(fw->vmcoreinfo));
	fw->vmcoreinfo[0] = FW_CFG_VMCOREINFO_FORMAT_ELF; /* le16 host_format */
	fw->vmcoreinfo_written = 0;
	pthread_mutex_unlock(&fw->lock);
}

int fw_cfg_init(struct fw_cfg *fw, const struct guest_mem *mem)
{
	uint8_t *f = fw->dir + 4;
	int ret;

	memset(fw, 0, sizeof(*fw));
	ret = pthread_mutex_init(&fw->lock, NULL);
	if (ret)
		return -ret;
	fw->mem = mem;
	memcpy(fw->signature, "QEMU", 4);
	fw->id[0] = FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA; /* le32 */
	be_put32(fw->dir, 1);
	be_put32(f, FW_CFG_VMCOREINFO_LEN);
	f[4] = FW_CFG_VMCOREINFO_KEY >> 8; /* be16 select, then be16 reserved */
	f[5] = FW_CFG_VMCOREINFO_KEY & 0xff;
	memcpy(f + 8, FW_CFG_VMCOREINFO_FILE, sizeof(FW_CFG_VMCOREINFO_FILE));
	fw_cfg_reset(fw);
	return 0;
}

void fw_cfg_fini(struct fw_cfg *fw)
{
	pthread_mutex_destroy(&fw->lock);
}

int fw_cfg_vmcoreinfo(struct fw_cfg *fw, uint64_t *paddr, uint32_t *size)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&fw->lock);
	if (fw->vmcoreinfo_written &&
	    (fw->vmcoreinfo[2] | fw->vmcoreinfo[3] << 8) == FW_CFG_VMCOREINFO_FORMAT_ELF) {
		*size = (uint32_t)bus_data_get(fw->vmcoreinfo + 4, 4);
		*paddr = bus_data_get(fw->vmcoreinfo + 8, 8);
		ret = 0;
	}
	pthread_mutex_unlock(&fw->lock);
	return ret;
}

void fw_cfg_fw_device(struct fw_device *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->acpi_name, sizeof(out->acpi_name), "FWCF");
	out->acpi_hid = "QEMU0002";
	out->nres = 1;
	out->res[0] = (struct fw_resource){ FW_RES_IO, FW_CFG_PORT_BASE, FW_CFG_PORT_LEN };
}
