/* test_qmp.c - the QMP server over socketpairs: framing, negotiation, every error path,
 * events, slow and vanishing clients, the journal. Expected strings are QEMU 10.0.2's replies
 * (captured with tests/qmp/probe.py against qemu-system-x86_64), but for the size at which a
 * value is refused: QEMU's is 64 MiB, minivmm's 1 MiB (QMP_MAX_VALUE), in QEMU's words. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/event_log.h"
#include "api/json_compat.h"
#include "api/qdict_order.h"
#include "api/qmp.h"
#include "api/qmp_fds.h"
#include "api/qmp_schema.h"
#include "tests/qmp/fake_machine.h"
#include "tests/unit/unit.h"

struct fake {
	int stops, conts, resets, powerdowns, quits, nmis;
	char set[4][32];
	int cont_fails;
	int dump_fd;
};

static struct fake fk;

#define COUNTER(fn, field)                                                                         \
	static int fn(void *ctx, struct qmp_error *err)                                            \
	{                                                                                          \
		(void)ctx;                                                                         \
		(void)err;                                                                         \
		fk.field++;                                                                        \
		return 0;                                                                          \
	}
COUNTER(f_stop, stops)
COUNTER(f_reset, resets)
COUNTER(f_powerdown, powerdowns)
COUNTER(f_quit, quits)

static int f_cont(void *ctx, struct qmp_error *err)
{
	(void)ctx;
	fk.conts++;
	if (fk.cont_fails) {
		err->cls = "GenericError";
		snprintf(err->desc, sizeof(err->desc), "Resetting the Virtual Machine is required");
		return -1;
	}
	return 0;
}

static int f_set(void *ctx, const char *r, const char *s, const char *p, const char *w,
		 struct qmp_error *err)
{
	(void)ctx;
	(void)err;
	snprintf(fk.set[0], 32, "%s", r ? r : "-");
	snprintf(fk.set[1], 32, "%s", s ? s : "-");
	snprintf(fk.set[2], 32, "%s", p ? p : "-");
	snprintf(fk.set[3], 32, "%s", w ? w : "-");
	return 0;
}

static int f_wd(void *ctx, const char *a, struct qmp_error *err)
{
	return f_set(ctx, NULL, NULL, NULL, a, err);
}

static int f_nmi(void *ctx, struct qmp_error *err)
{
	(void)ctx;
	(void)err;
	fk.nmis++;
	return 0;
}

/* dump-guest-memory's backend: the descriptor "fd:NAME" handed over, written to and closed. */
static int f_dump(void *ctx, const char *protocol, int fd, int detach, int has_filter,
		  uint64_t begin, uint64_t length, enum qmp_dump_format format,
		  struct qmp_error *err)
{
	(void)ctx;
	(void)format;
	(void)protocol;
	(void)detach;
	(void)has_filter;
	(void)begin;
	(void)length;
	(void)err;
	fk.dump_fd = fd;
	if (fd >= 0) {
		ck_assert_int_eq(write(fd, "core", 4), 4);
		close(fd);
	}
	return 0;
}

static const struct qmp_backend be = {
	.dump_guest_memory = f_dump,
	.stop = f_stop,
	.cont = f_cont,
	.system_reset = f_reset,
	.system_powerdown = f_powerdown,
	.quit = f_quit,
	.set_action = f_set,
	.watchdog_set_action = f_wd,
	.inject_nmi = f_nmi,
	FAKE_QUERIES,
};

/* Per-fd receive buffers, so messages are read in chunks. */
static char rbuf[64][1 << 16];
static size_t rlen[64];

static struct loop *loop;
static struct qmp_server *srv;

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	memset(rlen, 0, sizeof(rlen));
	ck_assert_int_eq(loop_create(&loop), 0);
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
}

static void teardown(void)
{
	qmp_server_destroy(srv);
	loop_destroy(loop);
}

/* A new client; returns our end. */
static int connect_client(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(qmp_server_add_client_fd(srv, sv[1]), 0);
	return sv[0];
}

/* Read one CRLF-terminated message (without CRLF), running the server meanwhile. */
static char *rd(int fd)
{
	static char line[1 << 16];

	ck_assert_int_lt(fd, 64);
	for (int spins = 0; spins < 2000; spins++) {
		char *crlf = memmem(rbuf[fd], rlen[fd], "\r\n", 2);
		struct pollfd p = { fd, POLLIN, 0 };

		if (crlf) {
			size_t n = (size_t)(crlf - rbuf[fd]);

			memcpy(line, rbuf[fd], n);
			line[n] = 0;
			memmove(rbuf[fd], crlf + 2, rlen[fd] - n - 2);
			rlen[fd] -= n + 2;
			return line;
		}
		loop_run_once(loop, 0);
		if (poll(&p, 1, 1) == 1) {
			/* small reads keep the memmove above cheap */
			size_t room = sizeof(rbuf[fd]) - rlen[fd];
			ssize_t r = read(fd, rbuf[fd] + rlen[fd], room < 4096 ? room : 4096);

			if (r <= 0)
				return NULL;
			rlen[fd] += (size_t)r;
			spins = 0;
		}
	}
	return NULL;
}

