/*
 * test_lifecycle.c - the policy in vmm/lifecycle.c for a watchdog's expiry, action by action:
 * the events clients see (read back from the journal), the run state, and what was done to
 * the vcpus and the machine (fake machine operations below stand in for vm.c).
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/event_log.h"
#include "api/qmp.h"
#include "api/qmp_events.h"
#include "vmm/exit.h"
#include "vmm/lifecycle.h"
#include "tests/unit/unit.h"

/* --- fake machine operations ------------------------------------------------------------- */

static struct {
	int pauses, resumes, nmis, resets, nmi_while_running, power_buttons, finishes;
	int paused;
	int status;
} stub;

static void fake_pause(void *ctx)
{
	(void)ctx;
	stub.pauses++;
	stub.paused = 1;
}

static void fake_resume(void *ctx)
{
	(void)ctx;
	stub.resumes++;
	stub.paused = 0;
}

static void fake_nmi(void *ctx)
{
	(void)ctx;
	stub.nmis++;
	stub.nmi_while_running += !stub.paused;
}

static int fake_reset(void *ctx)
{
	(void)ctx;
	stub.resets++;
	stub.paused = 1; /* vcpus come back parked */
	return 0;
}

static void fake_power_button(void *ctx)
{
	(void)ctx;
	stub.power_buttons++;
}

static void fake_finish(void *ctx, int status)
{
	(void)ctx;
	stub.finishes++;
	stub.status = status;
}

/* --panic-dump: records whether the vcpus were parked while the core was written. */
static int dumps, dumped_parked;

static int fake_panic_dump(void *ctx, struct vm_event *ev)
{
	(void)ctx;
	dumps++;
	dumped_parked = stub.paused;
	*ev = (struct vm_event){ .kind = QMP_EVENT_DUMP_COMPLETED, .file = "/d/x.vmcore" };
	ev->dump.status = DUMP_STATUS_COMPLETED;
	return 0;
}

/* The panic report: records that the vcpus were parked and which core it was told of. */
static int reports, reported_parked;
static struct panic_report report;

static int fake_panic_report(void *ctx, enum panic_action action, const char *vmcore,
			     struct vm_event *ev)
{
	(void)ctx;
	reports++;
	reported_parked = stub.paused;
	report = (struct panic_report){
		.cpu = 1, .action = action, .vmcore = vmcore, .log_error = "no log"
	};
	*ev = (struct vm_event){ .kind = QMP_EVENT_GUEST_PANIC_REPORT, .report = &report };
	return 0;
}

static const struct machine_ops fake_ops = {
	fake_pause,  fake_resume, fake_reset,	   fake_nmi,	      fake_power_button,
	fake_finish, NULL,	  fake_panic_dump, fake_panic_report,
};

/* --- fixture: events go to a QMP server with a journal, as in the VMM ----------------------- */

static struct lifecycle lc;
static struct timer_clock vclock;
static struct qmp_server *qmp;
static struct loop *loop;
static struct event_log *elog;
static char journal[] = "/tmp/minivmm-lc-XXXXXX";

static void send_event(void *ctx, const struct vm_event *ev)
{
	(void)ctx;
	qmp_event_send(qmp, ev);
}

static void setup(void)
{
	static const struct qmp_version ver = { 0, 1, 0, "test" };
	const struct actions defaults = ACTIONS_DEFAULT;
	const struct event_sink events = { send_event, NULL };
	struct qmp_backend be = { 0 };
	int fd;

	memset(&stub, 0, sizeof(stub));
	dumps = dumped_parked = reports = reported_parked = 0;
	strcpy(journal, "/tmp/minivmm-lc-XXXXXX");
	fd = mkstemp(journal);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(loop_create(&loop), 0);
	ck_assert_int_eq(qmp_server_create(loop, &be, &ver, &qmp), 0);
	ck_assert_int_eq(event_log_open(journal, &elog), 0);
	qmp_server_set_event_log(qmp, elog);
	timer_clock_init(&vclock, NULL, 1);
	lifecycle_init(&lc, &defaults, 0, &vclock, &fake_ops, &events);
	lc.state = RUNSTATE_RUNNING;
}

