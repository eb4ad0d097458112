/*
 * serial_16550.c - 16550A UART: the registers Linux's 8250 driver uses, a 16-byte RX FIFO,
 * instant transmission, interrupts with the 16550's priorities, loopback.
 *
 * Register and bit meanings are in serial_16550.h (PC16550D datasheet; Linux's
 * include/uapi/linux/serial_reg.h). What Linux's drivers/tty/serial/8250/8250_port.c relies
 * on, and how it is modelled:
 *  - autoconfig(): IER keeps bits 0-3 and reads 0 in bits 4-7; in loopback MSR mirrors MCR
 *    (MCR = LOOP | 0x0A must read MSR & 0xF0 == 0x90); with the FIFO enabled IIR reads
 *    0xCx, and IIR bits 4-5 stay 0 whatever LCR holds, so no EFR, 16750 or SuperIO is found.
 *  - startup's THRE test: enabling THRI with THR empty raises THRE; reading IIR while it
 *    reports THRE acknowledges it; disabling and re-enabling THRI raises it again.
 *  - Transmission is instantaneous, so LSR always reads THRE | TEMT and every THR write
 *    re-arms the THRE interrupt (on the chip: THR empties again a character time later).
 *  - The RX trigger level is treated as 1 byte, so RDA is pending whenever the FIFO holds
 *    data and the character-timeout interrupt never occurs. Linux handles both alike.
 *  - No wire: PE, FE and BI never occur; OE only when loopback overfills the receiver (host
 *    input is flow-controlled by serial_receive's return value and never overruns).
 */
#include "serial_16550.h"
#include "core/log.h"

#include <errno.h>
#include <libfdt.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* A console that accepts no byte for this long is stalled: drop output until it recovers. */
#define SERIAL_TX_STALL_MS 1000

/* Divisor latch after power-on: undefined on the chip; 12 is 9600 baud from 1.8432 MHz. */
#define SERIAL_DIVISOR_DEFAULT 12

struct serial {
	pthread_mutex_t lock; /* all register state below */
	struct serial_config cfg;

	uint8_t ier, lcr, mcr, lsr_errors, msr, scr, fcr;
	uint16_t divisor;
	bool thr_ipending; /* THRE interrupt armed (cleared by reading IIR while it is reported) */
	int irq_level;	   /* last level driven on the line */

	uint8_t rx[SERIAL_FIFO_LEN];
	unsigned rx_head, rx_count;
	bool rx_was_full; /* the host was refused input: tell it when room appears */

	/*
	 * Output has its own lock, taken without @lock held: a vcpu waiting on a slow console
	 * never holds up the main thread's serial_receive or another vcpu's LSR poll.
	 */
	pthread_mutex_t tx_lock;
	bool tx_stalled;     /* under tx_lock */
	bool tx_no_nowait;   /* out_fd refused RWF_NOWAIT (a terminal): not asked again */
	uint64_t tx_dropped; /* atomic */
};

/* --- device core (called with s->lock held) ---------------------------------------------- */

/* With the FIFOs off the 16550A behaves as a 16450: a single receiver buffer register. */
static unsigned rx_capacity(const struct serial *s)
{
	return (s->fcr & SERIAL_FCR_ENABLE) ? SERIAL_FIFO_LEN : 1;
}

/* Room for host input: none in loopback, where the receiver hears only the transmitter. */
static unsigned rx_host_room(const struct serial *s)
{
	if (s->mcr & SERIAL_MCR_LOOP)
		return 0;
	return rx_capacity(s) - s->rx_count;
}

/* Modem status lines as the UART sees them: loopback feeds MCR back, else a live modem. */
static uint8_t msr_lines(const struct serial *s)
{
	if (s->mcr & SERIAL_MCR_LOOP)
		return (s->mcr & SERIAL_MCR_RTS ? SERIAL_MSR_CTS : 0) |
		       (s->mcr & SERIAL_MCR_DTR ? SERIAL_MSR_DSR : 0) |
		       (s->mcr & SERIAL_MCR_OUT1 ? SERIAL_MSR_RI : 0) |
		       (s->mcr & SERIAL_MCR_OUT2 ? SERIAL_MSR_DCD : 0);
	return SERIAL_MSR_DCD | SERIAL_MSR_DSR | SERIAL_MSR_CTS;
}

