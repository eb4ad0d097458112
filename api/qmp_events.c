/* qmp_events.c - typed events (core/event.h) turned into QMP event data, in one place. */
#include "qmp_events.h"
#include "qmp.h"
#include "qmp_types.h"

static const char *const guest_panic_action_names[] = {
	[GUEST_PANIC_PAUSE] = "pause",
	[GUEST_PANIC_POWEROFF] = "poweroff",
	[GUEST_PANIC_RUN] = "run",
};

json_t *qmp_dump_result(const struct dump_result *r)
{
	return json_pack("{s:s, s:I, s:I}", "status", qmp_dump_status_names[r->status], "completed",
			 (json_int_t)r->completed, "total", (json_int_t)r->total);
}

json_t *qmp_event_data(const struct vm_event *ev)
{
	switch (ev->kind) {
	case QMP_EVENT_SHUTDOWN:
	case QMP_EVENT_RESET:
		return json_pack("{s:b, s:s}", "guest", shutdown_cause_is_guest(ev->cause),
				 "reason", shutdown_cause_name(ev->cause));
	case QMP_EVENT_WATCHDOG:
		return json_pack("{s:s}", "action", watchdog_action_names[ev->watchdog]);
	case QMP_EVENT_GUEST_PANICKED:
	case QMP_EVENT_GUEST_CRASHLOADED:
		return json_pack("{s:s}", "action", guest_panic_action_names[ev->panic]);
	case QMP_EVENT_DUMP_COMPLETED: {
		json_t *d = json_pack("{s:o}", "result", qmp_dump_result(&ev->dump));

		if (ev->error)
			json_object_set_new(d, "error", json_string(ev->error));
		/* Not QEMU's: the core --panic-dump wrote (QAPI's downstream-extension name). */
		if (ev->file)
			json_object_set_new(d, "__org.minivmm_file", json_string(ev->file));
		return d;
	}
	default:
		return NULL;
	}
}

void qmp_event_send(struct qmp_server *s, const struct vm_event *ev)
{
	qmp_event_emit(s, ev->kind, qmp_event_data(ev));
}
