/*
 * qmp_types.c - the QAPI types behind minivmm's commands and events, as QEMU 10.0.2's schema
 * declares them (member names, order and optionality; enums with QEMU's values), reduced to
 * what minivmm can return: query-cpus-fast's target is x86_64 only, query-pci knows no
 * bridges, GUEST_PANICKED carries no guest information.
 */
#include "qmp_types.h"
#include "core/action.h"

#include <stddef.h>

#define N(a)	   (sizeof(a) / sizeof(a[0]))
#define OBJECT(m)  QMP_TYPE_OBJECT, NULL, m, N(m), NULL, 0, NULL
#define ENUM(v)	   QMP_TYPE_ENUM, NULL, NULL, 0, v, N(v), NULL
#define ARRAY(e)   QMP_TYPE_ARRAY, NULL, NULL, 0, NULL, 0, e
#define BUILTIN(j) QMP_TYPE_BUILTIN, j, NULL, 0, NULL, 0, NULL
#define OPT	   1

const struct qmp_type qmp_type_int = { "int", BUILTIN("int") };
const struct qmp_type qmp_type_str = { "str", BUILTIN("string") };
const struct qmp_type qmp_type_bool = { "bool", BUILTIN("boolean") };
const struct qmp_type qmp_type_any = { "any", BUILTIN("value") };
const struct qmp_type qmp_type_empty = { "{}", QMP_TYPE_OBJECT, NULL, NULL, 0, NULL, 0, NULL };

static const char *const run_state_values[] = {
	"debug",     "inmigrate",      "internal-error", "io-error", "paused",	"postmigrate",
	"prelaunch", "finish-migrate", "restore-vm",	 "running",  "save-vm", "shutdown",
	"suspended", "watchdog",       "guest-panicked", "colo",
};
static const struct qmp_type run_state = { "RunState", ENUM(run_state_values) };
static const struct qmp_member status_info[] = {
	{ "running", &qmp_type_bool, 0 },
	{ "status", &run_state, 0 },
};
const struct qmp_type qmp_type_status_info = { "StatusInfo", OBJECT(status_info) };

static const struct qmp_member version_triple[] = {
	{ "major", &qmp_type_int, 0 },
	{ "minor", &qmp_type_int, 0 },
	{ "micro", &qmp_type_int, 0 },
};
static const struct qmp_type version_triple_t = { "VersionTriple", OBJECT(version_triple) };
static const struct qmp_member version_info[] = {
	{ "qemu", &version_triple_t, 0 },
	{ "package", &qmp_type_str, 0 },
};
const struct qmp_type qmp_type_version_info = { "VersionInfo", OBJECT(version_info) };

static const struct qmp_member command_info[] = { { "name", &qmp_type_str, 0 } };
static const struct qmp_type command_info_t = { "CommandInfo", OBJECT(command_info) };
const struct qmp_type qmp_type_command_info_list = { "[CommandInfo]", ARRAY(&command_info_t) };

static const struct qmp_member kvm_info[] = {
	{ "enabled", &qmp_type_bool, 0 },
	{ "present", &qmp_type_bool, 0 },
};
const struct qmp_type qmp_type_kvm_info = { "KvmInfo", OBJECT(kvm_info) };

static const struct qmp_member name_info[] = { { "name", &qmp_type_str, OPT } };
const struct qmp_type qmp_type_name_info = { "NameInfo", OBJECT(name_info) };

static const struct qmp_member uuid_info[] = { { "UUID", &qmp_type_str, 0 } };
const struct qmp_type qmp_type_uuid_info = { "UuidInfo", OBJECT(uuid_info) };

/* SysEmuTarget, as far as minivmm goes. */
static const char *const target_values[] = { "x86_64" };
static const struct qmp_type sys_emu_target = { "SysEmuTarget", ENUM(target_values) };
static const struct qmp_member target_info[] = { { "arch", &sys_emu_target, 0 } };
const struct qmp_type qmp_type_target_info = { "TargetInfo", OBJECT(target_info) };

