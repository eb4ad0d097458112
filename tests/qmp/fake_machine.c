/* fake_machine.c - the made-up machine's answers to QMP's queries (fake_machine.h). */
#include "fake_machine.h"

#include <stdio.h>

const struct qmp_version fake_version = { QMP_QEMU_MAJOR, QMP_QEMU_MINOR, QMP_QEMU_MICRO,
					  "minivmm 0.1.0" };

int fake_query_status(void *ctx, int *running, const char **status, struct qmp_error *err)
{
	(void)ctx;
	(void)err;
	*running = 1;
	*status = "running";
	return 0;
}

unsigned fake_query_cpus(void *ctx, struct qmp_cpu_info *out, unsigned max)
{
	(void)ctx;
	for (unsigned i = 0; i < 2 && i < max; i++)
		out[i] = (struct qmp_cpu_info){ i, 4242 + (int)i };
	return 2;
}

unsigned fake_query_pci(void *ctx, struct qmp_pci_function *out, unsigned max)
{
	static const struct qmp_pci_function fns[] = {
		{ 0, 0, 0x1b36, 0x0008, 0, 0, 0x0600, 0, 0, { { 0 } }, 0 },
		{ 1,
		  0,
		  0x1b36,
		  0x0011,
		  0x1af4,
		  0x1100,
		  0x0880,
		  0,
		  0,
		  { { 0, 0, 1, 0xc0000000, 0x1000 } },
		  1 },
		{ 2,
		  0,
		  0x8086,
		  0x25ab,
		  0x1af4,
		  0x1100,
		  0x0880,
		  1,
		  18,
		  { { 0, 0, 0, 0xc0001000, 0x10 } },
		  1 },
	};

	(void)ctx;
	for (unsigned i = 0; i < 3 && i < max; i++)
		out[i] = fns[i];
	return 3;
}

unsigned fake_query_chardevs(void *ctx, struct qmp_chardev_info *out, unsigned max)
{
	(void)ctx;
	if (!max)
		return 0;
	snprintf(out[0].label, sizeof(out[0].label), "serial0");
	snprintf(out[0].filename, sizeof(out[0].filename), "stdio");
	out[0].frontend_open = 1;
	return 1;
}

void fake_query_dump(void *ctx, struct dump_result *r)
{
	(void)ctx;
	*r = (struct dump_result){ DUMP_STATUS_NONE, 0, 0 };
}
