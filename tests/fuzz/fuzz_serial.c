/* fuzz_serial.c - libFuzzer harness: the 16550A UART's registers against a hostile guest. */
/*
 * White-box: the UART's source is built into the harness so its state can be checked after
 * every step. The input is a sequence of operations: guest reads and writes of any size at
 * any offset through the port I/O bus (COM1 at 0x3f8), host input, host "room?" polls, reset.
 * Invariants after each step:
 *  - the receive FIFO holds at most its capacity (16, or 1 as a 16450), its head in range;
 *  - the IRQ line (as the interrupt controller saw it) is high exactly when an enabled
 *    interrupt is pending, OUT2 is set and loopback is off;
 *  - a guest read of LSR shows DR exactly when data was waiting, THRE and TEMT (the
 *    transmitter is never busy), no bit the device never sets; a read of IIR reports the
 *    highest-priority pending interrupt, FIFO bits exactly when FIFOs are on;
 *  - host input is taken only up to the room reported, none in loopback; the host is told
 *    "room again" only when there is room.
 */
#include "devices/serial_16550.c"

#include <stdlib.h>

#include "tests/fuzz/fuzz_input.h"

#define COM1 0x3f8

static int line_level;
static unsigned line_calls;
static int room_told;

static void fake_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	if (gsi != SERIAL_COM1_IRQ)
		abort();
	line_level = level;
	line_calls++;
}

static void rx_space(void *ctx)
{
	room_told = 1;
	(void)ctx;
}

static void fail(const char *why, unsigned a, unsigned b)
{
	fprintf(stderr, "%s (0x%x, 0x%x)\n", why, a, b);
	abort();
}

static void check_state(struct serial *s)
{
	int want = iir_pending(s) != SERIAL_IIR_NO_INT && (s->mcr & SERIAL_MCR_OUT2) &&
		   !(s->mcr & SERIAL_MCR_LOOP);

	if (s->rx_count > rx_capacity(s) || s->rx_head >= SERIAL_FIFO_LEN)
		fail("receive FIFO", s->rx_count, s->rx_head);
	if (s->irq_level != want || line_level != want)
		fail("IRQ line", (unsigned)line_level, (unsigned)want);
	if (s->mcr & ~SERIAL_MCR_MASK)
		fail("MCR bits", s->mcr, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct serial_config cfg = {
		.out_fd = -1,
		.irq = { fake_irq, NULL, SERIAL_COM1_IRQ },
		.rx_space = rx_space,
	};
	struct serial *s;
	struct bus pio;
	unsigned steps = 0;

	line_level = 0;
	line_calls = 0;
	if (bus_init(&pio, "pio") || serial_create(&cfg, &s) ||
	    bus_register(&pio, COM1, SERIAL_PORT_LEN, &serial_bus_ops, s, "serial"))
		abort();
	while (in.n && steps++ < 4096) {
		uint8_t op = fin_u8(&in), buf[64];
		unsigned off = fin_u8(&in), len;
		uint64_t port = COM1 - 2 + off % 12; /* around the device too */

		switch (op % 6) {
		case 0: { /* guest read */
			uint8_t iir_want = iir_pending(s), lsr_dr = s->rx_count ? SERIAL_LSR_DR : 0;
			uint8_t fifo = (s->fcr & SERIAL_FCR_ENABLE) ? SERIAL_IIR_FIFO : 0;

			len = fin_size(&in);
			if (bus_read(&pio, port, buf, len) != BUS_OK)
				break;
			if (port == COM1 + SERIAL_LSR &&
			    ((buf[0] & SERIAL_LSR_DR) != lsr_dr || !(buf[0] & SERIAL_LSR_THRE) ||
			     !(buf[0] & SERIAL_LSR_TEMT) ||
			     (buf[0] &
			      (SERIAL_LSR_FIFOE | SERIAL_LSR_PE | SERIAL_LSR_FE | SERIAL_LSR_BI))))
				fail("LSR", buf[0], lsr_dr);
			if (port == COM1 + SERIAL_IIR && buf[0] != (iir_want | fifo))
				fail("IIR", buf[0], iir_want | fifo);
			break;
		}
		case 1: /* guest write */
		case 2:
			len = fin_size(&in);
			for (unsigned i = 0; i < len; i++)
				buf[i] = fin_u8(&in);
			bus_write(&pio, port, buf, len);
			break;
		case 3: { /* host input */
			size_t n = off % 24, room = rx_host_room(s), got;

			for (size_t i = 0; i < n; i++)
				buf[i] = fin_u8(&in);
			got = serial_receive(s, buf, n);
			if (got > n || got > room || (got < n && got != room))
				fail("host input taken", (unsigned)got, (unsigned)room);
			break;
		}
		case 4: /* host poll */
			if (serial_rx_room(s) != rx_host_room(s))
				fail("room", 0, 0);
			break;
		case 5:
			if (off == 0xff)
				serial_reset(s);
			break;
		}
		if (room_told && !rx_host_room(s))
			fail("told there is room when there is none", s->rx_count, s->mcr);
		room_told = 0;
		check_state(s);
	}
	bus_unregister(&pio, COM1, s);
	serial_destroy(s);
	bus_destroy(&pio);
	return 0;
}
