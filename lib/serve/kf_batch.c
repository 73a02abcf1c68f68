#include "config.h"

#include "serve/kf_batch.h"
#include "util/kf_mem.h"
#include "util/kf_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct kf_batch {
	size_t max_instances;
	int64_t timeout_ns;
	kf_batch_run_fn run;
	void *cls;
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* waits on CLOCK_MONOTONIC */
	struct kf_batch_item *head, *tail;
	bool stopping;
	pthread_t *workers;
	size_t n_workers;
};

/* Instances queued under key; stops counting once max is reached. */
static size_t queued_for(const struct kf_batch *b, const void *key)
{
	const struct kf_batch_item *it;
	size_t n = 0;

	for (it = b->head; it && n < b->max_instances; it = it->next)
		if (it->key == key)
			n += it->n;
	return n;
}

/* Unlink the items of key that fit into one batch, oldest first; the
 * oldest always goes, even when it alone exceeds max_instances. */
static size_t take_batch(struct kf_batch *b, const void *key, struct kf_batch_item ***items,
			 size_t *cap)
{
	struct kf_batch_item **link = &b->head, *it;
	size_t n_items = 0, n = 0;

	b->tail = NULL;
	while ((it = *link)) {
		if (it->key == key && (n_items == 0 || n + it->n <= b->max_instances)) {
			*link = it->next;
			KF_GROW(*items, *cap, n_items + 1);
			(*items)[n_items++] = it;
			n += it->n;
			continue;
		}
		b->tail = it;
		link = &it->next;
	}
	return n_items;
}

static void deadline_of(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}

/* Workers share the queue: while one runs a batch, another gathers the
 * next, so no single thread is the bottleneck. */
static void *worker(void *arg)
{
	struct kf_batch *b = arg;
	struct kf_batch_item **items = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		const struct kf_batch_item *head;
		size_t n_items;
		int64_t due;

		while (!b->head && !b->stopping)
			pthread_cond_wait(&b->cond, &b->lock);
		if (!b->head)
			break;
		/* wait for the batch to fill, or for the oldest item's deadline;
		 * another worker may take it meanwhile */
		head = b->head;
		due = head->enqueued_ns + b->timeout_ns;
		while (!b->stopping && b->head == head && queued_for(b, head->key) < b->max_instances &&
		       kf_time_mono_ns() < due) {
			struct timespec ts;

			deadline_of(due, &ts);
			if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) == ETIMEDOUT)
				break;
		}
		if (!b->head || (!b->stopping && b->head != head))
			continue;   /* taken by another worker: gather the next */
		n_items = take_batch(b, b->head->key, &items, &cap);
		/* what is left may be another worker's to gather */
		if (b->head)
			pthread_cond_signal(&b->cond);
		pthread_mutex_unlock(&b->lock);
		b->run(items[0]->key, items, n_items, b->cls);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	free(items);
	return NULL;
}

struct kf_batch *kf_batch_new(size_t max_instances, int64_t timeout_us, size_t workers,
			      kf_batch_run_fn run, void *cls)
{
	struct kf_batch *b = kf_xcalloc(1, sizeof *b);
	pthread_condattr_t attr;
	size_t i;

	b->max_instances = max_instances ? max_instances : 1;
	b->timeout_ns = timeout_us * 1000;
	b->run = run;
	b->cls = cls;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &attr);
	pthread_condattr_destroy(&attr);
	b->workers = kf_xcalloc(workers ? workers : 1, sizeof *b->workers);
	for (i = 0; i < (workers ? workers : 1); i++) {
		if (pthread_create(&b->workers[b->n_workers], NULL, worker, b) != 0)
			break;
		b->n_workers++;
	}
	if (!b->n_workers) {
		/* without a worker nothing could ever be answered: as out of memory */
		abort();
	}
	return b;
}

void kf_batch_submit(struct kf_batch *b, struct kf_batch_item *item)
{
	item->enqueued_ns = kf_time_mono_ns();
	item->next = NULL;
	pthread_mutex_lock(&b->lock);
	if (b->tail)
		b->tail->next = item;
	else
		b->head = item;
	b->tail = item;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void kf_batch_free(struct kf_batch *b)
{
	size_t i;

	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stopping = true;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	for (i = 0; i < b->n_workers; i++)
		pthread_join(b->workers[i], NULL);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->lock);
	free(b->workers);
	free(b);
}
