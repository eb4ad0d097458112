/* test_steps.c - the setup-step runner: order, and undoing on failure, the failed step included. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "core/steps.h"
#include "tests/unit/unit.h"

/* Each step "allocates" when it starts; step 2 fails half-way unless told otherwise. */
static struct {
	char log[64];
	int held[3]; /* what each step holds: what a leak would leave */
	int fail_at; /* step index that fails, or -1 */
} t;

static void note(char c, int i)
{
	size_t n = strlen(t.log);

	t.log[n] = c;
	t.log[n + 1] = (char)('0' + i);
}

#define STEP(i)                                                                                    \
	static int init##i(void *ctx)                                                              \
	{                                                                                          \
		(void)ctx;                                                                         \
		note('+', i);                                                                      \
		t.held[i] = 1; /* half of the step done */                                         \
		return t.fail_at == i ? -ENOMEM : 0;                                               \
	}                                                                                          \
	static void fini##i(void *ctx)                                                             \
	{                                                                                          \
		(void)ctx;                                                                         \
		note('-', i);                                                                      \
		t.held[i] = 0;                                                                     \
	}

STEP(0)
STEP(1)
STEP(2)

static const struct step steps[] = {
	{ "zero", init0, fini0 },
	{ "one", init1, fini1 },
	{ "two", init2, fini2 },
};

static void reset(int fail_at)
{
	memset(&t, 0, sizeof(t));
	t.fail_at = fail_at;
}

START_TEST(test_steps_all_run_then_unwind_in_reverse)
{
	unsigned done;

	reset(-1);
	ck_assert_int_eq(steps_run(steps, 3, NULL, &done), 0);
	ck_assert_uint_eq(done, 3);
	steps_unwind(steps, &done, NULL);
	ck_assert_str_eq(t.log, "+0+1+2-2-1-0");
	ck_assert_uint_eq(done, 0);
}
END_TEST

/* A step that fails half-way is undone too (its fini copes with a partial init), then the
 * steps before it, in reverse: nothing stays held. */
START_TEST(test_steps_failed_step_unwound)
{
	unsigned done;

	reset(2);
	ck_assert_int_eq(steps_run(steps, 3, NULL, &done), -ENOMEM);
	ck_assert_str_eq(t.log, "+0+1+2-2-1-0");
	ck_assert_int_eq(t.held[0] + t.held[1] + t.held[2], 0);
	ck_assert_uint_eq(done, 0);
	/* Unwinding again (vm_destroy after a failed vm_create) does nothing more. */
	steps_unwind(steps, &done, NULL);
	ck_assert_str_eq(t.log, "+0+1+2-2-1-0");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("steps");
	TCase *tc = tcase_create("steps");

	tcase_add_test(tc, test_steps_all_run_then_unwind_in_reverse);
	tcase_add_test(tc, test_steps_failed_step_unwound);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
