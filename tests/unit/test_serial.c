/* test_serial.c - the 16550A UART through its bus ops: Linux's probe, interrupts, FIFO, output. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "devices/serial_16550.h"
#include "tests/unit/unit.h"

/* An IRQ line that records every call, so tests see levels and redundant calls. */
struct fake_irq {
	int level;
	int calls;     /* irq.set calls */
	int raises;    /* 0 -> 1 transitions */
	int redundant; /* calls that did not change the level */
	unsigned gsi;
};

struct rig {
	struct serial *s;
	int rfd, wfd; /* pipe: the device writes wfd, the test reads rfd */
	struct fake_irq irq;
	int rx_space_calls;
	size_t room_in_callback;
	char polled[16]; /* tx_polled calls in order: 'p' polled, 'i' interrupt-driven */
};

static void fake_irq_set(void *ctx, unsigned gsi, int level)
{
	struct fake_irq *f = ctx;

	f->calls++;
	f->gsi = gsi;
	if (level == f->level)
		f->redundant++;
	if (level && !f->level)
		f->raises++;
	f->level = level;
}

static void fake_rx_space(void *ctx)
{
	struct rig *r = ctx;

	r->rx_space_calls++;
	/* Would deadlock (and time out) if the device called us with its lock held. */
	r->room_in_callback = serial_rx_room(r->s);
}

static void fake_tx_polled(void *ctx, int polled)
{
	struct rig *r = ctx;
	size_t n = strlen(r->polled);

	if (n + 1 < sizeof(r->polled))
		r->polled[n] = polled ? 'p' : 'i';
	/* Would deadlock (and time out) if the device called us with its lock held. */
	(void)serial_rx_room(r->s);
}

static void rig_init_fd(struct rig *r, int out_fd)
{
	struct serial_config cfg;

	memset(r, 0, sizeof(*r));
	r->rfd = r->wfd = -1;
	cfg = (struct serial_config){
		.out_fd = out_fd,
		.irq = { fake_irq_set, &r->irq, SERIAL_COM1_IRQ },
		.rx_space = fake_rx_space,
		.tx_polled = fake_tx_polled,
		.tx_ctx = r,
		.ctx = r,
	};
	ck_assert_int_eq(serial_create(&cfg, &r->s), 0);
}

static void rig_init(struct rig *r)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	rig_init_fd(r, p[1]);
	r->rfd = p[0];
	r->wfd = p[1];
}

static void rig_fini(struct rig *r)
{
	serial_destroy(r->s);
	if (r->rfd >= 0)
		close(r->rfd);
	if (r->wfd >= 0)
		close(r->wfd);
}

static uint8_t rd(struct rig *r, unsigned off)
{
	uint8_t v = 0x5a;

	serial_bus_ops.read(r->s, off, &v, 1);
	return v;
}

static void wr(struct rig *r, unsigned off, uint8_t v)
{
	serial_bus_ops.write(r->s, off, &v, 1);
}

/* Everything the device has written to out_fd so far. */
static size_t drain(struct rig *r, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t k;

	while (n < cap && (k = read(r->rfd, buf + n, cap - n)) > 0)
		n += (size_t)k;
	return n;
}

static size_t rx(struct rig *r, const char *str)
{
	return serial_receive(r->s, (const uint8_t *)str, strlen(str));
}

/* Register values a 16550A shows after power-on (PC16550D Table IV, "UART Reset"). */
static void check_power_on(struct rig *r)
{
	ck_assert_uint_eq(rd(r, SERIAL_IER), 0x00);
	ck_assert_uint_eq(rd(r, SERIAL_IIR), 0x01); /* nothing pending, FIFOs off */
	ck_assert_uint_eq(rd(r, SERIAL_LCR), 0x00);
	ck_assert_uint_eq(rd(r, SERIAL_MCR), 0x00);
	ck_assert_uint_eq(rd(r, SERIAL_LSR), 0x60); /* THRE | TEMT, no data */
	ck_assert_uint_eq(rd(r, SERIAL_MSR), 0xb0); /* DCD | DSR | CTS, no deltas */
	ck_assert_uint_eq(rd(r, SERIAL_SCR), 0x00);
	ck_assert_uint_eq(serial_rx_room(r->s), 1); /* FIFO off: one RBR */
	ck_assert_int_eq(r->irq.level, 0);
}

/*
 * What Linux's autoconfig() (drivers/tty/serial/8250/8250_port.c) concludes, replaying its
 * accesses with the literal values it uses.
 */
