/* serial_16550.h - a 16550A UART (COM1 at 0x3F8, IRQ 4) for the guest console. */
#ifndef MINIVMM_SERIAL_16550_H
#define MINIVMM_SERIAL_16550_H

#include <stddef.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/fwdesc.h"
#include "core/request.h"

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ	 4
#define SERIAL_PORT_LEN	 8
#define SERIAL_CLOCK_HZ	 1843200 /* the PC UART's 1.8432 MHz crystal: divisor 1 = 115200 baud */
#define SERIAL_FIFO_LEN	 16	 /* receive FIFO of the 16550A */

/*
 * Guest-visible registers, shared by the device and its tests. Offsets and bits are those of
 * the National Semiconductor PC16550D datasheet (Table II, "Summary of Registers"); Linux
 * names the same things in include/uapi/linux/serial_reg.h. DLAB is LCR bit 7.
 */
#define SERIAL_RBR 0 /* read, DLAB=0: receiver buffer */
#define SERIAL_THR 0 /* write, DLAB=0: transmitter holding */
#define SERIAL_DLL 0 /* DLAB=1: divisor latch, low byte */
#define SERIAL_IER 1 /* DLAB=0: interrupt enable */
#define SERIAL_DLM 1 /* DLAB=1: divisor latch, high byte */
#define SERIAL_IIR 2 /* read: interrupt identification (DLAB does not apply) */
#define SERIAL_FCR 2 /* write: FIFO control (DLAB does not apply) */
#define SERIAL_LCR 3 /* line control */
#define SERIAL_MCR 4 /* modem control */
#define SERIAL_LSR 5 /* line status */
#define SERIAL_MSR 6 /* modem status */
#define SERIAL_SCR 7 /* scratch */

/* IER: bits 4-7 are always 0 on a 16550A (Linux's autoconfig tells an XScale by bit 6). */
#define SERIAL_IER_RDI	0x01 /* received data available (and character timeout) */
#define SERIAL_IER_THRI 0x02 /* transmitter holding register empty */
#define SERIAL_IER_RLSI 0x04 /* receiver line status: OE, PE, FE, BI */
#define SERIAL_IER_MSI	0x08 /* modem status: a delta bit in MSR */
#define SERIAL_IER_MASK 0x0f

/* IIR: bit 0 set = nothing pending; bits 1-3 the source, highest priority first below. */
#define SERIAL_IIR_NO_INT  0x01
#define SERIAL_IIR_ID_MASK 0x0e
#define SERIAL_IIR_RLSI	   0x06 /* 1st: line status error; cleared by reading LSR */
#define SERIAL_IIR_RDI	   0x04 /* 2nd: data at the trigger level; cleared by draining RBR */
#define SERIAL_IIR_CTI	   0x0c /* 2nd: character timeout (never: the trigger is 1 byte) */
#define SERIAL_IIR_THRI	   0x02 /* 3rd: THR empty; cleared by reading IIR or writing THR */
#define SERIAL_IIR_MSI	   0x00 /* 4th: modem status; cleared by reading MSR */
#define SERIAL_IIR_FIFO	   0xc0 /* both set while FCR enables the FIFOs (16550A, not 16550) */

/* FCR */
#define SERIAL_FCR_ENABLE   0x01 /* changing it empties both FIFOs */
#define SERIAL_FCR_CLEAR_RX 0x02 /* self-clearing */
#define SERIAL_FCR_CLEAR_TX 0x04 /* self-clearing */
#define SERIAL_FCR_DMA	    0x08
#define SERIAL_FCR_TRIGGER  0xc0 /* RX trigger level 1/4/8/14 bytes */

/* LCR: bits 0-6 (word length, stop bits, parity, break) only matter on a wire. */
#define SERIAL_LCR_DLAB 0x80

/* MCR: bits 5-7 are always 0 on a 16550A. */
#define SERIAL_MCR_DTR	0x01
#define SERIAL_MCR_RTS	0x02
#define SERIAL_MCR_OUT1 0x04
#define SERIAL_MCR_OUT2 0x08 /* on PCs, enables the IRQ line to the interrupt controller */
#define SERIAL_MCR_LOOP 0x10
#define SERIAL_MCR_MASK 0x1f

