/*
 * qmp_query.c - query-kvm, -name, -uuid, -target, -machines, -cpus-fast, -chardev, -pci and
 * inject-nmi: what the backend reports, in QEMU 10.0.2's reply shapes (qapi/machine.json,
 * misc.json, char.json, pci.json). Objects are built in schema member order; qdict_order
 * lays them out as QEMU prints them.
 */
#include "qmp_query.h"

#include <stdio.h>

#define UNUSED_HANDLER_ARGS                                                                        \
	(void)cmd;                                                                                 \
	(void)be;                                                                                  \
	(void)ver;                                                                                 \
	(void)args;                                                                                \
	(void)err

static json_t *generic_error(struct qmp_error *err, const char *desc)
{
	err->cls = "GenericError";
	snprintf(err->desc, sizeof(err->desc), "%s", desc);
	return NULL;
}

/* minivmm runs only on KVM: present and in use, always. */
QMP_HANDLER(qmp_query_kvm)
{
	UNUSED_HANDLER_ARGS;
	return json_pack("{s:b, s:b}", "enabled", 1, "present", 1);
}

QMP_HANDLER(qmp_query_name)
{
	UNUSED_HANDLER_ARGS;
	return be->name ? json_pack("{s:s}", "name", be->name) : json_object();
}

QMP_HANDLER(qmp_query_uuid)
{
	UNUSED_HANDLER_ARGS;
	return json_pack("{s:s}", "UUID",
			 be->uuid ? be->uuid : "00000000-0000-0000-0000-000000000000");
}

QMP_HANDLER(qmp_query_target)
{
	UNUSED_HANDLER_ARGS;
	return json_pack("{s:s}", "arch", "x86_64");
}

/*
 * The one machine minivmm is. No QEMU machine type matches it (PCIe host on ECAM, ACPI, no
 * firmware, no legacy PC devices beyond the i8042 reset), so it goes by its own name. The CPU
 * model is KVM's host CPUID, which QEMU calls "host".
 */
QMP_HANDLER(qmp_query_machines)
{
	json_t *m;

	UNUSED_HANDLER_ARGS;
	m = json_pack("{s:s, s:b, s:i, s:b, s:b, s:b, s:s, s:b}", "name", "minivmm", "is-default",
		      1, "cpu-max", (int)be->max_cpus, "hotpluggable-cpus", 0, "numa-mem-supported",
		      0, "deprecated", 0, "default-cpu-type", "host-x86_64-cpu", "acpi", 1);
	if (json_is_true(json_object_get(args, "compat-props")))
		json_object_set_new(m, "compat-props", json_array());
	return json_pack("[o]", m);
}

/* x86's CpuInfoFast. The topology is QEMU's default for -smp N: one socket of N cores. */
QMP_HANDLER(qmp_query_cpus_fast)
{
	static struct qmp_cpu_info cpus[QMP_MAX_CPUS];
	json_t *list = json_array();
	unsigned n;

	UNUSED_HANDLER_ARGS;
	n = be->query_cpus ? be->query_cpus(be->ctx, cpus, QMP_MAX_CPUS) : 0;
	for (unsigned i = 0; i < n && i < QMP_MAX_CPUS; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/machine/unattached/device[%u]", cpus[i].index);
		json_array_append_new(list, json_pack("{s:i, s:s, s:i, s:{s:i, s:i, s:i}, s:s}",
						      "cpu-index", (int)cpus[i].index, "qom-path",
						      path, "thread-id", cpus[i].thread_id, "props",
						      "socket-id", 0, "core-id", (int)cpus[i].index,
						      "thread-id", 0, "target", "x86_64"));
	}
	return list;
}

QMP_HANDLER(qmp_inject_nmi)
{
	UNUSED_HANDLER_ARGS;
	if (!be->inject_nmi)
		return generic_error(err, "machine does not provide NMIs");
	return be->inject_nmi(be->ctx, err) ? NULL : json_object();
}

/* The server's monitors first, then the VMM's serial ports. */
QMP_HANDLER(qmp_query_chardev)
{
	struct qmp_chardev_info devs[QMP_MAX_CHARDEVS];
	json_t *list = json_array();
	unsigned n = 0;

	UNUSED_HANDLER_ARGS;
	if (be->query_monitors)
		n = be->query_monitors(be->mctx, devs, QMP_MAX_CHARDEVS);
	if (n > QMP_MAX_CHARDEVS)
		n = QMP_MAX_CHARDEVS;
	if (be->query_chardevs)
		n += be->query_chardevs(be->ctx, devs + n, QMP_MAX_CHARDEVS - n);
	for (unsigned i = 0; i < n && i < QMP_MAX_CHARDEVS; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "label", devs[i].label,
						      "filename", devs[i].filename, "frontend-open",
						      devs[i].frontend_open));
	return list;
}

/* QEMU's names for the classes minivmm's bus can hold (hw/pci/pci.c's table); others have no
 * "desc". */
static const char *pci_class_desc(unsigned class_code)
{
	return class_code == 0x0600 ? "Host bridge" : NULL;
}

static json_t *pci_function_json(const struct qmp_pci_function *f)
{
	json_t *cls = json_object(), *regions = json_array(), *dev;
	const char *desc = pci_class_desc(f->class_code);

	if (desc)
		json_object_set_new(cls, "desc", json_string(desc));
	json_object_set_new(cls, "class", json_integer(f->class_code));
	for (unsigned i = 0; i < f->nregions && i < 6; i++) {
		const struct qmp_pci_region *r = &f->regions[i];
		json_t *o = json_pack("{s:i, s:s, s:I, s:I}", "bar", (int)r->bar, "type",
				      r->io ? "io" : "memory", "address",
				      r->mapped ? (json_int_t)r->addr : (json_int_t)-1, "size",
				      (json_int_t)r->size);

		if (!r->io) {
			json_object_set_new(o, "prefetch", json_false());
			json_object_set_new(o, "mem_type_64", json_false());
		}
		json_array_append_new(regions, o);
	}
	dev = json_pack("{s:i, s:i, s:i, s:o, s:{s:i, s:i, s:i, s:i}}", "bus", 0, "slot",
			(int)f->slot, "function", (int)f->function, "class_info", cls, "id",
			"device", f->device, "vendor", f->vendor, "subsystem", f->subsys,
			"subsystem-vendor", f->subsys_vendor);
	if (f->irq_pin)
		json_object_set_new(dev, "irq", json_integer(f->irq_line));
	json_object_set_new(dev, "irq_pin", json_integer(f->irq_pin));
	json_object_set_new(dev, "qdev_id", json_string(""));
	json_object_set_new(dev, "regions", regions);
	return dev;
}

/* Bus 0, the only one. */
QMP_HANDLER(qmp_query_pci)
{
	static struct qmp_pci_function fns[QMP_MAX_PCI];
	json_t *devices = json_array();
	unsigned n;

	UNUSED_HANDLER_ARGS;
	n = be->query_pci ? be->query_pci(be->ctx, fns, QMP_MAX_PCI) : 0;
	for (unsigned i = 0; i < n && i < QMP_MAX_PCI; i++)
		json_array_append_new(devices, pci_function_json(&fns[i]));
	return json_pack("[{s:i, s:o}]", "bus", 0, "devices", devices);
}
