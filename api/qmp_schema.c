/*
 * qmp_schema.c - the QMP commands and events minivmm speaks, declared once. Names, argument
 * names and types, enum values and return shapes are QEMU 10.0.2's (as its query-qmp-schema
 * reports them); dispatch, argument checking, query-commands and docs/qmp.md are all
 * generated from these tables. The action enums' names are core/action.c's, the tables the VMM
 * itself parses with.
 */
#include "qmp_schema.h"
#include "qmp_events.h"
#include "qmp_query.h"
#include "qmp_fds.h"
#include "qmp_transport.h"
#include "json_compat.h"
#include "qdict_order.h"
#include "core/action.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const capability_values[] = { "oob" };

#define NVALUES(a) (sizeof(a) / sizeof(a[0]))

/* stop, cont, system_reset, system_powerdown, quit: the backend call named by @cmd->be_op,
 * and {} on success. */
static json_t *h_backend_op(const struct qmp_command *cmd, const struct qmp_backend *be,
			    const struct qmp_version *ver, json_t *args, struct qmp_error *err)
{
	int (*op)(void *, struct qmp_error *);

	(void)ver;
	(void)args;
	memcpy(&op, (const char *)be + cmd->be_op, sizeof(op));
	if (!op) {
		err->cls = "GenericError";
		snprintf(err->desc, sizeof(err->desc), "Not supported");
		return NULL;
	}
	return op(be->ctx, err) ? NULL : json_object();
}

static json_t *empty_or_null(int ret)
{
	return ret ? NULL : json_object();
}

static json_t *h_query_status(const struct qmp_command *cmd, const struct qmp_backend *be,
			      const struct qmp_version *ver, json_t *args, struct qmp_error *err)
{
	int running = 0;
	const char *status = "running";

	(void)cmd;
	(void)ver;
	(void)args;
	if (be->query_status(be->ctx, &running, &status, err))
		return NULL;
	/* QEMU 10.0.2 has no singlestep member (7.2 still had it): status and running only. */
	return json_pack("{s:s, s:b}", "status", status, "running", running);
}

static const char *opt_str(json_t *args, const char *key)
{
	return json_string_value(json_object_get(args, key));
}

static json_t *h_set_action(const struct qmp_command *cmd, const struct qmp_backend *be,
			    const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	(void)cmd;
	(void)v;
	return empty_or_null(be->set_action(be->ctx, opt_str(args, "reboot"),
					    opt_str(args, "shutdown"), opt_str(args, "panic"),
					    opt_str(args, "watchdog"), err));
}

static json_t *h_watchdog_set_action(const struct qmp_command *cmd, const struct qmp_backend *be,
				     const struct qmp_version *v, json_t *args,
				     struct qmp_error *err)
{
	(void)cmd;
	(void)v;
	return empty_or_null(be->watchdog_set_action(be->ctx, opt_str(args, "action"), err));
}

static int qerr(struct qmp_error *err, const char *fmt, const char *a)
{
	err->cls = "GenericError";
	snprintf(err->desc, sizeof(err->desc), fmt, a);
	return -1;
}

static json_t *h_set_panic_dump(const struct qmp_command *cmd, const struct qmp_backend *be,
				const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	const char *dir = opt_str(args, "dir");

	(void)cmd;
	(void)v;
	if (!be->set_panic_dump) {
		qerr(err, "Not supported", NULL);
		return NULL;
	}
	return empty_or_null(be->set_panic_dump(be->ctx, dir && *dir ? dir : NULL, err));
}

static json_t *h_query_version(const struct qmp_command *cmd, const struct qmp_backend *be,
			       const struct qmp_version *ver, json_t *args, struct qmp_error *err)
{
	(void)cmd;
	(void)be;
	(void)args;
	(void)err;
	return json_pack("{s:{s:i, s:i, s:i}, s:s}", "qemu", "major", ver->major, "minor",
			 ver->minor, "micro", ver->micro, "package", ver->package);
}

