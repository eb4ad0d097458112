/* control.c - QMP backend: each command acts at once through the lifecycle; its event sink. */
#include "control.h"
#include "api/event_log.h"
#include "api/qmp.h"
#include "api/qmp_events.h"
#include "dump.h"
#include "core/hostfile.h"
#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backend's context is the struct control: the lifecycle and the machine's queries. */
static struct lifecycle *lc_of(void *ctx)
{
	return ((struct control *)ctx)->lc;
}

static int be_query_status(void *ctx, int *running, const char **status, struct qmp_error *err)
{
	struct lifecycle *lc = lc_of(ctx);

	(void)err;
	*running = lc->state == RUNSTATE_RUNNING;
	*status = runstate_name(lc->state);
	return 0;
}

/* stop and cont act at once: QEMU sends their STOP/RESUME before the command's reply. */
static int be_stop(void *ctx, struct qmp_error *err)
{
	(void)err;
	lifecycle_stop(lc_of(ctx));
	return 0;
}

static int be_cont(void *ctx, struct qmp_error *err)
{
	const char *why = NULL;

	if (lifecycle_cont(lc_of(ctx), &why)) {
		err->cls = "GenericError";
		snprintf(err->desc, sizeof(err->desc), "%s", why);
		return -1;
	}
	return 0;
}

/* The rest act at once too: QEMU's RESET, POWERDOWN and SHUTDOWN reach the client before the
 * command's reply (measured against QEMU 10.0.2; see tests/qmp/probe.py). quit only marks the VM
 * done; the main loop ends after this dispatch and the reply is flushed on the way out. */
static int be_system_reset(void *ctx, struct qmp_error *err)
{
	(void)err;
	lifecycle_handle(lc_of(ctx), VM_REQ_RESET, CAUSE_HOST_QMP_SYSTEM_RESET);
	return 0;
}

static int be_system_powerdown(void *ctx, struct qmp_error *err)
{
	(void)err;
	lifecycle_handle(lc_of(ctx), VM_REQ_POWERDOWN, CAUSE_NONE);
	return 0;
}

static int be_quit(void *ctx, struct qmp_error *err)
{
	(void)err;
	lifecycle_handle(lc_of(ctx), VM_REQ_SHUTDOWN, CAUSE_HOST_QMP_QUIT);
	return 0;
}

static int be_set_action(void *ctx, const char *reboot, const char *shutdown, const char *panic,
			 const char *watchdog, struct qmp_error *err)
{
	struct lifecycle *lc = lc_of(ctx);
	struct actions a = lc->actions;

	(void)err;
	/* Values arrive validated against the enums by the schema. */
	if (reboot)
		a.reboot = action_lookup(reboot_action_names, REBOOT__MAX, reboot);
	if (shutdown)
		a.shutdown = action_lookup(shutdown_action_names, SHUTDOWN__MAX, shutdown);
	if (panic)
		a.panic = action_lookup(panic_action_names, PANIC__MAX, panic);
	if (watchdog)
		a.watchdog = action_lookup(watchdog_action_names, WATCHDOG__MAX, watchdog);
	lc->actions = a;
	return 0;
}

static int be_watchdog_set_action(void *ctx, const char *action, struct qmp_error *err)
{
	return be_set_action(ctx, NULL, NULL, NULL, action, err);
}

static int be_dump_guest_memory(void *ctx, const char *protocol, int fd, int detach, int has_filter,
				uint64_t begin, uint64_t length, enum qmp_dump_format format,
				struct qmp_error *err)
{
	struct control *c = ctx;

	if (!dump_guest_memory(c->dump, protocol, fd, detach, has_filter, begin, length,
			       (int)format, err->desc, sizeof(err->desc)))
		return 0;
	err->cls = "GenericError";
	return -1;
}

static int be_set_panic_dump(void *ctx, const char *dir, struct qmp_error *err)
{
	struct control *c = ctx;

	if (!dump_set_panic_dir(c->dump, dir, err->desc, sizeof(err->desc)))
		return 0;
	err->cls = "GenericError";
	return -1;
}

static void be_query_dump(void *ctx, struct dump_result *r)
{
	struct control *c = ctx;

	dump_query(c->dump, r);
}

