/* event_log.c - append-only JSON-lines journal, each line fdatasync'd before returning. */
#include "event_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct event_log {
	int fd;
};

int event_log_open(const char *path, struct event_log **out)
{
	struct event_log *log = calloc(1, sizeof(*log));

	if (!log)
		return -ENOMEM;
	log->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log->fd < 0) {
		int err = -errno;

		free(log);
		return err;
	}
	*out = log;
	return 0;
}

int event_log_fd(const struct event_log *log)
{
	return log->fd;
}

int event_log_write(struct event_log *log, const json_t *event)
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
	if (!ret && fdatasync(log->fd) < 0)
		ret = -errno;
	free(line);
	return ret;
}

void event_log_close(struct event_log *log)
{
	if (!log)
		return;
	close(log->fd);
	free(log);
}
