/* main.c - minivmm's command line: parse, check every input, build the VM, run it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/qmp_schema.h"
#include "devices/pvpanic.h"
#include "log.h"
#include "vm.h"

#define DEFAULT_MEM_MIB 256
#define DEFAULT_CMDLINE "console=ttyS0"

static const char usage_text[] =
	"Usage: minivmm --kernel PATH [options]\n"
	"Boot a Linux bzImage in a KVM microVM with a 16550A serial console.\n"
	"\n"
	"  --kernel PATH        Linux bzImage to boot (x86 64-bit boot protocol 2.12+)\n"
	"  --initrd PATH        initial ramdisk\n"
	"  --cmdline STR        kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
	"  --memory MiB         guest RAM in MiB (default %d; above 3072 goes above 4 GiB)\n"
	"  --cpus N             number of vCPUs, 1..%d (default 1)\n"
	"  --serial MODE        console: stdio (default), file:PATH, or none\n"
	"  --no-acpi-shutdown   leave \\_S5 out of the DSDT: the guest cannot power off via ACPI\n"
	"                       (Linux then uses pvpanic's shutdown bit, if --pvpanic is on)\n"
	"  --pvpanic [OPTS]     pvpanic device; OPTS: port=0xNNN (default 0x505),\n"
	"                       events=0xN (default 0x7: panicked, crash-loaded, shutdown)\n"
	"  --qmp unix:PATH|fd:N QMP control socket (may be given up to 4 times)\n"
	"  --event-log PATH     append every lifecycle event to PATH as JSON lines\n"
	"  --action KEY=VALUE   reboot=reset|shutdown, shutdown=poweroff|pause,\n"
	"                       panic=pause|shutdown|exit-failure|none,\n"
	"                       watchdog=reset|shutdown|poweroff|pause|debug|none|inject-nmi\n"
	"  --no-reboot          same as --action reboot=shutdown\n"
	"  --no-shutdown        same as --action shutdown=pause\n"
	"  -S, --paused         stay in prelaunch until the QMP command cont\n"
	"  --log-level LEVEL    error, warn (default), info or debug\n"
	"  --qmp-schema-doc     print the QMP reference (Markdown) and exit\n"
	"  -h, --help           show this help and exit\n"
	"  -V, --version        show the version and exit\n"
	"\n"
	"On a terminal, Ctrl-A x quits; every other key goes to the guest.\n"
	"Exit status: 0 guest powered off, quit or host signal; 1 internal error;\n"
	"2 bad command line or input file; 3 guest panicked with panic=exit-failure.\n";

enum {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_SERIAL,
	OPT_NO_ACPI_SHUTDOWN,
	OPT_LOG_LEVEL,
	OPT_PVPANIC,
	OPT_QMP,
	OPT_EVENT_LOG,
	OPT_ACTION,
	OPT_NO_REBOOT,
	OPT_NO_SHUTDOWN,
	OPT_QMP_SCHEMA_DOC,
};

static const struct option long_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "no-acpi-shutdown", no_argument, NULL, OPT_NO_ACPI_SHUTDOWN },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "pvpanic", optional_argument, NULL, OPT_PVPANIC },
	{ "qmp", required_argument, NULL, OPT_QMP },
	{ "event-log", required_argument, NULL, OPT_EVENT_LOG },
	{ "action", required_argument, NULL, OPT_ACTION },
	{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
	{ "no-shutdown", no_argument, NULL, OPT_NO_SHUTDOWN },
	{ "paused", no_argument, NULL, 'S' },
	{ "qmp-schema-doc", no_argument, NULL, OPT_QMP_SCHEMA_DOC },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("minivmm: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see --help)\n", stderr);
	return EXIT_VM_USAGE;
}

/* A whole decimal number in [min, max], nothing else. */
static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "port=0x505,events=0x7": the --pvpanic options. Returns 0 or -1 (message printed). */
static int parse_pvpanic(struct vm_config *cfg, const char *opts)
{
	char buf[128], *save = NULL, *tok;
	unsigned long long v;

	cfg->pvpanic = 1;
	if (!opts)
		return 0;
	if (strlen(opts) >= sizeof(buf)) {
		usage_error("--pvpanic: options too long: '%s'", opts);
		return -1;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		if (!strncmp(tok, "port=", 5)) {
			errno = 0;
			v = strtoull(tok + 5, &end, 0);
			if (errno || *end || end == tok + 5 || v == 0 || v > 0xffff) {
				usage_error("--pvpanic: port wants 1..0xffff, got '%s'", tok + 5);
				return -1;
			}
			cfg->pvpanic_port = (uint16_t)v;
		} else if (!strncmp(tok, "events=", 7)) {
			errno = 0;
			v = strtoull(tok + 7, &end, 0);
			if (errno || *end || end == tok + 7 || v > 0x7) {
				usage_error("--pvpanic: events wants a mask of 0x1|0x2|0x4, got '%s'",
					    tok + 7);
				return -1;
			}
			cfg->pvpanic_events = (uint8_t)v;
		} else {
			usage_error("--pvpanic: unknown option '%s' (port=, events=)", tok);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vm_config cfg = {
		.cmdline = DEFAULT_CMDLINE,
		.mem_bytes = (uint64_t)DEFAULT_MEM_MIB << 20,
		.ncpus = 1,
		.serial = SERIAL_MODE_STDIO,
		.acpi_s5 = 1,
		.actions = ACTIONS_DEFAULT,
		.pvpanic_port = PVPANIC_ISA_PORT,
		.pvpanic_events = PVPANIC_EVENTS_ALL,
	};
	char err[200];
	static struct vm vm;
	unsigned long long v;
	int opt, status;

	opterr = 0; /* our own one-line messages */
	while ((opt = getopt_long(argc, argv, ":hVS", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			cfg.kernel = optarg;
			break;
		case OPT_INITRD:
			cfg.initrd = optarg;
			break;
		case OPT_CMDLINE:
			cfg.cmdline = optarg;
			break;
		case OPT_MEMORY:
			/* Upper bound only guards the arithmetic; the host decides the real limit. */
			if (parse_uint(optarg, 1, 1ull << 30, &v))
				return usage_error("--memory wants a size in MiB, got '%s'", optarg);
			cfg.mem_bytes = v << 20;
			break;
		case OPT_CPUS:
			if (parse_uint(optarg, 1, VM_MAX_CPUS, &v))
				return usage_error("--cpus wants a number from 1 to 254, got '%s'",
						   optarg);
			cfg.ncpus = (unsigned)v;
			break;
		case OPT_SERIAL:
			if (!strcmp(optarg, "stdio")) {
				cfg.serial = SERIAL_MODE_STDIO;
			} else if (!strcmp(optarg, "none")) {
				cfg.serial = SERIAL_MODE_NONE;
			} else if (!strncmp(optarg, "file:", 5) && optarg[5]) {
				cfg.serial = SERIAL_MODE_FILE;
				cfg.serial_path = optarg + 5;
			} else {
				return usage_error("--serial wants stdio, none or file:PATH, got '%s'",
						   optarg);
			}
			break;
		case OPT_NO_ACPI_SHUTDOWN:
			cfg.acpi_s5 = 0;
			break;
		case OPT_LOG_LEVEL:
			if (!strcmp(optarg, "error"))
				log_level = LOG_ERR;
			else if (!strcmp(optarg, "warn"))
				log_level = LOG_WARN;
			else if (!strcmp(optarg, "info"))
				log_level = LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				log_level = LOG_DEBUG;
			else
				return usage_error("--log-level wants error, warn, info or debug, "
						   "got '%s'",
						   optarg);
			break;
		case OPT_PVPANIC:
			/* Options may follow as the next word ("--pvpanic port=0x506"). */
			if (!optarg && optind < argc && argv[optind][0] != '-' &&
			    strchr(argv[optind], '='))
				optarg = argv[optind++];
			if (parse_pvpanic(&cfg, optarg))
				return EXIT_VM_USAGE;
			break;
		case OPT_QMP:
			if (strncmp(optarg, "unix:", 5) && strncmp(optarg, "fd:", 3))
				return usage_error("--qmp wants unix:PATH or fd:N, got '%s'", optarg);
			if (!strncmp(optarg, "unix:", 5) && !optarg[5])
				return usage_error("--qmp unix: needs a path, got '%s'", optarg);
			if (!strncmp(optarg, "fd:", 3) && parse_uint(optarg + 3, 0, INT_MAX, &v))
				return usage_error("--qmp fd: needs a file descriptor number, got '%s'",
						   optarg);
			if (cfg.nqmp == sizeof(cfg.qmp) / sizeof(cfg.qmp[0]))
				return usage_error("too many --qmp options (at most 4), at '%s'", optarg);
			cfg.qmp[cfg.nqmp++] = optarg;
			break;
		case OPT_EVENT_LOG:
			cfg.event_log = optarg;
			break;
		case OPT_ACTION:
			if (actions_parse_one(&cfg.actions, optarg, err, sizeof(err)))
				return usage_error("%s", err);
			break;
		case OPT_NO_REBOOT:
			actions_no_reboot(&cfg.actions);
			break;
		case OPT_NO_SHUTDOWN:
			actions_no_shutdown(&cfg.actions);
			break;
		case 'S':
			cfg.start_paused = 1;
			break;
		case OPT_QMP_SCHEMA_DOC:
			qmp_schema_doc(stdout);
			return EXIT_VM_OK;
		case 'h':
			printf(usage_text, DEFAULT_MEM_MIB, VM_MAX_CPUS);
			return EXIT_VM_OK;
		case 'V':
			printf("minivmm %s\n", MINIVMM_VERSION);
			return EXIT_VM_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!cfg.kernel)
		return usage_error("%s", "--kernel PATH is required");

	if (vm_check(&vm, &cfg)) {
		vm_destroy(&vm);
		return EXIT_VM_USAGE;
	}
	if (vm_create(&vm))
		return EXIT_VM_INTERNAL;
	status = vm_run(&vm);
	vm_destroy(&vm);
	return status;
}
