/* vm_query.c - what QMP's query commands read of a running VM: vCPU threads, PCI, serial. */
#include "vm.h"
#include "devices/pci.h"

#include <stdio.h>

static unsigned query_cpus(void *ctx, struct qmp_cpu_info *out, unsigned max)
{
	struct vm *vm = ctx;
	int tids[QMP_MAX_CPUS];
	unsigned n = vcpus_thread_ids(&vm->vcpus, tids, QMP_MAX_CPUS);

	for (unsigned i = 0; i < n && i < max && i < QMP_MAX_CPUS; i++)
		out[i] = (struct qmp_cpu_info){ i, tids[i] };
	return n;
}

/* One function's header as query-pci reports it. */
static void pci_function(unsigned slot, const struct pci_function_state *st,
			 struct qmp_pci_function *f)
{
	const struct pci_device_info *in = &st->info;

	*f = (struct qmp_pci_function){
		.slot = slot,
		.vendor = in->vendor,
		.device = in->device,
		.subsys_vendor = in->subsys_vendor,
		.subsys = in->subsys,
		.class_code = (uint16_t)(in->class_code >> 8),
		.irq_pin = in->irq_pin,
		.irq_line = st->irq_line,
	};
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		const struct pci_bar_info *bi = &in->bars[b];

		if (bi->type == PCI_BAR_NONE)
			continue;
		f->regions[f->nregions++] = (struct qmp_pci_region){
			.bar = b,
			.io = bi->type == PCI_BAR_IO,
			.mapped = st->bars[b].mapped,
			.addr = st->bars[b].addr,
			.size = bi->size,
		};
	}
}

static unsigned query_pci(void *ctx, struct qmp_pci_function *out, unsigned max)
{
	struct vm *vm = ctx;
	struct pci_function_state st;
	unsigned n = 0;

	for (unsigned slot = 0; vm->pci && slot < PCI_MAX_SLOTS && n < max; slot++)
		if (!pci_host_query(vm->pci, slot, &st))
			pci_function(slot, &st, &out[n++]);
	return n;
}

/* COM1 as QEMU names -serial's chardevs; with --serial none there is none. */
static unsigned query_chardevs(void *ctx, struct qmp_chardev_info *out, unsigned max)
{
	struct vm *vm = ctx;

	if (!max || vm->cfg.serial == SERIAL_MODE_NONE)
		return 0;
	snprintf(out[0].label, sizeof(out[0].label), "serial0");
	snprintf(out[0].filename, sizeof(out[0].filename), "%s",
		 vm->cfg.serial == SERIAL_MODE_FILE ? "file" : "stdio");
	out[0].frontend_open = 1;
	return 1;
}

void vm_query_ops(struct vm *vm, struct control_machine *m)
{
	*m = (struct control_machine){
		.ctx = vm,
		.name = vm->cfg.name,
		.uuid = vm->cfg.uuid[0] ? vm->cfg.uuid : NULL,
		.max_cpus = VM_MAX_CPUS,
		.query_cpus = query_cpus,
		.query_pci = query_pci,
		.query_chardevs = query_chardevs,
	};
}