static void wr(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void expect(int fd, const char *send, const char *want)
{
	char *got;

	if (send)
		wr(fd, send);
	got = rd(fd);
	ck_assert_msg(got != NULL, "no reply to %s", send);
	ck_assert_str_eq(got, want);
}

static int negotiated_client(void)
{
	int fd = connect_client();

	ck_assert_ptr_nonnull(rd(fd)); /* greeting */
	expect(fd, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
	return fd;
}

START_TEST(test_greeting_and_negotiation)
{
	int fd = connect_client();

	expect(fd, NULL,
	       "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, "
	       "\"package\": \"minivmm 0.1.0\"}, \"capabilities\": [\"oob\"]}}");
	expect(fd, "{\"execute\": \"query-status\"}",
	       "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities "
	       "negotiation with 'qmp_capabilities'\"}}");
	expect(fd, "{\"execute\": \"nope\", \"id\": 1}",
	       "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting "
	       "capabilities negotiation with 'qmp_capabilities'\"}}");
	ck_assert_int_eq(fk.stops, 0);
	expect(fd, "{\"execute\": \"stop\"}",
	       "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities "
	       "negotiation with 'qmp_capabilities'\"}}");
	ck_assert_int_eq(fk.stops, 0);
	expect(fd, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
	       "{\"return\": {}}");
	expect(fd, "{\"execute\": \"qmp_capabilities\", \"id\": \"neg\"}",
	       "{\"id\": \"neg\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
	       "\"Capabilities negotiation is already complete, command ignored\"}}");
	close(fd);
}
END_TEST

/* An object already in QEMU's order is not copied (events are built so); one out of order, at
 * any depth, is; and a message without a real is not copied to tag its reals. */
START_TEST(test_order_copies_only_when_needed)
{
	json_t *ev = json_pack("{s:{s:I, s:I}, s:s, s:{s:s}}", "timestamp", "seconds",
			       (json_int_t)1, "microseconds", (json_int_t)2, "event",
			       "GUEST_PANICKED", "data", "action", "run");
	json_t *o = qdict_order(ev), *r, *bad, *fixed;
	char *a, *b;

	ck_assert_ptr_nonnull(o);
	a = json_dumps(ev, JSON_PRESERVE_ORDER);
	b = json_dumps(o, JSON_PRESERVE_ORDER);
	ck_assert_str_eq(a, b);
	/* Whether ev is in order decides: then the same object, else a copy in that order. */
	if (qdict_bucket("timestamp") < qdict_bucket("event") &&
	    qdict_bucket("event") < qdict_bucket("data") &&
	    qdict_bucket("seconds") < qdict_bucket("microseconds"))
		ck_assert_ptr_eq(o, ev);
	free(a);
	free(b);
	r = json_compat_reals(ev);
	ck_assert_ptr_eq(r, ev);
	json_decref(r);
	json_decref(o);
	/* In order outside, out of order inside (y before x: x's bucket is the lower). */
	bad = json_pack("{s:[{s:i, s:i}]}", "props", "y", 1, "x", 2);
	ck_assert_uint_lt(qdict_bucket("x"), qdict_bucket("y"));
	fixed = qdict_order(bad);
	ck_assert_ptr_ne(fixed, bad);
	a = json_dumps(fixed, JSON_PRESERVE_ORDER);
	ck_assert_str_eq(a, "{\"props\": [{\"x\": 2, \"y\": 1}]}");
	free(a);
	json_decref(fixed);
	json_decref(bad);
	/* A real anywhere: a copy with it tagged, the original left as it was. */
	bad = json_pack("{s:[i, f]}", "v", 1, 0.5);
	r = json_compat_reals(bad);
	ck_assert_ptr_ne(r, bad);
	ck_assert(json_is_real(json_array_get(json_object_get(bad, "v"), 1)));
	ck_assert(json_is_string(json_array_get(json_object_get(r, "v"), 1)));
	json_decref(r);
	json_decref(bad);
	json_decref(ev);
}
END_TEST

/* Only number text loses the tag and its quotes: a client's string made to look tagged (the
 * tag guessed) still prints as valid JSON. */
START_TEST(test_fix_dump_only_numbers)
{
	static const char *const numbers[] = { "0.5",	 "-1",	     "18446744073709551615",
					       "1e+300", "-2.5e-07", "inf",
					       "-nan" };
	static const char *const others[] = { "e", "-", "1.", ".5", "1e", "1e+", "ties", "" };
	json_t *real = json_real(0.5), *tagged = json_compat_reals(real);
	const char *t = json_string_value(tagged);
	char tag[32], text[96];
	size_t tl;

	ck_assert_ptr_nonnull(t);
	tl = strlen(t) - strlen("0.5");
	ck_assert(tl < sizeof(tag));
	memcpy(tag, t, tl);
	tag[tl] = 0;
	for (unsigned i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		char want[64];
		json_t *v;
		char *dump;

		snprintf(text, sizeof(text), "%s%s", tag, numbers[i]);
		v = json_pack("{s:s}", "n", text);
		dump = json_dumps(v, JSON_COMPACT);
		json_compat_fix_dump(dump);
		snprintf(want, sizeof(want), "{\"n\":%s}", numbers[i]);
		ck_assert_str_eq(dump, want);
		free(dump);
		json_decref(v);
	}
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		json_error_t jerr;
		json_t *v, *back;
		char *dump;

		snprintf(text, sizeof(text), "%s%s", tag, others[i]);
		v = json_pack("{s:s}", "n", text);
		dump = json_dumps(v, JSON_COMPACT);
		json_compat_fix_dump(dump);
		back = json_loads(dump, 0, &jerr);
		ck_assert_msg(back != NULL, "%s: %s", dump, jerr.text);
		ck_assert(json_equal(back, v));
		json_decref(back);
		free(dump);
		json_decref(v);
	}
	json_decref(tagged);
	json_decref(real);
}
END_TEST

START_TEST(test_commands_and_ids)
{
	int fd = negotiated_client();

	expect(fd, "{\"execute\": \"query-status\", \"id\": {\"a\": [1, 2]}}",
	       "{\"return\": {\"status\": \"running\", \"running\": true}, "
	       "\"id\": {\"a\": [1, 2]}}");
	/* QEMU prints an object in its QDict's hash order, whatever order it came in. */
	expect(fd,
	       "{\"execute\": \"query-status\", \"id\": {\"b\": 1, \"a\": 2, \"zz\": 3, "
	       "\"thread-id\": 4, \"props\": [{\"y\": 1, \"x\": 2}]}}",
	       "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": {\"thread-id\": "
	       "4, \"props\": [{\"x\": 2, \"y\": 1}], \"a\": 2, \"zz\": 3, \"b\": 1}}");
	expect(fd, "{\"execute\": \"stop\", \"id\": \"s\"}", "{\"return\": {}, \"id\": \"s\"}");
	expect(fd, "{\"execute\": \"cont\", \"id\": null}", "{\"return\": {}, \"id\": null}");
	expect(fd, "{\"execute\": \"system_reset\"}", "{\"return\": {}}");
	expect(fd, "{\"execute\": \"system_powerdown\"}", "{\"return\": {}}");
	ck_assert_int_eq(fk.stops, 1);
	ck_assert_int_eq(fk.conts, 1);
	ck_assert_int_eq(fk.resets, 1);
	ck_assert_int_eq(fk.powerdowns, 1);
	fk.cont_fails = 1;
	expect(fd, "{\"execute\": \"cont\", \"id\": 3}",
	       "{\"id\": 3, \"error\": {\"class\": \"GenericError\", \"desc\": \"Resetting the "
	       "Virtual Machine is required\"}}");
	expect(fd,
	       "{\"execute\": \"set-action\", \"arguments\": {\"panic\": \"pause\", \"reboot\": "
	       "\"shutdown\"}}",
	       "{\"return\": {}}");
	ck_assert_str_eq(fk.set[0], "shutdown");
	ck_assert_str_eq(fk.set[1], "-");
	ck_assert_str_eq(fk.set[2], "pause");
	expect(
	    fd,
	    "{\"execute\": \"watchdog-set-action\", \"arguments\": {\"action\": \"inject-nmi\"}}",
	    "{\"return\": {}}");
	ck_assert_str_eq(fk.set[3], "inject-nmi");
	expect(fd, "{\"execute\": \"query-version\", \"id\": \"v\"}",
	       "{\"return\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": "
	       "\"minivmm 0.1.0\"}, \"id\": \"v\"}");
	{
		char *got;

		wr(fd, "{\"execute\": \"query-commands\"}");
		got = rd(fd);
		ck_assert_ptr_nonnull(got);
		for (unsigned i = 0; i < qmp_ncommands; i++) {
			char want[64];

			snprintf(want, sizeof(want), "{\"name\": \"%s\"}", qmp_commands[i].name);
			ck_assert_msg(strstr(got, want), "%s missing from %s", want, got);
		}
	}
	expect(fd, "{\"execute\": \"quit\"}", "{\"return\": {}}");
	ck_assert_int_eq(fk.quits, 1);
	close(fd);
}
END_TEST

START_TEST(test_error_paths)
{
	static const char *const cases[][2] = {
		{ "[1, 2]", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must "
			    "be a JSON object\"}}" },
		{ "\"str\"", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must "
			     "be a JSON object\"}}" },
		{ "42 ", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be "
			 "a JSON object\"}}" },
		{ "{\"id\": 5}", "{\"id\": 5, \"error\": {\"class\": \"GenericError\", \"desc\": "
				 "\"QMP input lacks member 'execute'\"}}" },
		{ "{\"execute\": 5}", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP "
				      "input member 'execute' must be a string\"}}" },
		{ "{\"execute\": \"stop\", \"arguments\": []}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
		  "'arguments' must be an object\"}}" },
		{ "{\"execute\": \"query-status\", \"arguments\": null}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
		  "'arguments' must be an object\"}}" },
		{ "{\"execute\": \"stop\", \"foo\": 1}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'foo' is "
		  "unexpected\"}}" },
		{ "{\"execute\": \"nope\", \"id\": \"x\"}",
		  "{\"id\": \"x\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
		  "command nope has not been found\"}}" },
		{ "{\"execute\": \"watchdog-set-action\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'action' is "
		  "missing\"}}" },
		{ "{\"execute\": \"watchdog-set-action\", \"arguments\": {\"action\": 5}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type "
		  "for 'action', expected: string\"}}" },
		{ "{\"execute\": \"watchdog-set-action\", \"arguments\": {\"action\": \"bogus\"}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'action' does "
		  "not accept value 'bogus'\"}}" },
		{ "{\"execute\": \"watchdog-set-action\", \"arguments\": {\"action\": \"pause\", "
		  "\"x\": 1}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is "
		  "unexpected\"}}" },
		{ "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\", 5]}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type "
		  "for 'enable[1]', expected: string\"}}" },
		{ "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\", "
		  "\"x\"]}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'null' does not "
		  "accept value 'x'\"}}" },
		{ "{\"execute\": \"set-action\", \"arguments\": {\"panic\": true}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type "
		  "for 'panic', expected: string\"}}" },
		{ "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is "
		  "unexpected\"}}" },
		/* exec-oob is a member only for a client that enabled oob (test_json_as_qemu). */
		{ "{\"exec-oob\": \"query-status\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
		  "'exec-oob' is unexpected\"}}" },
		{ "{bad json}", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
				"error, invalid keyword 'bad'\"}}" },
		{ "}", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		       "expecting value\"}}" },
		{ "#", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		       "stray '#'\"}}" },
		{ "{\"execute\": \"stop\", \"id\": 1, \"id\": 2}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		  "duplicate key\"}}" },
		{ "{\"execute\": \"set-action\", \"arguments\": {\"panic\": \"pause\", \"panic\": "
		  "\"none\"}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		  "duplicate key\"}}" },
		{ "\xff", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
			  "stray '\\uFFFD'\"}}" },
	};
	int fd = negotiated_client();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(fd, cases[i][0], cases[i][1]);
	/* Bytes no token may hold, as QEMU 10.0.2's lexer finds them: "stray" with the token so
	 * far, then the bytes up to the next bracket, brace, comma, colon or control character
	 * are skipped, and what follows is read anew (here '}' alone: "expecting value"). A
	 * number out of JSON's syntax is refused so even where it needs a uint64 (it once came
	 * back bare: the fuzzer's find). */
	static const char *const stray_cases[][2] = {
		{ "{\"execute\": \"stop\", \"id\": 09999999999999999499}", "stray '09'" },
		{ "{\"execute\": \"stop\", \"id\": +9999999999999999999}", "stray '+'" },
		{ "{\"execute\": \"stop\", \"id\": 1.x}", "stray '1.x'" },
		{ "{\"execute\": \"stop\", \"id\": \"a\x01\"}", "stray '\\\"a\\u0001'" },
		{ "{\"execute\": \"stop\", \"id\": True}", "stray 'T'" },
		{ "{\"execute\": \"stop\" # \"id\": 1}", "stray '#'" },
	};
	for (size_t i = 0; i < sizeof(stray_cases) / sizeof(stray_cases[0]); i++) {
		char want[200];

		snprintf(want, sizeof(want),
			 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
			 "%s\"}}",
			 stray_cases[i][1]);
		expect(fd, stray_cases[i][0], want);
		if (i == 5) { /* '"id"' skipped; then ':' and '1' and '}' */
			expect(fd, NULL,
			       "{\"error\": {\"class\": \"GenericError\", \"desc\": "
			       "\"JSON parse error, expecting value\"}}");
			expect(fd, NULL,
			       "{\"error\": {\"class\": \"GenericError\", \"desc\": "
			       "\"QMP input must be a JSON object\"}}");
		}
		expect(fd, NULL,
		       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
		       "error, expecting value\"}}");
	}
	ck_assert_int_eq(fk.stops, 0);
	/* After all that, the connection still works. */
	expect(fd, "{\"execute\": \"query-status\", \"id\": 9}",
	       "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 9}");
	ck_assert_int_eq(fk.stops, 0);
	close(fd);
}
END_TEST

START_TEST(test_framing)
{
	int fd = negotiated_client();
	const char *ok = "{\"return\": {\"status\": \"running\", \"running\": true}}";

	/* One object split across writes. */
	wr(fd, "{\"execute\"");
	loop_run_once(loop, 0);
	wr(fd, ": \"query-status\"}");
	expect(fd, NULL, ok);
	/* Several objects in one write, with whitespace and newlines between. */
	wr(fd, "{\"execute\": \"query-status\"} \r\n\t{\"execute\": \"query-status\", \"id\": 2}");
	expect(fd, NULL, ok);
	expect(fd, NULL, "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 2}");
	/* Braces inside strings do not count. */
	expect(fd, "{\"execute\": \"query-status\", \"id\": \"}{[\\\"\"}",
	       "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"}{[\\\"\"}");
	close(fd);
}
END_TEST

START_TEST(test_limits)
{
	int fd = negotiated_client();
	size_t big = (1u << 20) + 100;
	char *buf = malloc(big + 64);

	/* Too deep: one error, the rest of that value skipped, the next one served. */
	memset(buf, '[', 2000);
	memset(buf + 2000, ']', 2000);
	buf[4000] = 0;
	wr(fd, buf);
	expect(fd, NULL,
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON nesting depth "
	       "limit exceeded\"}}");
	expect(fd, "{\"execute\": \"stop\", \"id\": 1}", "{\"return\": {}, \"id\": 1}");
	/* Too big: one error, the value skipped, memory bounded, the next one served. */
	strcpy(buf, "{\"execute\": \"stop\", \"id\": \"");
	memset(buf + strlen(buf), 'A', big);
	strcpy(buf + 27 + big, "\"}");
	{
		size_t len = strlen(buf), off = 0;

		fcntl(fd, F_SETFL, O_NONBLOCK);
		while (off < len) {
			ssize_t n = write(fd, buf + off, len - off);

			if (n > 0)
				off += (size_t)n;
			loop_run_once(loop, 1);
		}
		fcntl(fd, F_SETFL, 0);
	}
	expect(fd, NULL,
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON token size "
	       "limit exceeded\"}}");
	ck_assert_int_eq(fk.stops, 1);
	expect(fd, "{\"execute\": \"stop\", \"id\": 2}", "{\"return\": {}, \"id\": 2}");
	free(buf);
	close(fd);
}
END_TEST

START_TEST(test_events_fanout_and_journal)
{
	char path[] = "/tmp/minivmm-journal-XXXXXX";
	int jfd = mkstemp(path);
	struct event_log *log;
	int a, b, pre;
	char line[512], *got;
	FILE *f;

	ck_assert_int_ge(jfd, 0);
	close(jfd);
	ck_assert_int_eq(event_log_open(path, &log), 0);
	qmp_server_set_event_log(srv, log);
	a = negotiated_client();
	b = negotiated_client();
	pre = connect_client(); /* not negotiated: gets no events */
	ck_assert_ptr_nonnull(rd(pre));

	qmp_event_emit(srv, QMP_EVENT_GUEST_PANICKED, json_pack("{s:s}", "action", "pause"));
	qmp_event_emit(srv, QMP_EVENT_STOP, NULL);
	for (int i = 0; i < 2; i++) {
		int fd = i ? b : a;

		got = rd(fd);
		ck_assert_ptr_nonnull(got);
		ck_assert_msg(!strncmp(got, "{\"timestamp\": {\"seconds\": ", 26), "%s", got);
		ck_assert_ptr_nonnull(strstr(got, "}, \"event\": \"GUEST_PANICKED\", \"data\": "
						  "{\"action\": \"pause\"}}"));
		got = rd(fd);
		ck_assert_ptr_nonnull(got);
		ck_assert_ptr_nonnull(strstr(got, "\"microseconds\": "));
		ck_assert_ptr_nonnull(strstr(got, "}, \"event\": \"STOP\"}"));
	}
	/* The un-negotiated client got nothing; its next reply is the answer to its command. */
	expect(pre, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");

	event_log_close(log);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(
	    strstr(line, "\"event\":\"GUEST_PANICKED\",\"data\":{\"action\":\"pause\"}}\n"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, "\"event\":\"STOP\"}\n"));
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	qmp_server_set_event_log(srv, NULL);
	close(a);
	close(b);
	close(pre);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_watchdog_event_throttled)
{
	int a = negotiated_client();
	double t0, t;
	char *got;

	/* QEMU's monitor: the first WATCHDOG goes out at once ... */
	t0 = now_s();
	qmp_event_emit(srv, QMP_EVENT_WATCHDOG, json_pack("{s:s}", "action", "reset"));
	qmp_event_emit(srv, QMP_EVENT_STOP, NULL);
	/* ... later ones within the second wait, the newest replacing the older ... */
	qmp_event_emit(srv, QMP_EVENT_WATCHDOG, json_pack("{s:s}", "action", "pause"));
	qmp_event_emit(srv, QMP_EVENT_WATCHDOG, json_pack("{s:s}", "action", "none"));
	/* ... and other events are not held back. */
	qmp_event_emit(srv, QMP_EVENT_RESUME, NULL);
	got = rd(a);
	ck_assert_ptr_nonnull(
	    strstr(got, "\"event\": \"WATCHDOG\", \"data\": {\"action\": \"reset\"}"));
	ck_assert_ptr_nonnull(strstr(rd(a), "\"event\": \"STOP\""));
	ck_assert_ptr_nonnull(strstr(rd(a), "\"event\": \"RESUME\""));
	/* The newest goes out when the second ends. */
	got = rd(a);
	t = now_s() - t0;
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "\"event\": \"WATCHDOG\", \"data\": {\"action\": \"none\"}"),
		      "%s", got);
	ck_assert_msg(t >= 0.95 && t < 1.9, "delayed WATCHDOG after %.3f s", t);
	/* A quiet second later the gate is open again: the next one goes out at once. */
	while (now_s() - t0 < 2.2)
		loop_run_once(loop, 50);
	t = now_s();
	qmp_event_emit(srv, QMP_EVENT_WATCHDOG, json_pack("{s:s}", "action", "debug"));
	got = rd(a);
	ck_assert_ptr_nonnull(strstr(got, "\"action\": \"debug\""));
	ck_assert_msg(now_s() - t < 0.5, "took %.3f s", now_s() - t);
	close(a);
}
END_TEST

START_TEST(test_slow_and_vanished_clients)
{
	int slow = negotiated_client(), good = negotiated_client(), gone;
	int n;

	/* The slow client never reads; events pile up until it is dropped. */
	for (n = 0; n < 60000 && qmp_server_nclients(srv) == 2; n += 200) {
		for (int i = 0; i < 200; i++)
			qmp_event_emit(srv, QMP_EVENT_RESUME, NULL);
		/* the good client keeps up */
		for (int i = 0; i < 200; i++)
			ck_assert_ptr_nonnull(rd(good));
	}
	ck_assert_int_eq(qmp_server_nclients(srv), 1);
	ck_assert_int_lt(n, 60000);
	qmp_event_emit(srv, QMP_EVENT_STOP, NULL);
	ck_assert_ptr_nonnull(strstr(rd(good), "\"STOP\""));
	close(slow);

	/* A client that sends a burst and disconnects before reading anything. */
	gone = negotiated_client();
	{
		static char burst[500 * 28 + 1];
		size_t len = 0, off = 0;

		for (int i = 0; i < 500; i++)
			len += (size_t)sprintf(burst + len, "{\"execute\": \"query-status\"}");
		fcntl(gone, F_SETFL, O_NONBLOCK);
		while (off < len) {
			ssize_t w = write(gone, burst + off, len - off);

			if (w > 0)
				off += (size_t)w;
			loop_run_once(loop, 1);
		}
	}
	close(gone);
	for (int i = 0; i < 50; i++)
		loop_run_once(loop, 1);
	ck_assert_int_eq(qmp_server_nclients(srv), 1);
	expect(good, "{\"execute\": \"query-status\", \"id\": 1}",
	       "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 1}");
	close(good);
}
END_TEST

/* Each new command's reply, in QEMU 10.0.2's shape and member order (checked against
 * qemu-system-x86_64 -M none, and -M q35 -smp 2 -device pvpanic-pci for the lists). */
START_TEST(test_queries)
{
	int fd = negotiated_client();

	expect(fd, "{\"execute\": \"query-kvm\", \"id\": 1}",
	       "{\"return\": {\"enabled\": true, \"present\": true}, \"id\": 1}");
	expect(fd, "{\"execute\": \"query-name\"}", "{\"return\": {\"name\": \"vm1\"}}");
	expect(fd, "{\"execute\": \"query-uuid\"}",
	       "{\"return\": {\"UUID\": \"0123abcd-0000-1111-2222-333344445555\"}}");
	expect(fd, "{\"execute\": \"query-target\"}", "{\"return\": {\"arch\": \"x86_64\"}}");
	expect(fd, "{\"execute\": \"query-machines\"}",
	       "{\"return\": [{\"hotpluggable-cpus\": false, \"name\": \"minivmm\", "
	       "\"numa-mem-supported\": false, \"default-cpu-type\": \"host-x86_64-cpu\", "
	       "\"acpi\": true, \"is-default\": true, \"cpu-max\": 254, \"deprecated\": false}]}");
	expect(fd, "{\"execute\": \"query-machines\", \"arguments\": {\"compat-props\": true}}",
	       "{\"return\": [{\"hotpluggable-cpus\": false, \"name\": \"minivmm\", "
	       "\"compat-props\": [], \"numa-mem-supported\": false, \"default-cpu-type\": "
	       "\"host-x86_64-cpu\", \"acpi\": true, \"is-default\": true, \"cpu-max\": 254, "
	       "\"deprecated\": false}]}");
	expect(fd, "{\"execute\": \"query-machines\", \"arguments\": {\"compat-props\": 1}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
	       "'compat-props', expected: boolean\"}}");
	expect(fd, "{\"execute\": \"query-cpus-fast\"}",
	       "{\"return\": [{\"thread-id\": 4242, \"props\": {\"core-id\": 0, \"thread-id\": 0, "
	       "\"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[0]\", "
	       "\"cpu-index\": 0, \"target\": \"x86_64\"}, {\"thread-id\": 4243, \"props\": "
	       "{\"core-id\": 1, \"thread-id\": 0, \"socket-id\": 0}, \"qom-path\": "
	       "\"/machine/unattached/device[1]\", \"cpu-index\": 1, \"target\": \"x86_64\"}]}");
	expect(fd, "{\"execute\": \"inject-nmi\"}", "{\"return\": {}}");
	ck_assert_int_eq(fk.nmis, 1);
	expect(fd, "{\"execute\": \"inject-nmi\", \"arguments\": {\"x\": 1}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is "
	       "unexpected\"}}");
	ck_assert_int_eq(fk.nmis, 1);
	/* This client is handed over (no listener), so only the backend's serial port. */
	expect(fd, "{\"execute\": \"query-chardev\"}",
	       "{\"return\": [{\"frontend-open\": true, \"filename\": \"stdio\", \"label\": "
	       "\"serial0\"}]}");
	expect(fd, "{\"execute\": \"query-pci\"}",
	       "{\"return\": [{\"bus\": 0, \"devices\": [{\"irq_pin\": 0, \"bus\": 0, \"qdev_id\": "
	       "\"\", \"slot\": 0, \"class_info\": {\"class\": 1536, \"desc\": \"Host bridge\"}, "
	       "\"id\": {\"device\": 8, \"subsystem-vendor\": 0, \"vendor\": 6966, \"subsystem\": "
	       "0}, \"function\": 0, \"regions\": []}, {\"irq_pin\": 0, \"bus\": 0, \"qdev_id\": "
	       "\"\", \"slot\": 1, \"class_info\": {\"class\": 2176}, \"id\": {\"device\": 17, "
	       "\"subsystem-vendor\": 6900, \"vendor\": 6966, \"subsystem\": 4352}, \"function\": "
	       "0, \"regions\": [{\"prefetch\": false, \"mem_type_64\": false, \"bar\": 0, "
	       "\"size\": 4096, \"address\": 3221225472, \"type\": \"memory\"}]}, {\"irq_pin\": 1, "
	       "\"bus\": 0, \"qdev_id\": \"\", \"irq\": 18, \"slot\": 2, \"class_info\": "
	       "{\"class\": 2176}, \"id\": {\"device\": 9643, \"subsystem-vendor\": 6900, "
	       "\"vendor\": 32902, \"subsystem\": 4352}, \"function\": 0, \"regions\": "
	       "[{\"prefetch\": false, \"mem_type_64\": false, \"bar\": 0, \"size\": 16, "
	       "\"address\": -1, \"type\": \"memory\"}]}]}]}");
	close(fd);
}
END_TEST

static void hmp(int fd, const char *line, const char *want)
{
	json_t *req = json_pack("{s:s, s:{s:s}}", "execute", "human-monitor-command", "arguments",
				"command-line", line);
	char *text = json_dumps(req, JSON_PRESERVE_ORDER);
	json_t *rep;
	char *got;

	json_decref(req);
	wr(fd, text);
	free(text);
	got = rd(fd);
	ck_assert_ptr_nonnull(got);
	rep = json_loads(got, 0, NULL);
	ck_assert_msg(rep && json_is_string(json_object_get(rep, "return")), "%s: %s", line, got);
	ck_assert_str_eq(json_string_value(json_object_get(rep, "return")), want);
	json_decref(rep);
}

/* HMP texts and parse errors as QEMU 10.0.2 prints them (tests/qmp/probe.py's HMP cases). */
START_TEST(test_hmp)
{
	int fd = negotiated_client();

	hmp(fd, "info status", "VM status: running\r\n");
	hmp(fd, "  info   status  ", "VM status: running\r\n");
	hmp(fd, "info version", "10.0.2minivmm 0.1.0\r\n");
	hmp(fd, "info kvm", "kvm support: enabled\r\n");
	hmp(fd, "info name", "vm1\r\n");
	hmp(fd, "info uuid", "0123abcd-0000-1111-2222-333344445555\r\n");
	hmp(fd, "info cpus", "* CPU #0: thread_id=4242\r\n  CPU #1: thread_id=4243\r\n");
	hmp(fd, "info chardev", "serial0: filename=stdio\r\n");
	hmp(fd, "info pci",
	    "  Bus  0, device   0, function 0:\r\n    Host bridge: PCI device 1b36:0008\r\n"
	    "      PCI subsystem 0000:0000\r\n      id \"\"\r\n"
	    "  Bus  0, device   1, function 0:\r\n    Class 2176: PCI device 1b36:0011\r\n"
	    "      PCI subsystem 1af4:1100\r\n      BAR0: 32 bit memory at 0xc0000000 "
	    "[0xc0000fff]\r\n      id \"\"\r\n"
	    "  Bus  0, device   2, function 0:\r\n    Class 2176: PCI device 8086:25ab\r\n"
	    "      PCI subsystem 1af4:1100\r\n      IRQ 18, pin A\r\n"
	    "      BAR0: 32 bit memory (not mapped)\r\n      id \"\"\r\n");
	hmp(fd, "", "");
	hmp(fd, "bogus", "unknown command: 'bogus'\r\n");
	hmp(fd, "  bogus  x", "unknown command: '  bogus'\r\n");
	hmp(fd, "info  bogus", "unknown command: 'info  bogus'\r\n");
	hmp(fd, "INFO kvm", "unknown command: 'INFO'\r\n");
	hmp(fd, "stop;cont", "unknown command: 'stop;cont'\r\n");
	hmp(fd, "s x",
	    "stop|s: extraneous characters at the end of line\r\nTry \"help s\" for more "
	    "information\r\n");
	hmp(fd, "info  status   x y",
	    "status: extraneous characters at the end of line\r\nTry \"help info  status\" for "
	    "more information\r\n");
	hmp(fd, "help s", "stop|s  -- stop emulation\r\n");
	hmp(fd, "? stop", "stop|s  -- stop emulation\r\n");
	hmp(fd, "help info status",
	    "info status  -- show the current VM status (running|paused)\r\n");
	hmp(fd, "help info  bogus", "unknown command: 'info bogus'\r\n");
	ck_assert_int_eq(fk.stops + fk.conts + fk.resets + fk.powerdowns + fk.nmis + fk.quits, 0);
	hmp(fd, "stop", "");
	hmp(fd, "c", "");
	hmp(fd, "system_reset", "");
	hmp(fd, "system_powerdown", "");
	hmp(fd, "nmi", "");
	ck_assert_int_eq(fk.stops, 1);
	ck_assert_int_eq(fk.conts, 1);
	ck_assert_int_eq(fk.resets, 1);
	ck_assert_int_eq(fk.powerdowns, 1);
	ck_assert_int_eq(fk.nmis, 1);
	fk.cont_fails = 1;
	hmp(fd, "cont", "Error: Resetting the Virtual Machine is required\r\n");
	expect(fd,
	       "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
	       "cpus\", \"cpu-index\": 1}}",
	       "{\"return\": \"  CPU #0: thread_id=4242\\r\\n* CPU #1: thread_id=4243\\r\\n\"}");
	expect(fd,
	       "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
	       "cpus\", \"cpu-index\": 2}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'cpu-index' "
	       "expects a CPU number\"}}");
	expect(fd,
	       "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
	       "cpus\", \"cpu-index\": 1.5}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
	       "'cpu-index', expected: integer\"}}");
	expect(fd, "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": 5}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
	       "'command-line', expected: string\"}}");
	expect(fd, "{\"execute\": \"human-monitor-command\"}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'command-line' is "
	       "missing\"}}");
	hmp(fd, "q", "");
	ck_assert_int_eq(fk.quits, 1);
	close(fd);
}
END_TEST

/* The monitors in query-chardev: named per listener, "disconnected:" until a client is on it. */
START_TEST(test_chardev_monitors)
{
	char dir[] = "/tmp/minivmm-qmp-XXXXXX", path[64], want[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = negotiated_client(), c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.sock", dir);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	snprintf(want, sizeof(want),
		 "{\"return\": [{\"frontend-open\": true, \"filename\": "
		 "\"disconnected:unix:%s,server=on\", \"label\": \"compat_monitor0\"}, "
		 "{\"frontend-open\": true, \"filename\": \"stdio\", \"label\": \"serial0\"}]}",
		 path);
	expect(fd, "{\"execute\": \"query-chardev\"}", want);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_ptr_nonnull(strstr(rd(c), "\"QMP\""));
	snprintf(want, sizeof(want),
		 "{\"return\": \"compat_monitor0: filename=unix:%s,server=on\\r\\nserial0: "
		 "filename=stdio\\r\\n\"}",
		 path);
	expect(fd,
	       "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"info "
	       "chardev\"}}",
	       want);
	close(c);
	close(fd);
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
	rmdir(dir);
}
END_TEST

/* A client connected to the unix socket at @path (the connection may wait in the backlog). */
static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int c = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(c, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return c;
}

/* Run the loop @n times with a @ms timeout each; the seconds it took. A loop that has nothing
 * to do takes n * ms; one woken without end by a listener it cannot serve takes ~0. */
static double idle_loop_s(int n, int ms)
{
	double t0 = now_s();

	for (int i = 0; i < n; i++)
		loop_run_once(loop, ms);
	return now_s() - t0;
}

/* Whether @fd has bytes to read within @ms, the server running meanwhile. */
static int readable_within(int fd, int ms)
{
	double end = now_s() + ms / 1e3;

	do {
		struct pollfd p = { fd, POLLIN, 0 };

		loop_run_once(loop, 5);
		if (poll(&p, 1, 0) == 1)
			return 1;
	} while (now_s() < end);
	return 0;
}

START_TEST(test_client_cap)
{
	char dir[] = "/tmp/minivmm-qmp-XXXXXX", path[64];
	int c[3];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.sock", dir);
	qmp_server_set_max_clients(srv, 2);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	for (int i = 0; i < 3; i++)
		c[i] = connect_unix(path);
	ck_assert_ptr_nonnull(strstr(rd(c[0]), "\"QMP\""));
	ck_assert_ptr_nonnull(strstr(rd(c[1]), "\"QMP\""));
	/* The third waits unaccepted, and the loop does not spin on its listener meanwhile. */
	ck_assert(!readable_within(c[2], 200));
	ck_assert_uint_eq(qmp_server_nclients(srv), 2);
	ck_assert_msg(idle_loop_s(5, 20) >= 0.08, "main loop spins at the client cap");
	/* One leaves: the waiting one is served. */
	close(c[0]);
	ck_assert_ptr_nonnull(strstr(rd(c[2]), "\"QMP\""));
	ck_assert_uint_eq(qmp_server_nclients(srv), 2);
	expect(c[2], "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
	close(c[1]);
	close(c[2]);
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
	rmdir(dir);
}
END_TEST

START_TEST(test_accept_out_of_fds)
{
	char dir[] = "/tmp/minivmm-qmp-XXXXXX", path[64];
	struct rlimit old, low;
	int c, next;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.sock", dir);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	c = connect_unix(path);
	/* No fd left for accept: it fails with EMFILE, the connection stays pending. */
	next = dup(0);
	ck_assert_int_ge(next, 0);
	close(next);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)next;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	/* The listener rests between retries instead of waking the loop without end. */
	ck_assert_msg(idle_loop_s(10, 20) >= 0.1, "main loop spins on EMFILE");
	ck_assert_uint_eq(qmp_server_nclients(srv), 0);
	/* Once fds are free again, the waiting client is served after the back-off. */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_ptr_nonnull(strstr(rd(c), "\"QMP\""));
	close(c);
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
	rmdir(dir);
}
END_TEST

/*
 * A path-based chmod is what an attacker races: the socket file swapped for a symlink between
 * bind and chmod. This chmod (it takes the place of libc's in this executable) plays that
 * attacker when swap_target is set, then does what chmod does.
 */
static char swap_target[128];

int chmod(const char *path, mode_t mode)
{
	if (swap_target[0]) {
		unlink(path);
		ck_assert_int_eq(symlink(swap_target, path), 0);
	}
	return fchmodat(AT_FDCWD, path, mode, 0);
}

START_TEST(test_socket_mode_set_without_path)
{
	char dir[] = "/tmp/minivmm-qmp-XXXXXX", path[64], victim[64];
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.sock", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	umask(0);
	snprintf(swap_target, sizeof(swap_target), "%s", victim);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	swap_target[0] = 0;
	/* The victim keeps its mode; the socket is 0600 even with umask 0. */
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
	unlink(victim);
	rmdir(dir);
}
END_TEST

START_TEST(test_socket_in_use_not_taken)
{
	char dir[] = "/tmp/minivmm-qmp-XXXXXX", path[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp_server *second;
	int c, stale;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m.sock", dir);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	/* A second instance on the same path is refused; the first keeps its socket. */
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &second), 0);
	ck_assert_int_eq(qmp_server_listen_unix(second, path), -EADDRINUSE);
	qmp_server_destroy(second);
	c = connect_unix(path);
	ck_assert_ptr_nonnull(strstr(rd(c), "\"QMP\""));
	close(c);
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
	/* A stale socket file (nobody listening) is replaced. */
	stale = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(stale);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	c = connect_unix(path);
	ck_assert_ptr_nonnull(strstr(rd(c), "\"QMP\""));
	close(c);
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
	rmdir(dir);
}
END_TEST