static const struct qmp_member compat_property[] = {
	{ "qom-type", &qmp_type_str, 0 },
	{ "property", &qmp_type_str, 0 },
	{ "value", &qmp_type_str, 0 },
};
static const struct qmp_type compat_property_t = { "CompatProperty", OBJECT(compat_property) };
static const struct qmp_type compat_property_list = { "[CompatProperty]",
						      ARRAY(&compat_property_t) };
static const struct qmp_member machine_info[] = {
	{ "name", &qmp_type_str, 0 },
	{ "alias", &qmp_type_str, OPT },
	{ "is-default", &qmp_type_bool, OPT },
	{ "cpu-max", &qmp_type_int, 0 },
	{ "hotpluggable-cpus", &qmp_type_bool, 0 },
	{ "numa-mem-supported", &qmp_type_bool, 0 },
	{ "deprecated", &qmp_type_bool, 0 },
	{ "default-cpu-type", &qmp_type_str, OPT },
	{ "default-ram-id", &qmp_type_str, OPT },
	{ "acpi", &qmp_type_bool, 0 },
	{ "compat-props", &compat_property_list, OPT },
};
static const struct qmp_type machine_info_t = { "MachineInfo", OBJECT(machine_info) };
const struct qmp_type qmp_type_machine_info_list = { "[MachineInfo]", ARRAY(&machine_info_t) };

static const struct qmp_member cpu_instance_properties[] = {
	{ "node-id", &qmp_type_int, OPT },   { "drawer-id", &qmp_type_int, OPT },
	{ "book-id", &qmp_type_int, OPT },   { "socket-id", &qmp_type_int, OPT },
	{ "die-id", &qmp_type_int, OPT },    { "cluster-id", &qmp_type_int, OPT },
	{ "module-id", &qmp_type_int, OPT }, { "core-id", &qmp_type_int, OPT },
	{ "thread-id", &qmp_type_int, OPT },
};
static const struct qmp_type cpu_instance_properties_t = { "CpuInstanceProperties",
							   OBJECT(cpu_instance_properties) };
static const struct qmp_member cpu_info_fast[] = {
	{ "cpu-index", &qmp_type_int, 0 }, { "qom-path", &qmp_type_str, 0 },
	{ "thread-id", &qmp_type_int, 0 }, { "props", &cpu_instance_properties_t, OPT },
	{ "target", &sys_emu_target, 0 },
};
static const struct qmp_type cpu_info_fast_t = { "CpuInfoFast", OBJECT(cpu_info_fast) };
const struct qmp_type qmp_type_cpu_info_fast_list = { "[CpuInfoFast]", ARRAY(&cpu_info_fast_t) };

static const struct qmp_member chardev_info[] = {
	{ "label", &qmp_type_str, 0 },
	{ "filename", &qmp_type_str, 0 },
	{ "frontend-open", &qmp_type_bool, 0 },
};
static const struct qmp_type chardev_info_t = { "ChardevInfo", OBJECT(chardev_info) };
const struct qmp_type qmp_type_chardev_info_list = { "[ChardevInfo]", ARRAY(&chardev_info_t) };

static const struct qmp_member pci_memory_region[] = {
	{ "bar", &qmp_type_int, 0 },	     { "type", &qmp_type_str, 0 },
	{ "address", &qmp_type_int, 0 },     { "size", &qmp_type_int, 0 },
	{ "prefetch", &qmp_type_bool, OPT }, { "mem_type_64", &qmp_type_bool, OPT },
};
static const struct qmp_type pci_memory_region_t = { "PciMemoryRegion", OBJECT(pci_memory_region) };
static const struct qmp_type pci_memory_region_list = { "[PciMemoryRegion]",
							ARRAY(&pci_memory_region_t) };
