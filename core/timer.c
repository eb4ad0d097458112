/* timer.c - timerfd-backed one-shot timers against a clock that stops while the VM is paused. */
#include "timer.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int64_t timer_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * TIMER_NS_PER_SEC + ts.tv_nsec;
}

/* Under c->lock. */
static int64_t clock_now_locked(struct timer_clock *c)
{
	if (!c->loop || !c->running)
		return c->frozen;
	return timer_mono_ns() - c->base;
}

/* Program @t's timerfd from its deadline, or disarm it. Under the clock lock. */
static void timer_program(struct timer *t)
{
	struct itimerspec its;
	int64_t left;

	if (t->fd < 0)
		return;
	memset(&its, 0, sizeof(its));
	if (t->armed && t->clock->running) {
		left = t->deadline - clock_now_locked(t->clock);
		if (left < 1)
			left = 1; /* a zero it_value would disarm */
		its.it_value.tv_sec = left / TIMER_NS_PER_SEC;
		its.it_value.tv_nsec = left % TIMER_NS_PER_SEC;
	}
	/* Cannot fail for a valid timerfd and a normalised value. */
	timerfd_settime(t->fd, 0, &its, NULL);
}

void timer_clock_init(struct timer_clock *c, struct loop *loop, int running)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->loop = loop;
	c->running = running;
	c->base = timer_mono_ns();
}

void timer_clock_destroy(struct timer_clock *c)
{
	pthread_mutex_destroy(&c->lock);
}

int64_t timer_clock_now(struct timer_clock *c)
{
	int64_t now;

	pthread_mutex_lock(&c->lock);
	now = clock_now_locked(c);
	pthread_mutex_unlock(&c->lock);
	return now;
}

void timer_clock_stop(struct timer_clock *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->running) {
		c->frozen = clock_now_locked(c);
		c->running = 0;
		for (struct timer *t = c->timers; t; t = t->next)
			timer_program(t);
	}
	pthread_mutex_unlock(&c->lock);
}

void timer_clock_start(struct timer_clock *c)
{
	pthread_mutex_lock(&c->lock);
	if (!c->running) {
		c->base = timer_mono_ns() - c->frozen;
		c->running = 1;
		for (struct timer *t = c->timers; t; t = t->next)
			timer_program(t);
	}
	pthread_mutex_unlock(&c->lock);
}

void timer_clock_step(struct timer_clock *c, int64_t ns)
{
	int64_t target;

	pthread_mutex_lock(&c->lock);
	if (c->loop || !c->running || ns < 0) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	target = c->frozen + ns;
	for (;;) {
		struct timer *due = NULL;

		for (struct timer *t = c->timers; t; t = t->next)
			if (t->armed && t->deadline <= target &&
			    (!due || t->deadline < due->deadline))
				due = t;
		if (!due)
			break;
		unsigned gen = due->gen;

		if (due->deadline > c->frozen)
			c->frozen = due->deadline;
		/* The callback takes its device's lock and then ours (timer_take_expired). */
		pthread_mutex_unlock(&c->lock);
		due->fn(due->opaque);
		pthread_mutex_lock(&c->lock);
		if (due->gen == gen)
			due->armed = 0; /* a callback that ignored it must not loop forever */
	}
	c->frozen = target;
	pthread_mutex_unlock(&c->lock);
}

static void timer_on_fd(void *opaque, uint32_t events)
{
	struct timer *t = opaque;
	uint64_t n;

	(void)events;
	/* EAGAIN when a vcpu re-armed the timer since the wakeup; the callback re-checks. */
	if (read(t->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	t->fn(t->opaque);
}

int timer_init(struct timer *t, struct timer_clock *c, timer_fn fn, void *opaque)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->clock = c;
	t->fn = fn;
	t->opaque = opaque;
	t->fd = -1;
	if (c->loop) {
		t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (t->fd < 0)
			return -errno;
		ret = loop_add(c->loop, t->fd, EPOLLIN, timer_on_fd, t);
		if (ret) {
			close(t->fd);
			t->fd = -1;
			return ret;
		}
	}
	pthread_mutex_lock(&c->lock);
	t->next = c->timers;
	c->timers = t;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void timer_destroy(struct timer *t)
{
	struct timer_clock *c = t->clock;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (struct timer **pp = &c->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (t->fd >= 0) {
		loop_remove(c->loop, t->fd);
		close(t->fd);
	}
	t->fd = -1;
	t->clock = NULL;
}

void timer_mod(struct timer *t, int64_t ns)
{
	struct timer_clock *c = t->clock;

	pthread_mutex_lock(&c->lock);
	t->deadline = clock_now_locked(c) + (ns > 0 ? ns : 0);
	t->armed = 1;
	t->gen++;
	timer_program(t);
	pthread_mutex_unlock(&c->lock);
}

void timer_del(struct timer *t)
{
	struct timer_clock *c = t->clock;

	pthread_mutex_lock(&c->lock);
	t->armed = 0;
	t->gen++;
	timer_program(t);
	pthread_mutex_unlock(&c->lock);
}

int timer_pending(struct timer *t, int64_t *left)
{
	struct timer_clock *c = t->clock;
	int armed;

	pthread_mutex_lock(&c->lock);
	armed = t->armed;
	if (armed && left) {
		*left = t->deadline - clock_now_locked(c);
		if (*left < 0)
			*left = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return armed;
}

int timer_take_expired(struct timer *t)
{
	struct timer_clock *c = t->clock;
	int due;

	pthread_mutex_lock(&c->lock);
	due = t->armed && (c->running || !c->loop) && t->deadline <= clock_now_locked(c);
	if (due) {
		t->armed = 0;
		t->gen++;
		timer_program(t);
	}
	pthread_mutex_unlock(&c->lock);
	return due;
}
