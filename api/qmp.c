/*
 * qmp.c - the QMP server: unix/fd listeners, one client per connection, QEMU's framing and
 * replies. Input is split into JSON values the way QEMU's json-streamer does (a value ends
 * when its braces balance, so values may share a line or span reads); each value is parsed
 * with jansson and dispatched through the schema table. Output is queued per client and
 * written without blocking; a client that stops reading is dropped once its queue passes a
 * cap, so it can never stall the vcpus, the main loop or the other clients.
 */
#include "qmp.h"
#include "event_log.h"
#include "qmp_schema.h"
#include "vmm/log.h"
#include "vmm/timer.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_MAX_LISTENERS 4
#define QMP_MAX_VALUE     (1u << 20) /* bytes of one JSON value (QEMU allows 64 MiB) */
#define QMP_MAX_NESTING   1024       /* as QEMU's json-streamer */
#define QMP_MAX_OUTQ      (4u << 20) /* queued output before a non-reading client is dropped */
#define QMP_READ_CHUNK    65536
#define QMP_DUMP_FLAGS    (JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)

struct outbuf {
	struct outbuf *next;
	size_t len, off;
	char data[];
};

struct qmp_client {
	struct qmp_server *srv;
	struct qmp_client *next;
	int fd;
	int negotiated;
	int dead;

	/* The JSON value being collected. */
	char *val;
	size_t vlen, vcap;
	unsigned depth;
	int in_str, esc, scalar, discarding;
	char word[16]; /* a bare word outside strings: must be true, false or null */
	size_t wlen;
	int bad_word;
	char bad[16];

	struct outbuf *out_head, *out_tail;
	size_t outq;
};

struct qmp_server {
	struct loop *loop;
	struct qmp_backend be;
	struct qmp_version ver;
	struct event_log *log;
	struct qmp_listener {
		struct qmp_server *srv;
		int fd;
		char *path; /* unix socket to remove at the end, or NULL */
	} listeners[QMP_MAX_LISTENERS];
	unsigned nlisten;
	struct qmp_client *clients;
	/* Event throttling (QEMU's monitor_qapi_event_queue), on a clock that never stops. */
	struct timer_clock clock;
	struct qmp_throttle {
		struct qmp_server *srv;
		enum qmp_event ev;
		int ready;	 /* timer initialised */
		int active;	 /* an event went out less than rate_ms ago */
		json_t *pending; /* the newest event since then, or NULL */
		struct timer timer;
	} throttle[QMP_EVENT__MAX];
};

static void client_on_io(void *opaque, uint32_t events);

/* --- output --------------------------------------------------------------------------------- */

static void client_kill(struct qmp_client *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	loop_remove(c->srv->loop, c->fd);
}

static int client_flush(struct qmp_client *c)
{
	while (c->out_head) {
		struct outbuf *b = c->out_head;
		ssize_t n = send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_kill(c); /* vanished mid-reply: drop it, nobody else notices */
			return -1;
		}
		b->off += (size_t)n;
		c->outq -= (size_t)n;
		if (b->off == b->len) {
			c->out_head = b->next;
			if (!c->out_head)
				c->out_tail = NULL;
			free(b);
		}
	}
	if (!c->dead)
		loop_modify(c->srv->loop, c->fd, EPOLLIN | EPOLLRDHUP | (c->out_head ? EPOLLOUT : 0));
	return 0;
}

/* Queue one message (consumed) with QEMU's separators and CRLF, and try to send it. */
static void client_send(struct qmp_client *c, json_t *msg)
{
	char *text;
	size_t len;
	struct outbuf *b;

	if (c->dead) {
		json_decref(msg);
		return;
	}
	text = json_dumps(msg, QMP_DUMP_FLAGS);
	json_decref(msg);
	if (!text)
		return;
	len = strlen(text);
	if (c->outq + len + 2 > QMP_MAX_OUTQ) {
		pr_warn("qmp: dropping a client that stopped reading (%zu bytes queued)", c->outq);
		free(text);
		client_kill(c);
		return;
	}
	b = malloc(sizeof(*b) + len + 2);
	if (!b) {
		free(text);
		client_kill(c);
		return;
	}
	memcpy(b->data, text, len);
	memcpy(b->data + len, "\r\n", 2);
	free(text);
	b->len = len + 2;
	b->off = 0;
	b->next = NULL;
	if (c->out_tail)
		c->out_tail->next = b;
	else
		c->out_head = b;
	c->out_tail = b;
	c->outq += b->len;
	client_flush(c);
}

