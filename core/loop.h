/* loop.h - the main thread's epoll event loop: fds, callbacks, safe removal during dispatch. */
#ifndef MINIVMM_LOOP_H
#define MINIVMM_LOOP_H

#include <pthread.h>
#include <stdint.h>

struct loop;

/* Called on the main thread with the epoll events that fired (EPOLLIN, EPOLLOUT, EPOLLHUP...). */
typedef void (*loop_fn)(void *opaque, uint32_t events);

/* Create an empty loop. Returns 0 or a negative errno. */
int loop_create(struct loop **out) __attribute__((warn_unused_result));

/* Destroy; every fd still registered is forgotten (not closed). */
void loop_destroy(struct loop *loop);

/* Watch @fd for @events (EPOLLIN/EPOLLOUT...). One registration per fd. Returns 0 or -errno. */
int loop_add(struct loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque)
    __attribute__((warn_unused_result));

/* Change the events watched on a registered fd. Returns 0 or -errno. */
int loop_modify(struct loop *loop, int fd, uint32_t events);

/*
 * Stop watching @fd. Safe from inside any callback, including @fd's own: a removed fd's
 * callback is never called again, even for events already collected in this round.
 * The caller closes the fd afterwards.
 */
void loop_remove(struct loop *loop, int fd);

/*
 * @lock (held by the caller around loop_run_once) is released while the loop waits and taken
 * again before it dispatches: other threads may take it while the main thread is idle.
 * NULL: none (the default). Call before the first loop_run_once.
 */
void loop_set_lock(struct loop *loop, pthread_mutex_t *lock);

/* Wait up to @timeout_ms (-1: forever) and dispatch what is ready. Returns 0 or -errno. */
int loop_run_once(struct loop *loop, int timeout_ms);

#endif
