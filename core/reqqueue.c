/* reqqueue.c - the queue of requests devices and vcpus post to the main loop, and its eventfd. */
#include "reqqueue.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

int reqqueue_init(struct reqqueue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	q->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return q->fd < 0 ? -errno : 0;
}

void reqqueue_destroy(struct reqqueue *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

uint64_t reqqueue_post(struct reqqueue *q, enum vm_request_kind kind, enum shutdown_cause cause)
{
	uint64_t one = 1, seq = 0;

	pthread_mutex_lock(&q->lock);
	for (unsigned i = 0; i < q->n && !seq; i++)
		if (q->q[i].kind == kind && q->q[i].cause == cause)
			seq = q->q[i].seq;
	if (!seq && q->n < REQQUEUE_LEN) {
		seq = ++q->posted;
		q->q[q->n++] = (struct reqqueue_entry){ kind, cause, seq, q->epoch };
	} else if (!seq) {
		/* Cannot happen (see REQQUEUE_LEN); say so loudly if it ever does. */
		pr_err("request queue full: request %d (%s) lost", kind,
		       shutdown_cause_name(cause));
	}
	pthread_mutex_unlock(&q->lock);
	/* Only fails if the counter would overflow, and then the loop is already woken. */
	if (write(q->fd, &one, sizeof(one)) < 0)
		return seq;
	return seq;
}

/* Posted by the guest (or a device it drives), as opposed to the host or its user. */
static int posted_by_guest(const struct reqqueue_entry *e)
{
	return !shutdown_cause_is_host(e->cause);
}

void reqqueue_drain(struct reqqueue *q, const struct reqqueue_handler *h)
{
	struct reqqueue_entry batch[REQQUEUE_LEN];
	uint64_t cnt;
	unsigned n;

	if (read(q->fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		pr_debug("request eventfd: %s", strerror(errno));
	pthread_mutex_lock(&q->lock);
	n = q->n;
	memcpy(batch, q->q, n * sizeof(batch[0]));
	q->n = 0;
	pthread_mutex_unlock(&q->lock);

	for (unsigned i = 0; i < n; i++) {
		/* epoch changes only on this thread (reqqueue_new_epoch from a handler). */
		if (batch[i].epoch == q->epoch || !posted_by_guest(&batch[i]))
			h->handle(h->ctx, batch[i].kind, batch[i].cause);
		else
			pr_debug("request %d from before the reset dropped", batch[i].kind);
		h->handled(h->ctx, batch[i].seq);
	}
}

void reqqueue_new_epoch(struct reqqueue *q)
{
	unsigned kept = 0;

	pthread_mutex_lock(&q->lock);
	q->epoch++;
	for (unsigned i = 0; i < q->n; i++)
		if (!posted_by_guest(&q->q[i]))
			q->q[kept++] = q->q[i];
	q->n = kept;
	pthread_mutex_unlock(&q->lock);
}
