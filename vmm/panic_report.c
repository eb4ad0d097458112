/* panic_report.c - the panic report: the vcpu that reported it, its registers, the kernel log. */
#include "panic_report.h"
#include "vm.h"
#include "core/log.h"
#include "core/printk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CR4_LA57 (1ull << 12)

/* The kernel log into @s->log, or the reason there is none in @s->why. */
static int read_log(struct vm *vm, struct panic_report_state *s, size_t *len, size_t *total)
{
	struct printk_mmu mmu;
	const char *info;
	size_t ilen;
	int ret;

	ret = dump_find_vmcoreinfo(vm, &info, &ilen, s->why, sizeof(s->why));
	if (ret)
		return ret;
	/* Linux's own page tables (init_top_pgt); the panicking vcpu's CR3 if VMCOREINFO has
	 * none: the kernel half of every process's tables is the same. */
	ret = printk_mmu_init(&mmu, &vm->mem, info, ilen, s->r.have_regs ? s->r.regs.cr3 : 0,
			      s->r.have_regs && (s->r.regs.cr4 & CR4_LA57));
	if (ret) {
		snprintf(s->why, sizeof(s->why),
			 "no page tables: VMCOREINFO has no "
			 "SYMBOL(init_top_pgt) and no vcpu's CR3 is known");
		return ret;
	}
	return printk_read_log(&mmu, info, ilen, PANIC_REPORT_LOG_MIN, &s->log, len, total, s->why,
			       sizeof(s->why));
}

int panic_report_build(struct vm *vm, enum panic_action action, const char *vmcore,
		       struct vm_event *ev)
{
	struct panic_report_state *s = &vm->report;
	int cpu = __atomic_exchange_n(&vm->panic_cpu, -1, __ATOMIC_ACQ_REL);
	size_t len = 0, total = 0;

	panic_report_fini(s);
	s->r = (struct panic_report){ .cpu = cpu, .action = action };
	if (cpu >= 0 && (unsigned)cpu < vm->vcpus.n && vm->vcpus.v) {
		int ret = vcpu_read_regs(&vm->vcpus.v[cpu], &s->r.regs);

		if (ret)
			pr_warn("panic report: cannot read vcpu %d's registers: %s", cpu,
				strerror(-ret));
		s->r.have_regs = !ret;
	}
	if (vmcore) {
		snprintf(s->vmcore, sizeof(s->vmcore), "%s", vmcore);
		s->r.vmcore = s->vmcore;
	}
	if (read_log(vm, s, &len, &total)) {
		free(s->log);
		s->log = NULL;
		s->r.log_error = s->why;
		pr_warn("panic report: no kernel log: %s", s->why);
	} else {
		const char *at = s->log;

		if (len > PANIC_REPORT_LOG_MAX) {
			const char *nl =
			    memchr(s->log + len - PANIC_REPORT_LOG_MAX, '\n', PANIC_REPORT_LOG_MAX);

			at = nl ? nl + 1 : s->log + len - PANIC_REPORT_LOG_MAX;
		}
		s->r.log = at;
		s->r.log_len = len - (size_t)(at - s->log);
		s->r.log_total = total;
		s->r.message = printk_panic_message(s->r.log, s->r.log_len, &s->r.message_len);
	}
	if (s->r.message)
		pr_err("guest panicked on vcpu %d: %.*s", cpu, (int)s->r.message_len, s->r.message);
	*ev = (struct vm_event){ .kind = QMP_EVENT_GUEST_PANIC_REPORT, .report = &s->r };
	return 0;
}

void panic_report_fini(struct panic_report_state *s)
{
	free(s->log);
	s->log = NULL;
	s->r = (struct panic_report){ .cpu = -1 };
}
