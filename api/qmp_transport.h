/*
 * qmp_transport.h - QMP's sockets: unix/fd listeners, one client per connection, each with
 * its JSON stream splitter and an output queue written without blocking. A client that stops
 * reading is dropped once its queue passes a cap, so it can never stall the vcpus, the main
 * loop or the other clients. What the messages mean is the dispatcher's business (qmp.c).
 */
#ifndef MINIVMM_QMP_TRANSPORT_H
#define MINIVMM_QMP_TRANSPORT_H

#include <jansson.h>
#include <stddef.h>

#include "core/loop.h"

/*
 * Clients served at once, by default. Each costs at most 1 MiB of input being split
 * (JSON_STREAM_MAX_VALUE) and 4 MiB of queued output (a client that lets more pile up is dropped),
 * so 16 clients are bounded by about 80 MiB. Further connections wait in the listener's backlog,
 * unaccepted, until one leaves.
 */
#define QMP_DEFAULT_MAX_CLIENTS 16

struct qmp_transport;
struct qmp_conn;

/* What the transport hands up. All on the main thread. */
struct qmp_transport_ops {
	/* A client connected (send it the greeting). */
	void (*connected)(void *ctx, struct qmp_conn *c);
	/* One JSON value from @c, borrowed. */
	void (*request)(void *ctx, struct qmp_conn *c, json_t *req);
	/* Input from @c that is not JSON, or over the size or depth caps: QEMU's message. */
	void (*bad_input)(void *ctx, struct qmp_conn *c, const char *desc);
	void *ctx;
};

int qmp_transport_create(struct loop *loop, const struct qmp_transport_ops *ops,
			 struct qmp_transport **out) __attribute__((warn_unused_result));

/*
 * Listen on a unix socket at @path, created with mode 0600. A stale socket file (nothing
 * listening) is replaced; a live one fails with -EADDRINUSE, any other file with -EEXIST.
 */
int qmp_transport_listen_unix(struct qmp_transport *t, const char *path)
    __attribute__((warn_unused_result));

/* Take over @fd: a listening socket, or one already-connected client. */
int qmp_transport_listen_fd(struct qmp_transport *t, int fd) __attribute__((warn_unused_result));

/* Serve one connected stream socket. */
int qmp_transport_add_client_fd(struct qmp_transport *t, int fd)
    __attribute__((warn_unused_result));

/* Queue @msg (consumed) to @c with QEMU's separators and CRLF, and try to send it. */
void qmp_conn_send(struct qmp_conn *c, json_t *msg);

/* Whether @c left capabilities negotiation; only such clients get broadcasts. */
int qmp_conn_negotiated(const struct qmp_conn *c);
void qmp_conn_set_negotiated(struct qmp_conn *c);
/* Whether @c enabled the oob capability when it negotiated (only then is exec-oob a member). */
int qmp_conn_oob(const struct qmp_conn *c);
void qmp_conn_set_oob(struct qmp_conn *c);

/*
 * getfd: the first descriptor that came (SCM_RIGHTS) with @c's most recent input that carried
 * any, now the caller's; the others that came with it are closed. -1 when there is none (or
 * @c is NULL).
 */
int qmp_conn_take_msgfd(struct qmp_conn *c);

/* The named descriptors of @c's monitor: its listener's table (it outlives the connection, as
 * QEMU's monitor does a reconnect), or @c's own for a client handed over. NULL for NULL. */
struct qmp_fds *qmp_conn_fds(struct qmp_conn *c);

/* Send @msg (borrowed) to every live client that has negotiated. */
void qmp_transport_broadcast(struct qmp_transport *t, json_t *msg);

/*
 * How query-chardev names listener @i (0-based, in the order added): QEMU's filename for a
 * server socket chardev, "unix:PATH,server=on", prefixed "disconnected:" while no client is
 * connected through it; "fd:N" for a listening socket handed over. Returns 0, or -1 when
 * there is no listener @i.
 */
int qmp_transport_listener_name(struct qmp_transport *t, unsigned i, char *buf, size_t len);

/*
 * Serve at most @n clients at once (0 counts as 1; default QMP_DEFAULT_MAX_CLIENTS). At the
 * cap the listeners are not polled, so pending connections wait unaccepted; a client leaving
 * re-arms them. Clients handed over by fd count too but are never refused.
 */
void qmp_transport_set_max_clients(struct qmp_transport *t, unsigned n);

/* Number of connected clients. */
unsigned qmp_transport_nclients(struct qmp_transport *t);

/* Try briefly (up to a second) to flush pending output, then close every socket and remove
 * the socket files. */
void qmp_transport_destroy(struct qmp_transport *t);

#endif
