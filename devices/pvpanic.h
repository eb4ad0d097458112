/* pvpanic.h - the pvpanic event register: one core, used behind an ISA port, MMIO or a PCI BAR. */
#ifndef MINIVMM_PVPANIC_H
#define MINIVMM_PVPANIC_H

#include <stdint.h>

#include "core/bus.h"
#include "core/fwdesc.h"
#include "core/request.h"

/* Event bits (docs/specs/pvpanic.rst in QEMU; include/uapi/misc/pvpanic.h in Linux). */
#define PVPANIC_PANICKED     (1u << 0) /* guest panicked; the host handles it */
#define PVPANIC_CRASH_LOADED (1u << 1) /* guest panicked; its crash kernel handles it */
#define PVPANIC_SHUTDOWN     (1u << 2) /* regular guest shutdown */
#define PVPANIC_EVENTS_ALL   (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED | PVPANIC_SHUTDOWN)

#define PVPANIC_ISA_PORT 0x505
#define PVPANIC_REG_LEN	 1

struct pvpanic {
	uint8_t events; /* the bits this instance recognises (--pvpanic events=) */
	struct request_sink sink;
	int unknown_logged; /* atomic: unknown bits are reported once per device */
};

/* Set up an instance recognising @events (a subset of PVPANIC_EVENTS_ALL). */
void pvpanic_init(struct pvpanic *p, uint8_t events, const struct request_sink *sink);

/*
 * A guest write of @val: bits the device does not recognise are ignored (unknown ones logged
 * once); of the rest, the first set in the order panicked, crash-loaded, shutdown is acted on,
 * as QEMU does. Posts VM_REQ_PANIC, VM_REQ_CRASHLOADED or VM_REQ_PVSHUTDOWN.
 */
void pvpanic_write_event(struct pvpanic *p, uint8_t val);

/* One-byte register at offset 0; opaque = struct pvpanic. Same ops for port and MMIO. */
extern const struct bus_ops pvpanic_bus_ops;

/*
 * Firmware description of an instance: ACPI "QEMU0001" with an IO (@kind FW_RES_IO) or
 * Memory32Fixed (FW_RES_MMIO) resource at @base and the RDPT/WRPT methods; for MMIO also the
 * FDT node "pvpanic", compatible "qemu,pvpanic-mmio".
 */
void pvpanic_fw_device(struct fw_device *out, enum fw_res_kind kind, uint64_t base, uint32_t uid);

#endif
