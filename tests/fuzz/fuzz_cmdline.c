/* fuzz_cmdline.c - libFuzzer harness: the command line, --pvpanic values and --action pairs. */
/*
 * The input is the argument list, NUL-separated (argv[0] is "minivmm"). vmm/main.c itself is
 * built into the harness with its main() renamed minivmm_main, and the link wraps vm_check
 * and vm_destroy: the first call after the options are parsed hands the configuration to the
 * harness and ends the run, so no VM is built. Each word is also fed to pvpanic_opts_parse
 * and actions_parse_one on their own. Invariants, beyond "no crash":
 *  - a command line accepted to run has a kernel, memory in whole MiB, 1..254 vCPUs, at most
 *    4 pvpanic instances that are valid and do not clash, at most 4 QMP sockets of the two
 *    kinds, a lower-case UUID or none, every action and mode in range;
 *  - parsing is repeatable: the same words give the same configuration and status twice;
 *  - an accepted --pvpanic value printed back in full form parses to the same instance;
 *  - an accepted --action KEY=VALUE sets exactly that key to that value.
 */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/pvpanic.h"
#include "core/action.h"
#include "core/layout.h"
#include "core/log.h"
#include "vmm/exit.h"
#include "vmm/pvpanic_opts.h"
#include "vmm/vm.h"

int minivmm_main(int argc, char **argv);
int __wrap_vm_check(struct vm *vm, const struct vm_config *cfg);
void __wrap_vm_destroy(struct vm *vm);

/* What main() parsed, taken at its first step after the options. */
static struct vm_config parsed;
static int accepted;

int __wrap_vm_check(struct vm *vm, const struct vm_config *cfg)
{
	(void)vm;
	parsed = *cfg;
	accepted = 1;
	return -1; /* main() then destroys the VM it never built and returns */
}

void __wrap_vm_destroy(struct vm *vm)
{
	(void)vm;
}

/* Run main() on @argv with stdout and stderr sent to /dev/null; its status, and @cfg when
 * it accepted the command line (else 0). */
static int run_main(int argc, char **argv, struct vm_config *cfg, int *ok)
{
	static int null_fd = -1;
	int saved_out, saved_err, status;

	if (null_fd < 0)
		null_fd = open("/dev/null", O_WRONLY);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	if (null_fd < 0 || saved_out < 0 || saved_err < 0)
		abort();
	dup2(null_fd, 1);
	dup2(null_fd, 2);
	memset(&parsed, 0, sizeof(parsed));
	accepted = 0;
	optind = 0; /* GNU getopt starts afresh */
	log_level = LOG_WARN;
	status = minivmm_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	*cfg = parsed;
	*ok = accepted;
	return status;
}

#define MAX_ARGS 24

static void fail(const char *why, const char *word)
{
	fprintf(stderr, "%s: '%s'\n", why, word ? word : "");
	abort();
}

static void check_config(const struct vm_config *c)
{
	char err[200];

	if (!c->kernel)
		fail("running without a kernel", NULL);
	if (!c->mem_bytes || c->mem_bytes % (1u << 20) || c->mem_bytes > (1ull << 50))
		fail("memory size", NULL);
	if (c->ncpus < 1 || c->ncpus > VM_MAX_CPUS)
		fail("vCPU count", NULL);
	if (c->npvpanic > PVPANIC_MAX_INSTANCES ||
	    pvpanic_opts_check_set(c->pvpanic, c->npvpanic, err, sizeof(err)))
		fail("pvpanic set", err);
	for (unsigned i = 0; i < c->npvpanic; i++)
		if (c->pvpanic[i].events & ~PVPANIC_EVENTS_ALL)
			fail("pvpanic events", NULL);
	if (c->nqmp > 4)
		fail("too many QMP sockets", NULL);
	for (unsigned i = 0; i < c->nqmp; i++)
		if (strncmp(c->qmp[i], "unix:", 5) && strncmp(c->qmp[i], "fd:", 3))
			fail("QMP socket kind", c->qmp[i]);
	if (c->uuid[0]) {
		if (strlen(c->uuid) != 36)
			fail("UUID length", c->uuid);
		for (int i = 0; i < 36; i++)
			if ((i == 8 || i == 13 || i == 18 || i == 23)
				? c->uuid[i] != '-'
				: !isxdigit((unsigned char)c->uuid[i]) ||
				      isupper((unsigned char)c->uuid[i]))
				fail("UUID text", c->uuid);
	}
	if (c->serial > SERIAL_MODE_NONE || (c->serial == SERIAL_MODE_FILE && !*c->serial_path))
		fail("serial mode", NULL);
	if (c->watchdog > WATCHDOG_MODEL_I6300ESB || c->actions.reboot >= REBOOT__MAX ||
	    c->actions.shutdown >= SHUTDOWN__MAX || c->actions.panic >= PANIC__MAX ||
	    c->actions.watchdog >= WATCHDOG__MAX)
		fail("an enum out of range", NULL);
}

