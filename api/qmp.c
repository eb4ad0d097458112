/*
 * qmp.c - the QMP server: QEMU's greeting, negotiation, request checking and replies, commands
 * dispatched through the schema table (qmp_schema.c), and events stamped, journalled,
 * throttled and sent to every negotiated client. Sockets, framing and output queues are the
 * transport's (qmp_transport.c); splitting the input into JSON values is json_stream.c's.
 */
#include "qmp.h"
#include "event_log.h"
#include "json_compat.h"
#include "qdict_order.h"
#include "qmp_schema.h"
#include "qmp_transport.h"
#include "core/log.h"
#include "core/timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct qmp_server {
	struct loop *loop;
	struct qmp_backend be;
	struct qmp_version ver;
	struct event_log *log;
	struct qmp_transport *transport;
	/* Event throttling (QEMU's monitor_qapi_event_queue), on a clock that never stops. */
	struct timer_clock clock;
	struct qmp_throttle {
		struct qmp_server *srv;
		enum qmp_event ev;
		int ready;	 /* timer initialised */
		unsigned tokens; /* events that may go out now; one comes back per rate_ms */
		json_t *pending; /* the newest event that found none, or NULL */
		struct timer timer;
	} throttle[QMP_EVENT__MAX];
};

/* --- replies -------------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at @s (as jansson checks it), or 0. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f; /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* @s with every byte that is not well-formed UTF-8 replaced by U+FFFD (heap), or NULL. An
 * error may quote the client's bytes (jansson's "near '...'"), or be cut inside a character,
 * and a JSON string must be UTF-8. */