START_TEST(test_journal_private_no_symlink)
{
	char dir[] = "/tmp/minivmm-qmp-XXXXXX", path[64], link[64], line[64];
	struct event_log *log;
	struct stat st;
	FILE *f;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	umask(0);
	ck_assert_int_eq(event_log_open(path, &log), 0);
	event_log_close(log);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	/* A symlink at the path is not followed: the file it points to stays as it was. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "precious\n", 9), 9);
	close(fd);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(event_log_open(link, &log), -ELOOP);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "precious\n");
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(link);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Every fdatasync in this executable (the journal's) is counted, then done. */
static unsigned nsyncs;

int fdatasync(int fd)
{
	nsyncs++;
	return (int)syscall(SYS_fdatasync, fd);
}

/* The journal's lines whose event is @name. */
static unsigned journal_count(const char *path, const char *name)
{
	char line[1024], needle[128];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	snprintf(needle, sizeof(needle), "\"event\":\"%s\"", name);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

START_TEST(test_guest_event_flood_bounded)
{
	char path[] = "/tmp/minivmm-journal-XXXXXX";
	int jfd = mkstemp(path), a;
	struct event_log *log;
	unsigned crash = 0, run = 0, pause = 0, run_after_pause = 0;
	double t0, last_crash = 0;

	ck_assert_int_ge(jfd, 0);
	close(jfd);
	ck_assert_int_eq(event_log_open(path, &log), 0);
	qmp_server_set_event_log(srv, log);
	a = negotiated_client();
	/* A guest writes pvpanic's crash-loaded bit, or its panicked bit under panic=none, in a
	 * loop. QEMU sends each; minivmm lets a burst through, then one per 100 ms. */
	nsyncs = 0;
	t0 = now_s();
	for (int i = 0; i < 1000; i++)
		qmp_event_emit(srv, QMP_EVENT_GUEST_CRASHLOADED,
			       json_pack("{s:s}", "action", "run"));
	for (int i = 0; i < 1000; i++)
		qmp_event_emit(srv, QMP_EVENT_GUEST_PANICKED, json_pack("{s:s}", "action", "run"));
	/* Kept: one journal sync for each kind's first, one at most for the batch. */
	ck_assert_uint_le(nsyncs, 4);
	/* A panic whose action stops the VM is not held back; the run one waiting goes first. */
	qmp_event_emit(srv, QMP_EVENT_GUEST_PANICKED, json_pack("{s:s}", "action", "pause"));
	/* Everything the client gets until 1.5 s pass without a message. */
	while (memmem(rbuf[a], rlen[a], "\r\n", 2) || readable_within(a, 1500)) {
		char *got = rd(a);

		ck_assert_ptr_nonnull(got);
		if (strstr(got, "\"GUEST_CRASHLOADED\"")) {
			crash++;
			last_crash = now_s() - t0;
		} else if (strstr(got, "\"GUEST_PANICKED\", \"data\": {\"action\": \"run\"}")) {
			run++;
			run_after_pause += pause;
		} else if (strstr(got, "\"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}")) {
			pause++;
		} else {
			ck_abort_msg("unexpected %s", got);
		}
	}
	/* 16 at once and the newest when the 100 ms period ended. */
	ck_assert_uint_eq(crash, 17);
	ck_assert_msg(last_crash >= 0.095, "the held-back event came after %.3f s", last_crash);
	ck_assert_uint_eq(run, 17); /* 16, and the newest before the pause */
	ck_assert_uint_eq(pause, 1);
	ck_assert_uint_eq(run_after_pause, 0);
	/* The journal holds what the clients were sent. */
	ck_assert_uint_eq(journal_count(path, "GUEST_CRASHLOADED"), 17);
	ck_assert_uint_eq(journal_count(path, "GUEST_PANICKED"), 18);
	qmp_server_set_event_log(srv, NULL);
	event_log_close(log);
	unlink(path);
	close(a);
}
END_TEST

START_TEST(test_journal_reset_loop_batched)
{
	char path[] = "/tmp/minivmm-journal-XXXXXX";
	int jfd = mkstemp(path);
	struct event_log *log;

	ck_assert_int_ge(jfd, 0);
	close(jfd);
	ck_assert_int_eq(event_log_open(path, &log), 0);
	qmp_server_set_event_log(srv, log);
	/* A guest in a reboot loop: every RESET is journalled, but not each one synced. */
	nsyncs = 0;
	for (int i = 0; i < 500; i++)
		qmp_event_emit(srv, QMP_EVENT_RESET,
			       json_pack("{s:b, s:s}", "guest", 1, "reason", "guest-reset"));
	ck_assert_uint_le(nsyncs, 2);
	ck_assert_uint_eq(journal_count(path, "RESET"), 500);
	/* What ends the VM is synced before the action that follows it. */
	nsyncs = 0;
	qmp_event_emit(srv, QMP_EVENT_SHUTDOWN,
		       json_pack("{s:b, s:s}", "guest", 1, "reason", "guest-shutdown"));
	ck_assert_uint_eq(nsyncs, 1);
	qmp_server_set_event_log(srv, NULL);
	event_log_close(log);
	unlink(path);
}
END_TEST

START_TEST(test_journal_size_cap)
{
	char path[] = "/tmp/minivmm-journal-XXXXXX", line[1024];
	int jfd = mkstemp(path);
	struct event_log *log;
	struct stat st;
	unsigned markers = 0, lines = 0;
	FILE *f;

	ck_assert_int_ge(jfd, 0);
	close(jfd);
	ck_assert_int_eq(event_log_open(path, &log), 0);
	event_log_set_max(log, 4096);
	qmp_server_set_event_log(srv, log);
	for (int i = 0; i < 2000; i++)
		qmp_event_emit(srv, QMP_EVENT_RESET,
			       json_pack("{s:b, s:s}", "guest", 1, "reason", "guest-reset"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_lt(st.st_size, 4096 + 512);
	ck_assert_uint_eq(journal_count(path, EVENT_LOG_FULL_EVENT), 1);
	/* Past the cap: the first event of a kind still counts, and so does what ends the VM. */
	qmp_event_emit(srv, QMP_EVENT_GUEST_CRASHLOADED, json_pack("{s:s}", "action", "run"));
	qmp_event_emit(srv, QMP_EVENT_GUEST_CRASHLOADED, json_pack("{s:s}", "action", "run"));
	qmp_event_emit(srv, QMP_EVENT_SHUTDOWN,
		       json_pack("{s:b, s:s}", "guest", 1, "reason", "guest-shutdown"));
	qmp_server_set_event_log(srv, NULL);
	event_log_close(log);
	ck_assert_uint_eq(journal_count(path, "GUEST_CRASHLOADED"), 1);
	ck_assert_uint_eq(journal_count(path, "SHUTDOWN"), 1);
	/* Two markers: where the cap was reached, and at the end how many were dropped. */
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		lines++;
		if (!strstr(line, EVENT_LOG_FULL_EVENT))
			continue;
		markers++;
		ck_assert_ptr_nonnull(strstr(line, "\"data\":{\"limit\":4096"));
		if (markers == 2)
			ck_assert_msg(strstr(line, "\"dropped\":") && !fgets(line, sizeof(line), f),
				      "%s", line);
	}
	fclose(f);
	ck_assert_uint_eq(markers, 2);
	ck_assert_uint_lt(lines, 60);
	unlink(path);
}
END_TEST

static void assert_dumps(json_t *v, size_t flags, const char *want)
{
	char *text = json_dumps(v, flags);

	ck_assert_str_eq(text, want);
	free(text);
}

/* query-qmp-schema: every command and event, every type named is defined once, and the
 * shapes QEMU gives (arg-type "0" for none, optional members with "default": null). */
START_TEST(test_introspection)
{
	int fd = negotiated_client();
	json_t *rep, *list, *e, *names = json_object();
	const char *got;
	size_t i;

	wr(fd, "{\"execute\": \"query-qmp-schema\"}");
	got = rd(fd);
	ck_assert_ptr_nonnull(got);
	rep = json_loads(got, 0, NULL);
	list = json_object_get(rep, "return");
	ck_assert(json_is_array(list));
	json_array_foreach(list, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));

		ck_assert_ptr_nonnull(name);
		ck_assert_msg(!json_object_get(names, name), "%s twice", name);
		json_object_set(names, name, e);
	}
	for (unsigned c = 0; c < qmp_ncommands; c++) {
		e = json_object_get(names, qmp_commands[c].name);
		ck_assert_msg(e, "%s missing", qmp_commands[c].name);
		ck_assert_str_eq(json_string_value(json_object_get(e, "meta-type")), "command");
	}
	for (unsigned v = 0; v < QMP_EVENT__MAX; v++)
		ck_assert_ptr_nonnull(json_object_get(names, qmp_events[v].name));
	/* Every reference resolves. */
	json_array_foreach(list, i, e)
	{
		static const char *const refs[] = { "arg-type", "ret-type", "element-type" };
		json_t *m;
		size_t j;

		for (unsigned r = 0; r < 3; r++) {
			const char *t = json_string_value(json_object_get(e, refs[r]));

			ck_assert_msg(!t || json_object_get(names, t), "%s: no type %s",
				      json_string_value(json_object_get(e, "name")), t);
		}
		if (strcmp(json_string_value(json_object_get(e, "meta-type")), "object"))
			continue;
		json_array_foreach(json_object_get(e, "members"), j, m) ck_assert_ptr_nonnull(
		    json_object_get(names, json_string_value(json_object_get(m, "type"))));
	}
	/* Shapes as QEMU's: no arguments is "0", the empty object; builtins by name. */
	e = json_object_get(names, "query-status");
	ck_assert_str_eq(json_string_value(json_object_get(e, "arg-type")), "0");
	assert_dumps(json_object_get(names, "0"), JSON_SORT_KEYS,
		     "{\"members\": [], \"meta-type\": \"object\", \"name\": \"0\"}");
	e = json_object_get(names, json_string_value(json_object_get(e, "ret-type")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "meta-type")), "object");
	e = json_object_get(e, "members");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 0), "type")), "bool");
	e = json_object_get(names,
			    json_string_value(json_object_get(json_array_get(e, 1), "type")));
	ck_assert_str_eq(json_string_value(json_object_get(e, "meta-type")), "enum");
	ck_assert_int_eq(json_array_size(json_object_get(e, "values")), 16); /* QEMU's RunState */
	ck_assert_int_eq(json_array_size(json_object_get(e, "members")), 16);
	e = json_object_get(names, "human-monitor-command");
	ck_assert_str_eq(json_string_value(json_object_get(e, "ret-type")), "str");
	e = json_object_get(names, json_string_value(json_object_get(e, "arg-type")));
	assert_dumps(json_object_get(e, "members"), JSON_SORT_KEYS | JSON_COMPACT,
		     "[{\"name\":\"command-line\",\"type\":\"str\"},{\"default\":null,"
		     "\"name\":\"cpu-index\",\"type\":\"int\"}]");
	json_decref(names);
	json_decref(rep);
	close(fd);
}
END_TEST

