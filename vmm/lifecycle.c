/*
 * lifecycle.c - requests in, decisions out. This file is the VM's policy: what a panic, a
 * shutdown, a reset, a power-button press or an internal error does, given the actions in
 * force, which run state follows, and which QMP events are sent in which order. The order
 * and the event data follow QEMU 10.0.2's system/runstate.c and, for a watchdog's expiry,
 * hw/watchdog/watchdog.c (written from 7.2's; 10.0.2 adds GUEST_PVSHUTDOWN and otherwise
 * sends the same events in the same order: tests/integration/test_qemu_compare.py).
 */
#include "lifecycle.h"
#include "api/qmp.h"
#include "devices/acpi_pm.h"
#include "log.h"

#include <jansson.h>
#include <signal.h>
#include <string.h>

static void emit(struct vm *vm, enum qmp_event ev, json_t *data)
{
	if (vm->qmp)
		qmp_event_emit(vm->qmp, ev, data);
	else
		json_decref(data);
}

static json_t *cause_data(enum shutdown_cause cause)
{
	return json_pack("{s:b, s:s}", "guest", shutdown_cause_is_guest(cause), "reason",
			 shutdown_cause_name(cause));
}

static void vm_finish(struct vm *vm, int status)
{
	vm->done = 1;
	vm->exit_status = status;
}

/* QEMU's vm_stop(): only a running VM stops; it parks the vcpus and says STOP. */
static void vm_stop(struct vm *vm, enum runstate to)
{
	if (vm->state != RUNSTATE_RUNNING)
		return;
	vcpus_pause(vm);
	timer_clock_stop(&vm->vclock); /* guest timers (watchdogs) keep the time they had left */
	runstate_set(&vm->state, to);
	emit(vm, QMP_EVENT_STOP, NULL);
}

/* QEMU's vm_start(): RESUME, then running, then the vcpus go. */
static int vm_start(struct vm *vm)
{
	if (vm->state == RUNSTATE_RUNNING)
		return 0;
	if (!runstate_transition_ok(vm->state, RUNSTATE_RUNNING))
		return -1;
	emit(vm, QMP_EVENT_RESUME, NULL);
	runstate_set(&vm->state, RUNSTATE_RUNNING);
	timer_clock_start(&vm->vclock);
	vcpus_resume(vm);
	return 0;
}

int lifecycle_boot(struct vm *vm)
{
	if (vm->cfg.start_paused)
		return 0; /* prelaunch until cont */
	return vm_start(vm);
}

void lifecycle_stop(struct vm *vm)
{
	vm_stop(vm, RUNSTATE_PAUSED);
}

int lifecycle_cont(struct vm *vm, const char **why)
{
	if (runstate_needs_reset(vm->state)) {
		*why = "Resetting the Virtual Machine is required";
		return -1;
	}
	if (vm_start(vm)) {
		*why = "Cannot resume the guest from its current state";
		return -1;
	}
	return 0;
}

static void do_shutdown(struct vm *vm, enum shutdown_cause cause)
{
	int pause = vm->actions.shutdown == SHUTDOWN_PAUSE;

	/* A host signal, quit or the console escape always end the process (QEMU does so). */
	if (cause == CAUSE_HOST_SIGNAL || cause == CAUSE_HOST_QMP_QUIT || cause == CAUSE_HOST_UI)
		pause = 0;
	emit(vm, QMP_EVENT_SHUTDOWN, cause_data(cause));
	if (pause) {
		vm_stop(vm, RUNSTATE_SHUTDOWN);
		return;
	}
	if (vm->state == RUNSTATE_RUNNING)
		runstate_set(&vm->state, RUNSTATE_SHUTDOWN);
	switch (cause) {
	case CAUSE_GUEST_SHUTDOWN:
		pr_err("guest powered off (guest-shutdown)");
		break;
	case CAUSE_GUEST_RESET:
		pr_err("guest requested a reset (guest-reset); reboot action is shutdown, exiting");
		break;
	case CAUSE_GUEST_PANIC:
		pr_err("guest panicked (guest-panic); panic action is %s, exiting",
		       panic_action_names[vm->actions.panic]);
		break;
	case CAUSE_HOST_SIGNAL:
		break; /* the signal handler already said which signal */
	default:
		pr_err("shutting down (%s)", shutdown_cause_name(cause));
		break;
	}
	vm_finish(vm, cause == CAUSE_GUEST_PANIC && vm->actions.panic == PANIC_EXIT_FAILURE
			      ? EXIT_VM_GUEST_PANIC
			      : EXIT_VM_OK);
}

