/* test_cmdline.c - minivmm's command line as a function: defaults, values, refusals, reruns. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pvpanic.h"
#include "vmm/cmdline.h"
#include "tests/unit/unit.h"

static char out_buf[8192], err_buf[1024];

/* Parse @words (NULL-terminated, without argv[0]); what went to stdout and stderr is kept. */
static int parse(struct vm_config *cfg, const char *const *words)
{
	char *argv[32] = { "minivmm" };
	int argc = 1, ret;
	FILE *out = fmemopen(out_buf, sizeof(out_buf), "w");
	FILE *err = fmemopen(err_buf, sizeof(err_buf), "w");

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	while (words[argc - 1])
		argv[argc] = (char *)words[argc - 1], argc++;
	ret = cmdline_parse(argc, argv, cfg, out, err);
	fclose(out);
	fclose(err);
	return ret;
}

START_TEST(test_defaults)
{
	static const char *const w[] = { "--kernel", "k", NULL };
	struct vm_config c;

	ck_assert_int_eq(parse(&c, w), CMDLINE_RUN);
	ck_assert_str_eq(c.kernel, "k");
	ck_assert_str_eq(c.cmdline, CMDLINE_DEFAULT_CMDLINE);
	ck_assert_uint_eq(c.mem_bytes, (uint64_t)CMDLINE_DEFAULT_MEM_MIB << 20);
	ck_assert_uint_eq(c.ncpus, 1);
	ck_assert_int_eq(c.acpi_s5, 1);
	ck_assert_uint_eq(c.npvpanic, 0);
	ck_assert_str_eq(c.uuid, "");
	ck_assert_int_eq(c.actions.reboot, REBOOT_RESET);
}
END_TEST

START_TEST(test_values)
{
	static const char *const w[] = { "--kernel=k",
					 "--memory",
					 "512",
					 "--cpus",
					 "4",
					 "--pvpanic",
					 "mmio,events=3",
					 "--pvpanic",
					 "--uuid",
					 "0123ABCD-0000-1111-2222-333344445555",
					 "--action",
					 "panic=pause",
					 "--no-shutdown",
					 "-S",
					 "--qmp",
					 "fd:3",
					 "--serial",
					 "file:/tmp/x",
					 NULL };
	struct vm_config c;

	ck_assert_int_eq(parse(&c, w), CMDLINE_RUN);
	ck_assert_uint_eq(c.mem_bytes, 512ull << 20);
	ck_assert_uint_eq(c.ncpus, 4);
	/* a bare --pvpanic followed by an option takes no value */
	ck_assert_uint_eq(c.npvpanic, 2);
	ck_assert_int_eq(c.pvpanic[0].bus, PVPANIC_BUS_MMIO);
	ck_assert_uint_eq(c.pvpanic[0].events, 3);
	ck_assert_int_eq(c.pvpanic[1].bus, PVPANIC_BUS_ISA);
	ck_assert_str_eq(c.uuid, "0123abcd-0000-1111-2222-333344445555");
	ck_assert_int_eq(c.actions.panic, PANIC_PAUSE);
	ck_assert_int_eq(c.actions.shutdown, SHUTDOWN_PAUSE);
	ck_assert_int_eq(c.start_paused, 1);
	ck_assert_uint_eq(c.nqmp, 1);
	ck_assert_str_eq(c.qmp[0], "fd:3");
	ck_assert_int_eq(c.serial, SERIAL_MODE_FILE);
	ck_assert_str_eq(c.serial_path, "/tmp/x");
}
END_TEST

START_TEST(test_refusals_say_why)
{
	static const struct {
		const char *w[4];
		const char *needle;
	} cases[] = {
		{ { "--kernel", "k", "--cpus", "255" }, "--cpus wants a number from 1 to 254" },
		{ { "--kernel", "k", "--memory", "-5" }, "--memory wants a size in MiB" },
		{ { "--kernel", "k", "stray" }, "unexpected argument 'stray'" },
		{ { "--kernel" }, "option '--kernel' needs a value" },
		{ { "--frobnicate" }, "unknown option '--frobnicate'" },
		{ { "--uuid", "xyz" }, "--uuid wants" },
		{ { NULL }, "--kernel PATH is required" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config c;

		ck_assert_int_eq(parse(&c, cases[i].w), EXIT_VM_USAGE);
		ck_assert_msg(strstr(err_buf, cases[i].needle), "%s: got %s", cases[i].needle,
			      err_buf);
		ck_assert_ptr_nonnull(strstr(err_buf, "(see --help)\n"));
	}
}
END_TEST

/* The parser restarts getopt: a second command line is parsed from its start, with nothing
 * left over from the first (the fuzz harness and the tests parse many). */
START_TEST(test_parses_again)
{
	static const char *const first[] = { "--kernel", "a", "--cpus", "3", "--bogus", NULL };
	static const char *const second[] = { "--kernel", "b", NULL };
	static const char *const help[] = { "--help", NULL };
	struct vm_config c;

	ck_assert_int_eq(parse(&c, first), EXIT_VM_USAGE);
	ck_assert_int_eq(parse(&c, second), CMDLINE_RUN);
	ck_assert_str_eq(c.kernel, "b");
	ck_assert_uint_eq(c.ncpus, 1);
	ck_assert_int_eq(parse(&c, help), EXIT_VM_OK);
	ck_assert_ptr_nonnull(strstr(out_buf, "Usage: minivmm --kernel PATH"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cmdline");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_refusals_say_why);
	tcase_add_test(tc, test_parses_again);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