/* QEMU's JSON dialect and its number printing, and errors in its member order (all checked
 * against qemu-system-x86_64 10.0.2). */
/* An error that quotes the client's bytes which are not UTF-8 ("\\u" then 0xb0: jansson's
 * message shows both) is still an error reply, with U+FFFD for the bad byte; it was an empty
 * object "{}", a reply with neither "return" nor "error" (found by tests/fuzz/fuzz_qmp). Then
 * the stream carries on. */
START_TEST(test_error_quoting_bad_utf8)
{
	static const char prefix[] =
	    "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ";
	int fd = negotiated_client();
	char *got;

	wr(fd, "\"\\u\xb0\"");
	got = rd(fd);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(!strncmp(got, prefix, strlen(prefix)), "got %s", got);
	ck_assert_msg(strstr(got, "\\uFFFD") != NULL, "got %s", got);
	expect(fd, "{\"execute\": \"stop\"}", "{\"return\": {}}");
	close(fd);
}
END_TEST

START_TEST(test_json_as_qemu)
{
	static const char *const cases[][2] = {
		{ "{'execute': 'query-status', 'id': 'it\\'s \"q\" {['}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"it's "
		  "\\\"q\\\" "
		  "{[\"}" },
		{ "{\"execute\": \"query-status\", \"id\": \"it\\'s\"}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": \"it's\"}" },
		{ "{\"execute\": \"query-status\", \"id\": 1e3}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": 1000}" },
		{ "{\"execute\": \"query-status\", \"id\": [0.1, -0.0, 1e17, 2.5e-7]}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
		  "[0.10000000000000001, -0, 1e+17, 2.4999999999999999e-07]}" },
		{ "{\"execute\": \"query-status\", \"id\": 18446744073709551615}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
		  "18446744073709551615}" },
		{ "{\"execute\": \"query-status\", \"id\": -9223372036854775809}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
		  "-9.2233720368547758e+18}" },
		{ "{\"execute\": \"query-status\", \"id\": 123456789012345678901234567890}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
		  "1.2345678901234568e+29}" },
		{ "{\"execute\": 18446744073709551615}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
		  "'execute' "
		  "must be a string\"}}" },
		{ "{\"execute\": \"watchdog-set-action\", \"arguments\": {\"action\": "
		  "18446744073709551615}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type "
		  "for "
		  "'action', expected: string\"}}" },
		{ "{\"execute\": \"query-status\", \"id\": \"\\ud83d\\ude00\"}",
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
		  "\"\\uD83D\\uDE00\"}" },
		{ "{\"execute\": \"query-status\", \"id\": \"\\ud800\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		  "\\\\ud800 is not a valid Unicode character\"}}" },
		{ "{\"execute\": \"query-status\", \"id\": \"x\\u1\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
		  "\\\\u1\\\" is not a valid Unicode character\"}}" },
		{ "{\"foo\": 1, \"execute\": 5}", "{\"error\": {\"class\": \"GenericError\", "
						  "\"desc\": \"QMP input member 'execute' "
						  "must be a string\"}}" },
		{ "{\"foo\": 1, \"zz\": 1, \"execute\": \"query-status\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'zz' is "
		  "unexpected\"}}" },
		{ "{\"execute\": \"query-status\", \"arguments\": {\"foo\": 1, \"zz\": 2}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'zz' is "
		  "unexpected\"}}" },
	};
	static char name[3000], req[3100], want[3200];
	int fd = connect_client();

	ck_assert_ptr_nonnull(rd(fd)); /* greeting */
	expect(fd, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
	       "{\"return\": {}}");
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(fd, cases[i][0], cases[i][1]);
	expect(fd, "{\"exec-oob\": \"query-status\"}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"The command query-status "
	       "does not support OOB\"}}");
	/* Names are quoted whole, however long. */
	memset(name, 'a', sizeof(name) - 1);
	snprintf(req, sizeof(req), "{\"execute\": \"%s\"}", name);
	snprintf(want, sizeof(want),
		 "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command %s has not "
		 "been found\"}}",
		 name);
	expect(fd, req, want);
	snprintf(req, sizeof(req), "{\"execute\": \"query-status\", \"arguments\": {\"%s\": 1}}",
		 name);
	snprintf(want, sizeof(want),
		 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter '%s' is "
		 "unexpected\"}}",
		 name);
	expect(fd, req, want);
	close(fd);
}
END_TEST

