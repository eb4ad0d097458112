/* serial_16550.h - a 16550A UART (COM1 at 0x3F8, IRQ 4) for the guest console. */
#ifndef MINIVMM_SERIAL_16550_H
#define MINIVMM_SERIAL_16550_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/fwdesc.h"
#include "vmm/request.h"

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ  4
#define SERIAL_PORT_LEN  8
#define SERIAL_FIFO_LEN  16

struct serial;

struct serial_config {
	int out_fd;           /* transmitted bytes are written here; -1 discards them */
	struct irq_line irq;  /* driven high while an interrupt is pending and OUT2 is set */
	void (*rx_space)(void *ctx); /* the RX FIFO had been full and now has room (vcpu thread) */
	void *ctx;
};

/* Create a UART in its power-on state. Returns 0 or -errno. */
int serial_create(const struct serial_config *cfg, struct serial **out);
void serial_destroy(struct serial *s);

/* Back to power-on state (VM reset). The RX FIFO is emptied. */
void serial_reset(struct serial *s);

/* Eight one-byte registers; opaque = struct serial. Runs on vcpu threads. */
extern const struct bus_ops serial_bus_ops;

/* Host input (main thread): queue up to the FIFO's room; returns the bytes accepted. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/* Free room in the RX FIFO. */
size_t serial_rx_room(struct serial *s);

/* Bytes the device could not write to out_fd (errors other than EINTR). */
uint64_t serial_tx_dropped(struct serial *s);

/* Firmware description: ACPI @acpi_name (PNP0501) with IO @port/8 and IRQ @irq; FDT
 * node "serial", compatible "ns16550a". */
void serial_fw_device(struct fw_device *out, uint16_t port, unsigned irq, const char *acpi_name,
		      uint32_t uid);

#endif