static json_t *h_query_commands(const struct qmp_command *cmd, const struct qmp_backend *be,
				const struct qmp_version *ver, json_t *args, struct qmp_error *err)
{
	json_t *list = json_array();

	(void)cmd;
	(void)be;
	(void)ver;
	(void)args;
	(void)err;
	for (unsigned i = 0; i < qmp_ncommands; i++)
		json_array_append_new(list, json_pack("{s:s}", "name", qmp_commands[i].name));
	return list;
}

/* An error naming something a client chose: quoted whole, however long, as QEMU does. */
static void qmp_err_name(struct qmp_error *err, const char *fmt, const char *name)
{
	err->cls = "GenericError";
	if ((size_t)snprintf(err->desc, sizeof(err->desc), fmt, name) >= sizeof(err->desc) &&
	    asprintf(&err->big, fmt, name) < 0)
		err->big = NULL;
}

/* dump-guest-memory's protocol, as QEMU 10 reads it after the format checks: "fd:NAME" takes
 * the descriptor out of the monitor's table (it is the dump's now, whatever happens next),
 * "file:PATH" is the backend's to open. */
static int dump_protocol(const struct qmp_backend *be, json_t *args, int has_filter, uint64_t begin,
			 uint64_t length, enum qmp_dump_format format, struct qmp_error *err)
{
	const char *protocol = opt_str(args, "protocol");
	int detach = json_is_true(json_object_get(args, "detach")), fd = -1;

	if (!strncmp(protocol, "fd:", 3)) {
		struct qmp_fds *fds = qmp_conn_fds(be->conn);

		fd = fds ? qmp_fds_take(fds, protocol + 3) : -1;
		if (fd < 0) {
			qmp_err_name(err, "File descriptor named '%s' has not been found",
				     protocol + 3);
			return -1;
		}
	} else if (strncmp(protocol, "file:", 5)) {
		return qerr(err, "parameter 'protocol' must start with 'file:' or 'fd:'", NULL);
	}
	return be->dump_guest_memory(be->ctx, protocol, fd, detach, has_filter, begin, length,
				     format, err);
}

/* QEMU 10's qmp_dump_guest_memory checks, in its order; minivmm writes ELF, kdump-zlib and
 * kdump-raw-zlib of guest-physical memory (paging: true would need the guest's page tables
 * walked). */
static json_t *h_dump_guest_memory(const struct qmp_command *cmd, const struct qmp_backend *be,
				   const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	const char *fmt = opt_str(args, "format");
	json_t *begin = json_object_get(args, "begin"), *length = json_object_get(args, "length");
	int paging = json_is_true(json_object_get(args, "paging")),
	    other = fmt && strcmp(fmt, "elf");
	enum qmp_dump_format format = QMP_DUMP_ELF;
	char name[32];

	if (fmt && !strcmp(fmt, "kdump-zlib"))
		format = QMP_DUMP_KDUMP_ZLIB;
	else if (fmt && !strcmp(fmt, "kdump-raw-zlib"))
		format = QMP_DUMP_KDUMP_RAW_ZLIB;
	/* QEMU names a raw format by its flattened twin when it is not built in. */
	snprintf(name, sizeof(name), "%s%s", fmt && !strncmp(fmt, "kdump-raw-", 10) ? "kdump-" : "",
		 fmt ? fmt + (strncmp(fmt, "kdump-raw-", 10) ? 0 : 10) : "");
	struct dump_result r = { 0 };
	int ret;

	(void)cmd;
	(void)v;
	if (!be->dump_guest_memory) {
		qerr(err, "Not supported", NULL);
		return NULL;
	}
	be->query_dump(be->ctx, &r);
	if (r.status == DUMP_STATUS_ACTIVE)
		ret = qerr(err, "There is a dump in process, please wait.", NULL);
	else if (other && (paging || begin || length))
		ret = qerr(err, "kdump-compressed format doesn't support paging or filter", NULL);
	else if (begin && !length)
		ret = qerr(err, "Parameter '%s' is missing", "length");
	else if (!begin && length)
		ret = qerr(err, "Parameter '%s' is missing", "begin");
	else if (other && format == QMP_DUMP_ELF)
		ret = qerr(err, "%s is not available now", name);
	else if (paging)
		ret = qerr(err, "paging is not supported: minivmm dumps guest-physical memory only",
			   NULL);
	else
		ret = dump_protocol(be, args, !!begin, (uint64_t)json_integer_value(begin),
				    (uint64_t)json_integer_value(length), format, err);
	return empty_or_null(ret);
}