static const char *linux_autoconfig(struct rig *r)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr, status1, status2, iersave;
	const char *type;

	/* IER existence test. */
	scratch = rd(r, 1);
	wr(r, 1, 0);
	scratch2 = rd(r, 1) & 0x0f;
	wr(r, 1, 0x0f);
	scratch3 = rd(r, 1) & 0x0f;
	wr(r, 1, scratch);
	if (scratch2 != 0 || scratch3 != 0x0f)
		return "none (IER test)";

	save_mcr = rd(r, 4);
	save_lcr = rd(r, 3);

	/* Loopback test: RTS -> CTS, OUT2 -> DCD. */
	wr(r, 4, 0x10 | 0x0a);
	status1 = rd(r, 6) & 0xf0;
	wr(r, 4, save_mcr);
	if (status1 != 0x90)
		return "none (loopback test)";

	/* EFR (offset 2 under LCR 0xBF) cleared, then the FIFO-enabled bits of IIR. */
	wr(r, 3, 0xbf);
	wr(r, 2, 0);
	wr(r, 3, 0);
	wr(r, 2, 0x01);
	switch (rd(r, 2) & 0xc0) {
	case 0x00:
		type = "8250/16450";
		goto out;
	case 0x40:
		type = "StarTech";
		goto out;
	case 0x80:
		type = "16550";
		goto out;
	}

	/* autoconfig_16550a(): the variants a 16550A must not be taken for. */
	type = "16550A";
	wr(r, 3, 0x80);
	if (rd(r, 2) == 0) {
		type = "16650 (EFRv1)";
		goto out;
	}
	wr(r, 3, 0xbf);
	if (rd(r, 2) == 0) {
		type = "16650V2 (EFRv2)";
		goto out;
	}
	wr(r, 3, 0);
	status1 = rd(r, 4);
	wr(r, 3, 0xe0);
	status2 = rd(r, 2); /* EXCR1 on a National SuperIO */
	if (!((status2 ^ status1) & 0x10)) {
		wr(r, 3, 0);
		wr(r, 4, status1 ^ 0x10);
		wr(r, 3, 0xe0);
		status2 = rd(r, 2);
		wr(r, 3, 0);
		wr(r, 4, status1);
		if ((status2 ^ status1) & 0x10) {
			type = "NS16550A";
			goto out;
		}
	}
	wr(r, 3, 0);
	wr(r, 2, 0x01 | 0x20);
	status1 = rd(r, 2) & 0xe0;
	wr(r, 2, 0x01);
	wr(r, 3, 0x80);
	wr(r, 2, 0x01 | 0x20);
	status2 = rd(r, 2) & 0xe0;
	wr(r, 2, 0x01);
	wr(r, 3, 0);
	if (status1 == 0xc0 && status2 == 0xe0) {
		type = "16750";
		goto out;
	}
	iersave = rd(r, 1);
	wr(r, 1, iersave & ~0x40);
	if (!(rd(r, 1) & 0x40)) {
		wr(r, 1, iersave | 0x40);
		if (rd(r, 1) & 0x40)
			type = "XScale";
		wr(r, 1, iersave);
	}
out:
	wr(r, 3, save_lcr);
	wr(r, 4, save_mcr);
	/* serial8250_clear_fifos(), then drain RX and clear IER. */
	wr(r, 2, 0x01);
	wr(r, 2, 0x01 | 0x02 | 0x04);
	wr(r, 2, 0);
	rd(r, 0);
	wr(r, 1, 0);
	return type;
}

/* The machine batches THR writes only while THRI is off: it is told of each change of THRI,
 * and of nothing else (other IER bits, the divisor latch behind DLAB). */
START_TEST(test_tx_polled_follows_thri)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_IER, SERIAL_IER_RDI); /* THRI stays off */
	wr(&r, SERIAL_IER, SERIAL_IER_RDI | SERIAL_IER_THRI);
	wr(&r, SERIAL_IER, SERIAL_IER_THRI | SERIAL_IER_RLSI); /* stays on */
	wr(&r, SERIAL_LCR, SERIAL_LCR_DLAB);
	wr(&r, SERIAL_DLM, 0); /* the divisor, not IER */
	wr(&r, SERIAL_LCR, 0x03);
	wr(&r, SERIAL_IER, 0);
	wr(&r, SERIAL_IER, 0);
	ck_assert_str_eq(r.polled, "ip");
	rig_fini(&r);
}
END_TEST

START_TEST(test_power_on_state)
{
	struct rig r;

	rig_init(&r);
	ck_assert_uint_eq(serial_bus_ops.sizes, BUS_SIZE_1);
	check_power_on(&r);
	ck_assert_int_eq(r.irq.calls, 0);
	rig_fini(&r);
}
END_TEST

START_TEST(test_linux_probe_finds_16550a)
{
	struct rig r;
	char buf[64];

	rig_init(&r);
	ck_assert_str_eq(linux_autoconfig(&r), "16550A");
	/* The probe leaves nothing behind: no output, no interrupt, registers as before. */
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), 0);
	ck_assert_int_eq(r.irq.calls, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_IER), 0);
	ck_assert_uint_eq(rd(&r, SERIAL_MCR), 0);
	ck_assert_uint_eq(rd(&r, SERIAL_LCR), 0);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0x01);

	/* The scratch register keeps any value (8250 vs 8250-without-SCR detection). */
	for (unsigned v = 0; v < 256; v++) {
		wr(&r, SERIAL_SCR, (uint8_t)v);
		ck_assert_uint_eq(rd(&r, SERIAL_SCR), v);
	}
	rig_fini(&r);
}
END_TEST

