/* test_pvpanic_opts.c - the --pvpanic value: flavours, settings, and what is refused. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "devices/pvpanic.h"
#include "core/layout.h"
#include "vmm/pvpanic_opts.h"
#include "tests/unit/unit.h"

START_TEST(test_defaults_and_flavours)
{
	static const struct {
		const char *s;
		enum pvpanic_bus bus;
		uint64_t addr;
		uint8_t events;
	} ok[] = {
		{ NULL, PVPANIC_BUS_ISA, 0x505, 7 },
		{ "isa", PVPANIC_BUS_ISA, 0x505, 7 },
		{ "port=0x506,events=0x1", PVPANIC_BUS_ISA, 0x506, 1 },
		{ "isa,port=0x506", PVPANIC_BUS_ISA, 0x506, 7 },
		{ "events=0", PVPANIC_BUS_ISA, 0x505, 0 },
		{ "mmio", PVPANIC_BUS_MMIO, PVPANIC_MMIO_GPA, 7 },
		{ "mmio,addr=0xfed00000,events=3", PVPANIC_BUS_MMIO, 0xfed00000, 3 },
		{ "mmio,addr=0xe0100000", PVPANIC_BUS_MMIO, 0xe0100000, 7 },
		{ "mmio,addr=0xfeb01000", PVPANIC_BUS_MMIO, 0xfeb01000, 7 },
		{ "pci", PVPANIC_BUS_PCI, 0, 7 },
		{ "pci,events=0x1", PVPANIC_BUS_PCI, 0, 1 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct pvpanic_opts o;
		char err[160] = "";

		ck_assert_msg(pvpanic_opts_parse(ok[i].s, &o, err, sizeof(err)) == 0, "%s: %s",
			      ok[i].s, err);
		ck_assert_int_eq(o.bus, ok[i].bus);
		ck_assert_uint_eq(o.addr, ok[i].addr);
		ck_assert_uint_eq(o.events, ok[i].events);
	}
}
END_TEST

START_TEST(test_refused)
{
	static const struct {
		const char *s, *needle;
	} bad[] = {
		{ "mmio,addr=0xfeb00010", "not page-aligned" },
		{ "mmio,addr=0x1000", "outside the 32-bit MMIO hole" },
		{ "mmio,addr=0x100000000", "wants a number" },
		{ "mmio,addr=0xfec00000", "overlaps the IOAPIC" },
		{ "mmio,addr=0xfee00000", "overlaps the LAPIC" },
		{ "mmio,addr=0xc0000000", "overlaps the PCI memory window" },
		{ "mmio,addr=0xe0000000", "overlaps the PCI ECAM" },
		{ "mmio,addr=0xfffbc000", "KVM" },
		{ "mmio,addr=", "wants a number" },
		{ "mmio,addr=junk", "wants a number" },
		{ "mmio,port=0x506", "unknown option 'port=0x506'" },
		{ "isa,addr=0xfeb00000", "unknown option 'addr=0xfeb00000'" },
		{ "port=0", "port wants 1..0xffff" },
		{ "port=0x10000", "port wants 1..0xffff" },
		{ "events=0x8", "events wants a mask" },
		{ "pcie", "unknown flavour 'pcie' (isa, mmio, pci)" },
		{ "pci,addr=0xc0000000", "'addr=0xc0000000' not allowed" },
		{ "pci,port=0xc000", "'port=0xc000' not allowed" },
		{ "pci,events=0x8", "events wants a mask" },
		{ "pci,frob=1", "unknown option 'frob=1' (events=)" },
		{ "events=1,pci", "must come first" },
		{ "events=1,mmio", "must come first" },
		{ "frob=1", "unknown option" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pvpanic_opts o;
		char err[160] = "";

		ck_assert_msg(pvpanic_opts_parse(bad[i].s, &o, err, sizeof(err)) == -EINVAL,
			      "%s accepted", bad[i].s);
		ck_assert_msg(strstr(err, bad[i].needle) != NULL, "%s: '%s'", bad[i].s, err);
		ck_assert_msg(!strchr(err, '\n'), "%s: two lines", bad[i].s);
	}
}
END_TEST

START_TEST(test_value_word_and_sets)
{
	struct pvpanic_opts set[3];
	char err[160];

	ck_assert_int_eq(pvpanic_opts_is_value("mmio"), 1);
	ck_assert_int_eq(pvpanic_opts_is_value("isa,port=0x506"), 1);
	ck_assert_int_eq(pvpanic_opts_is_value("port=0x506"), 1);
	ck_assert_int_eq(pvpanic_opts_is_value("--qmp"), 0);
	ck_assert_int_eq(pvpanic_opts_is_value("pci"), 1);

	ck_assert_int_eq(pvpanic_opts_parse(NULL, &set[0], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_parse("mmio", &set[1], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_check_set(set, 2, err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_parse("isa", &set[2], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_check_set(set, 3, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "two isa instances at 0x505"));
	ck_assert_int_eq(pvpanic_opts_parse("mmio,addr=0xfeb00000", &set[2], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_check_set(set, 3, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "two mmio instances"));
	/* PCI instances never clash: each takes its own slot and BAR. */
	ck_assert_int_eq(pvpanic_opts_parse("pci", &set[0], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_parse("pci,events=1", &set[1], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_parse("isa", &set[2], err, sizeof(err)), 0);
	ck_assert_int_eq(pvpanic_opts_check_set(set, 3, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pvpanic_opts");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_defaults_and_flavours);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_value_word_and_sets);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