static char *utf8_repair(const char *s)
{
	size_t len = strlen(s), o = 0;
	char *out = malloc(3 * len + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len((const unsigned char *)s + i);

		if (n) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = 0;
	return out;
}

static void send_error(struct qmp_conn *c, json_t *id, const char *cls, const char *desc)
{
	json_t *msg = json_object(), *err;

	if (id)
		json_object_set(msg, "id", id);
	err = json_pack("{s:s, s:s}", "class", cls, "desc", desc);
	if (!err) { /* not UTF-8: jansson refuses it, and the reply would be an empty object */
		char *fixed = utf8_repair(desc);

		err =
		    json_pack("{s:s, s:s}", "class", cls, "desc", fixed ? fixed : "out of memory");
		free(fixed);
	}
	json_object_set_new(msg, "error", err);
	qmp_conn_send(c, msg);
}

/* An error whose message quotes a client's name: whole, however long, as QEMU does. */
static void send_errorf(struct qmp_conn *c, json_t *id, const char *cls, const char *fmt,
			const char *name) __attribute__((format(printf, 4, 0)));

static void send_errorf(struct qmp_conn *c, json_t *id, const char *cls, const char *fmt,
			const char *name)
{
	char *desc;

	if (asprintf(&desc, fmt, name) < 0) {
		send_error(c, id, cls, "out of memory");
		return;
	}
	send_error(c, id, cls, desc);
	free(desc);
}

static void send_return(struct qmp_conn *c, json_t *id, json_t *ret)
{
	json_t *msg = json_object();

	json_object_set_new(msg, "return", ret);
	if (id)
		json_object_set(msg, "id", id);
	qmp_conn_send(c, msg);
}

/* --- dispatch ------------------------------------------------------------------------------- */

#define NOT_NEGOTIATED "Expecting capabilities negotiation with 'qmp_capabilities'"

/* The request's members, checked in QEMU's QDict order (which decides which error comes
 * first): @name and @oob set, or -1 after sending the error. */
static int check_members(struct qmp_conn *c, json_t *req, json_t *id, const char **name,
			 const char **oob)
{
	json_t *ordered = qdict_order(req), *val;
	const char *key;

	json_object_foreach(ordered, key, val)
	{
		if (!strcmp(key, "execute") || (!strcmp(key, "exec-oob") && qmp_conn_oob(c))) {
			if (!json_is_string(val) || json_compat_is_u64(val)) {
				send_errorf(c, id, "GenericError",
					    "QMP input member '%s' must be a string", key);
				goto bad;
			}
			if (key[4] == '-')
				*oob = json_string_value(val);
			else
				*name = json_string_value(val);
		} else if (!strcmp(key, "arguments")) {
			if (!json_is_object(val)) {
				send_error(c, id, "GenericError",
					   "QMP input member 'arguments' must be an object");
				goto bad;
			}
		} else if (strcmp(key, "id")) {
			send_errorf(c, id, "GenericError", "QMP input member '%s' is unexpected",
				    key);
			goto bad;
		}
	}
	json_decref(ordered);
	return 0;
bad:
	json_decref(ordered);
	return -1;
}

static void dispatch(void *ctx, struct qmp_conn *c, json_t *req)
{
	struct qmp_server *s = ctx;
	const struct qmp_command *cmd;
	struct qmp_error err = { .cls = "GenericError" };
	json_t *id, *args, *ret;
	const char *name = NULL, *oob = NULL;

	if (!json_is_object(req)) {
		send_error(c, NULL, "GenericError", "QMP input must be a JSON object");
		return;
	}
	id = json_object_get(req, "id");
	if (check_members(c, req, id, &name, &oob))
		return;
	if (oob) {
		/* Out-of-band execution is offered (as QEMU does) but no command allows it. */
		send_errorf(c, id, "GenericError", "The command %s does not support OOB", oob);
		return;
	}
	if (!name) {
		send_error(c, id, "GenericError", "QMP input lacks member 'execute'");
		return;
	}
	cmd = qmp_command_find(name);
	if (!cmd || (!qmp_conn_negotiated(c) && strcmp(name, "qmp_capabilities"))) {
		if (qmp_conn_negotiated(c))
			send_errorf(c, id, "CommandNotFound", "The command %s has not been found",
				    name);
		else
			send_error(c, id, "CommandNotFound", NOT_NEGOTIATED);
		return;
	}
	args = json_object_get(req, "arguments");
	if (args)
		json_incref(args);
	else
		args = json_object();
	if (qmp_args_check(cmd, args, &err)) {
		send_error(c, id, err.cls, err.big ? err.big : err.desc);
		free(err.big);
		json_decref(args);
		return;
	}
	if (!cmd->handler) { /* qmp_capabilities */
		if (qmp_conn_negotiated(c)) {
			send_error(c, id, "CommandNotFound",
				   "Capabilities negotiation is already complete, command ignored");
		} else {
			qmp_conn_set_negotiated(c);
			if (json_array_size(json_object_get(args, "enable")))
				qmp_conn_set_oob(c); /* the one capability there is */
			send_return(c, id, json_object());
		}
		json_decref(args);
		return;
	}
	/* Keep the request (and so @id) alive: a handler may emit events to this client. */
	json_incref(req);
	s->be.conn = c;
	ret = cmd->handler(cmd, &s->be, &s->ver, args, &err);
	s->be.conn = NULL;
	if (ret)
		send_return(c, id, ret);
	else
		send_error(c, id, err.cls ? err.cls : "GenericError", err.big ? err.big : err.desc);
	free(err.big);
	json_decref(args);
	json_decref(req);
}

static void bad_input(void *ctx, struct qmp_conn *c, const char *desc)
{
	(void)ctx;
	send_error(c, NULL, "GenericError", desc);
}

static void send_greeting(void *ctx, struct qmp_conn *c)
{
	const struct qmp_version *v = &((struct qmp_server *)ctx)->ver;

	qmp_conn_send(c, json_pack("{s:{s:{s:{s:i, s:i, s:i}, s:s}, s:[s]}}", "QMP", "version",
				   "qemu", "major", v->major, "minor", v->minor, "micro", v->micro,
				   "package", v->package, "capabilities", "oob"));
}

/* query-chardev's monitors: one per listener, named as QEMU names -qmp's chardevs. */
static unsigned server_monitors(void *mctx, struct qmp_chardev_info *out, unsigned max)
{
	struct qmp_server *s = mctx;
	unsigned n = 0;

	for (; n < max; n++) {
		snprintf(out[n].label, sizeof(out[n].label), "compat_monitor%u", n);
		if (qmp_transport_listener_name(s->transport, n, out[n].filename,
						sizeof(out[n].filename)))
			break;
		out[n].frontend_open = 1;
	}
	return n;
}

int qmp_server_listen_unix(struct qmp_server *s, const char *path)
{
	return qmp_transport_listen_unix(s->transport, path);
}

int qmp_server_listen_fd(struct qmp_server *s, int fd)
{
	return qmp_transport_listen_fd(s->transport, fd);
}

void qmp_server_set_max_clients(struct qmp_server *s, unsigned n)
{
	qmp_transport_set_max_clients(s->transport, n);
}

int qmp_server_add_client_fd(struct qmp_server *s, int fd)
{
	return qmp_transport_add_client_fd(s->transport, fd);
}

/* --- events --------------------------------------------------------------------------------- */

static unsigned event_burst(enum qmp_event ev)
{
	return qmp_events[ev].burst ? qmp_events[ev].burst : 1;
}

static const char *event_str(const json_t *msg, const char *member)
{
	return json_string_value(json_object_get(json_object_get(msg, "data"), member));
}

/*
 * Whether a guest can send @msg again and again while it keeps running: such events are
 * journalled under the journal's size cap and synced in batches (event_log.h). What stops or
 * ends the VM, and whatever the host or a client caused, is always journalled and synced.
 */
static int guest_repeatable(enum qmp_event ev, const json_t *msg)
{
	const char *action = event_str(msg, "action");

	switch (ev) {
	case QMP_EVENT_WATCHDOG: /* its action's own events (STOP, SHUTDOWN) are kept */
	case QMP_EVENT_GUEST_CRASHLOADED:
		return 1;
	case QMP_EVENT_GUEST_PANICKED:
		return action && !strcmp(action, "run");
	case QMP_EVENT_RESET: /* a guest in a reboot loop */
		return json_is_true(json_object_get(json_object_get(msg, "data"), "guest"));
	default:
		return 0;
	}
}

static void event_send(struct qmp_server *s, enum qmp_event ev, json_t *msg)
{
	/* The journal first: it is on disk before any client, or the action, sees the event. */
	if (s->log && event_log_write(s->log, msg, ev,
				      guest_repeatable(ev, msg) ? EVENT_LOG_GUEST : EVENT_LOG_KEEP))
		pr_warn("event log: cannot write %s: %s", qmp_events[ev].name, strerror(errno));
	qmp_transport_broadcast(s->transport, msg);
}

/* A throttle period ended: send what waited (it takes the returning event), or give the
 * event back and keep counting until the burst is whole again. */
static void throttle_expired(void *opaque)
{
	struct qmp_throttle *th = opaque;

	if (!timer_take_expired(&th->timer))
		return;
	if (th->pending) {
		event_send(th->srv, th->ev, th->pending);
		json_decref(th->pending);
		th->pending = NULL;
	} else if (++th->tokens >= event_burst(th->ev)) {
		return;
	}
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
	struct qmp_transport_ops ops = { send_greeting, dispatch, bad_input, s };
	int ret;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->be = *be;
	s->be.query_monitors = server_monitors;
	s->be.mctx = s;
	s->ver = *ver;
	ret = qmp_transport_create(loop, &ops, &s->transport);
	if (ret) {
		free(s);
		return ret;
	}
	timer_clock_init(&s->clock, loop, 1);
	for (unsigned i = 0; !ret && i < QMP_EVENT__MAX; i++) {
		struct qmp_throttle *th = &s->throttle[i];

		th->srv = s;
		th->ev = i;
		th->tokens = event_burst(i);
		if (!qmp_events[i].rate_ms)
			continue;
		ret = timer_init(&th->timer, &s->clock, throttle_expired, th);
		th->ready = !ret;
	}
	if (ret) {
		throttle_destroy(s);
		qmp_transport_destroy(s->transport);
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
	int arm = 0;

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

		if (ev == QMP_EVENT_GUEST_PANICKED && !guest_repeatable(ev, msg)) {
			/* Its action stops or ends the VM: never held back, and one that waits
			 * goes out first, in order. */
			if (th->pending) {
				event_send(s, ev, th->pending);
				json_decref(th->pending);
				th->pending = NULL;
			}
		} else if (!th->tokens) {
			/* None allowed now: replace what waits; it goes out when one comes back.
			 */
			json_decref(th->pending);
			th->pending = msg;
			return;
		} else {
			arm = th->tokens-- == event_burst(ev);
		}
	}
	event_send(s, ev, msg);
	json_decref(msg);
	/* The first of a burst starts the refill period; armed after the send, so that the
	 * client does not wait for the timer's syscall (it is a period, a send's time late). */
	if (arm)
		timer_mod(&s->throttle[ev].timer, (int64_t)qmp_events[ev].rate_ms * 1000000);
}

unsigned qmp_server_nclients(struct qmp_server *s)
{
	return qmp_transport_nclients(s->transport);
}

void qmp_server_destroy(struct qmp_server *s)
{
	if (!s)
		return;
	qmp_transport_destroy(s->transport);
	throttle_destroy(s);
	free(s);
}
