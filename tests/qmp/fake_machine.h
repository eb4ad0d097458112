/* fake_machine.h - the made-up machine a QMP server reports on in the unit test and the fuzzer. */
#ifndef MINIVMM_TESTS_FAKE_MACHINE_H
#define MINIVMM_TESTS_FAKE_MACHINE_H

#include "api/qmp.h"

/*
 * The queries' answers, the same in tests/unit/test_qmp.c (which checks them byte by byte) and
 * tests/fuzz/fuzz_qmp.c: running; two vCPUs on threads 4242 and 4243; the host bridge, a
 * pvpanic-pci with its BAR decoded and an i6300esb with its BAR off; serial0 on stdio; no dump.
 * Each caller sets the operations that change the VM itself.
 */
int fake_query_status(void *ctx, int *running, const char **status, struct qmp_error *err);
unsigned fake_query_cpus(void *ctx, struct qmp_cpu_info *out, unsigned max);
unsigned fake_query_pci(void *ctx, struct qmp_pci_function *out, unsigned max);
unsigned fake_query_chardevs(void *ctx, struct qmp_chardev_info *out, unsigned max);
void fake_query_dump(void *ctx, struct dump_result *r);

#define FAKE_QUERIES                                                                               \
	.query_status = fake_query_status, .query_cpus = fake_query_cpus,                          \
	.query_pci = fake_query_pci, .query_chardevs = fake_query_chardevs,                        \
	.query_dump = fake_query_dump, .name = "vm1",                                              \
	.uuid = "0123abcd-0000-1111-2222-333344445555", .max_cpus = 254

/* The greeting's version: QEMU's numbers, minivmm's package. */
extern const struct qmp_version fake_version;

#endif
