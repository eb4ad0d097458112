/* request.h - what devices and exits may ask of the main loop, and why (QAPI ShutdownCause). */
#ifndef MINIVMM_REQUEST_H
#define MINIVMM_REQUEST_H

/* QAPI ShutdownCause, same order as QEMU's run-state.json (guest causes after host ones). */
enum shutdown_cause {
	CAUSE_NONE,
	CAUSE_HOST_ERROR,
	CAUSE_HOST_QMP_QUIT,
	CAUSE_HOST_QMP_SYSTEM_RESET,
	CAUSE_HOST_SIGNAL,
	CAUSE_HOST_UI,
	CAUSE_GUEST_SHUTDOWN,
	CAUSE_GUEST_RESET,
	CAUSE_GUEST_PANIC,
	CAUSE_SUBSYSTEM_RESET,
	CAUSE__MAX
};

/* The QAPI spelling of @cause ("guest-shutdown", ...). */
const char *shutdown_cause_name(enum shutdown_cause cause);

/* True for causes that originate in the guest (QAPI "guest": true). */
static inline int shutdown_cause_is_guest(enum shutdown_cause cause)
{
	return cause >= CAUSE_GUEST_SHUTDOWN && cause <= CAUSE_GUEST_PANIC;
}

/* True for causes that originate in the host or its user (QMP, a signal, the console, an error). */
static inline int shutdown_cause_is_host(enum shutdown_cause cause)
{
	return cause >= CAUSE_HOST_ERROR && cause <= CAUSE_HOST_UI;
}

/* What is asked. The main loop alone decides what happens (policy lives in vmm/lifecycle.c). */
enum vm_request_kind {
	VM_REQ_SHUTDOWN,	/* power off now (ACPI S5, pvpanic bit 2, host signal, quit) */
	VM_REQ_RESET,		/* hard reset (i8042, 0xCF9, ACPI reset register, triple fault) */
	VM_REQ_POWERDOWN,	/* press the ACPI power button; the guest decides */
	VM_REQ_PANIC,		/* guest panicked (pvpanic bit 0) */
	VM_REQ_CRASHLOADED,	/* guest panicked, its crash kernel takes over (pvpanic bit 1) */
	VM_REQ_PVSHUTDOWN,	/* guest shutting down through pvpanic (bit 2) */
	VM_REQ_WATCHDOG,	/* a watchdog expired */
	VM_REQ_INTERNAL_ERROR,	/* a vcpu cannot continue */
	VM_REQ_PANIC_AFTERMATH, /* the dump and report of a panic whose event a vcpu already sent */
	VM_REQ__MAX
};

/*
 * Where a device posts requests. In the VMM this queues the request and wakes the main loop;
 * in unit tests it is a fake that records what was asked. Safe to call from any thread.
 */
struct request_sink {
	void (*post)(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause);
	void *ctx;
};

static inline void request_post(const struct request_sink *sink, enum vm_request_kind kind,
				enum shutdown_cause cause)
{
	if (sink && sink->post)
		sink->post(sink->ctx, kind, cause);
}

/*
 * An interrupt line a device drives: @level 1 asserted, 0 deasserted. In the VMM this is
 * KVM_IRQ_LINE on the in-kernel irqchip; in unit tests a fake.
 */
struct irq_line {
	void (*set)(void *ctx, unsigned gsi, int level);
	void *ctx;
	unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *irq, int level)
{
	if (irq && irq->set)
		irq->set(irq->ctx, irq->gsi, level);
}

#endif
