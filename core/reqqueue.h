/* reqqueue.h - the queue of requests devices and vcpus post to the main loop, and its eventfd. */
#ifndef MINIVMM_REQQUEUE_H
#define MINIVMM_REQQUEUE_H

#include <pthread.h>
#include <stdint.h>

#include "request.h"

/* Duplicates coalesce, so the queue never holds more than one entry per kind and cause, and
 * it can never be full: no request is ever dropped. */
#define REQQUEUE_LEN (VM_REQ__MAX * CAUSE__MAX)

struct reqqueue_entry {
	enum vm_request_kind kind;
	enum shutdown_cause cause;
	uint64_t seq;	/* order of posting, from 1 */
	uint64_t epoch; /* reqqueue.epoch when posted */
};

struct reqqueue {
	pthread_mutex_t lock;
	int fd; /* eventfd: readable while requests wait; put it on the main loop */
	struct reqqueue_entry q[REQQUEUE_LEN];
	unsigned n;
	uint64_t posted; /* seq of the last request queued */
	uint64_t epoch;	 /* resets so far (reqqueue_new_epoch) */
};

/* What the main loop does with what it takes from the queue. */
struct reqqueue_handler {
	void (*handle)(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause);
	/* Request @seq is done with: a vcpu waiting for it may go on. */
	void (*handled)(void *ctx, uint64_t seq);
	void *ctx;
};

/* An empty queue with its eventfd. Returns 0 or -errno. */
int reqqueue_init(struct reqqueue *q) __attribute__((warn_unused_result));

/* Close the eventfd. Safe after a failed or no reqqueue_init if fd was set to -1. */
void reqqueue_destroy(struct reqqueue *q);

/*
 * Queue a request and wake the main loop (any thread). A request equal to one still queued
 * (same kind and cause) is that one. Returns the seq to wait for (never 0).
 */
uint64_t reqqueue_post(struct reqqueue *q, enum vm_request_kind kind, enum shutdown_cause cause);

/*
 * A reset took effect (main thread, the old vcpus gone): requests the old guest posted and the
 * main loop has not handled yet are dropped, queued or already taken; host ones stay.
 */
void reqqueue_new_epoch(struct reqqueue *q);

/*
 * Main thread, when fd is readable: handle every queued request in posting order, skipping
 * those of the guest from before a reqqueue_new_epoch that happened meanwhile (even in the
 * middle of this batch). handled is called for every one, skipped or not.
 */
void reqqueue_drain(struct reqqueue *q, const struct reqqueue_handler *h);

#endif