/* getfd: name the descriptor that came with the command in this client's monitor. */
static json_t *h_getfd(const struct qmp_command *cmd, const struct qmp_backend *be,
		       const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	const char *name = opt_str(args, "fdname");
	struct qmp_fds *fds = qmp_conn_fds(be->conn);
	int fd = qmp_conn_take_msgfd(be->conn), ret;

	(void)cmd;
	(void)v;
	if (fd < 0 || !fds) {
		qerr(err, "No file descriptor supplied via SCM_RIGHTS", NULL);
		return NULL;
	}
	if (isdigit((unsigned char)name[0])) {
		close(fd);
		qerr(err, "Parameter '%s' expects a name not starting with a digit", "fdname");
		return NULL;
	}
	ret = qmp_fds_add(fds, name, fd);
	if (ret == -ENOSPC) {
		err->cls = "GenericError";
		snprintf(err->desc, sizeof(err->desc),
			 "Too many file descriptors on this monitor (at most %d): closefd some",
			 QMP_FDS_MAX);
		return NULL;
	}
	if (ret) {
		qerr(err, "%s", strerror(-ret));
		return NULL;
	}
	return json_object();
}

static json_t *h_closefd(const struct qmp_command *cmd, const struct qmp_backend *be,
			 const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	const char *name = opt_str(args, "fdname");
	struct qmp_fds *fds = qmp_conn_fds(be->conn);

	(void)cmd;
	(void)v;
	if (!fds || qmp_fds_close(fds, name)) {
		qmp_err_name(err, "File descriptor named '%s' not found", name);
		return NULL;
	}
	return json_object();
}

static json_t *h_query_dump(const struct qmp_command *cmd, const struct qmp_backend *be,
			    const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	struct dump_result r = { 0 };

	(void)cmd;
	(void)v;
	(void)args;
	(void)err;
	if (be->query_dump)
		be->query_dump(be->ctx, &r);
	return qmp_dump_result(&r);
}

static json_t *h_query_dump_cap(const struct qmp_command *cmd, const struct qmp_backend *be,
				const struct qmp_version *v, json_t *args, struct qmp_error *err)
{
	(void)cmd;
	(void)be;
	(void)v;
	(void)args;
	(void)err;
	return json_pack("{s:[s, s, s]}", "formats", "elf", "kdump-zlib", "kdump-raw-zlib");
}

#define ENUM(names) names, NVALUES(names)

static const struct qmp_arg args_capabilities[] = {
	{ "enable", QMP_ARG_ENUM_LIST, "['QMPCapability']", ENUM(capability_values), 1 },
};
static const struct qmp_arg args_set_action[] = {
	{ "reboot", QMP_ARG_ENUM, "RebootAction", ENUM(reboot_action_names), 1 },
	{ "shutdown", QMP_ARG_ENUM, "ShutdownAction", ENUM(shutdown_action_names), 1 },
	{ "panic", QMP_ARG_ENUM, "PanicAction", ENUM(panic_action_names), 1 },
	{ "watchdog", QMP_ARG_ENUM, "WatchdogAction", ENUM(watchdog_action_names), 1 },
};
static const struct qmp_arg args_dump[] = {
	{ "paging", QMP_ARG_BOOL, "bool", NULL, 0, 0 },
	{ "protocol", QMP_ARG_STR, "str", NULL, 0, 0 },
	{ "detach", QMP_ARG_BOOL, "bool", NULL, 0, 1 },
	{ "begin", QMP_ARG_INT, "int", NULL, 0, 1 },
	{ "length", QMP_ARG_INT, "int", NULL, 0, 1 },
	{ "format", QMP_ARG_ENUM, "DumpGuestMemoryFormat", qmp_dump_format_names, QMP_DUMP_FORMATS,
	  1 },
};
static const struct qmp_arg args_set_panic_dump[] = {
	{ "dir", QMP_ARG_STR, "str", NULL, 0, 1 },
};
/* Two lists, as QEMU's schema has two argument types (its introspection numbers each). */
static const struct qmp_arg args_getfd[] = {
	{ "fdname", QMP_ARG_STR, "str", NULL, 0, 0 },
};
static const struct qmp_arg args_closefd[] = {
	{ "fdname", QMP_ARG_STR, "str", NULL, 0, 0 },
};
static const struct qmp_arg args_watchdog_set_action[] = {
	{ "action", QMP_ARG_ENUM, "WatchdogAction", ENUM(watchdog_action_names), 0 },
};
static const struct qmp_arg args_query_machines[] = {
	{ "compat-props", QMP_ARG_BOOL, "bool", NULL, 0, 1 },
};
static const struct qmp_arg args_human_monitor_command[] = {
	{ "command-line", QMP_ARG_STR, "str", NULL, 0, 0 },
	{ "cpu-index", QMP_ARG_INT, "int", NULL, 0, 1 },
};