START_TEST(test_fd_listener_kinds)
{
	int sv[2];

	/* A connected socket passed as fd:N becomes a client; a non-socket is refused. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(qmp_server_listen_fd(srv, sv[1]), 0);
	ck_assert_ptr_nonnull(strstr(rd(sv[0]), "\"QMP\""));
	ck_assert_int_eq(qmp_server_listen_fd(srv, STDIN_FILENO) < 0 || isatty(STDIN_FILENO), 1);
	close(sv[0]);
}
END_TEST

/* Send @s with @passfd attached (SCM_RIGHTS), as a client does for getfd. */
static void wr_fd(int fd, const char *s, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)s, strlen(s) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	ck_assert_int_eq(sendmsg(fd, &msg, 0), (ssize_t)strlen(s));
}

/* A pipe whose write end is sent (and closed here): its read end shows whether minivmm still
 * holds it. 1 when the writer is gone (EOF), 0 while someone holds it. */
static int writer_closed(int rfd)
{
	char c[8];
	ssize_t n;

	loop_run_once(loop, 0);
	n = read(rfd, c, sizeof(c));
	return n == 0 ? 1 : (n < 0 && errno == EAGAIN) ? 0 : (ck_abort_msg("read %zd", n), -1);
}

static int pipe_sent(int fd, const char *cmd, const char *want)
{
	int p[2];
	char *got;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	wr_fd(fd, cmd, p[1]);
	close(p[1]);
	got = rd(fd);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	return p[0];
}

