/* event.h - what the VM tells its clients: one typed event per QMP event, declared once here. */
#ifndef MINIVMM_EVENT_H
#define MINIVMM_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "action.h"
#include "cpu_regs.h"
#include "request.h"

/* The events, with QEMU's names and data (api/qmp_schema.c documents them, api/qmp_events.c
 * puts them on the wire). */
enum qmp_event {
	QMP_EVENT_SHUTDOWN, /* cause */
	QMP_EVENT_POWERDOWN,
	QMP_EVENT_RESET, /* cause */
	QMP_EVENT_STOP,
	QMP_EVENT_RESUME,
	QMP_EVENT_WATCHDOG,	     /* watchdog */
	QMP_EVENT_GUEST_PANICKED,    /* panic */
	QMP_EVENT_GUEST_CRASHLOADED, /* panic (always run) */
	QMP_EVENT_GUEST_PVSHUTDOWN,
	QMP_EVENT_DUMP_COMPLETED, /* dump, error, file */
	/* Not QEMU's: minivmm's panic report (a downstream extension, "__org.minivmm_"). */
	QMP_EVENT_GUEST_PANIC_REPORT, /* report */
	QMP_EVENT__MAX
};

/* QAPI GuestPanicAction: what followed a guest's panic. */
enum guest_panic_action { GUEST_PANIC_PAUSE, GUEST_PANIC_POWEROFF, GUEST_PANIC_RUN };

/* QAPI DumpStatus and DumpQueryResult: a guest memory dump's state (query-dump). */
enum dump_status {
	DUMP_STATUS_NONE,
	DUMP_STATUS_ACTIVE,
	DUMP_STATUS_COMPLETED,
	DUMP_STATUS_FAILED
};

struct dump_result {
	enum dump_status status;
	uint64_t completed, total; /* bytes */
};

/* Why a guest died, for a runner: __org.minivmm_GUEST_PANIC_REPORT (README, "Panic report"). */
struct panic_report {
	int cpu;	      /* the vcpu whose write hit pvpanic; -1 unknown */
	int have_regs;	      /* @regs are that vcpu's */
	struct cpu_regs regs; /* as it stood after its pvpanic write */
	const char *message;  /* "Kernel panic - not syncing: ..." (its line), or NULL */
	size_t message_len;
	const char *log; /* the end of the kernel log (from a record's start), or NULL */
	size_t log_len;
	size_t log_total;	  /* the whole log's length, of which @log is the end */
	const char *log_error;	  /* why there is no log */
	enum panic_action action; /* the panic action in force */
	const char *vmcore;	  /* the core --panic-dump wrote, or NULL */
};

struct vm_event {
	enum qmp_event kind;
	enum shutdown_cause cause;	   /* SHUTDOWN, RESET: "guest" and "reason" */
	enum guest_panic_action panic;	   /* GUEST_PANICKED, GUEST_CRASHLOADED: "action" */
	enum watchdog_action watchdog;	   /* WATCHDOG: "action" */
	struct dump_result dump;	   /* DUMP_COMPLETED: "result" */
	const char *error;		   /* DUMP_COMPLETED: "error", NULL when it succeeded */
	const char *file;		   /* DUMP_COMPLETED of --panic-dump: the core, else NULL */
	const struct panic_report *report; /* GUEST_PANIC_REPORT */
};

/* Where events go: the QMP server and the journal in the VMM, a recorder in tests. */
struct event_sink {
	void (*emit)(void *ctx, const struct vm_event *ev);
	void *ctx;
};

static inline void event_emit(const struct event_sink *sink, const struct vm_event *ev)
{
	if (sink && sink->emit)
		sink->emit(sink->ctx, ev);
}

#endif