#define ARGS(a) a, NVALUES(a)
#define NO_ARGS NULL, 0
/* An argument-less command that calls backend op @field. */
#define BACKEND_OP(field) NO_ARGS, h_backend_op, offsetof(struct qmp_backend, field)

const struct qmp_command qmp_commands[] = {
	{ "qmp_capabilities", ARGS(args_capabilities), NULL, 0,
	  "Leave capabilities negotiation; until then only this command is accepted and no "
	  "events are sent. `enable` may name `oob` (accepted; no command runs out of band).",
	  NULL },
	{ "query-status", NO_ARGS, h_query_status, 0,
	  "Run state: `{\"status\": RunState, \"running\": bool}`.", &qmp_type_status_info },
	{ "stop", BACKEND_OP(stop), "Pause the vCPUs (STOP, then the reply). No-op unless running.",
	  NULL },
	{ "cont", BACKEND_OP(cont),
	  "Resume (RESUME, then the reply). Refused in `shutdown` and `internal-error`: reset "
	  "first.",
	  NULL },
	{ "system_reset", BACKEND_OP(system_reset),
	  "Hard reset (RESET `host-qmp-system-reset`), or a SHUTDOWN with that reason when the "
	  "reboot action is `shutdown`. A VM that was not running comes back in `prelaunch`.",
	  NULL },
	{ "system_powerdown", BACKEND_OP(system_powerdown),
	  "Press the ACPI power button (POWERDOWN); the guest decides what to do.", NULL },
	{ "quit", BACKEND_OP(quit), "SHUTDOWN `host-qmp-quit`, reply, then minivmm exits with 0.",
	  NULL },
	{ "set-action", ARGS(args_set_action), h_set_action, 0,
	  "Change what happens on reboot, shutdown, panic and watchdog expiry.", NULL },
	{ "watchdog-set-action", ARGS(args_watchdog_set_action), h_watchdog_set_action, 0,
	  "Change the watchdog expiry action.", NULL },
	{ "query-version", NO_ARGS, h_query_version, 0,
	  "`{\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"minivmm "
	  "X.Y.Z\"}`: the QEMU release whose QMP minivmm follows (10.0.2), and minivmm's own "
	  "version in `package`.",
	  &qmp_type_version_info },
	{ "query-commands", NO_ARGS, h_query_commands, 0, "`[{\"name\": ...}, ...]`.",
	  &qmp_type_command_info_list },
	/* Queries, inject-nmi, HMP and introspection: qmp_query.c, qmp_hmp.c, qmp_introspect.c. */
	{ "query-kvm", NO_ARGS, qmp_query_kvm, 0,
	  "`{\"enabled\": true, \"present\": true}`: minivmm runs only on KVM.",
	  &qmp_type_kvm_info },
	{ "query-name", NO_ARGS, qmp_query_name, 0,
	  "`{\"name\": ...}` as given by `--name`, or `{}`.", &qmp_type_name_info },
	{ "query-uuid", NO_ARGS, qmp_query_uuid, 0,
	  "`{\"UUID\": ...}` as given by `--uuid`; all zero by default, as QEMU.",
	  &qmp_type_uuid_info },
	{ "query-target", NO_ARGS, qmp_query_target, 0, "`{\"arch\": \"x86_64\"}`.",
	  &qmp_type_target_info },
	{ "query-machines", ARGS(args_query_machines), qmp_query_machines, 0,
	  "The one machine minivmm is, as a QEMU MachineInfo: `minivmm`, the default, `cpu-max` "
	  "254, no CPU hot-plug, ACPI; `compat-props` (empty) when asked for.",
	  &qmp_type_machine_info_list },
	{ "query-cpus-fast", NO_ARGS, qmp_query_cpus_fast, 0,
	  "Each vCPU as x86's CpuInfoFast: `cpu-index`, `qom-path`, `thread-id` (the host thread "
	  "running it), `props` (one socket of N cores), `target`.",
	  &qmp_type_cpu_info_fast_list },
	{ "inject-nmi", NO_ARGS, qmp_inject_nmi, 0,
	  "An NMI to every vCPU (as QEMU on x86), running or paused.", NULL },
	{ "query-chardev", NO_ARGS, qmp_query_chardev, 0,
	  "The QMP monitors (`compat_monitorN`: `unix:PATH,server=on`, with `disconnected:` "
	  "before it while no client is on it) and the serial port (`serial0`: `stdio`, `file`).",
	  &qmp_type_chardev_info_list },
	{ "query-pci", NO_ARGS, qmp_query_pci, 0,
	  "Bus 0 as QEMU's PciInfo: every function with its IDs, class, INTx and BARs (address "
	  "-1 while not decoded).",
	  &qmp_type_pci_info_list },
	{ "human-monitor-command", ARGS(args_human_monitor_command), qmp_human_monitor_command, 0,
	  "HMP: `info status|version|kvm|name|uuid|cpus|pci|chardev`, `stop`, `cont`, "
	  "`system_reset`, `system_powerdown`, `nmi`, `quit`, `help`, with QEMU's text; any other "
	  "command gets QEMU's `unknown command: '...'`.",
	  &qmp_type_str },
	{ "query-qmp-schema", NO_ARGS, qmp_query_qmp_schema, 0,
	  "Every command and event here and the types they use, in QEMU's SchemaInfo form (type "
	  "names as numbers). SchemaInfo itself is described by its common members only.",
	  &qmp_type_schema_info_list },
	{ "dump-guest-memory", ARGS(args_dump), h_dump_guest_memory, 0,
	  "Write an ELF core of guest RAM (`protocol` `file:PATH`) for crash and makedumpfile: a "
	  "PT_LOAD per RAM range (or of [`begin`, `begin` + `length`)), an NT_PRSTATUS per vCPU "
	  "and the guest's VMCOREINFO when it published one through fw_cfg. A running guest "
	  "pauses for it (STOP, DUMP_COMPLETED, RESUME); with `detach` it runs on a thread and "
	  "`query-dump` follows it. `protocol` `fd:NAME` writes to what `getfd` kept as NAME. "
	  "`format` `kdump-zlib` (makedumpfile's flattened stream: `makedumpfile -R` makes the "
	  "file) and `kdump-raw-zlib` (the file itself) write makedumpfile's compressed format, "
	  "zero pages stored once. Refused: `paging: true`, the other formats.",
	  NULL },
	/* Not QEMU's: QAPI's downstream-extension name, which QEMU clients leave alone. */
	{ "__org.minivmm_set-panic-dump", ARGS(args_set_panic_dump), h_set_panic_dump, 0,
	  "`--panic-dump` at run time: from now on a guest panic writes a core to `dir` before "
	  "its action (a writable directory, else `'DIR' is not a writable directory: ...`); "
	  "`dir` absent or empty turns it off. A dump already written or under way is not "
	  "affected.",
	  NULL },
	{ "getfd", ARGS(args_getfd), h_getfd, 0,
	  "Keep the descriptor sent (SCM_RIGHTS) with this command under `fdname`, in this "
	  "monitor (its socket: a client that reconnects finds it; at most 32 names), for "
	  "`dump-guest-memory`'s `fd:NAME`, which takes it. An existing name gets the new "
	  "descriptor (the old one is closed).",
	  NULL },
	{ "closefd", ARGS(args_closefd), h_closefd, 0,
	  "Close the descriptor `getfd` kept under `fdname`.", NULL },
	{ "query-dump", NO_ARGS, h_query_dump, 0,
	  "`{\"status\": none | active | completed | failed, \"completed\", \"total\"}` (bytes).",
	  &qmp_type_dump_query_result },
	{ "query-dump-guest-memory-capability", NO_ARGS, h_query_dump_cap, 0,
	  "`{\"formats\": [\"elf\", \"kdump-zlib\", \"kdump-raw-zlib\"]}`.",
	  &qmp_type_dump_capability },
};

