/* fuzz_qmp.c - libFuzzer harness: the QMP server (transport, splitter, dispatcher, schema). */
/*
 * The input is what a client writes to a QMP socket; the server runs over a socketpair with
 * a fake VM behind it (tests/qmp/fake_machine.c, as in tests/unit/test_qmp.c). Invariants, beyond
 * "no crash":
 *  - every message the server sends is one CRLF-terminated line holding one JSON object with
 *    exactly one of "QMP" (first, and only first), "return", "error" or "event";
 *  - every value or splitter error in the input gets exactly one reply, none is lost or
 *    doubled (counted against a second splitter over the same bytes);
 *  - no command reaches the VM before a successful qmp_capabilities.
 * Built twice: qmp with the real caps, qmp_small over a splitter capped at 256 bytes and depth
 * 8, so the server's answers to oversized and over-deep input are reached too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "api/json_stream.h"
#include "api/qmp.h"
#include "core/event.h"
#include "tests/qmp/fake_machine.h"

static unsigned vm_calls; /* backend operations that change the VM */

static int f_op(void *ctx, struct qmp_error *err)
{
	(void)ctx;
	(void)err;
	vm_calls++;
	return 0;
}

static int f_fails(void *ctx, struct qmp_error *err)
{
	(void)ctx;
	vm_calls++;
	err->cls = "GenericError";
	snprintf(err->desc, sizeof(err->desc), "Resetting the Virtual Machine is required");
	return -1;
}

static int f_set(void *ctx, const char *r, const char *s, const char *p, const char *w,
		 struct qmp_error *err)
{
	(void)ctx;
	(void)r;
	(void)s;
	(void)p;
	(void)w;
	(void)err;
	vm_calls++;
	return 0;
}

static int f_wd(void *ctx, const char *a, struct qmp_error *err)
{
	(void)ctx;
	(void)a;
	(void)err;
	vm_calls++;
	return 0;
}

static int f_dump(void *ctx, const char *protocol, int fd, int detach, int has_filter,
		  uint64_t begin, uint64_t length, enum qmp_dump_format format,
		  struct qmp_error *err)
{
	(void)ctx;
	(void)protocol;
	(void)detach;
	(void)has_filter;
	(void)begin;
	(void)length;
	(void)format;
	if (fd >= 0) /* consumed, as the VMM's */
		close(fd);
	vm_calls++;
	err->cls = "GenericError";
	snprintf(err->desc, sizeof(err->desc), "fake: no dump");
	return -1;
}

static int f_set_panic_dump(void *ctx, const char *dir, struct qmp_error *err)
{
	(void)ctx;
	(void)err;
	(void)dir;
	vm_calls++;
	return 0;
}

static const struct qmp_backend be = {
	.stop = f_op,
	.cont = f_fails,
	.system_reset = f_op,
	.system_powerdown = f_op,
	.quit = f_op,
	.set_action = f_set,
	.watchdog_set_action = f_wd,
	.set_panic_dump = f_set_panic_dump,
	.dump_guest_memory = f_dump,
	.inject_nmi = f_op,
	FAKE_QUERIES,
};

/* What the server sent. */
static char *out;
static size_t out_len, out_cap;

static int drain(int fd)
{
	int got = 0;

	for (;;) {
		ssize_t n;

		if (out_cap - out_len < 65536) {
			out_cap = out_cap ? 2 * out_cap : 1 << 20;
			out = realloc(out, out_cap);
			if (!out)
				abort();
		}
		n = recv(fd, out + out_len, out_cap - out_len, MSG_DONTWAIT);
		if (n <= 0)
			return got;
		out_len += (size_t)n;
		got = 1;
	}
}

static int count_value(void *ctx, json_t *v)
{
	(void)v;
	(*(unsigned *)ctx)++;
	return 0;
}

static int count_error(void *ctx, const char *desc)
{
	(void)desc;
	(*(unsigned *)ctx)++;
	return 0;
}

