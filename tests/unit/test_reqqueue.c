/* test_reqqueue.c - the main loop's request queue: order, no request lost, none across a reset. */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "core/reqqueue.h"
#include "tests/unit/unit.h"

static struct reqqueue q;
static struct {
	enum vm_request_kind kind[512];
	enum shutdown_cause cause[512];
	unsigned n;
	uint64_t last_handled;
	unsigned nhandled;
	int reset_on_reset; /* a RESET starts a new machine, as vm_reset does */
} rec;

static void rec_handle(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	(void)ctx;
	rec.kind[rec.n] = kind;
	rec.cause[rec.n++] = cause;
	if (kind == VM_REQ_RESET && rec.reset_on_reset)
		reqqueue_new_epoch(&q);
}

static void rec_handled(void *ctx, uint64_t seq)
{
	(void)ctx;
	ck_assert_uint_gt(seq, rec.last_handled); /* in posting order */
	rec.last_handled = seq;
	rec.nhandled++;
}

static const struct reqqueue_handler h = { rec_handle, rec_handled, NULL };

static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(reqqueue_init(&q), 0);
}

static void teardown(void)
{
	reqqueue_destroy(&q);
}

START_TEST(test_reqqueue_order_and_wakeup)
{
	uint64_t cnt;

	ck_assert_uint_eq(reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC), 1);
	ck_assert_uint_eq(reqqueue_post(&q, VM_REQ_RESET, CAUSE_GUEST_RESET), 2);
	ck_assert_int_eq(read(q.fd, &cnt, sizeof(cnt)), (ssize_t)sizeof(cnt)); /* loop woken */
	reqqueue_drain(&q, &h);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_int_eq(rec.kind[0], VM_REQ_PANIC);
	ck_assert_int_eq(rec.kind[1], VM_REQ_RESET);
	ck_assert_uint_eq(rec.last_handled, 2);
}
END_TEST

/* A guest hammering one device cannot crowd out a later reset, panic or shutdown. */
START_TEST(test_reqqueue_full_loses_nothing)
{
	for (int i = 0; i < 300; i++)
		ck_assert_uint_ne(reqqueue_post(&q, VM_REQ_WATCHDOG, CAUSE_NONE), 0);
	ck_assert_uint_ne(reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC), 0);
	ck_assert_uint_ne(reqqueue_post(&q, VM_REQ_RESET, CAUSE_GUEST_RESET), 0);
	ck_assert_uint_ne(reqqueue_post(&q, VM_REQ_SHUTDOWN, CAUSE_GUEST_SHUTDOWN), 0);
	reqqueue_drain(&q, &h);
	ck_assert_int_eq(rec.kind[rec.n - 3], VM_REQ_PANIC);
	ck_assert_int_eq(rec.kind[rec.n - 2], VM_REQ_RESET);
	ck_assert_int_eq(rec.kind[rec.n - 1], VM_REQ_SHUTDOWN);
}
END_TEST

/* The same request twice before the main loop ran is one request; both posters wait for it. */
START_TEST(test_reqqueue_duplicates_coalesce)
{
	uint64_t a = reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	uint64_t b = reqqueue_post(&q, VM_REQ_RESET, CAUSE_GUEST_RESET);

	ck_assert_uint_eq(reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC), a);
	ck_assert_uint_ne(a, b);
	reqqueue_drain(&q, &h);
	ck_assert_uint_eq(rec.n, 2);
	/* Once taken, the same request is a new one. */
	ck_assert_uint_gt(reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC), b);
}
END_TEST

/* A panic the old guest posted in the same batch as its reset never reaches the new guest;
 * a host request (a vcpu's internal error) still counts. Every poster is released. */
START_TEST(test_reqqueue_reset_drops_old_guest_requests)
{
	rec.reset_on_reset = 1;
	reqqueue_post(&q, VM_REQ_RESET, CAUSE_GUEST_RESET);
	reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	reqqueue_post(&q, VM_REQ_INTERNAL_ERROR, CAUSE_HOST_ERROR);
	reqqueue_post(&q, VM_REQ_WATCHDOG, CAUSE_NONE);
	reqqueue_drain(&q, &h);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_int_eq(rec.kind[0], VM_REQ_RESET);
	ck_assert_int_eq(rec.kind[1], VM_REQ_INTERNAL_ERROR);
	ck_assert_uint_eq(rec.nhandled, 4);
	/* The new guest's requests count. */
	reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	reqqueue_drain(&q, &h);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_int_eq(rec.kind[2], VM_REQ_PANIC);
}
END_TEST

/* Requests still queued (not yet taken) when a reset takes effect are dropped too. */
START_TEST(test_reqqueue_reset_drops_queued_guest_requests)
{
	reqqueue_post(&q, VM_REQ_PANIC, CAUSE_GUEST_PANIC);
	reqqueue_post(&q, VM_REQ_SHUTDOWN, CAUSE_HOST_SIGNAL);
	reqqueue_new_epoch(&q);
	reqqueue_drain(&q, &h);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_int_eq(rec.kind[0], VM_REQ_SHUTDOWN);
}
END_TEST

/* Issue 13's case: one vcpu floods pvpanic (rep outsb: panicked and crash-loaded, over and
 * over) while another triple-faults; the main loop is busy meanwhile. The reset survives. */
static void *pvpanic_flood(void *arg)
{
	volatile int *started = arg;

	for (int i = 0; i < 20000; i++) {
		reqqueue_post(&q, i & 1 ? VM_REQ_CRASHLOADED : VM_REQ_PANIC, CAUSE_GUEST_PANIC);
		if (i == 100)
			*started = 1;
	}
	return NULL;
}

START_TEST(test_reqqueue_reset_survives_pvpanic_flood)
{
	volatile int started = 0;
	pthread_t flood;
	unsigned resets = 0;

	ck_assert_int_eq(pthread_create(&flood, NULL, pvpanic_flood, (void *)&started), 0);
	while (!started)
		;
	ck_assert_uint_ne(reqqueue_post(&q, VM_REQ_RESET, CAUSE_GUEST_RESET), 0);
	pthread_join(flood, NULL);
	reqqueue_drain(&q, &h);
	for (unsigned i = 0; i < rec.n; i++)
		resets += rec.kind[i] == VM_REQ_RESET;
	ck_assert_uint_eq(resets, 1);
	ck_assert_uint_le(rec.n, REQQUEUE_LEN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reqqueue");
	TCase *tc = tcase_create("queue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reqqueue_order_and_wakeup);
	tcase_add_test(tc, test_reqqueue_full_loses_nothing);
	tcase_add_test(tc, test_reqqueue_reset_survives_pvpanic_flood);
	tcase_add_test(tc, test_reqqueue_duplicates_coalesce);
	tcase_add_test(tc, test_reqqueue_reset_drops_old_guest_requests);
	tcase_add_test(tc, test_reqqueue_reset_drops_queued_guest_requests);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
