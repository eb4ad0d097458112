/*
 * serial_16550.c - 16550A UART: the registers Linux's 8250 driver uses, a 16-byte RX FIFO,
 * instant transmission, interrupts with the 16550's priorities, loopback.
 *
 * Register and bit meanings: National Semiconductor PC16550D datasheet (the same names as
 * Linux's include/uapi/linux/serial_reg.h). Transmission is instantaneous, so THRE and TEMT
 * always read set and the THRE interrupt re-arms on every THR write.
 */
#include "serial_16550.h"
#include "vmm/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Register offsets. DLAB (LCR bit 7) turns 0 and 1 into the divisor latch. */
#define UART_RX  0 /* read: receive buffer */
#define UART_TX  0 /* write: transmit holding */
#define UART_DLL 0 /* DLAB: divisor latch low */
#define UART_IER 1
#define UART_DLM 1 /* DLAB: divisor latch high */
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI  0x01 /* received data available */
#define UART_IER_THRI 0x02 /* transmit holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI  0x08 /* modem status */
#define UART_IER_MASK 0x0f

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_FIFO   0xc0 /* both bits: FIFOs enabled (a 16550A, not a buggy 16550) */

#define UART_FCR_ENABLE   0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on PCs gates the IRQ line to the interrupt controller */
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1f

#define UART_LSR_DR    0x01 /* data ready */
#define UART_LSR_OE    0x02 /* overrun */
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_LSR_ERRORS 0x1e /* OE, PE, FE, BI: the ones RLSI reports */

#define UART_MSR_DCTS  0x01
#define UART_MSR_DDSR  0x02
#define UART_MSR_TERI  0x04
#define UART_MSR_DDCD  0x08
#define UART_MSR_CTS   0x10
#define UART_MSR_DSR   0x20
#define UART_MSR_RI    0x40
#define UART_MSR_DCD   0x80
#define UART_MSR_DELTAS 0x0f

struct serial {
	pthread_mutex_t lock;
	struct serial_config cfg;

	uint8_t ier, lcr, mcr, lsr_errors, msr, scr, fcr;
	uint16_t divisor;
	int thr_ipending; /* THRE interrupt armed (cleared by reading IIR while it is reported) */
	int irq_level;    /* last level driven on the line */

	uint8_t rx[SERIAL_FIFO_LEN];
	unsigned rx_head, rx_count;
	int rx_was_full; /* the host was refused input: tell it when room appears */
	uint64_t tx_dropped;
};

static unsigned rx_capacity(const struct serial *s)
{
	return (s->fcr & UART_FCR_ENABLE) ? SERIAL_FIFO_LEN : 1;
}

/* Modem status lines as the UART sees them: loopback feeds MCR back, else a live modem. */
static uint8_t msr_lines(const struct serial *s)
{
	if (s->mcr & UART_MCR_LOOP)
		return (s->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
		       (s->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) |
		       (s->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
		       (s->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
	return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
}

/* Recompute MSR status bits, latching delta bits for what changed. */
static void msr_update(struct serial *s)
{
	uint8_t now = msr_lines(s), old = s->msr & ~UART_MSR_DELTAS;
	uint8_t deltas = s->msr & UART_MSR_DELTAS;

	if ((now ^ old) & UART_MSR_CTS)
		deltas |= UART_MSR_DCTS;
	if ((now ^ old) & UART_MSR_DSR)
		deltas |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI)) /* trailing edge of RI */
		deltas |= UART_MSR_TERI;
	if ((now ^ old) & UART_MSR_DCD)
		deltas |= UART_MSR_DDCD;
	s->msr = now | deltas;
}

/* The highest-priority pending interrupt, as IIR encodes it. */
static uint8_t iir_pending(const struct serial *s)
{
	if ((s->ier & UART_IER_RLSI) && s->lsr_errors)
		return UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* Drive the IRQ line from the interrupt state. Called with the lock held. */
static void irq_update(struct serial *s)
{
	int level = iir_pending(s) != UART_IIR_NO_INT && (s->mcr & UART_MCR_OUT2) &&
		    !(s->mcr & UART_MCR_LOOP);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->cfg.irq, level);
	}
}

static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count >= rx_capacity(s)) {
		s->lsr_errors |= UART_LSR_OE; /* the new byte is lost, as on the chip */
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_LEN] = c;
	s->rx_count++;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

static void tx_byte(struct serial *s, uint8_t c)
{
	if (s->mcr & UART_MCR_LOOP) {
		rx_push(s, c);
		return;
	}
	if (s->cfg.out_fd < 0)
		return;
	for (;;) {
		ssize_t n = write(s->cfg.out_fd, &c, 1);

		if (n == 1)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		s->tx_dropped++; /* a full or closed console never stalls the vcpu */
		return;
	}
}

