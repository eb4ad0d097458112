/* event_log.c - the append-only JSON-lines journal: kept events synced, a size cap for the rest. */
#include "event_log.h"
#include "core/hostfile.h"
#include "core/timer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define EVENT_LOG_SYNC_NS TIMER_NS_PER_SEC /* guest-class lines: at most one fdatasync a second */

struct event_log {
	int fd;
	uint64_t size; /* bytes in the file */
	uint64_t max;
	uint64_t seen;	   /* bit per kind: its first event was written */
	uint64_t dropped;  /* guest-class events not written for the cap */
	int full;	   /* the marker was written */
	int dirty;	   /* lines written since the last fdatasync */
	int64_t last_sync; /* timer_mono_ns() of the last fdatasync */
};

int event_log_open(const char *path, struct event_log **out)
{
	struct event_log *log = calloc(1, sizeof(*log));
	struct stat st;

	if (!log)
		return -ENOMEM;
	log->fd = hostfile_create(path, O_APPEND);
	if (log->fd < 0) {
		int err = log->fd;

		free(log);
		return err;
	}
	if (fstat(log->fd, &st) == 0)
		log->size = (uint64_t)st.st_size;
	log->max = EVENT_LOG_DEFAULT_MAX;
	*out = log;
	return 0;
}

int event_log_fd(const struct event_log *log)
{
	return log->fd;
}

void event_log_set_max(struct event_log *log, uint64_t bytes)
{
	log->max = bytes;
}

static int log_sync(struct event_log *log)
{
	log->dirty = 0;
	log->last_sync = timer_mono_ns();
	return fdatasync(log->fd) < 0 ? -errno : 0;
}

/* Write @event as one line (no sync). Returns 0 or -errno. */
static int log_line(struct event_log *log, const json_t *event)
{
	char *line = json_dumps(event, JSON_PRESERVE_ORDER | JSON_COMPACT);
	size_t len, off = 0;
	int ret = 0;

	if (!line)
		return -ENOMEM;
	len = strlen(line);
	line[len++] = '\n'; /* replaces the NUL: the buffer is one byte longer than strlen */
	while (off < len) {
		ssize_t n = write(log->fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	log->size += off;
	log->dirty = 1;
	free(line);
	return ret;
}

/* The marker: an event-shaped line, so a reader that parses every line still can. */
static int log_marker(struct event_log *log, int with_dropped)
{
	struct timeval tv;
	json_t *m;
	int ret;

	gettimeofday(&tv, NULL);
	m = json_pack("{s:{s:I, s:I}, s:s, s:{s:I}}", "timestamp", "seconds", (json_int_t)tv.tv_sec,
		      "microseconds", (json_int_t)tv.tv_usec, "event", EVENT_LOG_FULL_EVENT, "data",
		      "limit", (json_int_t)log->max);
	if (!m)
		return -ENOMEM;
	if (with_dropped)
		json_object_set_new(json_object_get(m, "data"), "dropped",
				    json_integer((json_int_t)log->dropped));
	ret = log_line(log, m);
	json_decref(m);
	return ret;
}

int event_log_write(struct event_log *log, const json_t *event, unsigned kind,
		    enum event_log_class cls)
{
	uint64_t bit = kind < 64 ? 1ull << kind : 0;
	int ret;

	if (!(log->seen & bit))
		cls = EVENT_LOG_KEEP; /* the first of each kind is never lost, nor left unsynced */
	if (cls == EVENT_LOG_GUEST && log->size >= log->max) {
		/* Over the cap: one marker says so, then a guest's flood costs nothing. */
		log->dropped++;
		if (log->full)
			return 0;
		log->full = 1;
		ret = log_marker(log, 0);
		return ret ? ret : log_sync(log);
	}
	ret = log_line(log, event);
	if (ret)
		return ret;
	log->seen |= bit;
	if (cls == EVENT_LOG_KEEP || timer_mono_ns() - log->last_sync >= EVENT_LOG_SYNC_NS)
		return log_sync(log);
	return 0;
}

void event_log_close(struct event_log *log)
{
	if (!log)
		return;
	if (log->dropped)
		log_marker(log, 1);
	if (log->dirty)
		log_sync(log);
	close(log->fd);
	free(log);
}
