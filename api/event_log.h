/* event_log.h - the event journal: every lifecycle event as a JSON line, durable before use. */
#ifndef MINIVMM_EVENT_LOG_H
#define MINIVMM_EVENT_LOG_H

#include <jansson.h>

struct event_log;

/* Open (create or append to) @path. Returns 0 or -errno. */
int event_log_open(const char *path, struct event_log **out) __attribute__((warn_unused_result));

/* The journal's file descriptor (for an async-signal-safe last line). */
int event_log_fd(const struct event_log *log);

/* Append @event as one line and fdatasync it: on disk when this returns. Returns 0 or -errno. */
int event_log_write(struct event_log *log, const json_t *event);

void event_log_close(struct event_log *log);

#endif
