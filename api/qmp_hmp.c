/*
 * qmp_hmp.c - human-monitor-command: the HMP commands that map onto what minivmm has, each
 * built on the QMP handler it wraps (as QEMU's HMP is), with QEMU 10.0.2's text. The command
 * line is split as QEMU's monitor splits it (a name runs to the first blank); an unknown
 * command, a missing info subcommand and extra arguments get QEMU's messages. Only "help" and
 * a bare "info" differ: they list minivmm's commands, not QEMU's.
 */
#include "qmp_query.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The output, with QEMU's monitor turning each "\n" into "\r\n". */
struct hmp_out {
	char *buf;
	size_t len, cap;
};

static void out_printf(struct hmp_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void out_printf(struct hmp_out *o, const char *fmt, ...)
{
	char *tmp;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&tmp, fmt, ap); /* a name is printed whole, however long */
	va_end(ap);
	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (o->len + 3 > o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 256;
			char *b = realloc(o->buf, cap);

			if (!b)
				break;
			o->buf = b;
			o->cap = cap;
		}
		if (tmp[i] == '\n')
			o->buf[o->len++] = '\r';
		o->buf[o->len++] = tmp[i];
	}
	free(tmp);
}

struct hmp_ctx {
	const struct qmp_command *cmd;
	const struct qmp_backend *be;
	const struct qmp_version *ver;
	struct qmp_error *err;
	int cpu; /* the monitor's current CPU (cpu-index), for info cpus */
	struct hmp_out out;
};

/* Run QMP command @cmd's handler @fn with no arguments; NULL with the error printed as HMP
 * prints it. */
static json_t *call_cmd(struct hmp_ctx *h, const struct qmp_command *cmd, qmp_handler fn)
{
	json_t *args = json_object(), *ret;
	struct qmp_error e = { .cls = "GenericError" };

	ret = fn(cmd, h->be, h->ver, args, &e);
	json_decref(args);
	if (!ret)
		out_printf(&h->out, "Error: %s\n", e.big ? e.big : e.desc);
	free(e.big);
	return ret;
}

/* A command whose QMP twin returns {} and whose HMP form prints nothing on success. */
static json_t *call(struct hmp_ctx *h, qmp_handler fn)
{
	return call_cmd(h, h->cmd, fn);
}

static void run_quiet(struct hmp_ctx *h, qmp_handler fn)
{
	json_decref(call(h, fn));
}

static json_t *call_named(struct hmp_ctx *h, const char *qmp_name)
{
	const struct qmp_command *c = qmp_command_find(qmp_name);

	return c && c->handler ? call_cmd(h, c, c->handler) : NULL;
}

static void hmp_stop(struct hmp_ctx *h)
{
	json_decref(call_named(h, "stop"));
}
static void hmp_cont(struct hmp_ctx *h)
{
	json_decref(call_named(h, "cont"));
}
static void hmp_quit(struct hmp_ctx *h)
{
	json_decref(call_named(h, "quit"));
}
static void hmp_system_reset(struct hmp_ctx *h)
{
	json_decref(call_named(h, "system_reset"));
}
static void hmp_system_powerdown(struct hmp_ctx *h)
{
	json_decref(call_named(h, "system_powerdown"));
}
static void hmp_nmi(struct hmp_ctx *h)
{
	run_quiet(h, qmp_inject_nmi);
}

static void info_status(struct hmp_ctx *h)
{
	json_t *r = call_named(h, "query-status");
	const char *status;
	int running;

	if (!r)
		return;
	running = json_is_true(json_object_get(r, "running"));
	status = json_string_value(json_object_get(r, "status"));
	out_printf(&h->out, "VM status: %s", running ? "running" : "paused");
	if (!running && status && strcmp(status, "paused"))
		out_printf(&h->out, " (%s)", status);
	out_printf(&h->out, "\n");
	json_decref(r);
}

