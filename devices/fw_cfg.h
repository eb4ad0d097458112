/* fw_cfg.h - QEMU's firmware configuration device: selector, data and DMA ports, etc/vmcoreinfo. */
#ifndef MINIVMM_FW_CFG_H
#define MINIVMM_FW_CFG_H

#include <pthread.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/fwdesc.h"
#include "core/guest_mem.h"

/* The x86 I/O interface (QEMU docs/specs/fw_cfg.rst). */
#define FW_CFG_PORT_BASE 0x510
#define FW_CFG_PORT_LEN	 12	    /* selector, data, DMA address: QEMU's _CRS length with DMA */
#define FW_CFG_SEL_OFF	 0	    /* 16-bit selector (write); a byte access here is data */
#define FW_CFG_DATA_OFF	 1	    /* 8-bit data, read sequentially; writes are ignored */
#define FW_CFG_DMA_OFF	 4	    /* 64-bit big-endian DMA address: high half, then low starts */
#define FW_CFG_DMA_SIG	 "QEMU CFG" /* what the DMA address register reads back */

/* Selector keys. */
#define FW_CFG_SIGNATURE     0x0000 /* "QEMU" */
#define FW_CFG_ID	     0x0001 /* le32 feature bits */
#define FW_CFG_FILE_DIR	     0x0019 /* be32 count, then struct fw_cfg_file entries */
#define FW_CFG_FILE_FIRST    0x0020 /* the first file's key */
#define FW_CFG_WRITE_CHANNEL 0x4000 /* ignored in the key, as QEMU does */
#define FW_CFG_ARCH_LOCAL    0x8000 /* arch-local keys: minivmm has none */

#define FW_CFG_ID_TRADITIONAL (1u << 0)
#define FW_CFG_ID_DMA	      (1u << 1)

/* The DMA access descriptor in guest RAM: be32 control, be32 length, be64 address. */
#define FW_CFG_DMA_DESC_LEN   16
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10

#define FW_CFG_FILE_NAME_LEN 56
#define FW_CFG_FILE_LEN	     (8 + FW_CFG_FILE_NAME_LEN) /* be32 size, be16 select, be16 0, name */

/*
 * etc/vmcoreinfo (QEMU docs/specs/vmcoreinfo.rst): le16 host_format, le16 guest_format,
 * le32 size, le64 paddr. The host offers format 1 (an ELF note); the guest writes the address
 * and size of its VMCOREINFO note.
 */
#define FW_CFG_VMCOREINFO_FILE	     "etc/vmcoreinfo"
#define FW_CFG_VMCOREINFO_LEN	     16
#define FW_CFG_VMCOREINFO_FORMAT_ELF 1
#define FW_CFG_VMCOREINFO_KEY	     FW_CFG_FILE_FIRST

enum { FW_CFG_E_SIGNATURE, FW_CFG_E_ID, FW_CFG_E_DIR, FW_CFG_E_VMCOREINFO, FW_CFG_NENTRIES };

struct fw_cfg {
	pthread_mutex_t lock; /* everything below */
	const struct guest_mem *mem;
	int cur;	 /* selected entry, -1 none */
	uint32_t offset; /* next byte of it */
	uint8_t dma_addr[8];
	uint8_t signature[4], id[4];
	uint8_t dir[4 + FW_CFG_FILE_LEN];
	uint8_t vmcoreinfo[FW_CFG_VMCOREINFO_LEN];
	int vmcoreinfo_written;
	uint64_t guest_errors; /* bad accesses and failed DMA, counted */
};

/* Set up the device over guest RAM @mem (DMA goes only through its checked accessors). */
int fw_cfg_init(struct fw_cfg *fw, const struct guest_mem *mem) __attribute__((warn_unused_result));
/* Power-on state: nothing selected, etc/vmcoreinfo as offered. opaque = struct fw_cfg. */
void fw_cfg_reset(void *fw);
/* Free what fw_cfg_init took (not @fw itself). */
void fw_cfg_fini(struct fw_cfg *fw);

/* The twelve ports at FW_CFG_PORT_BASE; opaque = struct fw_cfg. */
extern const struct bus_ops fw_cfg_bus_ops;

/* ACPI "QEMU0002" (FWCF) with an IO resource over the twelve ports, as QEMU describes it. */
void fw_cfg_fw_device(struct fw_device *out);

/*
 * Where the guest said its VMCOREINFO ELF note is: 0 with *@paddr and *@size once the guest
 * wrote etc/vmcoreinfo with the ELF format since the last reset, else -ENOENT. The values are
 * the guest's, unchecked.
 */
int fw_cfg_vmcoreinfo(struct fw_cfg *fw, uint64_t *paddr, uint32_t *size);

#endif