static void send_error(struct qmp_client *c, json_t *id, const char *cls, const char *desc)
{
	json_t *msg = json_object();

	if (id)
		json_object_set(msg, "id", id);
	json_object_set_new(msg, "error", json_pack("{s:s, s:s}", "class", cls, "desc", desc));
	client_send(c, msg);
}

static void send_return(struct qmp_client *c, json_t *id, json_t *ret)
{
	json_t *msg = json_object();

	json_object_set_new(msg, "return", ret);
	if (id)
		json_object_set(msg, "id", id);
	client_send(c, msg);
}

/* --- dispatch ------------------------------------------------------------------------------- */

#define NOT_NEGOTIATED "Expecting capabilities negotiation with 'qmp_capabilities'"

static void dispatch(struct qmp_client *c, json_t *req)
{
	struct qmp_server *s = c->srv;
	const struct qmp_command *cmd;
	struct qmp_error err = { "GenericError", "" };
	json_t *id, *val, *args, *ret;
	const char *key, *name = NULL, *oob = NULL;
	char desc[300];

	if (!json_is_object(req)) {
		send_error(c, NULL, "GenericError", "QMP input must be a JSON object");
		return;
	}
	id = json_object_get(req, "id");
	json_object_foreach(req, key, val) {
		if (!strcmp(key, "execute") || !strcmp(key, "exec-oob")) {
			if (!json_is_string(val)) {
				snprintf(desc, sizeof(desc), "QMP input member '%s' must be a string", key);
				send_error(c, id, "GenericError", desc);
				return;
			}
			if (key[4] == '-')
				oob = json_string_value(val);
			else
				name = json_string_value(val);
		} else if (!strcmp(key, "arguments")) {
			if (!json_is_object(val)) {
				send_error(c, id, "GenericError",
					   "QMP input member 'arguments' must be an object");
				return;
			}
		} else if (strcmp(key, "id")) {
			snprintf(desc, sizeof(desc), "QMP input member '%.200s' is unexpected", key);
			send_error(c, id, "GenericError", desc);
			return;
		}
	}
	if (oob) {
		/* Out-of-band execution is offered (as QEMU does) but no command allows it. */
		snprintf(desc, sizeof(desc), "The command %.200s does not support OOB", oob);
		send_error(c, id, "GenericError", desc);
		return;
	}
	if (!name) {
		send_error(c, id, "GenericError", "QMP input lacks member 'execute'");
		return;
	}
	cmd = qmp_command_find(name);
	if (!cmd || (!c->negotiated && strcmp(name, "qmp_capabilities"))) {
		snprintf(desc, sizeof(desc), "The command %.200s has not been found", name);
		send_error(c, id, "CommandNotFound", c->negotiated ? desc : NOT_NEGOTIATED);
		return;
	}
	args = json_object_get(req, "arguments");
	if (args)
		json_incref(args);
	else
		args = json_object();
	if (qmp_args_check(cmd, args, &err)) {
		send_error(c, id, err.cls, err.desc);
		json_decref(args);
		return;
	}
	if (!cmd->handler) { /* qmp_capabilities */
		if (c->negotiated) {
			send_error(c, id, "CommandNotFound",
				   "Capabilities negotiation is already complete, command ignored");
		} else {
			c->negotiated = 1;
			send_return(c, id, json_object());
		}
		json_decref(args);
		return;
	}
	/* Keep the request (and so @id) alive: a handler may emit events to this client. */
	json_incref(req);
	ret = cmd->handler(&s->be, &s->ver, args, &err);
	if (ret)
		send_return(c, id, ret);
	else
		send_error(c, id, err.cls ? err.cls : "GenericError", err.desc);
	json_decref(args);
	json_decref(req);
}

/* --- input: splitting the stream into JSON values ------------------------------------------- */

static void value_reset(struct qmp_client *c)
{
	c->vlen = 0;
	c->depth = 0;
	c->in_str = c->esc = c->scalar = 0;
	c->wlen = 0;
	c->bad_word = 0;
}

static void parse_error(struct qmp_client *c, const char *what)
{
	char desc[300];

	snprintf(desc, sizeof(desc), "JSON parse error, %s", what);
	send_error(c, NULL, "GenericError", desc);
}

