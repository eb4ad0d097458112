/* qmp_fds.c - a monitor's named file descriptors for getfd, closefd and "fd:NAME". */
#include "qmp_fds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int find(const struct qmp_fds *t, const char *name)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return (int)i;
	return -1;
}

/* Forget entry @i (its fd is the caller's business): the last one takes its place. */
static void drop(struct qmp_fds *t, unsigned i)
{
	free(t->e[i].name);
	t->e[i] = t->e[--t->n];
}

int qmp_fds_add(struct qmp_fds *t, const char *name, int fd)
{
	int i = find(t, name);
	char *copy;

	if (i >= 0) {
		close(t->e[i].fd);
		t->e[i].fd = fd;
		return 0;
	}
	if (t->n == QMP_FDS_MAX) {
		close(fd);
		return -ENOSPC;
	}
	copy = strdup(name);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	t->e[t->n].name = copy;
	t->e[t->n].fd = fd;
	t->n++;
	return 0;
}

int qmp_fds_close(struct qmp_fds *t, const char *name)
{
	int i = find(t, name);

	if (i < 0)
		return -ENOENT;
	close(t->e[i].fd);
	drop(t, (unsigned)i);
	return 0;
}

int qmp_fds_take(struct qmp_fds *t, const char *name)
{
	int i = find(t, name), fd;

	if (i < 0)
		return -1;
	fd = t->e[i].fd;
	drop(t, (unsigned)i);
	return fd;
}

void qmp_fds_clear(struct qmp_fds *t)
{
	while (t->n) {
		close(t->e[t->n - 1].fd);
		drop(t, t->n - 1);
	}
}
