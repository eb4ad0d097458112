/* main.c - minivmm's command line: parse, check every input, build the VM, run it. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/qmp_schema.h"
#include "devices/pvpanic.h"
#include "core/log.h"
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
    "  --pvpanic [isa|mmio|pci][,OPTS]  pvpanic device (may be given up to 4 times); OPTS:\n"
    "                       events=0xN (default 0x7: panicked, crash-loaded, shutdown),\n"
    "                       isa: port=0xNNN (default 0x505),\n"
    "                       mmio: addr=0x... (default 0xfeb00000, page-aligned, 32-bit hole),\n"
    "                       pci: PCI device 1b36:0011 in the next free slot (no address)\n"
    "  --dump-dtb PATH      write the flattened device tree the guest gets to PATH and exit\n"
    "  --watchdog MODEL     hardware watchdog: ib700 (ISA ports 0x441/0x443) or i6300esb\n"
    "                       (PCI); on expiry the watchdog action applies (--action watchdog=)\n"
    "  --qmp unix:PATH|fd:N QMP control socket (may be given up to 4 times)\n"
    "  --event-log PATH     append every lifecycle event to PATH as JSON lines\n"
    "  --panic-dump DIR     on a guest panic, write an ELF core to DIR before the panic action\n"
    "  --name NAME          the VM's name (QMP query-name)\n"
    "  --uuid UUID          the VM's UUID, xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (query-uuid;\n"
    "                       default all zero)\n"
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
	OPT_DUMP_DTB,
	OPT_WATCHDOG,
	OPT_PANIC_DUMP,
	OPT_NAME,
	OPT_UUID,
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
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
	{ "panic-dump", required_argument, NULL, OPT_PANIC_DUMP },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "uuid", required_argument, NULL, OPT_UUID },
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

/* A UUID in its text form (8-4-4-4-12 hex digits, either case), as QEMU's -uuid takes it;
 * written to @out (37 bytes) in lower case, as QEMU prints it. Returns 0 or -1. */
static int parse_uuid(const char *s, char *out)
{
	if (strlen(s) != 36)
		return -1;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
		} else if (!isxdigit((unsigned char)s[i])) {
			return -1;
		}
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	out[36] = '\0';
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
			/* Upper bound only guards the arithmetic; the host decides the real limit.
			 */
			if (parse_uint(optarg, 1, 1ull << 30, &v))
				return usage_error("--memory wants a size in MiB, got '%s'",
						   optarg);
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
				return usage_error(
				    "--serial wants stdio, none or file:PATH, got '%s'", optarg);
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
			/* Options may follow as the next word ("--pvpanic mmio,addr=0x..."). */
			if (!optarg && optind < argc && pvpanic_opts_is_value(argv[optind]))
				optarg = argv[optind++];
			if (cfg.npvpanic == PVPANIC_MAX_INSTANCES)
				return usage_error(
				    "too many --pvpanic options (at most 4), at '%s'",
				    optarg ? optarg : "--pvpanic");
			if (pvpanic_opts_parse(optarg, &cfg.pvpanic[cfg.npvpanic], err,
					       sizeof(err)) ||
			    pvpanic_opts_check_set(cfg.pvpanic, cfg.npvpanic + 1, err, sizeof(err)))
				return usage_error("%s", err);
			cfg.npvpanic++;
			break;
		case OPT_DUMP_DTB:
			cfg.dump_dtb = optarg;
			break;
		case OPT_WATCHDOG:
			/* One watchdog, as QEMU's -watchdog allowed. */
			if (cfg.watchdog != WATCHDOG_MODEL_NONE)
				return usage_error("only one --watchdog is supported, at '%s'",
						   optarg);
			if (!strcmp(optarg, "ib700"))
				cfg.watchdog = WATCHDOG_MODEL_IB700;
			else if (!strcmp(optarg, "i6300esb"))
				cfg.watchdog = WATCHDOG_MODEL_I6300ESB;
			else
				return usage_error("--watchdog wants ib700 or i6300esb, got '%s'",
						   optarg);
			break;
		case OPT_QMP:
			if (strncmp(optarg, "unix:", 5) && strncmp(optarg, "fd:", 3))
				return usage_error("--qmp wants unix:PATH or fd:N, got '%s'",
						   optarg);
			if (!strncmp(optarg, "unix:", 5) && !optarg[5])
				return usage_error("--qmp unix: needs a path, got '%s'", optarg);
			if (!strncmp(optarg, "fd:", 3) && parse_uint(optarg + 3, 0, INT_MAX, &v))
				return usage_error(
				    "--qmp fd: needs a file descriptor number, got '%s'", optarg);
			if (cfg.nqmp == sizeof(cfg.qmp) / sizeof(cfg.qmp[0]))
				return usage_error("too many --qmp options (at most 4), at '%s'",
						   optarg);
			cfg.qmp[cfg.nqmp++] = optarg;
			break;
		case OPT_EVENT_LOG:
			cfg.event_log = optarg;
			break;
		case OPT_PANIC_DUMP: {
			struct stat st;

			if (stat(optarg, &st) || !S_ISDIR(st.st_mode) || access(optarg, W_OK))
				return usage_error("--panic-dump: '%s' is not a writable directory",
						   optarg);
			cfg.panic_dump = optarg;
			break;
		}
		case OPT_NAME:
			cfg.name = optarg;
			break;
		case OPT_UUID:
			if (parse_uuid(optarg, cfg.uuid))
				return usage_error(
				    "--uuid wants xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx "
				    "(hex digits), got '%s'",
				    optarg);
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
	if (cfg.dump_dtb) { /* as QEMU's -machine dumpdtb=: write what the guest would get, exit */
		status = vm_dump_dtb(&vm, cfg.dump_dtb) ? EXIT_VM_INTERNAL : EXIT_VM_OK;
		vm_destroy(&vm);
		return status;
	}
	status = vm_run(&vm);
	vm_destroy(&vm);
	return status;
}
