/* log.h - one runtime log level, messages on stderr prefixed "minivmm: ". */
#ifndef MINIVMM_LOG_H
#define MINIVMM_LOG_H

#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* The level in force; set once from the command line (--log-level). Default LOG_WARN. */
extern enum log_level log_level;

/* Print one line ("minivmm: " prefix, newline added) when @lvl is at or below log_level. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Rate-limited variant for things a guest can trigger at will (unknown ports, junk writes):
 * at most a burst of 10 lines per second per call site is printed, the rest are counted and
 * summarised. @state is a per-call-site static.
 */
struct log_ratelimit {
	int64_t window_start_ms;
	unsigned printed;
	unsigned suppressed;
};
void log_ratelimited(struct log_ratelimit *state, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Debug-level, rate-limited: for anything a guest can do over and over. */
#define pr_guest_debug(...)                                                                        \
	do {                                                                                       \
		static struct log_ratelimit rl_;                                                   \
		log_ratelimited(&rl_, LOG_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