const unsigned qmp_ncommands = sizeof(qmp_commands) / sizeof(qmp_commands[0]);

const struct qmp_event_def qmp_events[QMP_EVENT__MAX] = {
	[QMP_EVENT_SHUTDOWN] = { "SHUTDOWN", "`guest`: bool, `reason`: ShutdownCause",
				 "The VM shut down; minivmm exits next unless the shutdown "
				 "action is `pause` (then STOP follows).",
				 .data_type = &qmp_type_shutdown_data },
	[QMP_EVENT_POWERDOWN] = { "POWERDOWN", "", "The ACPI power button was pressed." },
	[QMP_EVENT_RESET] = { "RESET", "`guest`: bool, `reason`: ShutdownCause",
			      "The VM was reset and boots again.",
			      .data_type = &qmp_type_shutdown_data },
	[QMP_EVENT_STOP] = { "STOP", "", "The vCPUs stopped." },
	[QMP_EVENT_RESUME] = { "RESUME", "", "The vCPUs run (also once at start unless -S)." },
	/* Guest-triggerable, so QEMU's monitor throttles it to one a second. */
	[QMP_EVENT_WATCHDOG] = { "WATCHDOG", "`action`: WatchdogAction",
				 "A watchdog expired; the action follows. Throttled as QEMU does: "
				 "at most one a second, the first at once; of those that come "
				 "within the second only the last is sent, when the second ends "
				 "(with its own timestamp), after its action.",
				 1000, &qmp_type_watchdog_data },
/*
 * Guest-triggerable without end while the guest runs, and QEMU has no bound for them:
 * minivmm lets a burst through as QEMU would (several pvpanic devices each report),
 * then throttles as WATCHDOG. GUEST_PANICKED with an action that stops or ends the VM
 * is never held back (qmp.c).
 */
/* Ten a second is far above any real guest's rate (a panic, a crash kernel) and far
 * below a flood's (one per pvpanic write); bench/bench.py paces its panics under it. */
#define GUEST_EVENT_PERIOD_MS 100
	[QMP_EVENT_GUEST_PANICKED] = { "GUEST_PANICKED", "`action`: pause | poweroff | run",
				       "pvpanic bit 0: the guest panicked. With `action` run "
				       "(panic action none), bounded where QEMU is not: 16 at "
				       "once, then at most one per 100 ms, of those within the "
				       "period only the last.",
				       GUEST_EVENT_PERIOD_MS, &qmp_type_guest_panic_data, 16 },
	[QMP_EVENT_GUEST_CRASHLOADED] = { "GUEST_CRASHLOADED", "`action`: run",
					  "pvpanic bit 1: the guest panicked and its crash kernel "
					  "takes over. Bounded as GUEST_PANICKED with `action` "
					  "run.",
					  GUEST_EVENT_PERIOD_MS, &qmp_type_guest_panic_data, 16 },
	[QMP_EVENT_GUEST_PVSHUTDOWN] = { "GUEST_PVSHUTDOWN", "",
					 "pvpanic bit 2: the guest is shutting down (QEMU 9.1+); "
					 "SHUTDOWN `guest-shutdown` follows." },
	[QMP_EVENT_DUMP_COMPLETED] = { "DUMP_COMPLETED",
				       "`result`: DumpQueryResult, `error`?: str, "
				       "`__org.minivmm_file`?: str",
				       "A dump ended; `__org.minivmm_file` names the core "
				       "`--panic-dump` wrote.",
				       .data_type = &qmp_type_dump_completed_data },
	/* Guest-triggerable with panic=none, and large: bounded where it is made (lifecycle.c),
	 * one a second of guest time while the guest runs past its panics; never held back. */
	[QMP_EVENT_GUEST_PANIC_REPORT] = { "__org.minivmm_GUEST_PANIC_REPORT",
					   "`cpu`: int or null, `message`: str or null, `action`: "
					   "PanicAction, `vmcore`?: str, "
					   "`registers`: {`rax` ... `r15`, `rip`, `rflags`, `cs` "
					   "... `gs`, `fs_base`, "
					   "`gs_base`, `cr0`, `cr2`, `cr3`, `cr4`, `efer`: \"0x\" "
					   "and 16 hex digits} or null, "
					   "`log`: str or null, `log_total`?: int, `log_error`?: "
					   "str",
					   "Not QEMU's (a downstream extension): why the guest "
					   "panicked, after GUEST_PANICKED "
					   "and --panic-dump's DUMP_COMPLETED, before the action's "
					   "events. `message` is the "
					   "\"Kernel panic - not syncing: ...\" line, `log` the "
					   "last 16 KiB or more of the "
					   "kernel log read from guest memory (whole records, as "
					   "`makedumpfile --dump-dmesg` "
					   "prints them; `log_total` bytes in all), `cpu` the vCPU "
					   "whose write reached "
					   "pvpanic and `registers` its registers; `log_error` "
					   "says why `log` is null. "
					   "With panic action none: the first, then at most one a "
					   "second of guest time.",
					   0, &qmp_type_panic_report_data },
};

