/* qmp_transport.c - QMP's listeners, clients, input splitting and output queues. */
#include "qmp_transport.h"
#include "json_compat.h"
#include "json_stream.h"
#include "qdict_order.h"
#include "qmp_fds.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_MAX_LISTENERS   4
#define QMP_MAX_OUTQ	    (4u << 20) /* queued output before a non-reading client is dropped */
#define QMP_READ_CHUNK	    65536
#define QMP_DUMP_FLAGS	    (JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
#define QMP_DRAIN_MS	    1000
#define QMP_ACCEPT_RETRY_MS 100 /* after accept failed for want of fds or memory */
#define QMP_MSGFDS	    8	/* descriptors taken from one recvmsg; the kernel closes the rest */

struct outbuf {
	struct outbuf *next;
	size_t len, off;
	char data[];
};

struct qmp_conn {
	struct qmp_transport *t;
	struct qmp_conn *next;
	int fd;
	int negotiated;
	int oob; /* negotiated with the oob capability enabled */
	int dead;
	int from; /* 1 + the index of the listener it came through; 0 for one handed over */
	struct json_stream in;
	struct outbuf *out_head, *out_tail;
	size_t outq;
	/* SCM_RIGHTS descriptors that came with the last input carrying any, for getfd. */
	int msgfds[QMP_MSGFDS];
	unsigned nmsgfds;
	struct qmp_fds own_fds; /* the monitor's table for a client handed over (from == 0) */
};

struct qmp_transport {
	struct loop *loop;
	struct qmp_transport_ops ops;
	struct qmp_listener {
		struct qmp_transport *t;
		int fd;
		char *path;	    /* unix socket to remove at the end, or NULL */
		struct qmp_fds fds; /* getfd's names: the monitor's, kept across reconnects */
	} listeners[QMP_MAX_LISTENERS];
	unsigned nlisten;
	struct qmp_conn *clients;
	unsigned nlive;	      /* clients not dead */
	unsigned max_clients; /* listeners rest while nlive reaches it */
	int listening;	      /* listeners are polled */
	int retry_fd;	      /* timerfd: poll the listeners again after an accept failure */
	int backoff;	      /* retry_fd is armed */
};

/* --- listening ------------------------------------------------------------------------------ */

/*
 * Poll the listeners only while a new client can be served: below the client cap and not
 * backing off after accept ran out of fds. A listener that is not polled keeps its pending
 * connections in the kernel's backlog (as QEMU's socket chardev does while its client is
 * connected); a polled one that cannot accept would wake the main loop without end.
 */
static void listeners_update(struct qmp_transport *t)
{
	int want = t->nlive < t->max_clients && !t->backoff;

	if (want == t->listening)
		return;
	t->listening = want;
	for (unsigned i = 0; i < t->nlisten; i++)
		loop_modify(t->loop, t->listeners[i].fd, want ? EPOLLIN : 0);
}