static void info_version(struct hmp_ctx *h)
{
	/* QEMU prints the package right after the number, no blank between. */
	out_printf(&h->out, "%d.%d.%d%s\n", h->ver->major, h->ver->minor, h->ver->micro,
		   h->ver->package);
}

static void info_kvm(struct hmp_ctx *h)
{
	json_t *r = call(h, qmp_query_kvm);

	if (!r)
		return;
	out_printf(&h->out, "kvm support: ");
	if (json_is_true(json_object_get(r, "present")))
		out_printf(&h->out, "%s\n",
			   json_is_true(json_object_get(r, "enabled")) ? "enabled" : "disabled");
	else
		out_printf(&h->out, "not compiled\n");
	json_decref(r);
}

static void info_name(struct hmp_ctx *h)
{
	json_t *r = call(h, qmp_query_name);
	const char *name = json_string_value(json_object_get(r, "name"));

	if (name)
		out_printf(&h->out, "%s\n", name);
	json_decref(r);
}

static void info_uuid(struct hmp_ctx *h)
{
	json_t *r = call(h, qmp_query_uuid);

	if (r)
		out_printf(&h->out, "%s\n", json_string_value(json_object_get(r, "UUID")));
	json_decref(r);
}

static void info_cpus(struct hmp_ctx *h)
{
	json_t *r = call(h, qmp_query_cpus_fast), *c;
	size_t i;

	json_array_foreach(r, i, c)
	{
		json_int_t idx = json_integer_value(json_object_get(c, "cpu-index"));

		out_printf(&h->out, "%c CPU #%lld: thread_id=%lld\n", idx == h->cpu ? '*' : ' ',
			   (long long)idx,
			   (long long)json_integer_value(json_object_get(c, "thread-id")));
	}
	json_decref(r);
}

static void info_chardev(struct hmp_ctx *h)
{
	json_t *r = call(h, qmp_query_chardev), *c;
	size_t i;

	json_array_foreach(r, i, c)
	    out_printf(&h->out, "%s: filename=%s\n", json_string_value(json_object_get(c, "label")),
		       json_string_value(json_object_get(c, "filename")));
	json_decref(r);
}

