/* loop.c - epoll loop with deferred freeing so callbacks may remove any fd. */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

struct loop_entry {
	int fd;
	int dead;
	loop_fn fn;
	void *opaque;
	struct loop_entry *next;
};

struct loop {
	int epfd;
	struct loop_entry *entries; /* live and dead entries; dead ones freed after dispatch */
	int dispatching;
	pthread_mutex_t *lock; /* released during epoll_wait (loop_set_lock) */
};

int loop_create(struct loop **out)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int err = -errno;

		free(loop);
		return err;
	}
	*out = loop;
	return 0;
}

static void loop_reap(struct loop *loop)
{
	struct loop_entry **pp = &loop->entries;

	while (*pp) {
		struct loop_entry *e = *pp;

		if (e->dead) {
			*pp = e->next;
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

void loop_destroy(struct loop *loop)
{
	if (!loop)
		return;
	for (struct loop_entry *e = loop->entries; e; e = e->next)
		e->dead = 1;
	loop_reap(loop);
	close(loop->epfd);
	free(loop);
}

static struct loop_entry *loop_find(struct loop *loop, int fd)
{
	for (struct loop_entry *e = loop->entries; e; e = e->next)
		if (!e->dead && e->fd == fd)
			return e;
	return NULL;
}

int loop_add(struct loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	struct loop_entry *e;
	struct epoll_event ev = { .events = events };

	if (loop_find(loop, fd))
		return -EEXIST;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct loop_entry){ .fd = fd, .fn = fn, .opaque = opaque, .next = loop->entries };
	ev.data.ptr = e;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		free(e);
		return err;
	}
	loop->entries = e;
	return 0;
}

int loop_modify(struct loop *loop, int fd, uint32_t events)
{
	struct loop_entry *e = loop_find(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!e)
		return -ENOENT;
	ev.data.ptr = e;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_remove(struct loop *loop, int fd)
{
	struct loop_entry *e = loop_find(loop, fd);

	if (!e)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	e->dead = 1;
	if (!loop->dispatching)
		loop_reap(loop);
}

void loop_set_lock(struct loop *loop, pthread_mutex_t *lock)
{
	loop->lock = lock;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
	struct epoll_event evs[32];
	int n;

	if (loop->lock)
		pthread_mutex_unlock(loop->lock);
	n = epoll_wait(loop->epfd, evs, 32, timeout_ms);
	if (loop->lock)
		pthread_mutex_lock(loop->lock);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	loop->dispatching = 1;
	for (int i = 0; i < n; i++) {
		struct loop_entry *e = evs[i].data.ptr;

		if (!e->dead)
			e->fn(e->opaque, evs[i].events);
	}
	loop->dispatching = 0;
	loop_reap(loop);
	return 0;
}