/* LSR */
#define SERIAL_LSR_DR	  0x01 /* data ready */
#define SERIAL_LSR_OE	  0x02 /* overrun error; cleared by reading LSR */
#define SERIAL_LSR_PE	  0x04 /* parity error (never: no wire) */
#define SERIAL_LSR_FE	  0x08 /* framing error (never) */
#define SERIAL_LSR_BI	  0x10 /* break interrupt (never) */
#define SERIAL_LSR_THRE	  0x20 /* THR empty */
#define SERIAL_LSR_TEMT	  0x40 /* THR and shift register empty */
#define SERIAL_LSR_FIFOE  0x80 /* PE/FE/BI somewhere in the RX FIFO (never) */
#define SERIAL_LSR_ERRORS 0x1e /* what the RLS interrupt reports */

/* MSR: low nibble latches changes since the last MSR read, high nibble is the lines now. */
#define SERIAL_MSR_DCTS	  0x01
#define SERIAL_MSR_DDSR	  0x02
#define SERIAL_MSR_TERI	  0x04 /* trailing edge of ring indicator: RI went 1 -> 0 */
#define SERIAL_MSR_DDCD	  0x08
#define SERIAL_MSR_CTS	  0x10
#define SERIAL_MSR_DSR	  0x20
#define SERIAL_MSR_RI	  0x40
#define SERIAL_MSR_DCD	  0x80
#define SERIAL_MSR_DELTAS 0x0f

struct serial;

struct serial_config {
	int out_fd;	     /* transmitted bytes are written here; -1 discards them */
	struct irq_line irq; /* driven high while an interrupt is pending and OUT2 gates it on */
	void (*rx_space)(void *ctx); /* the RX FIFO had been full and now has room */
	/*
	 * IER's THRI went off (@polled) or on. With it off the guest polls LSR between the bytes
	 * it writes (Linux's console), so a THR write needs no answer until the guest's next
	 * access: the machine may batch them (KVM's coalesced writes). With it on, a THR write
	 * must raise THRE at once. On the vcpu thread, outside the device lock; NULL: none. At
	 * power-on and after serial_reset, THRI is off.
	 */
	void (*tx_polled)(void *tx_ctx, int polled);
	void *tx_ctx;
	void *ctx;
};

/*
 * Create a UART in its power-on state, copying @cfg. The device does not own out_fd (the
 * caller closes it after serial_destroy). Returns 0 or -errno.
 */
int serial_create(const struct serial_config *cfg, struct serial **out);

/* Free @s (NULL is fine). No bus access or serial_receive may be in flight. */
void serial_destroy(struct serial *s);

/*
 * Back to the power-on state (VM reset): registers as after the chip's MR pin, both FIFOs
 * empty, the IRQ line lowered (irq.set(0) if it was high). Call with the vcpus stopped. May
 * call rx_space (on the calling thread) if host input had been refused.
 */
void serial_reset(struct serial *s);

/*
 * Eight one-byte registers; opaque = struct serial. Run on vcpu threads. Any value written to
 * any register is accepted; what a 16550A ignores is ignored. A THR write calls write(2) on
 * out_fd from the vcpu thread; a console that takes nothing for a second is treated as
 * stalled and bytes are dropped (see serial_tx_dropped) until it takes one again, so a vcpu
 * never blocks forever. An RBR read or FCR write that makes room after host input was
 * refused calls rx_space on the vcpu thread, outside the device lock.
 */
extern const struct bus_ops serial_bus_ops;

/*
 * Host input (main thread): queue up to the receive room (16 bytes with the FIFO on, 1
 * without, none in loopback) and return how many bytes were accepted. When fewer than @len
 * are taken, rx_space is called once room appears again. Raises the RDA interrupt if enabled.
 */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/*
 * Room for host input now. A result of 0 arms rx_space, so a caller may stop reading its
 * input until then.
 */
size_t serial_rx_room(struct serial *s);

/* Transmitted bytes that could not be written to out_fd (error, EAGAIN or stalled console). */
uint64_t serial_tx_dropped(struct serial *s);

/*
 * Firmware description of one UART: ACPI device @acpi_name (4 characters, "COM1") with
 * _HID PNP0501 and _UID @uid, an IO resource @port..@port+7 and IRQ @irq; FDT node "serial",
 * compatible "ns16550a", with its clock-frequency, a console (/chosen/stdout-path). The bus
 * registration uses the same @port and SERIAL_PORT_LEN.
 */
void serial_fw_device(struct fw_device *out, uint16_t port, unsigned irq, const char *acpi_name,
		      uint32_t uid);

#endif