static void do_reset(struct vm *vm, enum shutdown_cause cause)
{
	if (vm->actions.reboot == REBOOT_SHUTDOWN && cause != CAUSE_SUBSYSTEM_RESET) {
		do_shutdown(vm, cause);
		return;
	}
	if (vm_reset(vm)) {
		pr_err("reset failed; stopping");
		vm_finish(vm, EXIT_VM_INTERNAL);
		return;
	}
	emit(vm, QMP_EVENT_RESET, cause_data(cause));
	/* A VM that was not running comes back in prelaunch and waits for cont (QEMU does so). */
	if (vm->state != RUNSTATE_RUNNING)
		runstate_set(&vm->state, RUNSTATE_PRELAUNCH);
	else
		vcpus_resume(vm);
}

static void do_panic(struct vm *vm)
{
	enum panic_action pa = vm->actions.panic;

	if (pa == PANIC_PAUSE || (pa == PANIC_SHUTDOWN && vm->actions.shutdown == SHUTDOWN_PAUSE)) {
		emit(vm, QMP_EVENT_GUEST_PANICKED, json_pack("{s:s}", "action", "pause"));
		vm_stop(vm, RUNSTATE_GUEST_PANICKED);
	} else if (pa == PANIC_SHUTDOWN || pa == PANIC_EXIT_FAILURE) {
		emit(vm, QMP_EVENT_GUEST_PANICKED, json_pack("{s:s}", "action", "poweroff"));
		do_shutdown(vm, CAUSE_GUEST_PANIC);
	} else {
		emit(vm, QMP_EVENT_GUEST_PANICKED, json_pack("{s:s}", "action", "run"));
	}
}

/* NMI to every vcpu (QEMU's nmi_monitor_handle on x86). KVM_NMI is a vcpu ioctl, which waits
 * for that vcpu to leave KVM_RUN; so a running VM is parked around it, never the main loop
 * blocked on a halted vcpu. */
static void inject_nmi(struct vm *vm)
{
	int running = vm->state == RUNSTATE_RUNNING;

	if (running)
		vcpus_pause(vm);
	vcpus_nmi(vm);
	if (running)
		vcpus_resume(vm);
}

/* QEMU's watchdog_perform_action (7.2, 10.0.2): the WATCHDOG event, then the action, always. */
static void do_watchdog(struct vm *vm)
{
	enum watchdog_action a = vm->actions.watchdog;

	emit(vm, QMP_EVENT_WATCHDOG, json_pack("{s:s}", "action", watchdog_action_names[a]));
	switch (a) {
	case WATCHDOG_RESET: /* as a guest reset: the reboot action applies */
		do_reset(vm, CAUSE_GUEST_RESET);
		break;
	case WATCHDOG_SHUTDOWN: /* as system_powerdown */
		emit(vm, QMP_EVENT_POWERDOWN, NULL);
		acpi_pm_press_power_button(vm->pm);
		break;
	case WATCHDOG_POWEROFF:
		/* QEMU calls exit(0) here (7.2, and 10.0.2 still): no SHUTDOWN event, the shutdown
		 * action not asked. */
		pr_err("watchdog expired; watchdog action is poweroff, exiting");
		vm_finish(vm, EXIT_VM_OK);
		break;
	case WATCHDOG_PAUSE:
		vm_stop(vm, RUNSTATE_WATCHDOG);
		break;
	case WATCHDOG_DEBUG:
		pr_warn("watchdog expired (watchdog action is debug)");
		break;
	case WATCHDOG_NONE:
		break;
	case WATCHDOG_INJECT_NMI:
		inject_nmi(vm);
		break;
	case WATCHDOG__MAX:
		break;
	}
}

void lifecycle_handle(struct vm *vm, enum vm_request_kind kind, enum shutdown_cause cause)
{
	if (vm->done)
		return;
	switch (kind) {
	case VM_REQ_SHUTDOWN:
		do_shutdown(vm, cause);
		break;
	case VM_REQ_RESET:
		do_reset(vm, cause);
		break;
	case VM_REQ_POWERDOWN:
		emit(vm, QMP_EVENT_POWERDOWN, NULL);
		acpi_pm_press_power_button(vm->pm);
		break;
	case VM_REQ_PANIC:
		do_panic(vm);
		break;
	case VM_REQ_CRASHLOADED:
		emit(vm, QMP_EVENT_GUEST_CRASHLOADED, json_pack("{s:s}", "action", "run"));
		break;
	case VM_REQ_PVSHUTDOWN:
		emit(vm, QMP_EVENT_GUEST_PVSHUTDOWN, NULL);
		do_shutdown(vm, CAUSE_GUEST_SHUTDOWN);
		break;
	case VM_REQ_INTERNAL_ERROR:
		vm_stop(vm, RUNSTATE_INTERNAL_ERROR);
		pr_err("stopping: a vcpu cannot continue (internal error)");
		vm_finish(vm, EXIT_VM_INTERNAL);
		break;
	case VM_REQ_WATCHDOG:
		do_watchdog(vm);
		break;
	case VM_REQ__MAX:
		pr_debug("request %d not handled", kind);
		break;
	}
}