START_TEST(test_loopback_msr_mirrors_mcr)
{
	struct rig r;
	/* MCR bit -> MSR bit in loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
	static const uint8_t map[4][2] = {
		{ SERIAL_MCR_DTR, 0x20 },
		{ SERIAL_MCR_RTS, 0x10 },
		{ SERIAL_MCR_OUT1, 0x40 },
		{ SERIAL_MCR_OUT2, 0x80 },
	};

	rig_init(&r);
	for (unsigned bits = 0; bits < 16; bits++) {
		uint8_t want = 0;

		for (unsigned i = 0; i < 4; i++)
			if (bits & map[i][0])
				want |= map[i][1];
		wr(&r, SERIAL_MCR, (uint8_t)(SERIAL_MCR_LOOP | bits));
		ck_assert_msg((rd(&r, SERIAL_MSR) & 0xf0) == want, "MCR low bits 0x%x", bits);
	}
	/* Out of loopback the lines are a live modem again: DCD, DSR, CTS; RI off. */
	wr(&r, SERIAL_MCR, 0x0f);
	ck_assert_uint_eq(rd(&r, SERIAL_MSR) & 0xf0, 0xb0);
	rig_fini(&r);
}
END_TEST

START_TEST(test_msr_deltas)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT1); /* CTS, DSR, DCD drop; RI on */
	ck_assert_uint_eq(rd(&r, SERIAL_MSR), 0x40 | 0x01 | 0x02 | 0x08);
	ck_assert_uint_eq(rd(&r, SERIAL_MSR), 0x40); /* deltas clear on read */
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP);	     /* RI 1 -> 0: trailing edge */
	ck_assert_uint_eq(rd(&r, SERIAL_MSR), SERIAL_MSR_TERI);
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT1); /* RI 0 -> 1: no TERI */
	ck_assert_uint_eq(rd(&r, SERIAL_MSR), 0x40);
	rig_fini(&r);
}
END_TEST

START_TEST(test_divisor_latch)
{
	struct rig r;
	char buf[16];

	rig_init(&r);
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);
	wr(&r, SERIAL_IER, SERIAL_IER_THRI | SERIAL_IER_RLSI);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), SERIAL_IIR_THRI); /* acknowledge THRE */
	ck_assert_int_eq(r.irq.level, 0);

	/* 115200 8N1 the way Linux programs it: DLAB, DLL, DLM, then the line format. */
	wr(&r, SERIAL_LCR, 0x80 | 0x03);
	wr(&r, SERIAL_DLL, 0x01);
	wr(&r, SERIAL_DLM, 0x00);
	ck_assert_uint_eq(rd(&r, SERIAL_DLL), 0x01);
	ck_assert_uint_eq(rd(&r, SERIAL_DLM), 0x00);
	wr(&r, SERIAL_DLM, 0xab);
	ck_assert_uint_eq(rd(&r, SERIAL_DLM), 0xab);
	wr(&r, SERIAL_LCR, 0x03);

	/* Neither THR nor IER saw the latch writes. */
	ck_assert_uint_eq(rd(&r, SERIAL_IER), SERIAL_IER_THRI | SERIAL_IER_RLSI);
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), 0);
	ck_assert_int_eq(r.irq.level, 0); /* a THR write would have re-armed THRE */
	ck_assert_uint_eq(rd(&r, SERIAL_LCR), 0x03);

	/* And the latch keeps its value behind THR/IER. */
	wr(&r, SERIAL_THR, 'x');
	wr(&r, SERIAL_LCR, 0x83);
	ck_assert_uint_eq(rd(&r, SERIAL_DLL), 0x01);
	ck_assert_uint_eq(rd(&r, SERIAL_DLM), 0xab);
	/* IIR and FCR are not behind DLAB. */
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR) & 0xc0, 0xc0);
	wr(&r, SERIAL_LCR, 0x03);
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), 1);
	ck_assert_int_eq(buf[0], 'x');
	rig_fini(&r);
}
END_TEST

START_TEST(test_thr_to_out_fd)
{
	struct rig r, null;
	char buf[64];
	const char *msg = "Linux version 6.1\r\n";

	rig_init(&r);
	for (const char *p = msg; *p; p++) {
		ck_assert_uint_eq(rd(&r, SERIAL_LSR) & 0x60, 0x60); /* Linux polls THRE/TEMT */
		wr(&r, SERIAL_THR, (uint8_t)*p);
	}
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), strlen(msg));
	ck_assert(memcmp(buf, msg, strlen(msg)) == 0);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60); /* transmitted bytes are not received */
	ck_assert_uint_eq(serial_tx_dropped(r.s), 0);
	rig_fini(&r);

	/* out_fd -1 discards without complaint. */
	rig_init_fd(&null, -1);
	wr(&null, SERIAL_THR, 'a');
	ck_assert_uint_eq(rd(&null, SERIAL_LSR), 0x60);
	ck_assert_uint_eq(serial_tx_dropped(null.s), 0);
	rig_fini(&null);
}
END_TEST

