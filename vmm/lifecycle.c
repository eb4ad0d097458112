/*
 * lifecycle.c - requests in, decisions out. This file is the VM's policy: what a panic, a
 * shutdown, a reset, a power-button press or an internal error does, given the actions in
 * force, which run state follows, and which QMP events are sent in which order. The order
 * and the event data follow QEMU 10.0.2's system/runstate.c and, for a watchdog's expiry,
 * hw/watchdog/watchdog.c (written from 7.2's; 10.0.2 adds GUEST_PVSHUTDOWN and otherwise
 * sends the same events in the same order: tests/integration/test_qemu_compare.py).
 */
#include "lifecycle.h"
#include "core/log.h"
#include "exit.h"

#define PANIC_AFTERMATH_GAP_NS 1000000000LL /* one core and report a second past action run */

static void emit(struct lifecycle *lc, enum qmp_event kind)
{
	event_emit(&lc->events, &(struct vm_event){ .kind = kind });
}

static void emit_cause(struct lifecycle *lc, enum qmp_event kind, enum shutdown_cause cause)
{
	event_emit(&lc->events, &(struct vm_event){ .kind = kind, .cause = cause });
}

static void emit_panic(struct lifecycle *lc, enum qmp_event kind, enum guest_panic_action a)
{
	event_emit(&lc->events, &(struct vm_event){ .kind = kind, .panic = a });
}

static void vm_finish(struct lifecycle *lc, int status)
{
	lc->done = 1;
	lc->ops.finish(lc->ops.ctx, status);
}

void lifecycle_init(struct lifecycle *lc, const struct actions *actions, int start_paused,
		    struct timer_clock *vclock, const struct machine_ops *ops,
		    const struct event_sink *events)
{
	*lc = (struct lifecycle){
		.state = RUNSTATE_PRELAUNCH,
		.actions = *actions,
		.start_paused = start_paused,
		.vclock = vclock,
		.ops = *ops,
		.events = *events,
	};
}

/* QEMU's vm_stop(): only a running VM stops; it parks the vcpus and says STOP. */
static void vm_stop(struct lifecycle *lc, enum runstate to)
{
	if (lc->state != RUNSTATE_RUNNING)
		return;
	lc->ops.pause(lc->ops.ctx);
	timer_clock_stop(lc->vclock); /* guest timers (watchdogs) keep the time they had left */
	runstate_set(&lc->state, to);
	emit(lc, QMP_EVENT_STOP);
}

/* QEMU's vm_start(): RESUME, then running, then the vcpus go. */
static int vm_start(struct lifecycle *lc)
{
	if (lc->state == RUNSTATE_RUNNING)
		return 0;
	if (!runstate_transition_ok(lc->state, RUNSTATE_RUNNING))
		return -1;
	emit(lc, QMP_EVENT_RESUME);
	runstate_set(&lc->state, RUNSTATE_RUNNING);
	timer_clock_start(lc->vclock);
	lc->ops.resume(lc->ops.ctx);
	return 0;
}

int lifecycle_boot(struct lifecycle *lc)
{
	if (lc->start_paused)
		return 0; /* prelaunch until cont */
	return vm_start(lc);
}

void lifecycle_stop(struct lifecycle *lc)
{
	vm_stop(lc, RUNSTATE_PAUSED);
}

int lifecycle_cont(struct lifecycle *lc, const char **why)
{
	if (runstate_needs_reset(lc->state)) {
		*why = "Resetting the Virtual Machine is required";
		return -1;
	}
	if (vm_start(lc)) {
		*why = "Cannot resume the guest from its current state";
		return -1;
	}
	return 0;
}

static void do_shutdown(struct lifecycle *lc, enum shutdown_cause cause)
{
	int pause = lc->actions.shutdown == SHUTDOWN_PAUSE;

	/* A host signal, quit or the console escape always end the process (QEMU does so). */
	if (cause == CAUSE_HOST_SIGNAL || cause == CAUSE_HOST_QMP_QUIT || cause == CAUSE_HOST_UI)
		pause = 0;
	emit_cause(lc, QMP_EVENT_SHUTDOWN, cause);
	if (pause) {
		vm_stop(lc, RUNSTATE_SHUTDOWN);
		return;
	}
	if (lc->state == RUNSTATE_RUNNING)
		runstate_set(&lc->state, RUNSTATE_SHUTDOWN);
	switch (cause) {
	case CAUSE_GUEST_SHUTDOWN:
		pr_err("guest powered off (guest-shutdown)");
		break;
	case CAUSE_GUEST_RESET:
		pr_err("guest requested a reset (guest-reset); reboot action is shutdown, exiting");
		break;
	case CAUSE_GUEST_PANIC:
		pr_err("guest panicked (guest-panic); panic action is %s, exiting",
		       panic_action_names[lc->actions.panic]);
		break;
	case CAUSE_HOST_SIGNAL:
		break; /* the signal handler already said which signal */
	default:
		pr_err("shutting down (%s)", shutdown_cause_name(cause));
		break;
	}
	vm_finish(lc, cause == CAUSE_GUEST_PANIC && lc->actions.panic == PANIC_EXIT_FAILURE
			  ? EXIT_VM_GUEST_PANIC
			  : EXIT_VM_OK);
}

