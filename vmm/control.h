/* control.h - the VM's side of the control socket: QMP commands mapped onto the lifecycle. */
#ifndef MINIVMM_CONTROL_H
#define MINIVMM_CONTROL_H

#include "api/qmp.h"
#include "core/event.h"
#include "core/loop.h"
#include "lifecycle.h"

struct qmp_server;
struct event_log;
struct dump;

/* What the query commands read of the machine (vm_query.c fills it for a VM). */
struct control_machine {
	void *ctx;
	const char *name, *uuid; /* --name, --uuid; NULL when not given */
	unsigned max_cpus;
	unsigned (*query_cpus)(void *ctx, struct qmp_cpu_info *out, unsigned max);
	unsigned (*query_pci)(void *ctx, struct qmp_pci_function *out, unsigned max);
	unsigned (*query_chardevs)(void *ctx, struct qmp_chardev_info *out, unsigned max);
};

struct control {
	struct lifecycle *lc;
	struct dump *dump;
	struct control_machine machine;
	struct qmp_server *qmp;	     /* NULL: no --qmp and no --event-log */
	struct event_log *event_log; /* --event-log, or NULL */
};

/*
 * Open the event journal @event_log (may be NULL) and listen on the @nqmp specs in @qmp
 * ("unix:PATH" or "fd:N") for at most @max_clients clients at once (0: the default, 16),
 * the journal capped at @event_log_max bytes (0: the default, EVENT_LOG_DEFAULT_MAX),
 * serving commands through @lc, dumps through @dump and queries
 * through @m (copied). Returns 0 or -errno (message printed); control_destroy cleans up either
 * way.
 */
int control_create(struct control *c, struct loop *loop, struct lifecycle *lc, struct dump *dump,
		   const struct control_machine *m, const char *const *qmp, unsigned nqmp,
		   unsigned max_clients, const char *event_log, uint64_t event_log_max)
    __attribute__((warn_unused_result));

/* The lifecycle's event sink (ctx: struct control): journal and send, if there is a server. */
void control_emit(void *ctx, const struct vm_event *ev);

/* Flush what can be flushed and close everything. */
void control_destroy(struct control *c);

#endif