/* A terminal as the console (RWF_NOWAIT refused there): every byte still goes out, in order. */
START_TEST(test_thr_to_terminal)
{
	struct rig r;
	char buf[64];
	const char *msg = "abc\r\n";
	int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
	struct termios t;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	ck_assert_int_eq(tcgetattr(slave, &t), 0);
	cfmakeraw(&t);
	ck_assert_int_eq(tcsetattr(slave, TCSANOW, &t), 0);
	rig_init_fd(&r, slave);
	r.rfd = master;
	r.wfd = slave;
	ck_assert_int_eq(fcntl(master, F_SETFL, O_NONBLOCK), 0);
	for (const char *p = msg; *p; p++)
		wr(&r, SERIAL_THR, (uint8_t)*p);
	usleep(50000); /* the pty hands the bytes to the master side asynchronously */
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), strlen(msg));
	ck_assert(memcmp(buf, msg, strlen(msg)) == 0);
	ck_assert_uint_eq(serial_tx_dropped(r.s), 0);
	rig_fini(&r);
}
END_TEST

/* Fill the pipe behind out_fd, leaving the device's end blocking, like a dup of stdout. */
static void fill_pipe(struct rig *r)
{
	char buf[4096];

	memset(buf, '.', sizeof(buf));
	ck_assert_int_eq(fcntl(r->wfd, F_SETFL, O_NONBLOCK), 0);
	while (write(r->wfd, buf, sizeof(buf)) > 0 || errno != EAGAIN)
		;
	ck_assert_int_eq(fcntl(r->wfd, F_SETFL, 0), 0);
}

/* A slow console reader: empties the pipe after 200 ms, keeping the last byte it saw. */
static void *slow_reader(void *arg)
{
	struct rig *r = arg;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	char buf[4096];
	ssize_t n;
	char *last = malloc(1);

	nanosleep(&ts, NULL);
	*last = 0;
	while ((n = read(r->rfd, buf, sizeof(buf))) > 0)
		*last = buf[n - 1];
	return last;
}

START_TEST(test_tx_never_blocks_forever)
{
	struct rig r;
	char buf[4096];
	struct timespec t0, t1;
	double secs;
	pthread_t reader;
	void *last;
	char lastc;
	ssize_t n;

	rig_init(&r);
	/* A console nobody reads: the pipe (blocking on the device's side, like stdout) is full. */
	ck_assert_int_gt(fcntl(r.wfd, F_SETPIPE_SZ, 4096), 0);
	fill_pipe(&r);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100; i++)
		wr(&r, SERIAL_THR, 'A');
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 2.5, "100 bytes to a stalled console took %.1f s", secs);
	ck_assert_uint_eq(serial_tx_dropped(r.s), 100);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60); /* the guest sees nothing wrong */

	/* Once the reader drains the pipe, output flows again. */
	while (read(r.rfd, buf, sizeof(buf)) > 0)
		;
	wr(&r, SERIAL_THR, 'B');
	ck_assert_int_eq(read(r.rfd, buf, sizeof(buf)), 1);
	ck_assert_int_eq(buf[0], 'B');
	ck_assert_uint_eq(serial_tx_dropped(r.s), 100);

	/* A reader that is merely slow holds the vcpu back but loses nothing. */
	fill_pipe(&r);
	ck_assert_int_eq(pthread_create(&reader, NULL, slow_reader, &r), 0);
	wr(&r, SERIAL_THR, 'D');
	pthread_join(reader, &last);
	ck_assert_uint_eq(serial_tx_dropped(r.s), 100);
	lastc = *(char *)last;
	free(last);
	n = read(r.rfd, buf, sizeof(buf)); /* 'D' may have come after the reader's last read */
	if (n > 0)
		lastc = buf[n - 1];
	ck_assert_int_eq(lastc, 'D');

	/* A reader that went away (EPIPE): dropped and counted. */
	signal(SIGPIPE, SIG_IGN);
	close(r.rfd);
	r.rfd = -1;
	wr(&r, SERIAL_THR, 'C');
	ck_assert_uint_eq(serial_tx_dropped(r.s), 101);
	rig_fini(&r);
}
END_TEST