/* Recompute MSR's line bits, latching a delta bit for each line that changed. */
static void msr_update(struct serial *s)
{
	uint8_t now = msr_lines(s), old = s->msr & ~SERIAL_MSR_DELTAS;
	uint8_t deltas = s->msr & SERIAL_MSR_DELTAS;

	if ((now ^ old) & SERIAL_MSR_CTS)
		deltas |= SERIAL_MSR_DCTS;
	if ((now ^ old) & SERIAL_MSR_DSR)
		deltas |= SERIAL_MSR_DDSR;
	if ((old & SERIAL_MSR_RI) && !(now & SERIAL_MSR_RI))
		deltas |= SERIAL_MSR_TERI;
	if ((now ^ old) & SERIAL_MSR_DCD)
		deltas |= SERIAL_MSR_DDCD;
	s->msr = now | deltas;
}

/* The highest-priority enabled pending interrupt, as IIR bits 0-3 encode it. */
static uint8_t iir_pending(const struct serial *s)
{
	if ((s->ier & SERIAL_IER_RLSI) && (s->lsr_errors & SERIAL_LSR_ERRORS))
		return SERIAL_IIR_RLSI;
	if ((s->ier & SERIAL_IER_RDI) && s->rx_count)
		return SERIAL_IIR_RDI;
	if ((s->ier & SERIAL_IER_THRI) && s->thr_ipending)
		return SERIAL_IIR_THRI;
	if ((s->ier & SERIAL_IER_MSI) && (s->msr & SERIAL_MSR_DELTAS))
		return SERIAL_IIR_MSI;
	return SERIAL_IIR_NO_INT;
}

/*
 * Drive the IRQ line. On a PC the chip's INTR pin reaches the interrupt controller through a
 * buffer enabled by the OUT2 output; in loopback the chip forces OUT2 (with the other modem
 * outputs) inactive, so nothing reaches the line even though IIR still reports it. Linux sets
 * OUT2 when it uses the port's IRQ, and never runs loopback with interrupts expected.
 */
static void irq_update(struct serial *s)
{
	int level = iir_pending(s) != SERIAL_IIR_NO_INT && (s->mcr & SERIAL_MCR_OUT2) &&
		    !(s->mcr & SERIAL_MCR_LOOP);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->cfg.irq, level);
	}
}

