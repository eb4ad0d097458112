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
#include <sys/socket.h>
#include <unistd.h>

#include "api/event_log.h"
#include "api/qmp.h"
#include "api/qmp_schema.h"
#include "tests/unit/unit.h"

struct fake {
	int stops, conts, resets, powerdowns, quits;
	char set[4][32];
	int cont_fails;
};

static struct fake fk;

static int f_status(void *ctx, int *running, const char **status, struct qmp_error *err)
{
	(void)ctx;
	(void)err;
	*running = 1;
	*status = "running";
	return 0;
}
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

static const struct qmp_backend be = { NULL,	    f_status, f_stop, f_cont, f_reset,
				       f_powerdown, f_quit,   f_set,  f_wd };
static const struct qmp_version ver = { QMP_QEMU_MAJOR, QMP_QEMU_MINOR, QMP_QEMU_MICRO,
					"minivmm 0.1.0" };

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
	ck_assert_int_eq(qmp_server_create(loop, &be, &ver, &srv), 0);
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
		{ "{\"exec-oob\": \"query-status\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"The command query-status "
		  "does not support OOB\"}}" },
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

int main(void)
{
	Suite *s = suite_create("qmp");
	TCase *tc = tcase_create("server");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_greeting_and_negotiation);
	tcase_add_test(tc, test_commands_and_ids);
	tcase_add_test(tc, test_error_paths);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_events_fanout_and_journal);
	tcase_add_test(tc, test_watchdog_event_throttled);
	tcase_add_test(tc, test_slow_and_vanished_clients);
	tcase_add_test(tc, test_fd_listener_kinds);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