START_TEST(test_getfd_closefd)
{
	char dir[] = "/tmp/minivmm-getfd-XXXXXX", path[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int a, b, h, r1, r2, r3, rs[QMP_FDS_MAX + 1];
	char cmd[128];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	ck_assert_int_eq(qmp_server_listen_unix(srv, path), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	a = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(a, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_ptr_nonnull(rd(a));
	expect(a, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");

	/* QEMU 10's texts. No descriptor with the command; a name starting with a digit (the
	 * descriptor is closed); names unknown to closefd and to dump-guest-memory. */
	expect(a, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"x\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No file descriptor "
	       "supplied via SCM_RIGHTS\"}}");
	r1 = pipe_sent(a, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"1x\"}}",
		       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'fdname' "
		       "expects a name not starting with a digit\"}}");
	ck_assert_int_eq(writer_closed(r1), 1);
	close(r1);
	expect(a, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"nope\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor named "
	       "'nope' not found\"}}");
	expect(a,
	       "{\"execute\": \"dump-guest-memory\", \"arguments\": {\"paging\": false, "
	       "\"protocol\": \"fd:nope\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor named "
	       "'nope' has not been found\"}}");
	expect(a, "{\"execute\": \"getfd\"}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'fdname' is "
	       "missing\"}}");

	/* Kept under its name; a second getfd of the name replaces (and closes) the first. */
	r1 = pipe_sent(a, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"d\"}}",
		       "{\"return\": {}}");
	r2 = pipe_sent(a, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"d\"}}",
		       "{\"return\": {}}");
	ck_assert_int_eq(writer_closed(r1), 1);
	ck_assert_int_eq(writer_closed(r2), 0);
	r3 = pipe_sent(a, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"e\"}}",
		       "{\"return\": {}}");

	/* The monitor's, not the connection's: a client that reconnects finds them. */
	close(a);
	b = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(b, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_ptr_nonnull(rd(b));
	expect(b, "{\"execute\": \"qmp_capabilities\"}", "{\"return\": {}}");
	ck_assert_int_eq(writer_closed(r2), 0);
	expect(b, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"e\"}}",
	       "{\"return\": {}}");
	ck_assert_int_eq(writer_closed(r3), 1);

	/* "fd:d" hands that descriptor to the dump, which owns it from then on. */
	fk.dump_fd = -1;
	expect(b,
	       "{\"execute\": \"dump-guest-memory\", \"arguments\": {\"paging\": false, "
	       "\"protocol\": \"fd:d\"}}",
	       "{\"return\": {}}");
	ck_assert_int_ge(fk.dump_fd, 0);
	ck_assert_int_eq(read(r2, cmd, sizeof(cmd)), 4);
	ck_assert_int_eq(writer_closed(r2), 1);
	expect(b,
	       "{\"execute\": \"dump-guest-memory\", \"arguments\": {\"paging\": false, "
	       "\"protocol\": \"fd:d\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor named "
	       "'d' has not been found\"}}");
	expect(b, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"d\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor named "
	       "'d' not found\"}}");

	/* A client handed over (not through a listener) is a monitor of its own. */
	h = negotiated_client();
	r1 = pipe_sent(h, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"h\"}}",
		       "{\"return\": {}}");
	expect(b, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"h\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"File descriptor named "
	       "'h' not found\"}}");
	/* ... whose descriptors go when it does. */
	ck_assert_int_eq(writer_closed(r1), 0);
	close(h);
	loop_run_once(loop, 10);
	ck_assert_int_eq(writer_closed(r1), 1);
	close(r1);

	/* Bounded: one name past the limit is refused and its descriptor closed. */
	for (int i = 0; i <= QMP_FDS_MAX; i++) {
		snprintf(cmd, sizeof(cmd),
			 "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"n%d\"}}", i);
		rs[i] = pipe_sent(
		    b, cmd,
		    i < QMP_FDS_MAX
			? "{\"return\": {}}"
			: "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Too many "
			  "file descriptors on this monitor (at most 32): closefd "
			  "some\"}}");
	}
	ck_assert_int_eq(writer_closed(rs[QMP_FDS_MAX]), 1);
	ck_assert_int_eq(writer_closed(rs[0]), 0);
	/* The server going closes them all. */
	qmp_server_destroy(srv);
	srv = NULL;
	ck_assert_int_eq(writer_closed(rs[0]), 1);
	ck_assert_int_eq(writer_closed(rs[QMP_FDS_MAX - 1]), 1);
	for (int i = 0; i <= QMP_FDS_MAX; i++)
		close(rs[i]);
	close(b);
	close(r2);
	close(r3);
	rmdir(dir);
	ck_assert_int_eq(qmp_server_create(loop, &be, &fake_version, &srv), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("qmp");
	TCase *tc = tcase_create("server");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_greeting_and_negotiation);
	tcase_add_test(tc, test_order_copies_only_when_needed);
	tcase_add_test(tc, test_fix_dump_only_numbers);
	tcase_add_test(tc, test_commands_and_ids);
	tcase_add_test(tc, test_error_paths);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_events_fanout_and_journal);
	tcase_add_test(tc, test_watchdog_event_throttled);
	tcase_add_test(tc, test_slow_and_vanished_clients);
	tcase_add_test(tc, test_fd_listener_kinds);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_hmp);
	tcase_add_test(tc, test_chardev_monitors);
	tcase_add_test(tc, test_client_cap);
	tcase_add_test(tc, test_accept_out_of_fds);
	tcase_add_test(tc, test_socket_mode_set_without_path);
	tcase_add_test(tc, test_socket_in_use_not_taken);
	tcase_add_test(tc, test_journal_private_no_symlink);
	tcase_add_test(tc, test_guest_event_flood_bounded);
	tcase_add_test(tc, test_journal_reset_loop_batched);
	tcase_add_test(tc, test_journal_size_cap);
	tcase_add_test(tc, test_introspection);
	tcase_add_test(tc, test_json_as_qemu);
	tcase_add_test(tc, test_error_quoting_bad_utf8);
	tcase_add_test(tc, test_getfd_closefd);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
