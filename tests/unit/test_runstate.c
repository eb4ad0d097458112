/* test_runstate.c - every run-state transition, allowed or refused; action names and parsing. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/action.h"
#include "core/runstate.h"
#include "tests/unit/unit.h"

/* QEMU 10.0.2's runstate_transitions_def, written out as text, independently of the bitmaps
 * (read out of the installed qemu-system-x86_64). Against the 7.2 list this file held before,
 * it adds 14: suspended from and to paused, prelaunch, save-vm and restore-vm, suspended ->
 * shutdown, and finish-migrate -> each stopped state. */
static const char *const expected_allowed[] = {
	"prelaunch->inmigrate",
	"prelaunch->suspended",
	"debug->running",
	"debug->finish-migrate",
	"debug->prelaunch",
	"inmigrate->internal-error",
	"inmigrate->io-error",
	"inmigrate->paused",
	"inmigrate->running",
	"inmigrate->shutdown",
	"inmigrate->suspended",
	"inmigrate->watchdog",
	"inmigrate->guest-panicked",
	"inmigrate->finish-migrate",
	"inmigrate->prelaunch",
	"inmigrate->postmigrate",
	"inmigrate->colo",
	"internal-error->paused",
	"internal-error->finish-migrate",
	"internal-error->prelaunch",
	"io-error->running",
	"io-error->finish-migrate",
	"io-error->prelaunch",
	"paused->running",
	"paused->finish-migrate",
	"paused->postmigrate",
	"paused->prelaunch",
	"paused->colo",
	"paused->suspended",
	"postmigrate->running",
	"postmigrate->finish-migrate",
	"postmigrate->prelaunch",
	"prelaunch->running",
	"prelaunch->finish-migrate",
	"finish-migrate->running",
	"finish-migrate->paused",
	"finish-migrate->postmigrate",
	"finish-migrate->prelaunch",
	"finish-migrate->colo",
	"finish-migrate->internal-error",
	"finish-migrate->io-error",
	"finish-migrate->shutdown",
	"finish-migrate->suspended",
	"finish-migrate->watchdog",
	"finish-migrate->guest-panicked",
	"restore-vm->running",
	"restore-vm->prelaunch",
	"restore-vm->suspended",
	"colo->running",
	"colo->prelaunch",
	"colo->shutdown",
	"running->debug",
	"running->internal-error",
	"running->io-error",
	"running->paused",
	"running->finish-migrate",
	"running->restore-vm",
	"running->save-vm",
	"running->shutdown",
	"running->watchdog",
	"running->guest-panicked",
	"running->colo",
	"save-vm->running",
	"save-vm->suspended",
	"shutdown->paused",
	"shutdown->finish-migrate",
	"shutdown->prelaunch",
	"shutdown->colo",
	"debug->suspended",
	"running->suspended",
	"suspended->running",
	"suspended->finish-migrate",
	"suspended->prelaunch",
	"suspended->colo",
	"suspended->paused",
	"suspended->save-vm",
	"suspended->restore-vm",
	"suspended->shutdown",
	"watchdog->running",
	"watchdog->finish-migrate",
	"watchdog->prelaunch",
	"watchdog->colo",
	"guest-panicked->running",
	"guest-panicked->finish-migrate",
	"guest-panicked->prelaunch",
};

static int listed(const char *pair)
{
	for (size_t i = 0; i < sizeof(expected_allowed) / sizeof(expected_allowed[0]); i++)
		if (!strcmp(expected_allowed[i], pair))
			return 1;
	return 0;
}

START_TEST(test_every_transition)
{
	unsigned allowed = 0;

	for (int from = 0; from < RUNSTATE__MAX; from++) {
		for (int to = 0; to < RUNSTATE__MAX; to++) {
			char pair[64];
			int want;

			snprintf(pair, sizeof(pair), "%s->%s", runstate_name(from),
				 runstate_name(to));
			want = from == to || listed(pair);
			ck_assert_msg(runstate_transition_ok(from, to) == want,
				      "%s: got %d want %d", pair, runstate_transition_ok(from, to),
				      want);
			allowed += from != to && want;
		}
	}
	ck_assert_uint_eq(allowed, sizeof(expected_allowed) / sizeof(expected_allowed[0]));
}
END_TEST