static const struct qmp_member pci_device_class[] = {
	{ "desc", &qmp_type_str, OPT },
	{ "class", &qmp_type_int, 0 },
};
static const struct qmp_type pci_device_class_t = { "PciDeviceClass", OBJECT(pci_device_class) };
static const struct qmp_member pci_device_id[] = {
	{ "device", &qmp_type_int, 0 },
	{ "vendor", &qmp_type_int, 0 },
	{ "subsystem", &qmp_type_int, OPT },
	{ "subsystem-vendor", &qmp_type_int, OPT },
};
static const struct qmp_type pci_device_id_t = { "PciDeviceId", OBJECT(pci_device_id) };
static const struct qmp_member pci_device_info[] = {
	{ "bus", &qmp_type_int, 0 },
	{ "slot", &qmp_type_int, 0 },
	{ "function", &qmp_type_int, 0 },
	{ "class_info", &pci_device_class_t, 0 },
	{ "id", &pci_device_id_t, 0 },
	{ "irq", &qmp_type_int, OPT },
	{ "irq_pin", &qmp_type_int, 0 },
	{ "qdev_id", &qmp_type_str, 0 },
	{ "regions", &pci_memory_region_list, 0 },
};
static const struct qmp_type pci_device_info_t = { "PciDeviceInfo", OBJECT(pci_device_info) };
static const struct qmp_type pci_device_info_list = { "[PciDeviceInfo]",
						      ARRAY(&pci_device_info_t) };
static const struct qmp_member pci_info[] = {
	{ "bus", &qmp_type_int, 0 },
	{ "devices", &pci_device_info_list, 0 },
};
static const struct qmp_type pci_info_t = { "PciInfo", OBJECT(pci_info) };
const struct qmp_type qmp_type_pci_info_list = { "[PciInfo]", ARRAY(&pci_info_t) };

/* SchemaInfo is a union on meta-type in QEMU; described here by its common members only (the
 * per-meta-type variants are left out: a reduction, said so in docs/qmp.md). */
static const char *const meta_type_values[] = { "builtin",   "enum",	"array", "object",
						"alternate", "command", "event" };
static const struct qmp_type meta_type = { "SchemaMetaType", ENUM(meta_type_values) };
static const struct qmp_type str_list = { "[str]", ARRAY(&qmp_type_str) };
static const struct qmp_member schema_info[] = {
	{ "name", &qmp_type_str, 0 },
	{ "meta-type", &meta_type, 0 },
	{ "features", &str_list, OPT },
};
static const struct qmp_type schema_info_t = { "SchemaInfo", OBJECT(schema_info) };
const struct qmp_type qmp_type_schema_info_list = { "[SchemaInfo]", ARRAY(&schema_info_t) };

static const char *const shutdown_cause_values[] = {
	"none",	       "host-error",	  "host-qmp-quit",  "host-qmp-system-reset",
	"host-signal", "host-ui",	  "guest-shutdown", "guest-reset",
	"guest-panic", "subsystem-reset", "snapshot-load",
};
static const struct qmp_type shutdown_cause = { "ShutdownCause", ENUM(shutdown_cause_values) };
static const struct qmp_member shutdown_data[] = {
	{ "guest", &qmp_type_bool, 0 },
	{ "reason", &shutdown_cause, 0 },
};
const struct qmp_type qmp_type_shutdown_data = { "SHUTDOWN data", OBJECT(shutdown_data) };

static const struct qmp_type watchdog_action = { "WatchdogAction", ENUM(watchdog_action_names) };
static const struct qmp_member watchdog_data[] = { { "action", &watchdog_action, 0 } };
const struct qmp_type qmp_type_watchdog_data = { "WATCHDOG data", OBJECT(watchdog_data) };

static const char *const guest_panic_action_values[] = { "pause", "poweroff", "run" };
static const struct qmp_type guest_panic_action = { "GuestPanicAction",
						    ENUM(guest_panic_action_values) };
static const struct qmp_member guest_panic_data[] = { { "action", &guest_panic_action, 0 } };
const struct qmp_type qmp_type_guest_panic_data = { "GUEST_PANICKED data",
						    OBJECT(guest_panic_data) };