static void value_complete(struct qmp_client *c)
{
	json_error_t jerr;
	json_t *req;
	char what[280];

	if (c->bad_word) {
		snprintf(what, sizeof(what), "invalid keyword '%s'", c->bad);
		parse_error(c, what);
		value_reset(c);
		return;
	}
	/* QEMU's parser refuses a key repeated in any object, with its own words. */
	req = json_loadb(c->val, c->vlen, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
			 &jerr);
	value_reset(c);
	if (!req) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			snprintf(what, sizeof(what), "duplicate key");
		else
			snprintf(what, sizeof(what), "%s", jerr.text);
		parse_error(c, what);
		return;
	}
	dispatch(c, req);
	json_decref(req);
}

static int value_append(struct qmp_client *c, char ch)
{
	if (c->vlen >= QMP_MAX_VALUE) {
		/* Keep the string/depth state: the rest of this value is skipped, not stored. */
		send_error(c, NULL, "GenericError", "JSON token size limit exceeded");
		c->discarding = 1;
		c->vlen = 0;
		c->wlen = 0;
		c->bad_word = 0;
		return -1;
	}
	if (c->vlen == c->vcap) {
		size_t cap = c->vcap ? c->vcap * 2 : 1024;
		char *p = realloc(c->val, cap);

		if (!p) {
			client_kill(c);
			return -1;
		}
		c->val = p;
		c->vcap = cap;
	}
	c->val[c->vlen++] = ch;
	return 0;
}

/* A bare word has ended: only the JSON literals are allowed (numbers start with a digit). */
static void word_end(struct qmp_client *c)
{
	if (!c->wlen)
		return;
	c->word[c->wlen < sizeof(c->word) ? c->wlen : sizeof(c->word) - 1] = 0;
	if (isalpha((unsigned char)c->word[0]) && strcmp(c->word, "true") &&
	    strcmp(c->word, "false") && strcmp(c->word, "null") && !c->bad_word) {
		c->bad_word = 1;
		memcpy(c->bad, c->word, sizeof(c->bad));
	}
	c->wlen = 0;
}

static int is_word_char(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '+' || ch == '.';
}

static int is_word_char(unsigned char ch);

/* Skip the rest of an over-deep or oversized value, tracking only strings and depth. */
static void discard_byte(struct qmp_client *c, unsigned char ch)
{
	if (c->in_str) {
		if (c->esc) {
			c->esc = 0;
		} else if (ch == '\\') {
			c->esc = 1;
		} else if (ch == '"') {
			c->in_str = 0;
			if (c->scalar && c->depth == 0) { /* a top-level string ended */
				c->discarding = 0;
				value_reset(c);
			}
		}
		return;
	}
	if (c->scalar && c->depth == 0) { /* a top-level number or word */
		if (!is_word_char(ch)) {
			c->discarding = 0;
			value_reset(c);
		}
		return;
	}
	if (ch == '"') {
		c->in_str = 1;
	} else if (ch == '{' || ch == '[') {
		c->depth++;
	} else if ((ch == '}' || ch == ']') && c->depth && --c->depth == 0) {
		c->discarding = 0;
		value_reset(c);
	}
}

static void feed_byte(struct qmp_client *c, unsigned char ch)
{
	if (c->discarding) {
		discard_byte(c, ch);
		return;
	}
	if (c->in_str) {
		value_append(c, (char)ch);
		if (c->esc) {
			c->esc = 0;
		} else if (ch == '\\') {
			c->esc = 1;
		} else if (ch == '"') {
			c->in_str = 0;
			if (c->scalar && c->depth == 0)
				value_complete(c);
		}
		return;
	}
	if (c->scalar && c->depth == 0 && !is_word_char(ch)) {
		/* A top-level number or literal ends at its delimiter; then look at the delimiter. */
		word_end(c);
		value_complete(c);
	}
	if (c->vlen == 0 && c->depth == 0) { /* between values */
		char what[32];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			return;
		if (ch == '}' || ch == ']') {
			parse_error(c, "expecting value");
			return;
		}
		if (ch == '{' || ch == '[') {
			c->depth = 1;
			value_append(c, (char)ch);
			return;
		}
		if (ch == '"') {
			c->scalar = 1;
			c->in_str = 1;
			value_append(c, (char)ch);
			return;
		}
		if (is_word_char(ch)) {
			c->scalar = 1;
			c->word[c->wlen++] = (char)ch;
			value_append(c, (char)ch);
			return;
		}
		if (ch >= 0x20 && ch < 0x7f)
			snprintf(what, sizeof(what), "stray '%c'", ch);
		else
			snprintf(what, sizeof(what), "stray '\xef\xbf\xbd'"); /* U+FFFD */
		parse_error(c, what);
		return;
	}
	if (is_word_char(ch)) {
		if (c->wlen < sizeof(c->word) - 1)
			c->word[c->wlen++] = (char)ch;
	} else {
		word_end(c);
	}
	if (value_append(c, (char)ch))
		return;
	if (c->scalar)
		return;
	if (ch == '"') {
		c->in_str = 1;
	} else if (ch == '{' || ch == '[') {
		if (++c->depth > QMP_MAX_NESTING) {
			send_error(c, NULL, "GenericError", "JSON nesting depth limit exceeded");
			value_reset(c);
			c->discarding = 1;
			c->depth = QMP_MAX_NESTING + 1;
		}
	} else if (ch == '}' || ch == ']') {
		if (--c->depth == 0)
			value_complete(c);
	}
}