static void on_retry(void *opaque, uint32_t events)
{
	struct qmp_transport *t = opaque;
	uint64_t n;

	(void)events;
	if (read(t->retry_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_debug("qmp: retry timer: %s", strerror(errno));
	t->backoff = 0;
	listeners_update(t);
}

/* accept failed for want of a resource: rest the listeners for QMP_ACCEPT_RETRY_MS. */
static void listeners_back_off(struct qmp_transport *t)
{
	struct itimerspec its = { .it_value = { 0, QMP_ACCEPT_RETRY_MS * 1000000l } };

	if (timerfd_settime(t->retry_fd, 0, &its, NULL) < 0)
		return; /* without the timer, stay polled: better spinning than deaf */
	t->backoff = 1;
	listeners_update(t);
}

/* --- output --------------------------------------------------------------------------------- */

static void conn_kill(struct qmp_conn *c)
{
	if (c->dead)
		return;
	c->dead = 1;
	c->t->nlive--;
	loop_remove(c->t->loop, c->fd);
	listeners_update(c->t); /* a place is free again */
}

static int conn_flush(struct qmp_conn *c)
{
	while (c->out_head) {
		struct outbuf *b = c->out_head;
		ssize_t n =
		    send(c->fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_kill(c); /* vanished mid-reply: drop it, nobody else notices */
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
		loop_modify(c->t->loop, c->fd, EPOLLIN | EPOLLRDHUP | (c->out_head ? EPOLLOUT : 0));
	return 0;
}

void qmp_conn_send(struct qmp_conn *c, json_t *msg)
{
	json_t *ordered, *reals;
	char *text;
	size_t len;
	struct outbuf *b;

	if (c->dead) {
		json_decref(msg);
		return;
	}
	/* QEMU's member order, whatever order @msg was built in; its numbers (json_compat.c). */
	reals = json_compat_reals(msg);
	json_decref(msg);
	ordered = qdict_order(reals);
	json_decref(reals);
	text = json_dumps(ordered, QMP_DUMP_FLAGS);
	json_decref(ordered);
	if (text)
		json_compat_fix_dump(text);
	if (!text)
		return;
	len = strlen(text);
	if (c->outq + len + 2 > QMP_MAX_OUTQ) {
		pr_warn("qmp: dropping a client that stopped reading (%zu bytes queued)", c->outq);
		free(text);
		conn_kill(c);
		return;
	}
	b = malloc(sizeof(*b) + len + 2);
	if (!b) {
		free(text);
		conn_kill(c);
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
	conn_flush(c);
}

int qmp_conn_negotiated(const struct qmp_conn *c)
{
	return c->negotiated;
}

int qmp_conn_oob(const struct qmp_conn *c)
{
	return c->oob;
}

void qmp_conn_set_oob(struct qmp_conn *c)
{
	c->oob = 1;
}

void qmp_conn_set_negotiated(struct qmp_conn *c)
{
	c->negotiated = 1;
}

void qmp_transport_broadcast(struct qmp_transport *t, json_t *msg)
{
	for (struct qmp_conn *c = t->clients; c; c = c->next)
		if (c->negotiated && !c->dead)
			qmp_conn_send(c, json_incref(msg));
}

/* --- input ---------------------------------------------------------------------------------- */

/* The splitter's callbacks: hand up, and stop feeding once the client is gone. */
static int conn_value(void *opaque, json_t *v)
{
	struct qmp_conn *c = opaque;

	c->t->ops.request(c->t->ops.ctx, c, v);
	return c->dead;
}

static int conn_bad_input(void *opaque, const char *desc)
{
	struct qmp_conn *c = opaque;

	c->t->ops.bad_input(c->t->ops.ctx, c, desc);
	return c->dead;
}

/* --- clients -------------------------------------------------------------------------------- */

static void conn_free(struct qmp_conn *c)
{
	while (c->out_head) {
		struct outbuf *b = c->out_head;

		c->out_head = b->next;
		free(b);
	}
	close(c->fd);
	for (unsigned i = 0; i < c->nmsgfds; i++)
		close(c->msgfds[i]);
	qmp_fds_clear(&c->own_fds);
	json_stream_destroy(&c->in);
	free(c);
}

/* Free the clients that died; safe points only (never inside a dispatch). */
static void reap(struct qmp_transport *t)
{
	struct qmp_conn **pp = &t->clients;

	while (*pp) {
		struct qmp_conn *c = *pp;

		if (c->dead) {
			*pp = c->next;
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

/*
 * Read input, keeping the descriptors that come with it for getfd. As QEMU's socket chardev
 * does, descriptors from a newer message replace those no command took (which are closed).
 */
static ssize_t conn_recv(struct qmp_conn *c, char *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(QMP_MSGFDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		unsigned nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned i = 0; i < c->nmsgfds; i++)
			close(c->msgfds[i]);
		c->nmsgfds = 0;
		for (unsigned i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->nmsgfds < QMP_MSGFDS)
				c->msgfds[c->nmsgfds++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

int qmp_conn_take_msgfd(struct qmp_conn *c)
{
	int fd;

	if (!c || !c->nmsgfds)
		return -1;
	/* The first one; the others that came with it are closed (QEMU's tcp_get_msgfds). */
	fd = c->msgfds[0];
	for (unsigned i = 1; i < c->nmsgfds; i++)
		close(c->msgfds[i]);
	c->nmsgfds = 0;
	return fd;
}

struct qmp_fds *qmp_conn_fds(struct qmp_conn *c)
{
	if (!c)
		return NULL;
	return c->from ? &c->t->listeners[c->from - 1].fds : &c->own_fds;
}

static void conn_on_io(void *opaque, uint32_t events)
{
	struct qmp_conn *c = opaque;
	struct qmp_transport *t = c->t;

	if (events & EPOLLOUT)
		conn_flush(c);
	if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
		char buf[QMP_READ_CHUNK];
		ssize_t n = conn_recv(c, buf, sizeof(buf));

		if (n > 0) {
			if (json_stream_feed(&c->in, buf, (size_t)n) < 0)
				conn_kill(c);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_kill(c);
		}
	}
	reap(t);
}

int qmp_transport_add_client_fd(struct qmp_transport *t, int fd)
{
	struct qmp_conn *c = calloc(1, sizeof(*c));
	struct json_stream_ops in_ops = { conn_value, conn_bad_input, c };
	int ret;

	if (!c)
		return -ENOMEM;
	c->t = t;
	c->fd = fd;
	json_stream_init(&c->in, &in_ops);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = loop_add(t->loop, fd, EPOLLIN | EPOLLRDHUP, conn_on_io, c);
	if (ret) {
		free(c);
		return ret;
	}
	c->next = t->clients;
	t->clients = c;
	t->nlive++;
	listeners_update(t);
	t->ops.connected(t->ops.ctx, c);
	return 0;
}

static void on_accept(void *opaque, uint32_t events)
{
	struct qmp_listener *l = opaque;
	int fd;

	(void)events;
	if (l->t->nlive >= l->t->max_clients) {
		listeners_update(l->t); /* raced with the cap: leave the connection waiting */
		return;
	}
	fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			static struct log_ratelimit rl;

			log_ratelimited(&rl, LOG_WARN,
					"qmp: cannot accept a client: %s; retrying in %d ms",
					strerror(errno), QMP_ACCEPT_RETRY_MS);
			listeners_back_off(l->t);
		} else if (errno != EAGAIN && errno != EINTR) {
			pr_debug("qmp: accept: %s", strerror(errno));
		}
		return;
	}
	if (qmp_transport_add_client_fd(l->t, fd)) {
		pr_warn("qmp: cannot serve a new client");
		close(fd);
	} else {
		l->t->clients->from = 1 + (int)(l - l->t->listeners);
	}
	reap(l->t);
}

/* --- listeners ------------------------------------------------------------------------------ */

static int add_listener(struct qmp_transport *t, int fd, const char *path)
{
	struct qmp_listener *l;
	int ret;

	if (t->nlisten == QMP_MAX_LISTENERS)
		return -ENOSPC;
	l = &t->listeners[t->nlisten];
	l->t = t;
	l->fd = fd;
	l->path = path ? strdup(path) : NULL;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = loop_add(t->loop, fd, t->listening ? EPOLLIN : 0, on_accept, l);
	if (ret) {
		free(l->path);
		return ret;
	}
	t->nlisten++;
	return 0;
}

/* Whether something listens on the unix socket at @addr: a connect is accepted, or would be
 * but for a full backlog. */
static int socket_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int in_use;

	if (fd < 0)
		return 0;
	in_use = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
		 errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return in_use;
}

int qmp_transport_listen_unix(struct qmp_transport *t, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	/* Replace a stale socket from an earlier run, never any other kind of file, and never
	 * the socket of an instance that still runs. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (socket_in_use(&addr))
			return -EADDRINUSE;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/*
	 * The mode is set on the socket before bind: Linux creates the file with the socket
	 * inode's mode less the umask, so it is 0600 from its first instant, and no chmod by
	 * path (which follows a symlink swapped in after bind) is needed.
	 */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 64) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = add_listener(t, fd, path);
	if (ret) {
		close(fd);
		unlink(path);
	}
	return ret;
}

int qmp_transport_listen_fd(struct qmp_transport *t, int fd)
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
	return acc ? add_listener(t, fd, NULL) : qmp_transport_add_client_fd(t, fd);
}

int qmp_transport_listener_name(struct qmp_transport *t, unsigned i, char *buf, size_t len)
{
	const char *state = "disconnected:";

	if (i >= t->nlisten)
		return -1;
	for (struct qmp_conn *c = t->clients; c; c = c->next)
		if (c->from == (int)i + 1 && !c->dead)
			state = "";
	if (t->listeners[i].path)
		snprintf(buf, len, "%sunix:%s,server=on", state, t->listeners[i].path);
	else
		snprintf(buf, len, "%sfd:%d", state, t->listeners[i].fd);
	return 0;
}

/* --- lifetime ------------------------------------------------------------------------------- */

int qmp_transport_create(struct loop *loop, const struct qmp_transport_ops *ops,
			 struct qmp_transport **out)
{
	struct qmp_transport *t = calloc(1, sizeof(*t));

	int ret;

	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->ops = *ops;
	t->max_clients = QMP_DEFAULT_MAX_CLIENTS;
	t->listening = 1;
	t->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->retry_fd < 0) {
		ret = -errno;
		free(t);
		return ret;
	}
	ret = loop_add(loop, t->retry_fd, EPOLLIN, on_retry, t);
	if (ret) {
		close(t->retry_fd);
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void qmp_transport_set_max_clients(struct qmp_transport *t, unsigned n)
{
	t->max_clients = n ? n : 1;
	listeners_update(t);
}

unsigned qmp_transport_nclients(struct qmp_transport *t)
{
	unsigned n = 0;

	reap(t);
	for (struct qmp_conn *c = t->clients; c; c = c->next)
		n++;
	return n;
}

void qmp_transport_destroy(struct qmp_transport *t)
{
	struct timespec start, now;

	if (!t)
		return;
	/* Replies and events already queued (the reply to quit, the last SHUTDOWN) get up to a
	 * second to drain, without letting a stuck client hold the exit. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (struct qmp_conn *c = t->clients; c; c = c->next) {
		while (!c->dead && c->out_head) {
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
			long left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = QMP_DRAIN_MS - ((now.tv_sec - start.tv_sec) * 1000 +
					       (now.tv_nsec - start.tv_nsec) / 1000000);
			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				break;
			conn_flush(c);
		}
		conn_kill(c);
	}
	reap(t);
	for (unsigned i = 0; i < t->nlisten; i++) {
		loop_remove(t->loop, t->listeners[i].fd);
		close(t->listeners[i].fd);
		if (t->listeners[i].path)
			unlink(t->listeners[i].path);
		free(t->listeners[i].path);
		qmp_fds_clear(&t->listeners[i].fds);
	}
	loop_remove(t->loop, t->retry_fd);
	close(t->retry_fd);
	free(t);
}