static void fail(const char *why, const char *line)
{
	fprintf(stderr, "%s: %.300s\n", why, line ? line : "");
	if (getenv("FUZZ_QMP_SHOW"))
		fwrite(out, 1, out_len, stderr);
	abort();
}

/* jansson's hash seed is random per process unless set: fixed, objects iterate alike every run
 * (tests/fuzz/run.sh --ci replays a seed exactly). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_stream_ops ops = { count_value, count_error, NULL };
	struct json_stream js;
	struct loop *loop;
	struct qmp_server *srv;
	unsigned expected = 0, replies = 0, lines = 0, quiet = 0;
	int negotiated = 0, sv[2];
	size_t off = 0, pos = 0;

	/* What the server should answer: one reply per value or splitter error. */
	ops.ctx = &expected;
	json_stream_init(&js, &ops);
	if (json_stream_feed(&js, data, size) != (long)size)
		abort();
	json_stream_destroy(&js);

	out_len = 0;
	vm_calls = 0;
	if (loop_create(&loop) || qmp_server_create(loop, &be, &fake_version, &srv))
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || qmp_server_add_client_fd(srv, sv[1]))
		abort();
	/* Write, run the server and read its replies until it has taken every byte and has
	 * been quiet for a few rounds. */
	while (quiet < 3) {
		int unread = 0;

		if (off < size) {
			ssize_t n = send(sv[0], data + off, size - off, MSG_DONTWAIT);

			if (n > 0)
				off += (size_t)n;
		}
		loop_run_once(loop, 0);
		if (ioctl(sv[0], SIOCOUTQ, &unread))
			abort();
		if (drain(sv[0]) || off < size || unread)
			quiet = 0;
		else
			quiet++;
	}

	/* Every line: one object, one kind of message. */
	while (pos < out_len) {
		char *crlf = memmem(out + pos, out_len - pos, "\r\n", 2);
		json_error_t jerr;
		json_t *msg;
		const char *kind = NULL;
		unsigned kinds = 0;
		static const char *const known[] = { "QMP", "return", "error", "event" };

		if (!crlf)
			fail("a message without CRLF", out + pos);
		*crlf = 0;
		if (memchr(out + pos, '\n', (size_t)(crlf - (out + pos))))
			fail("a message spans lines", out + pos);
		/* Integers as reals: an id a client gave as a uint64 beyond int64 comes back bare,
		 * as from QEMU, and jansson refuses such an integer. \u0000 in a string comes back
		 * as QEMU 10.0.2 echoes it. */
		msg = json_loads(out + pos, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
		if (!json_is_object(msg))
			fail("not a JSON object", out + pos);
		for (unsigned k = 0; k < 4; k++) {
			if (json_object_get(msg, known[k])) {
				kind = known[k];
				kinds++;
			}
		}
		if (kinds != 1)
			fail("not exactly one of QMP, return, error, event", out + pos);
		if ((lines == 0) != !strcmp(kind, "QMP"))
			fail("the greeting is not the first message, or comes twice", out + pos);
		if (!strcmp(kind, "return") || !strcmp(kind, "error"))
			replies++;
		/* qmp_capabilities' success is the only {"return": {}} before negotiation */
		if (!negotiated && !strcmp(kind, "return")) {
			json_t *r = json_object_get(msg, "return");

			if (json_is_object(r) && !json_object_size(r))
				negotiated = 1;
			else
				fail("a command ran before negotiation", out + pos);
		}
		json_decref(msg);
		lines++;
		pos = (size_t)(crlf + 2 - out);
	}
	if (!lines)
		fail("no greeting", NULL);
	if (replies != expected) {
		fprintf(stderr, "%u replies to %u values and errors\n", replies, expected);
		abort();
	}
	if (!negotiated && vm_calls)
		fail("the VM was driven before negotiation", NULL);

	close(sv[0]);
	qmp_server_destroy(srv);
	loop_destroy(loop);
	return 0;
}