/* A character arrives at the receiver (host input or loopback). */
static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count >= rx_capacity(s)) {
		s->lsr_errors |= SERIAL_LSR_OE;
		/*
		 * In FIFO mode the FIFO is kept and the new character is lost; as a 16450 the
		 * new character overwrites the unread one in RBR.
		 */
		if (!(s->fcr & SERIAL_FCR_ENABLE))
			s->rx[s->rx_head] = c;
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

/* Whether to call rx_space after unlocking: host input was refused and now there is room. */
static bool rx_space_due(struct serial *s)
{
	if (!s->rx_was_full || !rx_host_room(s))
		return false;
	s->rx_was_full = false;
	return true;
}

static void power_on(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->lsr_errors = 0;
	s->scr = 0;
	s->fcr = 0;
	s->divisor = SERIAL_DIVISOR_DEFAULT;
	s->thr_ipending = false;
	rx_clear(s);
	s->msr = msr_lines(s); /* no deltas */
}

/* --- output (called without s->lock) ------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until out_fd takes a byte, at most @timeout_ms. A blocking fd (a dup of stdout) would
 * otherwise hold the vcpu in write(2) for as long as the reader sleeps, beyond the reach of
 * the vcpu kick.
 */
static bool tx_wait(int fd, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	for (;;) {
		int left = (int)(deadline - now_ms());
		int n = poll(&pfd, 1, left > 0 ? left : 0);

		if (n > 0)
			return true; /* writable, or an error that write(2) will report */
		if (n == 0 || errno != EINTR)
			return false;
	}
}

static void tx_drop(struct serial *s)
{
	__atomic_fetch_add(&s->tx_dropped, 1, __ATOMIC_RELAXED);
}

/*
 * Write @c only if that does not block (RWF_NOWAIT: a pipe with room, a file): one syscall
 * where the bounded wait costs two. False when it would block, on any error, or when the fd
 * cannot say (a terminal: EOPNOTSUPP, remembered): tx_wait and write(2) then decide as before.
 * Under tx_lock.
 */
static bool tx_try(struct serial *s, int fd, uint8_t c)
{
	struct iovec iov = { &c, 1 };

	if (s->tx_no_nowait)
		return false;
	if (pwritev2(fd, &iov, 1, -1, RWF_NOWAIT) == 1)
		return true;
	if (errno == EOPNOTSUPP)
		s->tx_no_nowait = true;
	return false;
}

static void tx_out(struct serial *s, uint8_t c)
{
	int fd = s->cfg.out_fd;

	if (fd < 0)
		return;
	pthread_mutex_lock(&s->tx_lock);
	if (tx_try(s, fd, c)) {
		s->tx_stalled = false;
		goto out;
	}
	if (!tx_wait(fd, s->tx_stalled ? 0 : SERIAL_TX_STALL_MS)) {
		if (!s->tx_stalled)
			pr_warn("serial: console output stalled, dropping bytes until it drains");
		s->tx_stalled = true;
		tx_drop(s);
		goto out;
	}
	for (;;) {
		ssize_t n = write(fd, &c, 1);

		if (n == 1) {
			s->tx_stalled = false;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* EAGAIN on a non-blocking fd, EPIPE, EIO...: the guest never waits on it. */
		pr_guest_debug("serial: output byte dropped: %s",
			       n < 0 ? strerror(errno) : "short write");
		tx_drop(s);
		break;
	}
out:
	pthread_mutex_unlock(&s->tx_lock);
}

/* --- bus glue ----------------------------------------------------------------------------- */

static void serial_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = 0;
	bool notify;

	(void)len; /* the bus allows BUS_SIZE_1 only */
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case SERIAL_RBR:
		if (s->lcr & SERIAL_LCR_DLAB) {
			v = s->divisor & 0xff;
			break;
		}
		if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_LEN;
			s->rx_count--;
		}
		break;
	case SERIAL_IER:
		v = (s->lcr & SERIAL_LCR_DLAB) ? s->divisor >> 8 : s->ier;
		break;
	case SERIAL_IIR:
		v = iir_pending(s);
		/* Reading IIR while it reports THRE acknowledges that interrupt. */
		if (v == SERIAL_IIR_THRI)
			s->thr_ipending = false;
		if (s->fcr & SERIAL_FCR_ENABLE)
			v |= SERIAL_IIR_FIFO;
		break;
	case SERIAL_LCR:
		v = s->lcr;
		break;
	case SERIAL_MCR:
		v = s->mcr;
		break;
	case SERIAL_LSR:
		v = SERIAL_LSR_THRE | SERIAL_LSR_TEMT | s->lsr_errors |
		    (s->rx_count ? SERIAL_LSR_DR : 0);
		s->lsr_errors = 0; /* error bits clear on read */
		break;
	case SERIAL_MSR:
		v = s->msr;
		s->msr &= ~SERIAL_MSR_DELTAS;
		break;
	case SERIAL_SCR:
		v = s->scr;
		break;
	}
	irq_update(s);
	notify = rx_space_due(s);
	pthread_mutex_unlock(&s->lock);
	*(uint8_t *)data = v;
	if (notify && s->cfg.rx_space)
		s->cfg.rx_space(s->cfg.ctx);
}