START_TEST(test_loopback_routes_tx_to_rx)
{
	struct rig r;
	char buf[16];

	rig_init(&r);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT2);
	wr(&r, SERIAL_IER, SERIAL_IER_RDI);
	wr(&r, SERIAL_THR, 'o');
	wr(&r, SERIAL_THR, 'k');
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), 0); /* nothing on the wire */
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x61);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc4); /* reported in IIR ... */
	ck_assert_int_eq(r.irq.level, 0);	     /* ... but OUT2 is forced off in loopback */
	ck_assert_int_eq(r.irq.calls, 0);

	/* The receiver hears only the transmitter: host input is refused. */
	ck_assert_uint_eq(serial_rx_room(r.s), 0);
	ck_assert_uint_eq(rx(&r, "zz"), 0);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'o');
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'k');
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	ck_assert_int_eq(r.rx_space_calls, 0); /* still in loopback: no room for the host */

	/* Leaving loopback opens the receiver to the host again. */
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);
	ck_assert_int_eq(r.rx_space_calls, 1);
	ck_assert_uint_eq(r.room_in_callback, SERIAL_FIFO_LEN);
	wr(&r, SERIAL_THR, '!');
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), 1);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	rig_fini(&r);
}
END_TEST

/* Linux's serial8250_do_startup() THRE test, then the interrupt's life cycle. */
START_TEST(test_thre_interrupt)
{
	struct rig r;
	uint8_t iir1, iir;

	rig_init(&r);
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);

	wr(&r, SERIAL_IER, 0x02);
	iir1 = rd(&r, SERIAL_IIR);
	wr(&r, SERIAL_IER, 0);
	wr(&r, SERIAL_IER, 0x02);
	iir = rd(&r, SERIAL_IIR);
	wr(&r, SERIAL_IER, 0);
	ck_assert_uint_eq(iir1, 0x02); /* else Linux sets UART_BUG_TXEN */
	ck_assert_uint_eq(iir, 0x02);  /* else UART_BUG_THRE: polled by a timer */
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_int_eq(r.irq.raises, 2);

	/* Enabling THRI with THR empty raises the line. */
	wr(&r, SERIAL_IER, SERIAL_IER_THRI);
	ck_assert_int_eq(r.irq.level, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60); /* LSR does not acknowledge THRE */
	ck_assert_int_eq(r.irq.level, 1);
	/* Reading IIR while it reports THRE acknowledges it, until the next THR write. */
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), SERIAL_IIR_THRI);
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), SERIAL_IIR_NO_INT);
	wr(&r, SERIAL_THR, 'a');
	ck_assert_int_eq(r.irq.level, 1);
	/* Bytes written while it is pending keep it pending, without redundant calls. */
	wr(&r, SERIAL_THR, 'b');
	wr(&r, SERIAL_THR, 'c');
	ck_assert_int_eq(r.irq.level, 1);
	/* Rewriting IER with THRI still set does not re-arm an acknowledged THRE. */
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), SERIAL_IIR_THRI);
	wr(&r, SERIAL_IER, SERIAL_IER_THRI);
	ck_assert_int_eq(r.irq.level, 0);
	/* Masking it drops the line; unmasking with THR empty raises it again. */
	wr(&r, SERIAL_THR, 'd');
	ck_assert_int_eq(r.irq.level, 1);
	wr(&r, SERIAL_IER, 0);
	ck_assert_int_eq(r.irq.level, 0);
	wr(&r, SERIAL_IER, SERIAL_IER_THRI);
	ck_assert_int_eq(r.irq.level, 1);

	/* OUT2 gates the line, not the interrupt: IIR still reports it. */
	wr(&r, SERIAL_MCR, 0);
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), SERIAL_IIR_THRI);
	wr(&r, SERIAL_THR, 'e');
	ck_assert_int_eq(r.irq.level, 0);
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);
	ck_assert_int_eq(r.irq.level, 1);

	ck_assert_int_eq(r.irq.redundant, 0);
	ck_assert_uint_eq(r.irq.gsi, SERIAL_COM1_IRQ);
	rig_fini(&r);
}
END_TEST

START_TEST(test_rx_interrupt)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE | 0x80); /* Linux: FIFO on, trigger 8 */
	wr(&r, SERIAL_IER, SERIAL_IER_RDI | SERIAL_IER_RLSI);

	/* Without OUT2 the interrupt is pending but does not reach the line. */
	ck_assert_uint_eq(rx(&r, "a"), 1);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc4);
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'a');

	wr(&r, SERIAL_MCR, SERIAL_MCR_DTR | SERIAL_MCR_RTS | SERIAL_MCR_OUT2);
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_uint_eq(rx(&r, "hi"), 2);
	ck_assert_int_eq(r.irq.level, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc4);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x61);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'h');
	ck_assert_int_eq(r.irq.level, 1); /* one byte left */
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'i');
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc1);

	/* Masked in IER: data waits, no interrupt. */
	wr(&r, SERIAL_IER, 0);
	ck_assert_uint_eq(rx(&r, "x"), 1);
	ck_assert_int_eq(r.irq.level, 0);
	wr(&r, SERIAL_IER, SERIAL_IER_RDI);
	ck_assert_int_eq(r.irq.level, 1);
	ck_assert_int_eq(r.irq.redundant, 0);
	rig_fini(&r);
}
END_TEST

