/* log.c - stderr logging with a single level and per-site rate limiting. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum log_level log_level = LOG_WARN;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_vmsg(const char *fmt, va_list ap)
{
	/* One fprintf-sequence under a lock so lines from vcpu threads never interleave. */
	pthread_mutex_lock(&log_lock);
	fputs("minivmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(fmt, ap);
	va_end(ap);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_ratelimited(struct log_ratelimit *st, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	int64_t now;
	unsigned suppressed = 0;
	int print;

	if (lvl > log_level)
		return;
	now = now_ms();
	pthread_mutex_lock(&log_lock);
	if (now - st->window_start_ms >= 1000) {
		suppressed = st->suppressed;
		st->window_start_ms = now;
		st->printed = 0;
		st->suppressed = 0;
	}
	print = st->printed < 10;
	if (print)
		st->printed++;
	else
		st->suppressed++;
	pthread_mutex_unlock(&log_lock);

	if (suppressed)
		log_msg(lvl, "(%u similar messages suppressed)", suppressed);
	if (!print)
		return;
	va_start(ap, fmt);
	log_vmsg(fmt, ap);
	va_end(ap);
}
