/* qmp_events.c - typed events (core/event.h) turned into QMP event data, in one place. */
#include "qmp_events.h"
#include "qmp.h"
#include "qmp_types.h"

#include <stdio.h>
#include <string.h>

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

/* Registers as "0x" and 16 hex digits: a kernel address reads as in an oops, and no u64 is
 * bent into a negative JSON integer. */
static json_t *cpu_regs_json(const struct cpu_regs *r)
{
	static const struct {
		const char *name;
		size_t off;
	} regs[] = {
#define R(x) { #x, offsetof(struct cpu_regs, x) }
		R(rax),	    R(rbx),	R(rcx), R(rdx), R(rsi), R(rdi), R(rbp),	 R(rsp),
		R(r8),	    R(r9),	R(r10), R(r11), R(r12), R(r13), R(r14),	 R(r15),
		R(rip),	    R(rflags),	R(cs),	R(ss),	R(ds),	R(es),	R(fs),	 R(gs),
		R(fs_base), R(gs_base), R(cr0), R(cr2), R(cr3), R(cr4), R(efer),
#undef R
	};
	json_t *o = json_object();

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		char hex[24];
		uint64_t v;

		memcpy(&v, (const char *)r + regs[i].off, sizeof(v));
		snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)v);
		json_object_set_new(o, regs[i].name, json_string(hex));
	}
	return o;
}

json_t *qmp_panic_report(const struct panic_report *r)
{
	json_t *d = json_object();

	json_object_set_new(d, "cpu", r->cpu >= 0 ? json_integer(r->cpu) : json_null());
	json_object_set_new(d, "message",
			    r->message ? json_stringn(r->message, r->message_len) : json_null());
	json_object_set_new(d, "action", json_string(panic_action_names[r->action]));
	if (r->vmcore)
		json_object_set_new(d, "vmcore", json_string(r->vmcore));
	json_object_set_new(d, "registers", r->have_regs ? cpu_regs_json(&r->regs) : json_null());
	json_object_set_new(d, "log", r->log ? json_stringn(r->log, r->log_len) : json_null());
	if (r->log)
		json_object_set_new(d, "log_total", json_integer((json_int_t)r->log_total));
	else
		json_object_set_new(d, "log_error",
				    json_string(r->log_error ? r->log_error : "unknown"));
	return d;
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
	case QMP_EVENT_GUEST_PANIC_REPORT:
		return ev->report ? qmp_panic_report(ev->report) : NULL;
	default:
		return NULL;
	}
}

void qmp_event_send(struct qmp_server *s, const struct vm_event *ev)
{
	qmp_event_emit(s, ev->kind, qmp_event_data(ev));
}
