/* kf_batch: dynamic batching.
 *
 * Requests submit items (each with some instances) under a key, the model
 * version they are for. A worker thread takes the oldest item, waits
 * until its key has max_instances queued or timeout_us has passed since
 * that item arrived, and runs every queued item of that key (in arrival
 * order, up to max_instances; an item is never split) as one batch through
 * the run callback, which answers each item. Items of other keys wait for
 * the next round. Several workers share the queue, so batches run side by
 * side.
 *
 * The caller embeds struct kf_batch_item in its own request struct and
 * owns it; the item must stay alive until run has been called with it. */
#ifndef KF_BATCH_H
#define KF_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct kf_batch;

struct kf_batch_item {
	const void *key;          /* items batch together only with the same key */
	size_t n;                 /* instances in this item */
	int64_t enqueued_ns;      /* set by kf_batch_submit */
	struct kf_batch_item *next;
};

/* Runs on a worker thread with n_items >= 1 items of the same key. */
typedef void (*kf_batch_run_fn)(const void *key, struct kf_batch_item **items, size_t n_items,
				void *cls);

struct kf_batch *kf_batch_new(size_t max_instances, int64_t timeout_us, size_t workers,
			      kf_batch_run_fn run, void *cls);
void kf_batch_submit(struct kf_batch *b, struct kf_batch_item *item);
/* Run what is queued, stop the worker and free. */
void kf_batch_free(struct kf_batch *b);

#endif