/* --- clients -------------------------------------------------------------------------------- */

static void client_free(struct qmp_client *c)
{
	while (c->out_head) {
		struct outbuf *b = c->out_head;

		c->out_head = b->next;
		free(b);
	}
	close(c->fd);
	free(c->val);
	free(c);
}

/* Free the clients that died; safe points only (never inside a dispatch). */
static void reap(struct qmp_server *s)
{
	struct qmp_client **pp = &s->clients;

	while (*pp) {
		struct qmp_client *c = *pp;

		if (c->dead) {
			*pp = c->next;
			client_free(c);
		} else {
			pp = &c->next;
		}
	}
}

static void client_on_io(void *opaque, uint32_t events)
{
	struct qmp_client *c = opaque;
	struct qmp_server *s = c->srv;

	if (events & EPOLLOUT)
		client_flush(c);
	if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
		char buf[QMP_READ_CHUNK];
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			for (ssize_t i = 0; i < n && !c->dead; i++)
				feed_byte(c, (unsigned char)buf[i]);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			client_kill(c);
		}
	}
	reap(s);
}

static void send_greeting(struct qmp_client *c)
{
	const struct qmp_version *v = &c->srv->ver;

	client_send(c, json_pack("{s:{s:{s:{s:i, s:i, s:i}, s:s}, s:[s]}}", "QMP", "version", "qemu",
				 "micro", v->micro, "minor", v->minor, "major", v->major, "package",
				 v->package, "capabilities", "oob"));
}

int qmp_server_add_client_fd(struct qmp_server *s, int fd)
{
	struct qmp_client *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->srv = s;
	c->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = loop_add(s->loop, fd, EPOLLIN | EPOLLRDHUP, client_on_io, c);
	if (ret) {
		free(c);
		return ret;
	}
	c->next = s->clients;
	s->clients = c;
	send_greeting(c);
	return 0;
}

static void on_accept(void *opaque, uint32_t events)
{
	struct qmp_listener *l = opaque;
	int fd;

	(void)events;
	fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pr_debug("qmp: accept: %s", strerror(errno));
		return;
	}
	if (qmp_server_add_client_fd(l->srv, fd)) {
		pr_warn("qmp: cannot serve a new client");
		close(fd);
	}
	reap(l->srv);
}

static int add_listener(struct qmp_server *s, int fd, const char *path)
{
	struct qmp_listener *l;
	int ret;

	if (s->nlisten == QMP_MAX_LISTENERS)
		return -ENOSPC;
	l = &s->listeners[s->nlisten];
	l->srv = s;
	l->fd = fd;
	l->path = path ? strdup(path) : NULL;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = loop_add(s->loop, fd, EPOLLIN, on_accept, l);
	if (ret) {
		free(l->path);
		return ret;
	}
	s->nlisten++;
	return 0;
}

int qmp_server_listen_unix(struct qmp_server *s, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	/* Replace a stale socket from an earlier run, never any other kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = add_listener(s, fd, path);
	if (ret) {
		close(fd);
		unlink(path);
	}
	return ret;
}

int qmp_server_listen_fd(struct qmp_server *s, int fd)
{
	int acc = 0, type = 0;
	socklen_t len = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return errno == ENOTSOCK ? -ENOTSOCK : -EBADF;
	if (type != SOCK_STREAM)
		return -EPROTOTYPE;
	len = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0)
		return -errno;
	return acc ? add_listener(s, fd, NULL) : qmp_server_add_client_fd(s, fd);
}

static void event_send(struct qmp_server *s, enum qmp_event ev, json_t *msg)
{
	/* The journal first: it is on disk before any client, or the action, sees the event. */
	if (s->log && event_log_write(s->log, msg))
		pr_warn("event log: cannot write %s: %s", qmp_events[ev].name, strerror(errno));
	for (struct qmp_client *c = s->clients; c; c = c->next)
		if (c->negotiated && !c->dead)
			client_send(c, json_incref(msg));
}

