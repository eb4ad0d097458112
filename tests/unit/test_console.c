/* test_console.c - the host console (vmm/console.c) feeding a real 16550A: what the guest reads. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/serial_16550.h"
#include "vmm/console.h"
#include "tests/unit/unit.h"

static struct loop *loop;
static struct console con;
static struct serial *uart;
static int in_w = -1; /* the test types here; the console reads the other end */
static int quits;

static void fake_quit(void *ctx)
{
	(void)ctx;
	quits++;
}

static void setup_with_input(int in_fd, int fifo)
{
	struct serial_config sc = { .out_fd = -1, .rx_space = console_rx_space, .ctx = &con };
	uint8_t fcr = SERIAL_FCR_ENABLE;

	quits = 0;
	ck_assert_int_eq(loop_create(&loop), 0);
	ck_assert_int_eq(console_init(&con, loop, SERIAL_MODE_NONE, NULL, fake_quit, NULL), 0);
	ck_assert_int_eq(serial_create(&sc, &uart), 0);
	if (fifo)
		serial_bus_ops.write(uart, SERIAL_FCR, &fcr, 1);
	console_attach(&con, uart);
	con.in_fd = in_fd;
	con.escape = 1; /* as on a terminal in raw mode */
	console_start(&con);
}

/* A pipe as the keyboard; @fifo 0: the UART takes one byte at a time, as before Linux's probe. */
static void setup_pipe(int fifo)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	in_w = p[1];
	setup_with_input(p[0], fifo);
}

static void teardown(void)
{
	int in_fd = con.in_fd;

	console_destroy(&con);
	serial_destroy(uart);
	loop_destroy(loop);
	close(in_fd);
	if (in_w >= 0)
		close(in_w);
	in_w = -1;
}

static void type(const char *s, size_t len)
{
	ck_assert_int_eq(write(in_w, s, len), (ssize_t)len);
	loop_run_once(loop, 0);
}

/* What the guest reads from RBR while it polls LSR, running the main loop between reads. */
static const char *guest_reads(size_t *len)
{
	static char out[512];
	size_t n = 0;

	for (int idle = 0; idle < 20 && n < sizeof(out);) {
		uint8_t lsr, ch;

		loop_run_once(loop, 0);
		serial_bus_ops.read(uart, SERIAL_LSR, &lsr, 1);
		if (!(lsr & SERIAL_LSR_DR)) {
			idle++;
			continue;
		}
		serial_bus_ops.read(uart, SERIAL_RBR, &ch, 1);
		out[n++] = (char)ch;
		idle = 0;
	}
	*len = n;
	return out;
}

#define ck_assert_guest_read(s)                                                                    \
	do {                                                                                       \
		size_t n_;                                                                         \
		const char *got_ = guest_reads(&n_);                                               \
		ck_assert_uint_eq(n_, sizeof(s) - 1);                                              \
		ck_assert_mem_eq(got_, s, sizeof(s) - 1);                                          \
	} while (0)

START_TEST(test_console_plain_bytes)
{
	setup_pipe(1);
	type("hello", 5);
	ck_assert_guest_read("hello");
	teardown();
}
END_TEST

START_TEST(test_console_escape_x_quits)
{
	setup_pipe(1);
	type("ab\x01x", 4);
	ck_assert_int_eq(quits, 1);
	teardown();
}
END_TEST

START_TEST(test_console_escape_twice_sends_one)
{
	setup_pipe(1);
	type("\x01\x01z\x01q", 5);
	ck_assert_int_eq(quits, 0);
	ck_assert_guest_read("\x01z\x01q");
	teardown();
}
END_TEST

/* Ctrl-A at the end of one read, the next key in the next: both reach a one-byte UART. */
START_TEST(test_console_escape_pending_keeps_next_byte)
{
	setup_pipe(0);
	type("\x01", 1);
	type("b", 1);
	ck_assert_guest_read("\x01"
			     "b");
	teardown();
}
END_TEST

/* Bytes the FIFO did not take wait for room instead of being lost. */
START_TEST(test_console_keeps_bytes_fifo_refused)
{
	setup_pipe(1);
	type("\x01", 1);
	type("0123456789abcdef", 16); /* with the pending Ctrl-A, 17 bytes for 16 places */
	type("ghij", 4);
	ck_assert_guest_read("\x01"
			     "0123456789abcdefghij");
	teardown();
}
END_TEST

/* Output on stdout is a dup the guest's children must not inherit across exec. */
START_TEST(test_console_output_fd_cloexec)
{
	struct console c;

	ck_assert_int_eq(loop_create(&loop), 0);
	ck_assert_int_eq(console_init(&c, loop, SERIAL_MODE_STDIO, NULL, fake_quit, NULL), 0);
	ck_assert_int_ge(c.out_fd, 0);
	ck_assert_int_ne(c.out_fd, STDOUT_FILENO);
	ck_assert(fcntl(c.out_fd, F_GETFD) & FD_CLOEXEC);
	c.in_fd = -1;
	console_destroy(&c);
	loop_destroy(loop);
}
END_TEST

/* stdin redirected from a regular file (epoll refuses those): the guest still gets it all. */
START_TEST(test_console_input_from_regular_file)
{
	static const char text[] = "a file longer than the sixteen-byte FIFO\n";
	char path[] = "/tmp/minivmm-console-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	unlink(path);
	setup_with_input(fd, 1);
	ck_assert_guest_read("a file longer than the sixteen-byte FIFO\n");
	teardown();
}
END_TEST

/* --serial file:PATH: the guest's console output is created 0600, and a symlink planted at
 * PATH is not followed (the file it points to would be truncated and written). */
START_TEST(test_console_file_private_no_symlink)
{
	char dir[] = "/tmp/minivmm-console-XXXXXX", path[64], link[64], buf[16];
	struct console c;
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/console.log", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	umask(0);
	ck_assert_int_eq(loop_create(&loop), 0);
	ck_assert_int_eq(console_init(&c, loop, SERIAL_MODE_FILE, path, fake_quit, NULL), 0);
	c.in_fd = -1;
	console_destroy(&c);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	ck_assert_int_eq(symlink(path, link), 0);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(console_init(&c, loop, SERIAL_MODE_FILE, link, fake_quit, NULL), -ELOOP);
	c.in_fd = -1;
	console_destroy(&c);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 8);
	ck_assert_mem_eq(buf, "precious", 8);
	close(fd);
	loop_destroy(loop);
	unlink(link);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("input");

	tcase_add_test(tc, test_console_plain_bytes);
	tcase_add_test(tc, test_console_escape_x_quits);
	tcase_add_test(tc, test_console_escape_twice_sends_one);
	tcase_add_test(tc, test_console_escape_pending_keeps_next_byte);
	tcase_add_test(tc, test_console_keeps_bytes_fifo_refused);
	tcase_add_test(tc, test_console_output_fd_cloexec);
	tcase_add_test(tc, test_console_input_from_regular_file);
	tcase_add_test(tc, test_console_file_private_no_symlink);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