/* QEMU 10.0.2's RunState values in schema order (query-qmp-schema of the installed QEMU). */
START_TEST(test_names_in_schema_order)
{
	static const char *const want[] = {
		"debug",      "inmigrate",   "internal-error", "io-error",
		"paused",     "postmigrate", "prelaunch",      "finish-migrate",
		"restore-vm", "running",     "save-vm",	       "shutdown",
		"suspended",  "watchdog",    "guest-panicked", "colo",
	};

	ck_assert_int_eq(RUNSTATE__MAX, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < RUNSTATE__MAX; i++)
		ck_assert_str_eq(runstate_name(i), want[i]);
}
END_TEST

START_TEST(test_set_refuses_without_crashing)
{
	enum runstate s = RUNSTATE_PRELAUNCH;
	unsigned bugs = runstate_bugs;

	ck_assert_int_eq(runstate_set(&s, RUNSTATE_RUNNING), 0);
	ck_assert_int_eq(runstate_set(&s, RUNSTATE_GUEST_PANICKED), 0);
	/* guest-panicked -> shutdown is not a transition QEMU knows. */
	ck_assert_int_ne(runstate_set(&s, RUNSTATE_SHUTDOWN), 0);
	ck_assert_int_eq(s, RUNSTATE_GUEST_PANICKED);
	ck_assert_uint_eq(runstate_bugs, bugs + 1);
	ck_assert_int_eq(runstate_set(&s, RUNSTATE_PRELAUNCH), 0);
	ck_assert_int_ne(runstate_set(&s, RUNSTATE_PAUSED), 0); /* prelaunch cannot pause */
	ck_assert_int_ne(runstate_set(&s, RUNSTATE__MAX), 0);
	ck_assert_str_eq(runstate_name(RUNSTATE__MAX), "invalid");
	ck_assert(runstate_needs_reset(RUNSTATE_SHUTDOWN));
	ck_assert(runstate_needs_reset(RUNSTATE_INTERNAL_ERROR));
	ck_assert(!runstate_needs_reset(RUNSTATE_GUEST_PANICKED));
}
END_TEST

START_TEST(test_action_parse)
{
	struct actions a = ACTIONS_DEFAULT;
	char err[160];

	ck_assert_int_eq(a.reboot, REBOOT_RESET);
	ck_assert_int_eq(a.shutdown, SHUTDOWN_POWEROFF);
	ck_assert_int_eq(a.panic, PANIC_SHUTDOWN);
	ck_assert_int_eq(a.watchdog, WATCHDOG_RESET);
	ck_assert_int_eq(actions_parse_one(&a, "panic=exit-failure", err, sizeof(err)), 0);
	ck_assert_int_eq(a.panic, PANIC_EXIT_FAILURE);
	ck_assert_int_eq(actions_parse_one(&a, "watchdog=inject-nmi", err, sizeof(err)), 0);
	ck_assert_int_eq(a.watchdog, WATCHDOG_INJECT_NMI);
	ck_assert_int_eq(actions_parse_one(&a, "reboot=shutdown", err, sizeof(err)), 0);
	ck_assert_int_eq(a.reboot, REBOOT_SHUTDOWN);
	ck_assert_int_eq(actions_parse_one(&a, "shutdown=pause", err, sizeof(err)), 0);
	ck_assert_int_eq(a.shutdown, SHUTDOWN_PAUSE);

	ck_assert_int_eq(actions_parse_one(&a, "panic=explode", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "pause|shutdown|exit-failure|none"));
	ck_assert_int_eq(actions_parse_one(&a, "panicky=pause", err, sizeof(err)), -1);
	ck_assert_int_eq(actions_parse_one(&a, "pani=pause", err, sizeof(err)), -1);
	ck_assert_int_eq(actions_parse_one(&a, "panic", err, sizeof(err)), -1);
	ck_assert_int_eq(actions_parse_one(&a, "", err, sizeof(err)), -1);
	ck_assert_int_eq(a.panic, PANIC_EXIT_FAILURE); /* failures change nothing */
	actions_no_reboot(&a);
	actions_no_shutdown(&a);
	ck_assert_int_eq(a.reboot, REBOOT_SHUTDOWN);
	ck_assert_int_eq(a.shutdown, SHUTDOWN_PAUSE);
	ck_assert_int_eq(action_lookup(watchdog_action_names, WATCHDOG__MAX, "debug"),
			 WATCHDOG_DEBUG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runstate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_every_transition);
	tcase_add_test(tc, test_names_in_schema_order);
	tcase_add_test(tc, test_set_refuses_without_crashing);
	tcase_add_test(tc, test_action_parse);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