static void check_pvpanic_word(const char *w)
{
	static const char *const bus[] = { "isa", "mmio", "pci" };
	struct pvpanic_opts o, again;
	char err[200], text[128];

	if (pvpanic_opts_parse(w, &o, err, sizeof(err)))
		return;
	if (o.bus > PVPANIC_BUS_PCI || o.events & ~PVPANIC_EVENTS_ALL)
		fail("pvpanic value out of range", w);
	if (o.bus == PVPANIC_BUS_PCI)
		snprintf(text, sizeof(text), "pci,events=0x%x", o.events);
	else
		snprintf(text, sizeof(text), "%s,%s=0x%llx,events=0x%x", bus[o.bus],
			 o.bus == PVPANIC_BUS_ISA ? "port" : "addr", (unsigned long long)o.addr,
			 o.events);
	if (pvpanic_opts_parse(text, &again, err, sizeof(err)))
		fail("an accepted pvpanic value printed back is refused", text);
	if (again.bus != o.bus || again.addr != o.addr || again.events != o.events)
		fail("an accepted pvpanic value printed back parses differently", text);
	if (o.bus == PVPANIC_BUS_ISA && (!o.addr || o.addr > 0xffff))
		fail("ISA port", w);
	if (o.bus == PVPANIC_BUS_MMIO &&
	    (o.addr % 0x1000 || o.addr < MMIO_HOLE_START || o.addr >= MMIO_HOLE_END))
		fail("MMIO address", w);
}

static void check_action_word(const char *w)
{
	static const struct {
		const char *key;
		const char *const *names;
		int n;
	} keys[] = {
		{ "reboot", reboot_action_names, REBOOT__MAX },
		{ "shutdown", shutdown_action_names, SHUTDOWN__MAX },
		{ "panic", panic_action_names, PANIC__MAX },
		{ "watchdog", watchdog_action_names, WATCHDOG__MAX },
	};
	struct actions a = ACTIONS_DEFAULT, before = a;
	char err[200];
	const char *eq = strchr(w, '=');

	if (actions_parse_one(&a, w, err, sizeof(err)))
		return;
	if (!eq)
		fail("an action without '=' accepted", w);
	for (unsigned k = 0; k < 4; k++) {
		int *field = k == 0   ? (int *)&a.reboot
			     : k == 1 ? (int *)&a.shutdown
			     : k == 2 ? (int *)&a.panic
				      : (int *)&a.watchdog;
		int *old = k == 0   ? (int *)&before.reboot
			   : k == 1 ? (int *)&before.shutdown
			   : k == 2 ? (int *)&before.panic
				    : (int *)&before.watchdog;
		int named = strlen(keys[k].key) == (size_t)(eq - w) &&
			    !strncmp(w, keys[k].key, (size_t)(eq - w));

		if (named && *field != action_lookup(keys[k].names, keys[k].n, eq + 1))
			fail("the action set is not the one named", w);
		if (!named && *field != *old)
			fail("an action changed another key", w);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 2], *argv2[MAX_ARGS + 2];
	struct vm_config c1, c2;
	int argc = 1, s1, s2, ok1, ok2;
	size_t start = 0;

	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "minivmm";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (buf[i])
			continue;
		argv[argc++] = buf + start;
		start = i + 1;
	}
	argv[argc] = NULL;

	for (int i = 1; i < argc; i++) {
		check_pvpanic_word(argv[i]);
		check_action_word(argv[i]);
	}
	/* getopt permutes argv: give each run its own copy of the pointers. */
	memcpy(argv2, argv, sizeof(argv));
	s1 = run_main(argc, argv, &c1, &ok1);
	s2 = run_main(argc, argv2, &c2, &ok2);
	if (s1 != s2 || ok1 != ok2 || (ok1 && memcmp(&c1, &c2, sizeof(c1))))
		fail("the same command line parsed twice differs", argv[1]);
	if (ok1)
		check_config(&c1);
	else if (s1 != EXIT_VM_OK && s1 != EXIT_VM_USAGE)
		fail("exit status", NULL);
	free(buf);
	return 0;
}