static void do_reset(struct lifecycle *lc, enum shutdown_cause cause)
{
	if (lc->actions.reboot == REBOOT_SHUTDOWN && cause != CAUSE_SUBSYSTEM_RESET) {
		do_shutdown(lc, cause);
		return;
	}
	if (lc->ops.reset(lc->ops.ctx)) {
		pr_err("reset failed; stopping");
		vm_finish(lc, EXIT_VM_INTERNAL);
		return;
	}
	emit_cause(lc, QMP_EVENT_RESET, cause);
	/* A VM that was not running comes back in prelaunch and waits for cont (QEMU does so). */
	if (lc->state != RUNSTATE_RUNNING)
		runstate_set(&lc->state, RUNSTATE_PRELAUNCH);
	else
		lc->ops.resume(lc->ops.ctx);
}

void lifecycle_dump_begin(struct lifecycle *lc)
{
	lc->dump_resume = lc->state == RUNSTATE_RUNNING;
	vm_stop(lc, RUNSTATE_SAVE_VM);
}

void lifecycle_dump_abort(struct lifecycle *lc)
{
	if (lc->dump_resume && lc->state == RUNSTATE_SAVE_VM)
		vm_start(lc);
	lc->dump_resume = 0;
}

/* QEMU's dump_process then dump_cleanup: DUMP_COMPLETED, then RESUME. A VM that left save-vm
 * meanwhile (cont, reset, shutdown) stays as it is now. */
void lifecycle_dump_end(struct lifecycle *lc, const struct vm_event *ev)
{
	if (!lc->done)
		event_emit(&lc->events, ev);
	lifecycle_dump_abort(lc);
}

/*
 * What follows GUEST_PANICKED and precedes the action: --panic-dump's core (DUMP_COMPLETED),
 * then the panic report (__org.minivmm_GUEST_PANIC_REPORT, naming that core). Both are taken
 * with every vcpu parked, so the memory they read is one instant, and without STOP: the guest
 * is not seen to pause. It runs on afterwards only if the action lets it (@resume).
 */
/*
 * Whether a panic the guest runs past (action run) gets its core and report: the first at
 * once, then at most one a second of guest time, so that a guest writing pvpanic in a loop
 * cannot make the host park it and write cores without end (its GUEST_PANICKED events are
 * bounded in qmp.c). A panic that stops or ends the VM always has them.
 */
static int aftermath_due(struct lifecycle *lc, int resume)
{
	int64_t now = timer_clock_now(lc->vclock);

	if (!(lc->panic_dump && lc->ops.panic_dump) && !lc->ops.panic_report)
		return 0;
	if (resume && lc->had_aftermath && now - lc->last_aftermath < PANIC_AFTERMATH_GAP_NS)
		return 0;
	return 1;
}

static void panic_aftermath(struct lifecycle *lc, int resume)
{
	struct vm_event ev;
	const char *vmcore = NULL;
	int running = lc->state == RUNSTATE_RUNNING;
	int dump = lc->panic_dump && lc->ops.panic_dump;

	if (!aftermath_due(lc, resume))
		return;
	lc->had_aftermath = 1;
	lc->last_aftermath = timer_clock_now(lc->vclock);
	if (running)
		lc->ops.pause(lc->ops.ctx);
	if (dump && !lc->ops.panic_dump(lc->ops.ctx, &ev)) {
		event_emit(&lc->events, &ev);
		if (!ev.error)
			vmcore = ev.file;
	}
	if (lc->ops.panic_report &&
	    !lc->ops.panic_report(lc->ops.ctx, lc->actions.panic, vmcore, &ev))
		event_emit(&lc->events, &ev);
	if (running && resume)
		lc->ops.resume(lc->ops.ctx);
}

static void do_panic(struct lifecycle *lc)
{
	enum panic_action pa = lc->actions.panic;

	if (pa == PANIC_PAUSE || (pa == PANIC_SHUTDOWN && lc->actions.shutdown == SHUTDOWN_PAUSE)) {
		emit_panic(lc, QMP_EVENT_GUEST_PANICKED, GUEST_PANIC_PAUSE);
		panic_aftermath(lc, 0); /* vm_stop's pause finds them parked */
		vm_stop(lc, RUNSTATE_GUEST_PANICKED);
	} else if (pa == PANIC_SHUTDOWN || pa == PANIC_EXIT_FAILURE) {
		emit_panic(lc, QMP_EVENT_GUEST_PANICKED, GUEST_PANIC_POWEROFF);
		panic_aftermath(lc, 0);
		do_shutdown(lc, CAUSE_GUEST_PANIC);
	} else {
		emit_panic(lc, QMP_EVENT_GUEST_PANICKED, GUEST_PANIC_RUN);
		panic_aftermath(lc, 1);
	}
}