START_TEST(test_fifo_full_and_rx_space)
{
	struct rig r;
	const char *in = "0123456789abcdefXYZ";

	rig_init(&r);
	/* FIFO off: the 16450's single RBR. */
	ck_assert_uint_eq(rx(&r, "ab"), 1);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'a');
	ck_assert_int_eq(r.rx_space_calls, 1);
	ck_assert_uint_eq(r.room_in_callback, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR) & SERIAL_LSR_OE, 0); /* refusal is not overrun */

	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	r.rx_space_calls = 0;
	ck_assert_uint_eq(serial_rx_room(r.s), SERIAL_FIFO_LEN);
	ck_assert_uint_eq(rx(&r, in), 16);
	ck_assert_uint_eq(serial_rx_room(r.s), 0);
	ck_assert_uint_eq(rx(&r, "Z"), 0);
	ck_assert_int_eq(r.rx_space_calls, 0);

	/* The first read makes room: one call; further reads do not repeat it. */
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), '0');
	ck_assert_int_eq(r.rx_space_calls, 1);
	ck_assert_uint_eq(r.room_in_callback, 1);
	for (int i = 1; i < 16; i++)
		ck_assert_uint_eq(rd(&r, SERIAL_RBR), (uint8_t)in[i]);
	ck_assert_int_eq(r.rx_space_calls, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	ck_assert_uint_eq(serial_rx_room(r.s), SERIAL_FIFO_LEN);

	/* Input that fits never arms the callback. */
	ck_assert_uint_eq(rx(&r, "XYZ"), 3);
	for (int i = 0; i < 3; i++)
		rd(&r, SERIAL_RBR);
	ck_assert_int_eq(r.rx_space_calls, 1);

	/* An empty FIFO neither underflows nor invents data. */
	rd(&r, SERIAL_RBR);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	ck_assert_uint_eq(serial_rx_room(r.s), SERIAL_FIFO_LEN);
	rig_fini(&r);
}
END_TEST

START_TEST(test_fcr_clear_rx)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);
	wr(&r, SERIAL_IER, SERIAL_IER_RDI);
	ck_assert_uint_eq(rx(&r, "0123456789abcdefg"), 16);
	ck_assert_int_eq(r.irq.level, 1);

	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE | SERIAL_FCR_CLEAR_RX);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc1); /* still in FIFO mode: clear self-clears */
	ck_assert_int_eq(r.rx_space_calls, 1);	     /* the refused host may send again */
	ck_assert_uint_eq(serial_rx_room(r.s), SERIAL_FIFO_LEN);

	/* Clearing TX alone keeps RX; turning the FIFO off empties it. */
	ck_assert_uint_eq(rx(&r, "ab"), 2);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE | SERIAL_FCR_CLEAR_TX);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x61);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'a');
	wr(&r, SERIAL_FCR, 0);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0x01);
	ck_assert_uint_eq(serial_rx_room(r.s), 1);
	rig_fini(&r);
}
END_TEST

START_TEST(test_overrun)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP);
	for (int i = 0; i < 17; i++)
		wr(&r, SERIAL_THR, (uint8_t)('A' + i));
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x63); /* OE | DR | THRE | TEMT */
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x61); /* OE clears on read */
	/* FIFO mode keeps the 16 bytes and loses the 17th. */
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(rd(&r, SERIAL_RBR), (uint8_t)('A' + i));
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);

	/* 16450 mode: the new character overwrites the unread one. */
	wr(&r, SERIAL_FCR, 0);
	wr(&r, SERIAL_THR, '1');
	wr(&r, SERIAL_THR, '2');
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x63);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), '2');
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	rig_fini(&r);
}
END_TEST

/* All four sources pending at once: IIR hands them out RLS, RDA, THRE, MSR. */
START_TEST(test_irq_priority)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT2);
	for (int i = 0; i < 17; i++)
		wr(&r, SERIAL_THR, 'q');     /* fills the FIFO, overruns, and arms THRE */
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2); /* leaving loopback changes DSR and CTS */
	ck_assert_int_eq(r.irq.level, 0);    /* nothing enabled yet */
	wr(&r, SERIAL_IER, 0x0f);
	ck_assert_int_eq(r.irq.level, 1);

	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc6); /* receiver line status */
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc6); /* until LSR is read */
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x63);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc4); /* received data */
	/* THRE is behind RDA: reading IIR must not have acknowledged it. */
	for (int i = 0; i < 16; i++)
		rd(&r, SERIAL_RBR);
	ck_assert_int_eq(r.irq.level, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc2); /* THR empty; acknowledged by this read */
	ck_assert_int_eq(r.irq.level, 1);	     /* modem status still pending */
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc0); /* modem status */
	ck_assert_uint_eq(rd(&r, SERIAL_MSR), 0xb0 | SERIAL_MSR_DDSR | SERIAL_MSR_DCTS);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc1);
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_int_eq(r.irq.redundant, 0);

	/* RLS outranks RDA even when RDA came first; disabling RLSI exposes RDA. */
	rx(&r, "x");
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP);
	for (int i = 0; i < 16; i++)
		wr(&r, SERIAL_THR, 'q');
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);
	rd(&r, SERIAL_MSR);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc6);
	wr(&r, SERIAL_IER, SERIAL_IER_RDI | SERIAL_IER_THRI);
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc4);
	rig_fini(&r);
}
END_TEST