static void serial_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;
	bool notify, send = false;
	int thri_was = -1; /* THRI before an IER write, to tell tx_polled of a change */

	(void)len;
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case SERIAL_THR:
		if (s->lcr & SERIAL_LCR_DLAB) {
			s->divisor = (uint16_t)((s->divisor & 0xff00) | v);
		} else if (s->mcr & SERIAL_MCR_LOOP) {
			rx_push(s, v); /* the transmitter is wired to the receiver */
			s->thr_ipending = true;
		} else {
			send = true; /* THRE is re-armed once the byte is out, below */
		}
		break;
	case SERIAL_IER:
		if (s->lcr & SERIAL_LCR_DLAB) {
			s->divisor = (uint16_t)((s->divisor & 0x00ff) | v << 8);
			break;
		}
		/* Enabling THRI with THR empty raises THRE (Linux's startup THRE test). */
		if ((v & SERIAL_IER_THRI) && !(s->ier & SERIAL_IER_THRI))
			s->thr_ipending = true;
		thri_was = !!(s->ier & SERIAL_IER_THRI);
		s->ier = v & SERIAL_IER_MASK;
		break;
	case SERIAL_FCR:
		/* Turning the FIFOs on or off empties them. The TX FIFO is always empty. */
		if ((v ^ s->fcr) & SERIAL_FCR_ENABLE)
			rx_clear(s);
		if (v & SERIAL_FCR_CLEAR_RX)
			rx_clear(s);
		s->fcr = v & ~(SERIAL_FCR_CLEAR_RX | SERIAL_FCR_CLEAR_TX);
		break;
	case SERIAL_LCR:
		s->lcr = v;
		break;
	case SERIAL_MCR:
		s->mcr = v & SERIAL_MCR_MASK;
		msr_update(s);
		break;
	case SERIAL_LSR:
	case SERIAL_MSR:
		/* Writable only in factory test mode on the chip. */
		pr_guest_debug("serial: write 0x%02x to read-only register %u ignored", v,
			       (unsigned)offset);
		break;
	case SERIAL_SCR:
		s->scr = v;
		break;
	}
	irq_update(s);
	notify = rx_space_due(s);
	pthread_mutex_unlock(&s->lock);

	if (thri_was >= 0 && thri_was != !!(v & SERIAL_IER_THRI) && s->cfg.tx_polled)
		s->cfg.tx_polled(s->cfg.tx_ctx, !(v & SERIAL_IER_THRI));
	if (send) {
		tx_out(s, v);
		pthread_mutex_lock(&s->lock);
		s->thr_ipending = true;
		irq_update(s);
		pthread_mutex_unlock(&s->lock);
	}
	if (notify && s->cfg.rx_space)
		s->cfg.rx_space(s->cfg.ctx);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
	.sizes = BUS_SIZE_1,
};

/* --- host side ---------------------------------------------------------------------------- */

int serial_create(const struct serial_config *cfg, struct serial **out)
{
	struct serial *s;
	int ret;

	if (!cfg || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = -pthread_mutex_init(&s->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_mutex_init(&s->tx_lock, NULL);
	if (ret)
		goto err_lock;
	s->cfg = *cfg;
	power_on(s);
	*out = s;
	return 0;

err_lock:
	pthread_mutex_destroy(&s->lock);
err_free:
	free(s);
	return ret;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->tx_lock);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void serial_reset(struct serial *s)
{
	bool notify;

	pthread_mutex_lock(&s->lock);
	power_on(s);
	irq_update(s);
	notify = rx_space_due(s);
	pthread_mutex_unlock(&s->lock);
	if (notify && s->cfg.rx_space)
		s->cfg.rx_space(s->cfg.ctx);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0, room;

	pthread_mutex_lock(&s->lock);
	room = rx_host_room(s);
	while (n < len && n < room)
		rx_push(s, buf[n++]);
	if (n < len)
		s->rx_was_full = true;
	irq_update(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_room(struct serial *s)
{
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = rx_host_room(s);
	if (!room)
		s->rx_was_full = true;
	pthread_mutex_unlock(&s->lock);
	return room;
}

uint64_t serial_tx_dropped(struct serial *s)
{
	return __atomic_load_n(&s->tx_dropped, __ATOMIC_RELAXED);
}

/* --- firmware description ----------------------------------------------------------------- */

/* The ns16550a binding wants the input clock to derive baud rates from divisors. */
static int serial_fdt(void *fdt, const struct fw_device *d)
{
	(void)d;
	return fdt_property_u32(fdt, "clock-frequency", SERIAL_CLOCK_HZ);
}

void serial_fw_device(struct fw_device *out, uint16_t port, unsigned irq, const char *acpi_name,
		      uint32_t uid)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->acpi_name, sizeof(out->acpi_name), "%s", acpi_name);
	out->acpi_hid = "PNP0501"; /* 16550A-compatible COM port */
	out->acpi_uid = uid;
	out->fdt_node = "serial";
	out->fdt_compat = "ns16550a";
	out->fdt_console = 1;
	out->fdt = serial_fdt;
	out->nres = 2;
	out->res[0] = (struct fw_resource){ FW_RES_IO, port, SERIAL_PORT_LEN };
	out->res[1] = (struct fw_resource){ FW_RES_IRQ, irq, 0 };
}
