/* test_bus.c - the range bus: registration rules, lookup at boundaries, access sizes. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "core/bus.h"
#include "tests/unit/unit.h"

struct rec {
	uint64_t last_off;
	unsigned last_len;
	uint64_t last_val;
	int reads, writes;
};

static void rec_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct rec *r = opaque;

	r->reads++;
	r->last_off = off;
	r->last_len = len;
	bus_data_set(data, len, 0x1122334455667788ull);
}

static void rec_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct rec *r = opaque;

	r->writes++;
	r->last_off = off;
	r->last_len = len;
	r->last_val = bus_data_get(data, len);
}

static const struct bus_ops ops_any = { rec_read, rec_write, BUS_SIZE_ANY };
static const struct bus_ops ops_byte = { rec_read, rec_write, BUS_SIZE_1 };
static const struct bus_ops ops_none = { rec_read, rec_write, 0 };

START_TEST(test_register_rules)
{
	struct bus b;
	struct rec r = { 0 };
	/* Table of ranges tried against an existing [0x100, 0x110). */
	static const struct {
		uint64_t base, len;
		int expect;
	} cases[] = {
		{ 0x100, 0x10, -EEXIST },   /* identical */
		{ 0x0f8, 0x09, -EEXIST },   /* overlaps the first byte */
		{ 0x10f, 0x01, -EEXIST },   /* the last byte */
		{ 0x104, 0x02, -EEXIST },   /* inside */
		{ 0x0f0, 0x40, -EEXIST },   /* covers it */
		{ 0x0f0, 0x10, 0 },	    /* ends right before */
		{ 0x110, 0x10, 0 },	    /* starts right after */
		{ 0x200, 0, -EINVAL },	    /* zero length */
		{ UINT64_MAX, 2, -EINVAL }, /* wraps */
		{ UINT64_MAX, 1, 0 },	    /* the very last byte is fine */
		{ 0, 1, 0 },		    /* and the very first */
	};

	ck_assert_int_eq(bus_init(&b, "test"), 0);
	ck_assert_int_eq(bus_register(&b, 0x100, 0x10, &ops_any, &r, "a"), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(bus_register(&b, cases[i].base, cases[i].len, &ops_any, &r, "x") ==
				  cases[i].expect,
			      "case %zu", i);
	ck_assert_int_eq(bus_register(&b, 0x300, 4, &ops_none, &r, "nosize"), -EINVAL);
	ck_assert_int_eq(bus_register(&b, 0x300, 4, NULL, &r, "noops"), -EINVAL);
	bus_destroy(&b);
}
END_TEST

START_TEST(test_dispatch_offsets_and_bounds)
{
	struct bus b;
	struct rec r = { 0 };
	uint8_t buf[8];

	ck_assert_int_eq(bus_init(&b, "test"), 0);
	ck_assert_int_eq(bus_register(&b, 0x3f8, 8, &ops_any, &r, "dev"), 0);

	ck_assert_int_eq(bus_write(&b, 0x3fb, "\x5a", 1), BUS_OK);
	ck_assert_int_eq(r.last_off, 3);
	ck_assert_uint_eq(r.last_val, 0x5a);

	ck_assert_int_eq(bus_read(&b, 0x3f8, buf, 4), BUS_OK);
	ck_assert_int_eq(r.last_off, 0);
	ck_assert_uint_eq(bus_data_get(buf, 4), 0x55667788);

	/* Last byte is in range, an access straddling the end is not. */
	ck_assert_int_eq(bus_read(&b, 0x3ff, buf, 1), BUS_OK);
	ck_assert_int_eq(r.last_off, 7);
	ck_assert_int_eq(bus_read(&b, 0x3fe, buf, 4), BUS_UNMAPPED);
	ck_assert_uint_eq(bus_data_get(buf, 4), 0xffffffff);
	ck_assert_int_eq(bus_read(&b, 0x3f7, buf, 2), BUS_UNMAPPED);
	ck_assert_int_eq(bus_read(&b, 0x400, buf, 1), BUS_UNMAPPED);
	ck_assert_uint_eq(buf[0], 0xff);
	ck_assert_uint_eq(bus_unhandled(&b), 3);

	/* Writes nowhere are dropped, not delivered. */
	r.writes = 0;
	ck_assert_int_eq(bus_write(&b, 0x500, "\x01", 1), BUS_UNMAPPED);
	ck_assert_int_eq(r.writes, 0);
	bus_destroy(&b);
}
END_TEST