const struct qmp_command *qmp_command_find(const char *name)
{
	for (unsigned i = 0; i < qmp_ncommands; i++)
		if (!strcmp(qmp_commands[i].name, name))
			return &qmp_commands[i];
	return NULL;
}

/* A string to QEMU: not an integer that only travels as one (json_compat.c). */
static int is_str(const json_t *v)
{
	return json_is_string(v) && !json_compat_is_u64(v);
}

static int in_values(const struct qmp_arg *a, const char *s)
{
	for (unsigned i = 0; i < a->nvalues; i++)
		if (!strcmp(a->values[i], s))
			return 1;
	return 0;
}

static int fail(struct qmp_error *err, const char *fmt, const char *a, const char *b)
{
	err->cls = "GenericError";
	/* A name of any length is quoted whole, as QEMU does. */
	if ((size_t)snprintf(err->desc, sizeof(err->desc), fmt, a, b) >= sizeof(err->desc) &&
	    asprintf(&err->big, fmt, a, b) < 0)
		err->big = NULL;
	return -1;
}

int qmp_args_check(const struct qmp_command *cmd, json_t *args, struct qmp_error *err)
{
	const char *key;
	json_t *val, *ordered;

	for (unsigned i = 0; i < cmd->nargs; i++) {
		const struct qmp_arg *a = &cmd->args[i];
		json_t *v = json_object_get(args, a->name);

		if (!v) {
			if (a->optional)
				continue;
			return fail(err, "Parameter '%s' is missing", a->name, NULL);
		}
		if (a->type == QMP_ARG_STR || a->type == QMP_ARG_INT || a->type == QMP_ARG_BOOL) {
			static const char *const expected[] = { [QMP_ARG_STR] = "string",
								[QMP_ARG_INT] = "integer",
								[QMP_ARG_BOOL] = "boolean" };
			int ok = a->type == QMP_ARG_STR	  ? is_str(v)
				 : a->type == QMP_ARG_INT ? json_is_integer(v)
							  : json_is_boolean(v);

			if (!ok)
				return fail(err, "Invalid parameter type for '%s', expected: %s",
					    a->name, expected[a->type]);
		} else if (a->type == QMP_ARG_ENUM) {
			if (!is_str(v))
				return fail(err, "Invalid parameter type for '%s', expected: %s",
					    a->name, "string");
			if (!in_values(a, json_string_value(v)))
				return fail(err, "Parameter '%s' does not accept value '%s'",
					    a->name, json_string_value(v));
		} else {
			size_t idx;
			json_t *e;

			if (!json_is_array(v))
				return fail(err, "Invalid parameter type for '%s', expected: %s",
					    a->name, "array");
			json_array_foreach(v, idx, e)
			{
				char name[64];

				snprintf(name, sizeof(name), "%s[%zu]", a->name, idx);
				if (!is_str(e))
					return fail(err,
						    "Invalid parameter type for '%s', expected: %s",
						    name, "string");
				/* QEMU's enum visitor names no list element here: 'null'. */
				if (!in_values(a, json_string_value(e)))
					return fail(err,
						    "Parameter '%s' does not accept value '%s'",
						    "null", json_string_value(e));
			}
		}
	}
	/* The first unexpected member in QEMU's QDict order is the one named. */
	ordered = qdict_order(args);
	json_object_foreach(ordered, key, val)
	{
		unsigned i;

		(void)val;
		for (i = 0; i < cmd->nargs; i++)
			if (!strcmp(cmd->args[i].name, key))
				break;
		if (i == cmd->nargs) {
			fail(err, "Parameter '%s' is unexpected", key, NULL);
			json_decref(ordered);
			return -1;
		}
	}
	json_decref(ordered);
	return 0;
}