static void teardown(void)
{
	qmp_server_destroy(qmp);
	event_log_close(elog);
	timer_clock_destroy(&vclock);
	loop_destroy(loop);
	unlink(journal);
}

/* The journal so far as "EVENT" or "EVENT key=value ..." lines joined by "; ". */
static const char *events(void)
{
	static char out[4096];
	char line[1024];
	FILE *f = fopen(journal, "r");

	out[0] = 0;
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *ev = json_loads(line, 0, NULL), *data;
		const char *key;
		json_t *val;

		ck_assert_ptr_nonnull(ev);
		if (out[0])
			strcat(out, "; ");
		strcat(out, json_string_value(json_object_get(ev, "event")));
		data = json_object_get(ev, "data");
		json_object_foreach(data, key, val)
		{
			char kv[128];

			if (json_is_string(val))
				snprintf(kv, sizeof(kv), " %s=%s", key, json_string_value(val));
			else
				snprintf(kv, sizeof(kv), " %s=%s", key,
					 json_is_true(val) ? "true" : "false");
			strcat(out, kv);
		}
		json_decref(ev);
	}
	fclose(f);
	return out;
}

static void expire(enum watchdog_action a)
{
	lc.actions.watchdog = a;
	lifecycle_handle(&lc, VM_REQ_WATCHDOG, CAUSE_NONE);
}

static void run_loop_for(double seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		loop_run_once(loop, 20);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
}

/* --- one test per action ------------------------------------------------------------------ */

#define DUMPED "DUMP_COMPLETED result=false __org.minivmm_file=/d/x.vmcore"
/* The report's members as events() prints them (a number or null shows as "false"). */
#define REPORT(action, vmcore)                                                                     \
	"__org.minivmm_GUEST_PANIC_REPORT cpu=false message=false action=" action vmcore           \
	" registers=false log=false log_error=no log"
#define CORE " vmcore=/d/x.vmcore"

