/* event_log.h - the event journal: every lifecycle event as a JSON line, durable before use. */
#ifndef MINIVMM_EVENT_LOG_H
#define MINIVMM_EVENT_LOG_H

#include <jansson.h>
#include <stdint.h>

/* Journal size past which only kept events are written (--event-log-max, in MiB). */
#define EVENT_LOG_DEFAULT_MAX (16ull << 20)

/* The marker line's event name (QAPI's downstream-extension form: never a QEMU event). */
#define EVENT_LOG_FULL_EVENT "__org.minivmm_JOURNAL_FULL"

/* How an event is journalled. */
enum event_log_class {
	/*
	 * It stops or ends the VM, or the host or a client caused it: always written, and
	 * fdatasync'd before event_log_write returns (so before the action that follows it).
	 */
	EVENT_LOG_KEEP,
	/*
	 * A guest can repeat it at will while it runs (a pvpanic write with panic=none, a
	 * crash-loaded write, a watchdog that does nothing, a reset loop): written while the
	 * journal is under its size cap, synced at most once a second (or with the next kept
	 * event, or at close). The first event of each kind is treated as kept.
	 */
	EVENT_LOG_GUEST,
};

struct event_log;

/* Open (create, mode 0600, or append to) @path, never through a symlink (-ELOOP: see
 * hostfile_create). Its size cap is EVENT_LOG_DEFAULT_MAX. Returns 0 or -errno. */
int event_log_open(const char *path, struct event_log **out) __attribute__((warn_unused_result));

/* Change the size cap to @bytes (the file's size when it was opened counts). */
void event_log_set_max(struct event_log *log, uint64_t bytes);

/* The journal's file descriptor (for an async-signal-safe last line). */
int event_log_fd(const struct event_log *log);

/*
 * Append @event, of kind @kind (< 64: a QMP event number) and class @cls, as one line. A
 * guest-class event that would take the journal past its cap is dropped instead (counted);
 * the first one dropped is replaced by one marker line, EVENT_LOG_FULL_EVENT with data
 * {"limit": bytes}, after which only kept events and the first of each kind are written.
 * Returns 0 (also when dropped) or -errno.
 */
int event_log_write(struct event_log *log, const json_t *event, unsigned kind,
		    enum event_log_class cls);

/* Sync what is unsynced; if events were dropped, end with a marker that says how many
 * (EVENT_LOG_FULL_EVENT with {"limit": bytes, "dropped": n}); close. */
void event_log_close(struct event_log *log);

#endif