static long long geti(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void info_pci_region(struct hmp_ctx *h, json_t *r)
{
	long long addr = geti(r, "address"), size = geti(r, "size");

	out_printf(&h->out, "      BAR%lld: ", geti(r, "bar"));
	if (!strcmp(json_string_value(json_object_get(r, "type")), "io")) {
		if (addr != -1)
			out_printf(&h->out, "I/O at 0x%04llx [0x%04llx]\n", addr, addr + size - 1);
		else
			out_printf(&h->out, "I/O (not mapped)\n");
		return;
	}
	out_printf(&h->out, "%d bit%s memory",
		   json_is_true(json_object_get(r, "mem_type_64")) ? 64 : 32,
		   json_is_true(json_object_get(r, "prefetch")) ? " prefetchable" : "");
	if (addr != -1)
		out_printf(&h->out, " at 0x%08llx [0x%08llx]\n", addr, addr + size - 1);
	else
		out_printf(&h->out, " (not mapped)\n");
}

static void info_pci(struct hmp_ctx *h)
{
	json_t *r = call(h, qmp_query_pci), *bus, *d, *reg;
	size_t i, j, k;

	json_array_foreach(r, i, bus) json_array_foreach(json_object_get(bus, "devices"), j, d)
	{
		json_t *cls = json_object_get(d, "class_info"), *id = json_object_get(d, "id");
		const char *desc = json_string_value(json_object_get(cls, "desc"));

		out_printf(&h->out, "  Bus %2lld, device %3lld, function %lld:\n", geti(d, "bus"),
			   geti(d, "slot"), geti(d, "function"));
		out_printf(&h->out, "    ");
		if (desc)
			out_printf(&h->out, "%s", desc);
		else
			out_printf(&h->out, "Class %04lld", geti(cls, "class"));
		out_printf(&h->out, ": PCI device %04llx:%04llx\n", geti(id, "vendor"),
			   geti(id, "device"));
		out_printf(&h->out, "      PCI subsystem %04llx:%04llx\n",
			   geti(id, "subsystem-vendor"), geti(id, "subsystem"));
		if (json_object_get(d, "irq"))
			out_printf(&h->out, "      IRQ %lld, pin %c\n", geti(d, "irq"),
				   (char)('A' + geti(d, "irq_pin") - 1));
		json_array_foreach(json_object_get(d, "regions"), k, reg) info_pci_region(h, reg);
		out_printf(&h->out, "      id \"%s\"\n",
			   json_string_value(json_object_get(d, "qdev_id")));
	}
	json_decref(r);
}

struct hmp_cmd {
	const char *names; /* "stop|s": the name and its aliases */
	const char *params;
	const char *help;
	void (*fn)(struct hmp_ctx *h);
};

static void hmp_help(struct hmp_ctx *h);
static void hmp_info_list(struct hmp_ctx *h);

/* QEMU's names, parameters and help texts (hmp-commands.hx), alphabetical as it lists them. */
static const struct hmp_cmd hmp_cmds[] = {
	{ "cont|c", "", "resume emulation", hmp_cont },
	{ "help|?", "[cmd]", "show the help", hmp_help },
	{ "info", "[subcommand]", "show various information about the system state",
	  hmp_info_list },
	{ "nmi", "", "inject an NMI", hmp_nmi },
	{ "quit|q", "", "quit the emulator", hmp_quit },
	{ "stop|s", "", "stop emulation", hmp_stop },
	{ "system_powerdown", "", "send system power down event", hmp_system_powerdown },
	{ "system_reset", "", "reset the system", hmp_system_reset },
};

/* hmp-commands-info.hx, the subset minivmm has. */
static const struct hmp_cmd hmp_info_cmds[] = {
	{ "chardev", "", "show the character devices", info_chardev },
	{ "cpus", "", "show infos for each CPU", info_cpus },
	{ "kvm", "", "show KVM information", info_kvm },
	{ "name", "", "show the current VM name", info_name },
	{ "pci", "", "show PCI info", info_pci },
	{ "status", "", "show the current VM status (running|paused)", info_status },
	{ "uuid", "", "show the current VM UUID", info_uuid },
	{ "version", "", "show the version of QEMU", info_version },
};

#define NCMDS(t) (sizeof(t) / sizeof(t[0]))

static int name_matches(const char *names, const char *s, size_t len)
{
	while (*names) {
		size_t n = strcspn(names, "|");

		if (n == len && !strncmp(names, s, len))
			return 1;
		names += n;
		if (*names == '|')
			names++;
	}
	return 0;
}

static const struct hmp_cmd *lookup(const struct hmp_cmd *t, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (name_matches(t[i].names, s, len))
			return &t[i];
	return NULL;
}

static const char *skip_blanks(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

static size_t word_len(const char *p)
{
	size_t n = 0;

	while (p[n] && !isspace((unsigned char)p[n]))
		n++;
	return n;
}

/* The words after "help" (set by the dispatcher): "", "stop", "info status". */
static const char *help_args;

static void print_help_line(struct hmp_ctx *h, const char *prefix, const struct hmp_cmd *c)
{
	out_printf(&h->out, "%s%s %s -- %s\n", prefix, c->names, c->params, c->help);
}

static void hmp_info_list(struct hmp_ctx *h)
{
	for (size_t i = 0; i < NCMDS(hmp_info_cmds); i++)
		print_help_line(h, "info ", &hmp_info_cmds[i]);
}

/* QEMU reads help's words into a 1024-byte buffer: a longer one is cut to 1023 bytes. */
#define HMP_HELP_WORD_MAX 1023

static size_t help_word_len(const char *p)
{
	size_t n = word_len(p);

	return n > HMP_HELP_WORD_MAX ? HMP_HELP_WORD_MAX : n;
}

static void hmp_help(struct hmp_ctx *h)
{
	const char *p = skip_blanks(help_args);
	size_t n = help_word_len(p);
	const struct hmp_cmd *c;

	if (!n) {
		for (size_t i = 0; i < NCMDS(hmp_cmds); i++)
			print_help_line(h, "", &hmp_cmds[i]);
		return;
	}
	c = lookup(hmp_cmds, NCMDS(hmp_cmds), p, n);
	if (!c) {
		out_printf(&h->out, "unknown command: '%.*s'\n", (int)n, p);
		return;
	}
	if (c->fn != hmp_info_list) {
		print_help_line(h, "", c);
		return;
	}
	p = skip_blanks(p + word_len(p));
	n = help_word_len(p);
	if (!n) {
		hmp_info_list(h);
		return;
	}
	c = lookup(hmp_info_cmds, NCMDS(hmp_info_cmds), p, n);
	/* QEMU rebuilds the words with one blank between them here. */
	if (c)
		print_help_line(h, "info ", c);
	else
		out_printf(&h->out, "unknown command: 'info %.*s'\n", (int)n, p);
}

/* Whatever follows a command that takes no arguments is QEMU's "extraneous characters". */
static int extraneous(struct hmp_ctx *h, const char *rest, const char *full, const char *typed,
		      size_t tlen)
{
	if (!*skip_blanks(rest))
		return 0;
	out_printf(&h->out,
		   "%s: extraneous characters at the end of line\n"
		   "Try \"help %.*s\" for more information\n",
		   full, (int)tlen, typed);
	return 1;
}

static void hmp_run(struct hmp_ctx *h, const char *line)
{
	const char *p = skip_blanks(line), *name = p;
	size_t n = word_len(p);
	const struct hmp_cmd *c;

	if (!n)
		return;
	c = lookup(hmp_cmds, NCMDS(hmp_cmds), name, n);
	if (!c) {
		out_printf(&h->out, "unknown command: '%.*s'\n", (int)(name + n - line), line);
		return;
	}
	p = name + n;
	if (c->fn == hmp_help) {
		help_args = p;
		hmp_help(h);
		return;
	}
	if (c->fn == hmp_info_list) {
		const char *sub = skip_blanks(p);
		size_t sn = word_len(sub);

		if (!sn) {
			hmp_info_list(h);
			return;
		}
		c = lookup(hmp_info_cmds, NCMDS(hmp_info_cmds), sub, sn);
		if (!c) {
			out_printf(&h->out, "unknown command: '%.*s'\n", (int)(sub + sn - line),
				   line);
			return;
		}
		if (extraneous(h, sub + sn, c->names, name, (size_t)(sub + sn - name)))
			return;
		c->fn(h);
		return;
	}
	if (extraneous(h, p, c->names, name, n))
		return;
	c->fn(h);
}

QMP_HANDLER(qmp_human_monitor_command)
{
	struct hmp_ctx h = { cmd, be, ver, err, 0, { NULL, 0, 0 } };
	json_t *cpu = json_object_get(args, "cpu-index");
	json_t *ret;

	if (cpu) {
		static struct qmp_cpu_info cpus[QMP_MAX_CPUS];
		json_int_t want = json_integer_value(cpu);
		unsigned n = be->query_cpus ? be->query_cpus(be->ctx, cpus, QMP_MAX_CPUS) : 0;

		if (want < 0 || want >= (json_int_t)n) {
			err->cls = "GenericError";
			snprintf(err->desc, sizeof(err->desc),
				 "Parameter 'cpu-index' expects a CPU number");
			return NULL;
		}
		h.cpu = (int)want;
	}
	hmp_run(&h, json_string_value(json_object_get(args, "command-line")));
	ret = json_stringn(h.out.buf ? h.out.buf : "", h.out.len);
	free(h.out.buf);
	return ret;
}