START_TEST(test_access_sizes)
{
	struct bus b;
	struct rec r = { 0 };
	uint8_t buf[8];

	ck_assert_int_eq(bus_init(&b, "test"), 0);
	ck_assert_int_eq(bus_register(&b, 0x505, 1, &ops_byte, &r, "byte"), 0);
	ck_assert_int_eq(bus_register(&b, 0x1000, 16, &ops_any, &r, "any"), 0);
	r.reads = r.writes = 0;
	ck_assert_int_eq(bus_read(&b, 0x505, buf, 1), BUS_OK);
	ck_assert_int_eq(bus_read(&b, 0x505, buf, 2), BUS_UNMAPPED); /* straddles end */
	ck_assert_int_eq(bus_register(&b, 0x506, 1, &ops_byte, &r, "byte2"), 0);
	ck_assert_int_eq(bus_read(&b, 0x505, buf, 2), BUS_UNMAPPED); /* spans two devices */
	ck_assert_int_eq(bus_read(&b, 0x1000, buf, 3), BUS_BAD_SIZE);
	ck_assert_uint_eq(bus_data_get(buf, 3), 0xffffff);
	ck_assert_int_eq(bus_write(&b, 0x1000, buf, 3), BUS_BAD_SIZE);
	ck_assert_int_eq(bus_read(&b, 0x1008, buf, 8), BUS_OK);
	ck_assert_int_eq(r.last_len, 8);
	ck_assert_int_eq(r.reads, 2);
	ck_assert_int_eq(r.writes, 0);
	bus_destroy(&b);
}
END_TEST

START_TEST(test_many_and_unregister)
{
	struct bus b;
	struct rec r[64];
	uint8_t v;

	memset(r, 0, sizeof(r));
	ck_assert_int_eq(bus_init(&b, "test"), 0);
	/* Register in a scrambled order; lookups must still find each one. */
	for (unsigned i = 0; i < 64; i++) {
		unsigned k = (i * 37) % 64;

		ck_assert_int_eq(bus_register(&b, 0x10000 + k * 0x100, 0x80, &ops_any, &r[k], "m"),
				 0);
	}
	for (unsigned k = 0; k < 64; k++) {
		ck_assert_int_eq(bus_read(&b, 0x10000 + k * 0x100 + 0x7f, &v, 1), BUS_OK);
		ck_assert_int_eq(r[k].reads, 1);
		ck_assert_int_eq(bus_read(&b, 0x10000 + k * 0x100 + 0x80, &v, 1), BUS_UNMAPPED);
	}
	ck_assert_int_eq(bus_unregister(&b, 0x10000 + 5 * 0x100, &r[5]), 0);
	ck_assert_int_eq(bus_unregister(&b, 0x10000 + 5 * 0x100, &r[5]), -ENOENT);
	ck_assert_int_eq(bus_read(&b, 0x10000 + 5 * 0x100, &v, 1), BUS_UNMAPPED);
	ck_assert_int_eq(bus_read(&b, 0x10000 + 6 * 0x100, &v, 1), BUS_OK);
	bus_destroy(&b);
}
END_TEST

/* A device that moves itself to the address written to it, from inside its own callback. */
struct mover {
	struct bus *bus;
	uint64_t base;
	int moves;
};

static void mover_write(void *opaque, uint64_t off, const void *data, unsigned len);

static const struct bus_ops mover_ops = { NULL, mover_write, BUS_SIZE_4 };

static void mover_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct mover *m = opaque;
	uint64_t to = bus_data_get(data, len);

	(void)off;
	ck_assert_int_eq(bus_unregister(m->bus, m->base, m), 0);
	ck_assert_int_eq(bus_register(m->bus, to, 4, &mover_ops, m, "mover"), 0);
	m->base = to;
	m->moves++;
}

START_TEST(test_remap_from_inside_a_callback)
{
	struct bus b;
	struct mover m = { &b, 0x1000, 0 };
	uint8_t buf[4];

	ck_assert_int_eq(bus_init(&b, "test"), 0);
	ck_assert_int_eq(bus_register(&b, 0x1000, 4, &mover_ops, &m, "mover"), 0);
	/* Would deadlock (write lock under our own read lock) if callbacks held the bus lock. */
	bus_data_set(buf, 4, 0x2000);
	ck_assert_int_eq(bus_write(&b, 0x1000, buf, 4), BUS_OK);
	ck_assert_int_eq(m.moves, 1);
	ck_assert_int_eq(bus_write(&b, 0x1000, buf, 4), BUS_UNMAPPED);
	bus_data_set(buf, 4, 0x1000);
	ck_assert_int_eq(bus_write(&b, 0x2000, buf, 4), BUS_OK);
	ck_assert_int_eq(m.moves, 2);
	ck_assert_int_eq(b.n, 1);
	/* A read lands on the NULL read callback: all-ones. */
	ck_assert_int_eq(bus_read(&b, 0x1000, buf, 4), BUS_OK);
	ck_assert_uint_eq(bus_data_get(buf, 4), 0xffffffff);
	bus_destroy(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_register_rules);
	tcase_add_test(tc, test_dispatch_offsets_and_bounds);
	tcase_add_test(tc, test_access_sizes);
	tcase_add_test(tc, test_many_and_unregister);
	tcase_add_test(tc, test_remap_from_inside_a_callback);
	tcase_set_timeout(tc, 10);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
