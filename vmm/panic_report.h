/* panic_report.h - why the guest panicked: which vcpu, its registers, its kernel log. */
#ifndef MINIVMM_PANIC_REPORT_H
#define MINIVMM_PANIC_REPORT_H

#include "core/action.h"
#include "core/event.h"

struct vm;

/* At least this much of the kernel's log goes into a report (whole records, so a little more). */
#define PANIC_REPORT_LOG_MIN (16 * 1024)
/* ... and at most this: QMP clients read a message as one line, and Go's (govmm, go-qemu)
 * give up on a line past 64 KiB. Only a guest's outsized last record makes the log start
 * after a newline inside a record rather than at one. */
#define PANIC_REPORT_LOG_MAX (32 * 1024)

/* The last report and what it points into. */
struct panic_report_state {
	struct panic_report r;
	char *log; /* the end of the formatted log */
	char why[256];
	char vmcore[4096];
};

/*
 * Build the report of @vm's panic with its vcpus parked: the vcpu that wrote to pvpanic
 * (vm->panic_cpu) and its registers, the guest's kernel log read from its RAM through its
 * VMCOREINFO and page tables, the panic message in it, @action and @vmcore (may be NULL).
 * @ev is GUEST_PANIC_REPORT pointing at vm->report until the next call. Main thread. 0.
 */
int panic_report_build(struct vm *vm, enum panic_action action, const char *vmcore,
		       struct vm_event *ev);

/* Free what the last report holds. */
void panic_report_fini(struct panic_report_state *s);

#endif
