/* lifecycle.h - the one place that decides what a request does: run state, actions, events. */
#ifndef MINIVMM_LIFECYCLE_H
#define MINIVMM_LIFECYCLE_H

#include "core/action.h"
#include "core/event.h"
#include "core/request.h"
#include "core/runstate.h"
#include "core/timer.h"

/* What the policy asks of the machine: vm.c provides these, unit tests fake them. */
struct machine_ops {
	void (*pause)(void *ctx);	 /* park every vcpu (they leave KVM_RUN) */
	void (*resume)(void *ctx);	 /* let parked vcpus run */
	int (*reset)(void *ctx);	 /* power-cycle in place; vcpus come back parked; 0 or -1 */
	void (*nmi)(void *ctx);		 /* NMI to every vcpu; called with them parked */
	void (*power_button)(void *ctx); /* press the ACPI power button */
	void (*finish)(void *ctx, int status); /* end the VM: the process exits with @status */
	void *ctx;
	/* Write a core of the parked guest and describe it in @ev (DUMP_COMPLETED); 0, or -1
	 * when none was written and there is nothing to say. NULL: never. */
	int (*panic_dump)(void *ctx, struct vm_event *ev);
	/* Describe the parked guest's panic in @ev (GUEST_PANIC_REPORT): @action is the panic
	 * action in force, @vmcore the core just written or NULL. The report stays valid until
	 * the next call. 0, or -1 for nothing to send. NULL: never. */
	int (*panic_report)(void *ctx, enum panic_action action, const char *vmcore,
			    struct vm_event *ev);
};

struct lifecycle {
	enum runstate state;
	struct actions actions;	    /* in force; QMP set-action changes them */
	int start_paused;	    /* -S: stay in prelaunch until cont */
	int done;		    /* finish was called: later requests are ignored */
	int panic_dump;		    /* --panic-dump: a core on every panic, before its action */
	int dump_resume;	    /* a dump stopped the VM: it runs again when the dump ends */
	int64_t last_aftermath;	    /* vclock time of the last dump/report of a panic run past */
	int had_aftermath;	    /* ... and whether there was one */
	struct timer_clock *vclock; /* guest time: runs only while running */
	struct machine_ops ops;
	struct event_sink events;
};

/* In prelaunch with @actions. Copies @ops and @events. */
void lifecycle_init(struct lifecycle *lc, const struct actions *actions, int start_paused,
		    struct timer_clock *vclock, const struct machine_ops *ops,
		    const struct event_sink *events);

/*
 * Handle one request posted by a device, a vcpu, a signal or a QMP command, exactly as QEMU's
 * main loop would: emit the events in QEMU's order, change the run state, pause, reset, or
 * end the VM (ops.finish). Main thread only.
 */
void lifecycle_handle(struct lifecycle *lc, enum vm_request_kind kind, enum shutdown_cause cause);

/* What lifecycle_handle_on_vcpu left to do. */
enum lifecycle_on_vcpu {
	LC_VCPU_MAIN,	   /* nothing done: post the request to the main loop */
	LC_VCPU_DONE,	   /* decided and its events sent */
	LC_VCPU_AFTERMATH, /* GUEST_PANICKED sent; post VM_REQ_PANIC_AFTERMATH for the rest */
};

/*
 * The same decision, taken on the posting vcpu's thread for what needs no vcpu parked (QEMU's
 * vcpu takes its big lock and sends the event itself): a crash-loaded notice, and the
 * GUEST_PANICKED of a panic whose action is run; that panic's core and report (which park
 * every vcpu) are then left to the main loop. Everything that pauses, resets or ends the VM
 * goes to the main loop untouched. Call with the main loop's lock held (vm.c's lifecycle
 * lock), so that nothing else runs the lifecycle or sends on QMP meanwhile.
 */
enum lifecycle_on_vcpu lifecycle_handle_on_vcpu(struct lifecycle *lc, enum vm_request_kind kind,
						enum shutdown_cause cause);

/* Start the guest at boot: prelaunch -> running (RESUME), unless start_paused (-S). */
int lifecycle_boot(struct lifecycle *lc);

/* QMP stop / cont, which act at once (their STOP / RESUME precede the command's reply). */
void lifecycle_stop(struct lifecycle *lc);
int lifecycle_cont(struct lifecycle *lc, const char **why);

/*
 * dump-guest-memory: a running VM stops for the copy (STOP, state save-vm), as in QEMU. Then
 * lifecycle_dump_end with its DUMP_COMPLETED: the event, then RESUME if it was stopped here;
 * or lifecycle_dump_abort when the dump could not start (resumes without an event).
 */
void lifecycle_dump_begin(struct lifecycle *lc);
void lifecycle_dump_end(struct lifecycle *lc, const struct vm_event *ev);
void lifecycle_dump_abort(struct lifecycle *lc);
/* QMP inject-nmi: an NMI to every vcpu, the VM running or not (a running one is parked
 * around it, as the watchdog's inject-nmi action does). */
void lifecycle_nmi(struct lifecycle *lc);

#endif