START_TEST(test_junk_writes)
{
	struct rig r;
	char buf[512];

	rig_init(&r);
	wr(&r, SERIAL_MCR, SERIAL_MCR_OUT2);
	for (unsigned lcr = 0; lcr < 2; lcr++) {
		for (unsigned off = 0; off < SERIAL_PORT_LEN; off++) {
			for (unsigned v = 0; v < 256; v++) {
				wr(&r, SERIAL_LCR, lcr ? 0x80 : 0);
				wr(&r, off, (uint8_t)v);
				/* Whatever was written, reserved bits read as a 16550A's. */
				ck_assert_uint_eq(rd(&r, SERIAL_IIR) & 0x30, 0);
				ck_assert_uint_eq(rd(&r, SERIAL_LSR) & 0x9c, 0);
				ck_assert_uint_eq(rd(&r, SERIAL_LSR) & 0x60, 0x60);
				ck_assert_uint_eq(rd(&r, SERIAL_MCR) & 0xe0, 0);
				if (!(rd(&r, SERIAL_LCR) & 0x80))
					ck_assert_uint_eq(rd(&r, SERIAL_IER) & 0xf0, 0);
				for (unsigned o = 0; o < SERIAL_PORT_LEN; o++)
					rd(&r, o);
				drain(&r, buf, sizeof(buf));
			}
		}
	}
	/* Then Linux's set_termios sequence works as on a fresh chip. */
	wr(&r, SERIAL_LCR, 0x83);
	wr(&r, SERIAL_DLL, 1);
	wr(&r, SERIAL_DLM, 0);
	wr(&r, SERIAL_LCR, 0x03);
	wr(&r, SERIAL_FCR, 0x07);
	wr(&r, SERIAL_MCR, 0x0b);
	wr(&r, SERIAL_IER, SERIAL_IER_RDI);
	drain(&r, buf, sizeof(buf));
	/* FCR 0x07 emptied whatever loopback junk had reached the receiver. */
	ck_assert_uint_eq(rd(&r, SERIAL_IIR), 0xc1);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR), 0x60);
	wr(&r, SERIAL_THR, 'k');
	ck_assert_uint_eq(drain(&r, buf, sizeof(buf)), 1);
	ck_assert_int_eq(buf[0], 'k');
	ck_assert_uint_eq(rx(&r, "r"), 1);
	ck_assert_int_eq(r.irq.level, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_RBR), 'r');
	ck_assert_int_eq(r.irq.level, 0);
	ck_assert_int_eq(r.irq.redundant, 0);
	rig_fini(&r);
}
END_TEST

START_TEST(test_reset)
{
	struct rig r;

	rig_init(&r);
	wr(&r, SERIAL_LCR, 0x83);
	wr(&r, SERIAL_DLL, 0x34);
	wr(&r, SERIAL_LCR, 0x1b);
	wr(&r, SERIAL_SCR, 0x77);
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	wr(&r, SERIAL_MCR, SERIAL_MCR_LOOP | SERIAL_MCR_OUT1);
	for (int i = 0; i < 17; i++)
		wr(&r, SERIAL_THR, 'x');	   /* overrun, MSR deltas */
	ck_assert_uint_eq(serial_rx_room(r.s), 0); /* arms rx_space */
	wr(&r, SERIAL_MCR, 0x1f & ~SERIAL_MCR_LOOP);
	wr(&r, SERIAL_IER, 0x0f);
	ck_assert_int_eq(r.irq.level, 1);
	r.rx_space_calls = 0;

	serial_reset(r.s);
	ck_assert_int_eq(r.irq.level, 0); /* lowered, with a call */
	ck_assert_int_eq(r.rx_space_calls, 1);
	check_power_on(&r);
	wr(&r, SERIAL_LCR, 0x80);
	ck_assert_uint_eq(rd(&r, SERIAL_DLL), 12); /* 9600 baud */
	ck_assert_uint_eq(rd(&r, SERIAL_DLM), 0);
	wr(&r, SERIAL_LCR, 0);

	/* A reset of a quiet device makes no calls at all. */
	r.irq.calls = 0;
	r.rx_space_calls = 0;
	serial_reset(r.s);
	ck_assert_int_eq(r.irq.calls, 0);
	ck_assert_int_eq(r.rx_space_calls, 0);
	ck_assert_str_eq(linux_autoconfig(&r), "16550A");
	rig_fini(&r);
}
END_TEST