/* qapi/dump.json. */
const char *const qmp_dump_status_names[4] = { "none", "active", "completed", "failed" };
const char *const qmp_dump_format_names[QMP_DUMP_FORMATS] = {
	"elf",		 "kdump-zlib",	     "kdump-lzo", "kdump-snappy", "kdump-raw-zlib",
	"kdump-raw-lzo", "kdump-raw-snappy", "win-dmp"
};
static const struct qmp_type dump_status = {
	"DumpStatus", QMP_TYPE_ENUM, NULL, NULL, 0, qmp_dump_status_names, 4, NULL
};
static const struct qmp_member dump_query_result[] = {
	{ "status", &dump_status, 0 },
	{ "completed", &qmp_type_int, 0 },
	{ "total", &qmp_type_int, 0 },
};
const struct qmp_type qmp_type_dump_query_result = { "DumpQueryResult", OBJECT(dump_query_result) };
static const struct qmp_type dump_format = {
	"DumpGuestMemoryFormat", QMP_TYPE_ENUM,	   NULL, NULL, 0,
	qmp_dump_format_names,	 QMP_DUMP_FORMATS, NULL
};
static const struct qmp_type dump_format_list = { "[DumpGuestMemoryFormat]", ARRAY(&dump_format) };
static const struct qmp_member dump_capability[] = { { "formats", &dump_format_list, 0 } };
const struct qmp_type qmp_type_dump_capability = { "DumpGuestMemoryCapability",
						   OBJECT(dump_capability) };
/* QEMU's members, then minivmm's downstream extension (QAPI's __RFQDN_ naming). */
static const struct qmp_member dump_completed_data[] = {
	{ "result", &qmp_type_dump_query_result, 0 },
	{ "error", &qmp_type_str, OPT },
	{ "__org.minivmm_file", &qmp_type_str, OPT },
};
const struct qmp_type qmp_type_dump_completed_data = { "DUMP_COMPLETED data",
						       OBJECT(dump_completed_data) };
/* Not QEMU's: __org.minivmm_GUEST_PANIC_REPORT. Members that may be null are "any" (QAPI has
 * no nullable type outside an alternate); "registers" is an object of hex strings (README). */
static const struct qmp_type panic_action = { "PanicAction", ENUM(panic_action_names) };
static const struct qmp_member panic_report_data[] = {
	{ "cpu", &qmp_type_any, 0 },	     { "message", &qmp_type_any, 0 },
	{ "action", &panic_action, 0 },	     { "vmcore", &qmp_type_str, OPT },
	{ "registers", &qmp_type_any, 0 },   { "log", &qmp_type_any, 0 },
	{ "log_total", &qmp_type_int, OPT }, { "log_error", &qmp_type_str, OPT },
};
const struct qmp_type qmp_type_panic_report_data = { "__org.minivmm_GUEST_PANIC_REPORT data",
						     OBJECT(panic_report_data) };

void qmp_type_doc(FILE *out, struct qmp_type_doc *d, const struct qmp_type *t)
{
	if (!t || t->kind == QMP_TYPE_BUILTIN)
		return;
	if (t->kind == QMP_TYPE_ARRAY) {
		qmp_type_doc(out, d, t->element);
		return;
	}
	if (t->kind == QMP_TYPE_OBJECT && !t->nmembers)
		return;
	for (unsigned i = 0; i < d->nseen; i++)
		if (d->seen[i] == t)
			return;
	if (d->nseen == sizeof(d->seen) / sizeof(d->seen[0]))
		return;
	d->seen[d->nseen++] = t;
	fprintf(out, "### %s\n\n", t->name);
	if (t->kind == QMP_TYPE_ENUM) {
		for (unsigned i = 0; i < t->nvalues; i++)
			fprintf(out, "%s`%s`", i ? ", " : "", t->values[i]);
		fprintf(out, "\n\n");
		return;
	}
	for (unsigned i = 0; i < t->nmembers; i++)
		fprintf(out, "- `%s`%s: %s\n", t->members[i].name,
			t->members[i].optional ? " (optional)" : "", t->members[i].type->name);
	fprintf(out, "\n");
	for (unsigned i = 0; i < t->nmembers; i++)
		qmp_type_doc(out, d, t->members[i].type);
}