START_TEST(test_panic_dump_then_shutdown)
{
	lc.panic_dump = 1;
	lifecycle_handle(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	/* The core is written with every vcpu parked, before the action's events. */
	ck_assert_str_eq(events(),
			 "GUEST_PANICKED action=poweroff; " DUMPED
			 "; " REPORT("shutdown", CORE) "; SHUTDOWN guest=true reason=guest-panic");
	ck_assert_int_eq(reports, 1);
	ck_assert_int_eq(reported_parked, 1);
	ck_assert_int_eq(dumps, 1);
	ck_assert_int_eq(dumped_parked, 1);
	ck_assert(lc.done);
}
END_TEST

START_TEST(test_panic_dump_then_pause_or_run)
{
	lc.panic_dump = 1;
	lc.actions.panic = PANIC_PAUSE;
	lifecycle_handle(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	ck_assert_str_eq(events(), "GUEST_PANICKED action=pause; " DUMPED
				   "; " REPORT("pause", CORE) "; STOP");
	ck_assert_int_eq(lc.state, RUNSTATE_GUEST_PANICKED);
	ck_assert_int_eq(stub.resumes, 0); /* not let run between the dump and the stop */
	teardown();
	setup();
	lc.panic_dump = 1;
	lc.actions.panic = PANIC_NONE;
	lifecycle_handle(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	ck_assert_str_eq(events(), "GUEST_PANICKED action=run; " DUMPED "; " REPORT("none", CORE));
	ck_assert_int_eq(dumped_parked, 1);
	ck_assert_int_eq(stub.resumes, 1);
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	/* Without --panic-dump: no dump, no DUMP_COMPLETED, the report all the same (naming no
	 * core), with the vcpus parked and running again after it. */
	lc.panic_dump = 0;
	timer_clock_step(&vclock, 1000000000);
	lifecycle_handle(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	ck_assert_int_eq(dumps, 1);
	ck_assert_int_eq(reports, 2);
	ck_assert_int_eq(reported_parked, 1);
	ck_assert_int_eq(stub.resumes, 2);
	ck_assert_str_eq(
	    events(), "GUEST_PANICKED action=run; " DUMPED
		      "; " REPORT("none", CORE) "; GUEST_PANICKED action=run; " REPORT("none", ""));
}
END_TEST

START_TEST(test_panic_report_without_dump)
{
	/* The report comes before the action's events: a runner has it before SHUTDOWN (and
	 * before minivmm exits) or STOP. */
	lifecycle_handle(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	ck_assert_str_eq(events(), "GUEST_PANICKED action=poweroff; " REPORT(
				       "shutdown", "") "; SHUTDOWN guest=true reason=guest-panic");
	ck_assert_int_eq(dumps, 0);
	ck_assert_int_eq(reported_parked, 1);
	ck_assert_int_eq(stub.status, EXIT_VM_OK);
}
END_TEST

/*
 * A vcpu decides only what parks no vcpu: a crash-loaded notice, and a panic with action run,
 * whose GUEST_PANICKED it sends itself while its core and report (which park every vcpu) are
 * left to the main loop: the first at once, then at most one a second of guest time.
 */
START_TEST(test_vcpu_decides_only_what_parks_nothing)
{
	lc.actions.panic = PANIC_NONE;
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC),
			 LC_VCPU_AFTERMATH);
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_CRASHLOADED, CAUSE_GUEST_PANIC),
			 LC_VCPU_DONE);
	ck_assert_str_eq(events(), "GUEST_PANICKED action=run; GUEST_CRASHLOADED action=run");
	ck_assert_int_eq(stub.pauses, 0);
	ck_assert_int_eq(reports, 0);
	/* The main loop then takes the report, the vcpus parked and running again after it. */
	lifecycle_handle(&lc, VM_REQ_PANIC_AFTERMATH, CAUSE_GUEST_PANIC);
	ck_assert_int_eq(reports, 1);
	ck_assert_int_eq(reported_parked, 1);
	ck_assert_int_eq(stub.resumes, 1);
	/* Within the second: the event only, nothing left to do. */
	timer_clock_step(&vclock, 999999999);
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC),
			 LC_VCPU_DONE);
	/* A second later: a report again (and a core with --panic-dump). */
	timer_clock_step(&vclock, 1);
	lc.panic_dump = 1;
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC),
			 LC_VCPU_AFTERMATH);
	lifecycle_handle(&lc, VM_REQ_PANIC_AFTERMATH, CAUSE_GUEST_PANIC);
	ck_assert_int_eq(dumps, 1);
	ck_assert_int_eq(reports, 2);
	lc.panic_dump = 0;
	/* Anything that pauses, resets or ends the VM goes to the main loop, untouched. */
	lc.actions.panic = PANIC_PAUSE;
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC),
			 LC_VCPU_MAIN);
	lc.actions.panic = PANIC_SHUTDOWN;
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_PANIC, CAUSE_GUEST_PANIC),
			 LC_VCPU_MAIN);
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_RESET, CAUSE_GUEST_RESET),
			 LC_VCPU_MAIN);
	ck_assert_int_eq(lifecycle_handle_on_vcpu(&lc, VM_REQ_SHUTDOWN, CAUSE_GUEST_SHUTDOWN),
			 LC_VCPU_MAIN);
	ck_assert_str_eq(events(),
			 "GUEST_PANICKED action=run; GUEST_CRASHLOADED action=run; " REPORT(
			     "none", "") "; GUEST_PANICKED action=run; GUEST_PANICKED "
					 "action=run; " DUMPED "; " REPORT("none", CORE));
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	ck_assert_int_eq(lc.done, 0);
}
END_TEST