START_TEST(test_fw_device)
{
	struct fw_device d;

	memset(&d, 0xa5, sizeof(d));
	serial_fw_device(&d, SERIAL_COM1_PORT, SERIAL_COM1_IRQ, "COM1", 1);
	ck_assert_str_eq(d.acpi_name, "COM1");
	ck_assert_str_eq(d.acpi_hid, "PNP0501");
	ck_assert_uint_eq(d.acpi_uid, 1);
	ck_assert_str_eq(d.fdt_node, "serial");
	ck_assert_str_eq(d.fdt_compat, "ns16550a");
	ck_assert_ptr_null(d.aml);
	ck_assert_ptr_nonnull(d.fdt); /* clock-frequency */
	ck_assert(d.fdt_console);
	ck_assert_uint_eq(d.nres, 2);
	ck_assert_int_eq(d.res[0].kind, FW_RES_IO);
	ck_assert_uint_eq(d.res[0].base, 0x3f8);
	ck_assert_uint_eq(d.res[0].len, 8);
	ck_assert_int_eq(d.res[1].kind, FW_RES_IRQ);
	ck_assert_uint_eq(d.res[1].base, 4);
	ck_assert_uint_eq(d.res[1].len, 0);

	serial_fw_device(&d, 0x2f8, 3, "COM2", 2);
	ck_assert_str_eq(d.acpi_name, "COM2");
	ck_assert_uint_eq(d.acpi_uid, 2);
	ck_assert_uint_eq(d.res[0].base, 0x2f8);
	ck_assert_uint_eq(d.res[1].base, 3);
	/* An over-long name is cut to the 4 characters AML allows, never overflowing. */
	serial_fw_device(&d, 0x3e8, 4, "SERIAL", 3);
	ck_assert_str_eq(d.acpi_name, "SERI");
}
END_TEST

/* The host feeds input on one thread while a "vcpu" drains it on another. */
struct stress {
	struct rig *r;
	unsigned total;
	unsigned got;
	int in_order;
};

static void *stress_vcpu(void *arg)
{
	struct stress *st = arg;

	st->in_order = 1;
	while (st->got < st->total) {
		if (!(rd(st->r, SERIAL_LSR) & SERIAL_LSR_DR)) {
			sched_yield();
			continue;
		}
		if (rd(st->r, SERIAL_RBR) != (uint8_t)st->got)
			st->in_order = 0;
		st->got++;
	}
	return NULL;
}

START_TEST(test_threads_keep_order)
{
	struct rig r;
	struct stress st = { .total = 50000 };
	pthread_t t;
	unsigned sent = 0;

	rig_init(&r);
	st.r = &r;
	wr(&r, SERIAL_FCR, SERIAL_FCR_ENABLE);
	ck_assert_int_eq(pthread_create(&t, NULL, stress_vcpu, &st), 0);
	while (sent < st.total) {
		uint8_t buf[7];
		size_t n = 0;

		while (n < sizeof(buf) && sent + n < st.total) {
			buf[n] = (uint8_t)(sent + n);
			n++;
		}
		n = serial_receive(r.s, buf, n);
		if (!n)
			sched_yield(); /* the FIFO is full: let the vcpu drain it */
		sent += (unsigned)n;
	}
	pthread_join(t, NULL);
	ck_assert_uint_eq(st.got, st.total);
	ck_assert_int_eq(st.in_order, 1);
	ck_assert_uint_eq(rd(&r, SERIAL_LSR) & SERIAL_LSR_OE, 0);
	rig_fini(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_power_on_state);
	tcase_add_test(tc, test_tx_polled_follows_thri);
	tcase_add_test(tc, test_linux_probe_finds_16550a);
	tcase_add_test(tc, test_loopback_msr_mirrors_mcr);
	tcase_add_test(tc, test_msr_deltas);
	tcase_add_test(tc, test_divisor_latch);
	tcase_add_test(tc, test_thr_to_out_fd);
	tcase_add_test(tc, test_thr_to_terminal);
	tcase_add_test(tc, test_tx_never_blocks_forever);
	tcase_add_test(tc, test_loopback_routes_tx_to_rx);
	tcase_add_test(tc, test_thre_interrupt);
	tcase_add_test(tc, test_rx_interrupt);
	tcase_add_test(tc, test_fifo_full_and_rx_space);
	tcase_add_test(tc, test_fcr_clear_rx);
	tcase_add_test(tc, test_overrun);
	tcase_add_test(tc, test_irq_priority);
	tcase_add_test(tc, test_junk_writes);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_fw_device);
	tcase_add_test(tc, test_threads_keep_order);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