static void power_on(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->lsr_errors = 0;
	s->scr = 0;
	s->fcr = 0;
	s->divisor = 12; /* 9600 baud from 1.8432 MHz */
	s->thr_ipending = 0;
	rx_clear(s);
	s->msr = msr_lines(s);
}

int serial_create(const struct serial_config *cfg, struct serial **out)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->cfg = *cfg;
	power_on(s);
	*out = s;
	return 0;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void serial_reset(struct serial *s)
{
	int notify;

	pthread_mutex_lock(&s->lock);
	notify = s->rx_was_full;
	s->rx_was_full = 0;
	power_on(s);
	irq_update(s);
	pthread_mutex_unlock(&s->lock);
	if (notify && s->cfg.rx_space)
		s->cfg.rx_space(s->cfg.ctx);
}

static void serial_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = 0;
	int notify = 0;

	(void)len;
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB) {
			v = s->divisor & 0xff;
			break;
		}
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_LEN;
			s->rx_count--;
			if (s->rx_was_full) {
				s->rx_was_full = 0;
				notify = 1;
			}
		}
		break;
	case UART_IER:
		v = (s->lcr & UART_LCR_DLAB) ? s->divisor >> 8 : s->ier;
		break;
	case UART_IIR:
		v = iir_pending(s);
		/* Reading IIR while it reports THRE acknowledges that interrupt. */
		if (v == UART_IIR_THRI)
			s->thr_ipending = 0;
		if (s->fcr & UART_FCR_ENABLE)
			v |= UART_IIR_FIFO;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | s->lsr_errors | (s->rx_count ? UART_LSR_DR : 0);
		s->lsr_errors = 0; /* error bits clear on read */
		break;
	case UART_MSR:
		v = s->msr;
		s->msr &= ~UART_MSR_DELTAS;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	irq_update(s);
	pthread_mutex_unlock(&s->lock);
	*(uint8_t *)data = v;
	if (notify && s->cfg.rx_space)
		s->cfg.rx_space(s->cfg.ctx);
}

static void serial_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;
	int notify = 0;

	(void)len;
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case UART_TX:
		if (s->lcr & UART_LCR_DLAB) {
			s->divisor = (s->divisor & 0xff00) | v;
			break;
		}
		tx_byte(s, v);
		s->thr_ipending = 1; /* sent at once: THR is empty again */
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | v << 8);
			break;
		}
		/* Enabling THRI with THR empty raises the THRE interrupt (Linux's THRE test). */
		if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_ipending = 1;
		s->ier = v & UART_IER_MASK;
		break;
	case UART_FCR:
		if ((v & UART_FCR_ENABLE) != (s->fcr & UART_FCR_ENABLE))
			rx_clear(s); /* changing FIFO mode resets the FIFOs */
		if (v & UART_FCR_CLEAR_RX)
			rx_clear(s);
		s->fcr = v & ~(UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		/* Leaving loopback opens the receiver to the host again. */
		if ((s->mcr & UART_MCR_LOOP) && !(v & UART_MCR_LOOP) && s->rx_was_full) {
			s->rx_was_full = 0;
			notify = 1;
		}
		s->mcr = v & UART_MCR_MASK;
		msr_update(s);
		break;
	case UART_LSR:
	case UART_MSR:
		pr_guest_debug("serial: write 0x%02x to read-only register %u ignored", v,
			       (unsigned)offset);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
	irq_update(s);
	pthread_mutex_unlock(&s->lock);
	if (notify && s->cfg.rx_space)
		s->cfg.rx_space(s->cfg.ctx);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
	.sizes = BUS_SIZE_1,
};

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	/* In loopback the receiver hears only the transmitter. */
	if (!(s->mcr & UART_MCR_LOOP)) {
		while (n < len && s->rx_count < rx_capacity(s))
			rx_push(s, buf[n++]);
	}
	if (n < len)
		s->rx_was_full = 1;
	irq_update(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_room(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = (s->mcr & UART_MCR_LOOP) ? 0 : rx_capacity(s) - s->rx_count;
	if (!room)
		s->rx_was_full = 1;
	pthread_mutex_unlock(&s->lock);
	return room;
}

uint64_t serial_tx_dropped(struct serial *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->tx_dropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_fw_device(struct fw_device *out, uint16_t port, unsigned irq, const char *acpi_name,
		      uint32_t uid)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->acpi_name, sizeof(out->acpi_name), "%s", acpi_name);
	out->acpi_hid = "PNP0501";
	out->acpi_uid = uid;
	out->fdt_node = "serial";
	out->fdt_compat = "ns16550a";
	out->nres = 2;
	out->res[0] = (struct fw_resource){ FW_RES_IO, port, SERIAL_PORT_LEN };
	out->res[1] = (struct fw_resource){ FW_RES_IRQ, irq, 0 };
}