START_TEST(test_qmp_dump_stops_and_resumes)
{
	struct vm_event ev = { .kind = QMP_EVENT_DUMP_COMPLETED };

	/* Running: STOP (save-vm), DUMP_COMPLETED, RESUME, as QEMU. */
	lifecycle_dump_begin(&lc);
	ck_assert_int_eq(lc.state, RUNSTATE_SAVE_VM);
	lifecycle_dump_end(&lc, &ev);
	ck_assert_str_eq(events(), "STOP; DUMP_COMPLETED result=false; RESUME");
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	/* Paused: it stays paused. */
	lifecycle_stop(&lc);
	lifecycle_dump_begin(&lc);
	lifecycle_dump_end(&lc, &ev);
	ck_assert_int_eq(lc.state, RUNSTATE_PAUSED);
	ck_assert_str_eq(events(), "STOP; DUMP_COMPLETED result=false; RESUME; STOP; "
				   "DUMP_COMPLETED result=false");
	/* A dump that could not start resumes without an event. */
	ck_assert_int_eq(lifecycle_cont(&lc, &(const char *){ NULL }), 0);
	lifecycle_dump_begin(&lc);
	lifecycle_dump_abort(&lc);
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
}
END_TEST

START_TEST(test_watchdog_reset)
{
	expire(WATCHDOG_RESET);
	/* QEMU: qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET). */
	ck_assert_str_eq(events(), "WATCHDOG action=reset; RESET guest=true reason=guest-reset");
	ck_assert_int_eq(stub.resets, 1);
	ck_assert_int_eq(stub.resumes, 1);
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	ck_assert(!lc.done);
}
END_TEST

START_TEST(test_watchdog_reset_with_no_reboot)
{
	/* The reboot action applies to the watchdog's reset as to any guest reset. */
	lc.actions.reboot = REBOOT_SHUTDOWN;
	expire(WATCHDOG_RESET);
	ck_assert_str_eq(events(), "WATCHDOG action=reset; SHUTDOWN guest=true reason=guest-reset");
	ck_assert_int_eq(stub.resets, 0);
	ck_assert(lc.done);
	ck_assert_int_eq(stub.status, EXIT_VM_OK);
}
END_TEST

START_TEST(test_watchdog_shutdown)
{
	/* QEMU: qemu_system_powerdown_request(), as system_powerdown. */
	expire(WATCHDOG_SHUTDOWN);
	ck_assert_str_eq(events(), "WATCHDOG action=shutdown; POWERDOWN");
	ck_assert_int_eq(stub.power_buttons, 1);
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	ck_assert(!lc.done);
}
END_TEST

START_TEST(test_watchdog_poweroff)
{
	/* QEMU (7.2, 10.0.2) exits at once with status 0: no SHUTDOWN event, even with
	 * --no-shutdown. */
	lc.actions.shutdown = SHUTDOWN_PAUSE;
	expire(WATCHDOG_POWEROFF);
	ck_assert_str_eq(events(), "WATCHDOG action=poweroff");
	ck_assert(lc.done);
	ck_assert_int_eq(stub.status, EXIT_VM_OK);
	ck_assert_int_eq(stub.pauses, 0);
}
END_TEST

START_TEST(test_watchdog_pause_then_cont)
{
	const char *why = NULL;

	expire(WATCHDOG_PAUSE);
	ck_assert_str_eq(events(), "WATCHDOG action=pause; STOP");
	ck_assert_int_eq(lc.state, RUNSTATE_WATCHDOG);
	ck_assert_str_eq(runstate_name(lc.state), "watchdog"); /* query-status */
	ck_assert_int_eq(stub.pauses, 1);
	ck_assert(!vclock.running); /* guest timers stop with the guest */
	/* cont from the watchdog state runs the guest again. */
	ck_assert_int_eq(lifecycle_cont(&lc, &why), 0);
	ck_assert_str_eq(events(), "WATCHDOG action=pause; STOP; RESUME");
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	ck_assert(vclock.running);
	ck_assert_int_eq(stub.resumes, 1);
	ck_assert_uint_eq(runstate_bugs, 0);
}
END_TEST