/* The types the replies and events use, from the same declarations query-qmp-schema walks. */
static void qmp_schema_doc_types(FILE *out)
{
	struct qmp_type_doc d = { .nseen = 0 };

	fprintf(out, "## Types\n\nAs QEMU 10.0.2's schema declares them, reduced to what minivmm "
		     "returns.\n\n");
	for (unsigned i = 0; i < qmp_ncommands; i++)
		qmp_type_doc(out, &d, qmp_commands[i].ret);
	for (unsigned i = 0; i < QMP_EVENT__MAX; i++)
		qmp_type_doc(out, &d, qmp_events[i].data_type);
}

void qmp_schema_doc(FILE *out)
{
	fprintf(out, "# minivmm QMP reference\n\n"
		     "Generated by `minivmm --qmp-schema-doc` from api/qmp_schema.c; do not edit.\n"
		     "Wire format, error classes and messages are QEMU 10.0.2's "
		     "(tests/qmp/probe.py; the JSON edges that still differ are listed in "
		     "tests/integration/test_qemu_compare.py).\n\n## Commands\n\n");
	for (unsigned i = 0; i < qmp_ncommands; i++) {
		const struct qmp_command *c = &qmp_commands[i];

		fprintf(out, "### `%s`\n\n%s Returns %s.\n\n", c->name, c->doc,
			c->ret ? c->ret->name : "`{}`");
		for (unsigned j = 0; j < c->nargs; j++) {
			const struct qmp_arg *a = &c->args[j];

			fprintf(out, "- `%s`%s: %s", a->name, a->optional ? " (optional)" : "",
				a->qapi_type);
			for (unsigned v = 0; v < a->nvalues; v++)
				fprintf(out, "%s`%s`", v ? ", " : " (", a->values[v]);
			fprintf(out, "%s\n", a->nvalues ? ")" : "");
		}
		if (c->nargs)
			fprintf(out, "\n");
	}
	fprintf(out, "## Events\n\nEvery event: `{\"timestamp\": {\"seconds\", \"microseconds\"}, "
		     "\"event\": NAME[, \"data\": {...}]}`.\n\n");
	for (unsigned i = 0; i < QMP_EVENT__MAX; i++)
		fprintf(out, "### `%s`\n\n%s%s%s\n\n", qmp_events[i].name, qmp_events[i].doc,
			*qmp_events[i].data ? " Data: " : "", qmp_events[i].data);
	qmp_schema_doc_types(out);
}
