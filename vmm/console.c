/* console.c - the host side of the serial console: stdin to the UART, its output fd, Ctrl-A x. */
#include "console.h"
#include "devices/serial_16550.h"
#include "core/hostfile.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void console_on_input(void *opaque, uint32_t events);

/* Hand the UART what it refused before. Returns 1 when nothing is left waiting. */
static int console_flush(struct console *c)
{
	size_t n = c->npend ? serial_receive(c->serial, c->pend, c->npend) : 0;

	memmove(c->pend, c->pend + n, c->npend - n);
	c->npend -= n;
	return c->npend == 0;
}

static void console_watch(struct console *c)
{
	int ret;

	if (c->watched || c->unpollable || c->in_eof || c->in_fd < 0 || !c->serial)
		return;
	ret = loop_add(c->loop, c->in_fd, EPOLLIN, console_on_input, c);
	if (!ret) {
		c->watched = 1;
	} else if (ret == -EPERM) {
		/* A regular file (or /dev/null): epoll refuses it, and a read never blocks. Read
		 * it as the FIFO makes room instead, until its end. */
		c->unpollable = 1;
		console_on_input(c, 0);
	} else {
		pr_warn("console input: cannot watch stdin (%s); the guest gets no keyboard",
			strerror(-ret));
		c->in_eof = 1;
	}
}

static void console_unwatch(struct console *c)
{
	if (!c->watched)
		return;
	loop_remove(c->loop, c->in_fd);
	c->watched = 0;
}

/* Queue @n typed bytes for the UART, with Ctrl-A x and Ctrl-A Ctrl-A. Returns 1 on Ctrl-A x. */
static int console_filter(struct console *c, const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = buf[i];

		if (c->escape && c->escape_pending) {
			c->escape_pending = 0;
			if (ch == 'x') {
				pr_err("terminating on console escape (Ctrl-A x)");
				c->quit(c->ctx);
				return 1;
			}
			if (ch != CONSOLE_ESCAPE) /* not an escape after all: the Ctrl-A goes too */
				c->pend[c->npend++] = CONSOLE_ESCAPE;
		} else if (c->escape && ch == CONSOLE_ESCAPE) {
			c->escape_pending = 1;
			continue;
		}
		c->pend[c->npend++] = ch;
	}
	return 0;
}

static void console_on_input(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint8_t buf[CONSOLE_READ];
	size_t room;
	ssize_t n;

	(void)events;
	for (;;) {
		/* Both a refused byte and no room arm the UART's rx_space notice. */
		if (!console_flush(c) || !(room = serial_rx_room(c->serial))) {
			/* The guest is not reading; wait for the FIFO to drain (rx_space). */
			console_unwatch(c);
			return;
		}
		if (c->in_eof)
			return;
		n = read(c->in_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			/* End of input: the guest keeps running without a keyboard. */
			console_unwatch(c);
			c->in_eof = 1;
			return;
		}
		if (console_filter(c, buf, (size_t)n))
			return;
		if (!c->unpollable) {
			/* One read per wake-up: a pipe or terminal may block on the next. */
			if (!console_flush(c))
				console_unwatch(c);
			return;
		}
	}
}

static void console_on_wake(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint64_t cnt;

	(void)events;
	if (read(c->wake_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		pr_debug("console eventfd: %s", strerror(errno));
	if (c->unpollable)
		console_on_input(c, 0);
	else if (console_flush(c))
		console_watch(c);
}

void console_rx_space(void *ctx)
{
	struct console *c = ctx;
	uint64_t one = 1;

	/* Only fails if the counter would overflow, and then the loop is already woken. */
	if (write(c->wake_fd, &one, sizeof(one)) < 0)
		return;
}

int console_init(struct console *c, struct loop *loop, enum serial_mode mode, const char *path,
		 void (*quit)(void *ctx), void *ctx)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->quit = quit;
	c->ctx = ctx;
	c->in_fd = mode == SERIAL_MODE_STDIO ? STDIN_FILENO : -1;
	c->out_fd = -1;
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0) {
		ret = -errno;
		pr_err("eventfd: %s", strerror(errno));
		return ret;
	}
	ret = loop_add(loop, c->wake_fd, EPOLLIN, console_on_wake, c);
	if (ret)
		return ret;
	if (mode == SERIAL_MODE_STDIO) {
		c->out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
		if (c->out_fd < 0) {
			ret = -errno;
			pr_err("cannot duplicate stdout for the serial console: %s",
			       strerror(errno));
			return ret;
		}
	} else if (mode == SERIAL_MODE_FILE) {
		c->out_fd = hostfile_create(path, O_TRUNC);
		if (c->out_fd < 0) {
			ret = c->out_fd;
			pr_err("cannot open serial output '%s': %s", path, hostfile_strerror(ret));
			return ret;
		}
	}
	return 0;
}

void console_attach(struct console *c, struct serial *serial)
{
	c->serial = serial;
}

/* Raw mode so every key (Ctrl-C included) goes to the guest; Ctrl-A x leaves. */
static void console_raw(struct console *c)
{
	struct termios t;

	if (c->in_fd < 0 || !isatty(c->in_fd))
		return;
	if (tcgetattr(c->in_fd, &c->saved_termios) < 0)
		return;
	t = c->saved_termios;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* keep our own stderr lines readable */
	if (tcsetattr(c->in_fd, TCSANOW, &t) == 0)
		c->is_tty = c->escape = 1;
}

void console_start(struct console *c)
{
	console_raw(c);
	console_watch(c);
}

void console_restore(struct console *c)
{
	if (c->is_tty) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved_termios);
		c->is_tty = 0;
	}
}

void console_destroy(struct console *c)
{
	console_restore(c);
	console_unwatch(c);
	if (c->wake_fd >= 0) {
		if (c->loop)
			loop_remove(c->loop, c->wake_fd);
		close(c->wake_fd);
	}
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->wake_fd = c->out_fd = -1;
	c->serial = NULL;
}