START_TEST(test_watchdog_pause_when_already_paused)
{
	/* An expiry posted just before a QMP stop: the event, but no second STOP. */
	lifecycle_stop(&lc);
	expire(WATCHDOG_PAUSE);
	ck_assert_str_eq(events(), "STOP; WATCHDOG action=pause");
	ck_assert_int_eq(lc.state, RUNSTATE_PAUSED);
}
END_TEST

START_TEST(test_watchdog_debug_and_none)
{
	expire(WATCHDOG_DEBUG);
	ck_assert_str_eq(events(), "WATCHDOG action=debug");
	run_loop_for(1.05); /* past the event throttle */
	expire(WATCHDOG_NONE);
	ck_assert_str_eq(events(), "WATCHDOG action=debug; WATCHDOG action=none");
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	ck_assert(!lc.done);
	ck_assert_int_eq(stub.pauses + stub.resumes + stub.resets + stub.nmis, 0);
}
END_TEST

START_TEST(test_watchdog_inject_nmi)
{
	expire(WATCHDOG_INJECT_NMI);
	ck_assert_str_eq(events(), "WATCHDOG action=inject-nmi");
	ck_assert_int_eq(stub.nmis, 1);
	ck_assert_int_eq(stub.nmi_while_running, 0); /* vcpus parked around KVM_NMI */
	ck_assert_int_eq(stub.resumes, 1);
	ck_assert_int_eq(lc.state, RUNSTATE_RUNNING);
	/* A paused VM stays paused. */
	lifecycle_stop(&lc);
	run_loop_for(1.05);
	expire(WATCHDOG_INJECT_NMI);
	ck_assert_int_eq(stub.nmis, 2);
	ck_assert_int_eq(stub.resumes, 1);
	ck_assert_int_eq(lc.state, RUNSTATE_PAUSED);
}
END_TEST

START_TEST(test_watchdog_event_rate_limited_action_always_done)
{
	/* Three expiries within a second: every reset happens, the first WATCHDOG goes out at
	 * once, the later two are coalesced and the last is delivered when the second ends. */
	expire(WATCHDOG_RESET);
	expire(WATCHDOG_RESET);
	lc.actions.watchdog = WATCHDOG_NONE;
	lifecycle_handle(&lc, VM_REQ_WATCHDOG, CAUSE_NONE);
	ck_assert_int_eq(stub.resets, 2);
	ck_assert_str_eq(events(), "WATCHDOG action=reset; RESET guest=true reason=guest-reset; "
				   "RESET guest=true reason=guest-reset");
	run_loop_for(1.1);
	ck_assert_str_eq(events(), "WATCHDOG action=reset; RESET guest=true reason=guest-reset; "
				   "RESET guest=true reason=guest-reset; WATCHDOG action=none");
}
END_TEST

START_TEST(test_watchdog_after_done_ignored)
{
	expire(WATCHDOG_POWEROFF);
	expire(WATCHDOG_RESET);
	ck_assert_str_eq(events(), "WATCHDOG action=poweroff");
	ck_assert_int_eq(stub.resets, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("watchdog");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_watchdog_reset);
	tcase_add_test(tc, test_panic_dump_then_shutdown);
	tcase_add_test(tc, test_panic_dump_then_pause_or_run);
	tcase_add_test(tc, test_panic_report_without_dump);
	tcase_add_test(tc, test_qmp_dump_stops_and_resumes);
	tcase_add_test(tc, test_watchdog_reset_with_no_reboot);
	tcase_add_test(tc, test_watchdog_shutdown);
	tcase_add_test(tc, test_watchdog_poweroff);
	tcase_add_test(tc, test_watchdog_pause_then_cont);
	tcase_add_test(tc, test_watchdog_pause_when_already_paused);
	tcase_add_test(tc, test_watchdog_debug_and_none);
	tcase_add_test(tc, test_watchdog_inject_nmi);
	tcase_add_test(tc, test_watchdog_event_rate_limited_action_always_done);
	tcase_add_test(tc, test_watchdog_after_done_ignored);
	tcase_add_test(tc, test_vcpu_decides_only_what_parks_nothing);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
