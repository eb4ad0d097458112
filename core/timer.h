/* timer.h - one-shot timers on the main loop, against a clock that can stop (QEMU's vm clock). */
#ifndef MINIVMM_TIMER_H
#define MINIVMM_TIMER_H

#include <pthread.h>
#include <stdint.h>

#include "loop.h"

#define TIMER_NS_PER_SEC 1000000000ll

/*
 * A clock timers count against. A VM clock advances only while the VM runs (QEMU's
 * QEMU_CLOCK_VIRTUAL): lifecycle stops it with the vcpus and starts it again on resume, so a
 * guest's watchdog never fires while the guest is paused and keeps the time it had left. A
 * clock that is never stopped is a plain monotonic clock (QMP event throttling).
 *
 * With a loop, each timer is a timerfd on it and expiry callbacks run on the main thread.
 * Without one (unit tests) the clock is manual: time moves only by timer_clock_step, which
 * runs the callbacks of the timers it passes, in deadline order, on the caller's thread.
 */
struct timer;

struct timer_clock {
	pthread_mutex_t lock; /* guards everything below and every timer's fields */
	struct loop *loop;    /* NULL: manual clock */
	int running;
	int64_t base;	/* running: clock = CLOCK_MONOTONIC - base; manual: unused */
	int64_t frozen; /* the clock's value while stopped, and a manual clock's now */
	struct timer *timers;
};

/* Called on the main thread (a manual clock: in timer_clock_step) when @t's deadline passed. */
typedef void (*timer_fn)(void *opaque);

struct timer {
	struct timer_clock *clock;
	int fd; /* timerfd, -1 on a manual clock */
	int armed;
	int64_t deadline; /* clock ns */
	unsigned gen;	  /* bumped by every mod, del and take */
	timer_fn fn;
	void *opaque;
	struct timer *next;
};

/* Start a clock at 0, stopped unless @running. @loop NULL makes a manual clock. */
void timer_clock_init(struct timer_clock *c, struct loop *loop, int running);

/* Call after every timer on @c was destroyed. */
void timer_clock_destroy(struct timer_clock *c);

/* The clock's time in ns. Any thread. */
int64_t timer_clock_now(struct timer_clock *c);

/* Freeze the clock: armed timers keep their remaining time and do not fire. Main thread. */
void timer_clock_stop(struct timer_clock *c);

/* Let the clock run again: armed timers fire after the time they had left. Main thread. */
void timer_clock_start(struct timer_clock *c);

/* Manual clocks only: advance by @ns (a stopped clock does not move), firing due timers. */
void timer_clock_step(struct timer_clock *c, int64_t ns);

/* Attach @t to @c, disarmed; with a loop, create its timerfd and watch it. Main thread,
 * before vcpus run. Returns 0 or -errno. */
int timer_init(struct timer *t, struct timer_clock *c, timer_fn fn, void *opaque)
    __attribute__((warn_unused_result));

/* Disarm, unwatch and detach. Main thread. */
void timer_destroy(struct timer *t);

/*
 * Arm @t to expire @ns from now on its clock (0 or less: at once), replacing any earlier
 * deadline. Any thread (vcpus arm watchdogs); never blocks on the guest.
 */
void timer_mod(struct timer *t, int64_t ns);

/* Disarm @t. Any thread. */
void timer_del(struct timer *t);

/* Whether @t is armed; if so and @left is not NULL, the clock ns until it expires (>= 0). */
int timer_pending(struct timer *t, int64_t *left);

/*
 * For expiry callbacks, called under the device's own lock: 1 when @t is armed and its
 * deadline has passed (it is then disarmed), 0 when a vcpu re-armed or disarmed it since
 * the wakeup, or the clock stopped. The callback acts only on 1.
 */
int timer_take_expired(struct timer *t);

/* CLOCK_MONOTONIC in nanoseconds: host time, never stopped. */
int64_t timer_mono_ns(void);

#endif