/* The throttle period ended: send what waited (and wait again), or open the gate. */
static void throttle_expired(void *opaque)
{
	struct qmp_throttle *th = opaque;

	if (!timer_take_expired(&th->timer))
		return;
	if (!th->pending) {
		th->active = 0;
		return;
	}
	event_send(th->srv, th->ev, th->pending);
	json_decref(th->pending);
	th->pending = NULL;
	timer_mod(&th->timer, (int64_t)qmp_events[th->ev].rate_ms * 1000000);
}

static void throttle_destroy(struct qmp_server *s)
{
	for (unsigned i = 0; i < QMP_EVENT__MAX; i++) {
		struct qmp_throttle *th = &s->throttle[i];

		if (th->ready)
			timer_destroy(&th->timer);
		json_decref(th->pending); /* QEMU too drops what waits when it exits */
		th->pending = NULL;
		th->ready = 0;
	}
	timer_clock_destroy(&s->clock);
}

int qmp_server_create(struct loop *loop, const struct qmp_backend *be,
		      const struct qmp_version *ver, struct qmp_server **out)
{
	struct qmp_server *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->be = *be;
	s->ver = *ver;
	timer_clock_init(&s->clock, loop, 1);
	for (unsigned i = 0; !ret && i < QMP_EVENT__MAX; i++) {
		struct qmp_throttle *th = &s->throttle[i];

		th->srv = s;
		th->ev = i;
		if (!qmp_events[i].rate_ms)
			continue;
		ret = timer_init(&th->timer, &s->clock, throttle_expired, th);
		th->ready = !ret;
	}
	if (ret) {
		throttle_destroy(s);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void qmp_server_set_event_log(struct qmp_server *s, struct event_log *log)
{
	s->log = log;
}

void qmp_event_emit(struct qmp_server *s, enum qmp_event ev, json_t *data)
{
	struct timeval tv;
	json_t *msg;

	if ((unsigned)ev >= QMP_EVENT__MAX) {
		json_decref(data);
		return;
	}
	gettimeofday(&tv, NULL);
	msg = json_pack("{s:{s:I, s:I}, s:s}", "timestamp", "seconds", (json_int_t)tv.tv_sec,
			"microseconds", (json_int_t)tv.tv_usec, "event", qmp_events[ev].name);
	if (data)
		json_object_set_new(msg, "data", data);
	if (s->throttle[ev].ready) {
		struct qmp_throttle *th = &s->throttle[ev];

		if (th->active) {
			/* Within the period: replace what waits; it goes out when the period ends.
			 */
			json_decref(th->pending);
			th->pending = msg;
			return;
		}
		th->active = 1;
		timer_mod(&th->timer, (int64_t)qmp_events[ev].rate_ms * 1000000);
	}
	event_send(s, ev, msg);
	json_decref(msg);
}

unsigned qmp_server_nclients(struct qmp_server *s)
{
	unsigned n = 0;

	reap(s);
	for (struct qmp_client *c = s->clients; c; c = c->next)
		n++;
	return n;
}

void qmp_server_destroy(struct qmp_server *s)
{
	struct timespec start, now;

	if (!s)
		return;
	/* Replies and events already queued (the reply to quit, the last SHUTDOWN) get up to a
	 * second to drain, without letting a stuck client hold the exit. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (struct qmp_client *c = s->clients; c; c = c->next) {
		while (!c->dead && c->out_head) {
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
			long left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
				       (now.tv_nsec - start.tv_nsec) / 1000000);
			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				break;
			client_flush(c);
		}
		client_kill(c);
	}
	reap(s);
	for (unsigned i = 0; i < s->nlisten; i++) {
		loop_remove(s->loop, s->listeners[i].fd);
		close(s->listeners[i].fd);
		if (s->listeners[i].path)
			unlink(s->listeners[i].path);
		free(s->listeners[i].path);
	}
	throttle_destroy(s);
	free(s);
}