/* NMI to every vcpu (QEMU's nmi_monitor_handle on x86). KVM_NMI is a vcpu ioctl, which waits
 * for that vcpu to leave KVM_RUN; so a running VM is parked around it, never the main loop
 * blocked on a halted vcpu. */
static void inject_nmi(struct lifecycle *lc)
{
	int running = lc->state == RUNSTATE_RUNNING;

	if (running)
		lc->ops.pause(lc->ops.ctx);
	lc->ops.nmi(lc->ops.ctx);
	if (running)
		lc->ops.resume(lc->ops.ctx);
}

void lifecycle_nmi(struct lifecycle *lc)
{
	inject_nmi(lc);
}

/* QEMU's watchdog_perform_action (7.2, 10.0.2): the WATCHDOG event, then the action, always. */
static void do_watchdog(struct lifecycle *lc)
{
	enum watchdog_action a = lc->actions.watchdog;

	event_emit(&lc->events, &(struct vm_event){ .kind = QMP_EVENT_WATCHDOG, .watchdog = a });
	switch (a) {
	case WATCHDOG_RESET: /* as a guest reset: the reboot action applies */
		do_reset(lc, CAUSE_GUEST_RESET);
		break;
	case WATCHDOG_SHUTDOWN: /* as system_powerdown */
		emit(lc, QMP_EVENT_POWERDOWN);
		lc->ops.power_button(lc->ops.ctx);
		break;
	case WATCHDOG_POWEROFF:
		/* QEMU calls exit(0) here (7.2, and 10.0.2 still): no SHUTDOWN event, the shutdown
		 * action not asked. */
		pr_err("watchdog expired; watchdog action is poweroff, exiting");
		vm_finish(lc, EXIT_VM_OK);
		break;
	case WATCHDOG_PAUSE:
		vm_stop(lc, RUNSTATE_WATCHDOG);
		break;
	case WATCHDOG_DEBUG:
		pr_warn("watchdog expired (watchdog action is debug)");
		break;
	case WATCHDOG_NONE:
		break;
	case WATCHDOG_INJECT_NMI:
		inject_nmi(lc);
		break;
	case WATCHDOG__MAX:
		break;
	}
}

enum lifecycle_on_vcpu lifecycle_handle_on_vcpu(struct lifecycle *lc, enum vm_request_kind kind,
						enum shutdown_cause cause)
{
	if (kind == VM_REQ_CRASHLOADED) {
		lifecycle_handle(lc, kind, cause);
		return LC_VCPU_DONE;
	}
	if (kind != VM_REQ_PANIC || lc->actions.panic != PANIC_NONE)
		return LC_VCPU_MAIN;
	if (lc->done)
		return LC_VCPU_DONE;
	emit_panic(lc, QMP_EVENT_GUEST_PANICKED, GUEST_PANIC_RUN);
	return aftermath_due(lc, 1) ? LC_VCPU_AFTERMATH : LC_VCPU_DONE;
}

void lifecycle_handle(struct lifecycle *lc, enum vm_request_kind kind, enum shutdown_cause cause)
{
	if (lc->done)
		return;
	switch (kind) {
	case VM_REQ_SHUTDOWN:
		do_shutdown(lc, cause);
		break;
	case VM_REQ_RESET:
		do_reset(lc, cause);
		break;
	case VM_REQ_POWERDOWN:
		emit(lc, QMP_EVENT_POWERDOWN);
		lc->ops.power_button(lc->ops.ctx);
		break;
	case VM_REQ_PANIC:
		do_panic(lc);
		break;
	case VM_REQ_PANIC_AFTERMATH:
		panic_aftermath(lc, 1);
		break;
	case VM_REQ_CRASHLOADED:
		emit_panic(lc, QMP_EVENT_GUEST_CRASHLOADED, GUEST_PANIC_RUN);
		break;
	case VM_REQ_PVSHUTDOWN:
		emit(lc, QMP_EVENT_GUEST_PVSHUTDOWN);
		do_shutdown(lc, CAUSE_GUEST_SHUTDOWN);
		break;
	case VM_REQ_INTERNAL_ERROR:
		vm_stop(lc, RUNSTATE_INTERNAL_ERROR);
		pr_err("stopping: a vcpu cannot continue (internal error)");
		vm_finish(lc, EXIT_VM_INTERNAL);
		break;
	case VM_REQ_WATCHDOG:
		do_watchdog(lc);
		break;
	case VM_REQ__MAX:
		pr_debug("request %d not handled", kind);
		break;
	}
}
