/* console.h - the host side of the serial console: stdin to the UART, its output fd, Ctrl-A x. */
#ifndef MINIVMM_CONSOLE_H
#define MINIVMM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "core/loop.h"

struct serial;

enum serial_mode { SERIAL_MODE_STDIO, SERIAL_MODE_FILE, SERIAL_MODE_NONE };

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A, then 'x' quits */
#define CONSOLE_READ   64   /* bytes read at a time (at most the FIFO's room) */

struct console {
	struct loop *loop;
	struct serial *serial;
	int in_fd;	    /* guest keyboard: stdin in stdio mode, else -1 */
	int out_fd;	    /* what the UART transmits goes here; -1: nowhere */
	int wake_fd;	    /* eventfd: the UART's receive FIFO has room again */
	int watched;	    /* in_fd is on the loop */
	int unpollable;	    /* in_fd is a regular file: read as the FIFO makes room, not on epoll */
	int in_eof;	    /* in_fd ended (or cannot be read): the guest has no keyboard */
	int escape;	    /* Ctrl-A x quits (in_fd is a terminal in raw mode) */
	int escape_pending; /* Ctrl-A seen */
	uint8_t pend[CONSOLE_READ + 1]; /* typed bytes the UART has not taken yet */
	size_t npend;
	int is_tty; /* saved_termios must be restored */
	struct termios saved_termios;
	void (*quit)(void *ctx); /* Ctrl-A x; main thread */
	void *ctx;
};

/*
 * Open the console's output for @mode (stdout, or @path truncated, or created 0600; never
 * through a symlink, see hostfile_create) and its wake
 * eventfd, on @loop. Input is not read until console_start. Returns 0 or -errno (message
 * printed). @quit is called on the main thread when the user types Ctrl-A x.
 */
int console_init(struct console *c, struct loop *loop, enum serial_mode mode, const char *path,
		 void (*quit)(void *ctx), void *ctx) __attribute__((warn_unused_result));

/* Give the console the UART it feeds. Call after console_init, before console_start. */
void console_attach(struct console *c, struct serial *serial);

/* For the UART's serial_config.rx_space (any thread): the receive FIFO has room again. */
void console_rx_space(void *ctx);

/*
 * Start reading input (stdio mode): a terminal goes raw so every key, Ctrl-C included, reaches
 * the guest, and Ctrl-A x quits. Call once the vcpus can run.
 */
void console_start(struct console *c);

/* Give the terminal its settings back (idempotent). */
void console_restore(struct console *c);

/* Stop reading, restore the terminal, close the output. Safe after a failed console_init. */
void console_destroy(struct console *c);

#endif