static int be_inject_nmi(void *ctx, struct qmp_error *err)
{
	(void)err;
	lifecycle_nmi(lc_of(ctx));
	return 0;
}

static unsigned be_query_cpus(void *ctx, struct qmp_cpu_info *out, unsigned max)
{
	const struct control_machine *m = &((struct control *)ctx)->machine;

	return m->query_cpus ? m->query_cpus(m->ctx, out, max) : 0;
}

static unsigned be_query_pci(void *ctx, struct qmp_pci_function *out, unsigned max)
{
	const struct control_machine *m = &((struct control *)ctx)->machine;

	return m->query_pci ? m->query_pci(m->ctx, out, max) : 0;
}

static unsigned be_query_chardevs(void *ctx, struct qmp_chardev_info *out, unsigned max)
{
	const struct control_machine *m = &((struct control *)ctx)->machine;

	return m->query_chardevs ? m->query_chardevs(m->ctx, out, max) : 0;
}

static int control_listen(struct control *c, const char *spec)
{
	if (!strncmp(spec, "unix:", 5))
		return qmp_server_listen_unix(c->qmp, spec + 5);
	if (!strncmp(spec, "fd:", 3))
		return qmp_server_listen_fd(c->qmp, atoi(spec + 3));
	return -EINVAL;
}

void control_emit(void *ctx, const struct vm_event *ev)
{
	struct control *c = ctx;

	if (c->qmp)
		qmp_event_send(c->qmp, ev);
}

int control_create(struct control *c, struct loop *loop, struct lifecycle *lc, struct dump *dump,
		   const struct control_machine *m, const char *const *qmp, unsigned nqmp,
		   unsigned max_clients, const char *event_log, uint64_t event_log_max)
{
	static const struct qmp_version ver = {
		QMP_QEMU_MAJOR,
		QMP_QEMU_MINOR,
		QMP_QEMU_MICRO,
		"minivmm " MINIVMM_VERSION,
	};
	struct qmp_backend be = {
		.ctx = c,
		.query_status = be_query_status,
		.stop = be_stop,
		.cont = be_cont,
		.system_reset = be_system_reset,
		.system_powerdown = be_system_powerdown,
		.quit = be_quit,
		.set_action = be_set_action,
		.watchdog_set_action = be_watchdog_set_action,
		.dump_guest_memory = be_dump_guest_memory,
		.query_dump = be_query_dump,
		.set_panic_dump = be_set_panic_dump,
		.inject_nmi = be_inject_nmi,
		.query_cpus = be_query_cpus,
		.query_pci = be_query_pci,
		.query_chardevs = be_query_chardevs,
		.name = m->name,
		.uuid = m->uuid,
		.max_cpus = m->max_cpus,
	};
	int ret;

	c->lc = lc;
	c->dump = dump;
	c->machine = *m;
	if (!nqmp && !event_log)
		return 0;
	ret = qmp_server_create(loop, &be, &ver, &c->qmp);
	if (ret) {
		pr_err("cannot create the QMP server: %s", strerror(-ret));
		return ret;
	}
	if (max_clients)
		qmp_server_set_max_clients(c->qmp, max_clients);
	if (event_log) {
		ret = event_log_open(event_log, &c->event_log);
		if (ret) {
			pr_err("cannot open event log '%s': %s", event_log, hostfile_strerror(ret));
			return ret;
		}
		if (event_log_max)
			event_log_set_max(c->event_log, event_log_max);
		qmp_server_set_event_log(c->qmp, c->event_log);
	}
	for (unsigned i = 0; i < nqmp; i++) {
		ret = control_listen(c, qmp[i]);
		if (ret) {
			pr_err("--qmp %s: %s", qmp[i],
			       ret == -EADDRINUSE ? "socket in use (another process listens there)"
			       : ret == -EEXIST	  ? "a file that is not a socket is in the way"
						  : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void control_destroy(struct control *c)
{
	if (c->qmp)
		qmp_server_destroy(c->qmp);
	c->qmp = NULL;
	if (c->event_log)
		event_log_close(c->event_log);
	c->event_log = NULL;
}
