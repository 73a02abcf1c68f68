#include "config.h"

#include "serve/kf_metrics.h"
#include "util/kf_buf.h"
#include "util/kf_mem.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds of the duration buckets, in seconds, and of batch sizes. */
static const double time_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
static const double size_bounds[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 };

#define N_TIME (sizeof time_bounds / sizeof time_bounds[0])
#define N_SIZE (sizeof size_bounds / sizeof size_bounds[0])
#define MAX_BUCKETS N_TIME

struct histogram {
	uint64_t buckets[MAX_BUCKETS + 1];  /* not cumulative; the last is +Inf */
	double sum;
	uint64_t count;
};

struct series {
	char *model, *version;
	uint64_t success, failure, instances, execs;
	uint64_t request_us, queue_us, compute_us;
	struct histogram request, queue, compute, batch;
};

struct kf_metrics {
	pthread_mutex_t lock;
	struct series *series;
	size_t n, cap;
	long models_loaded;
	uint64_t by_code[600];
};

struct kf_metrics *kf_metrics_new(void)
{
	struct kf_metrics *m = kf_xcalloc(1, sizeof *m);

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void kf_metrics_free(struct kf_metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->series[i].model);
		free(m->series[i].version);
	}
	free(m->series);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Called with the lock held; series are few (models x versions). */
static struct series *series_get(struct kf_metrics *m, const char *model, const char *version)
{
	struct series *s;
	size_t i;

	for (i = 0; i < m->n; i++)
		if (!strcmp(m->series[i].model, model) && !strcmp(m->series[i].version, version))
			return &m->series[i];
	KF_GROW(m->series, m->cap, m->n + 1);
	s = &m->series[m->n++];
	memset(s, 0, sizeof *s);
	s->model = kf_xstrdup(model);
	s->version = kf_xstrdup(version);
	return s;
}

static void observe(struct histogram *h, const double *bounds, size_t n, double v)
{
	size_t i = 0;

	while (i < n && v > bounds[i])
		i++;
	h->buckets[i]++;
	h->sum += v;
	h->count++;
}

void kf_metrics_request(struct kf_metrics *m, const char *model, const char *version, bool ok,
			int64_t request_ns, int64_t queue_ns, int64_t compute_ns, size_t instances)
{
	struct series *s;

	pthread_mutex_lock(&m->lock);
	s = series_get(m, model, version);
	if (!ok) {
		s->failure++;
		pthread_mutex_unlock(&m->lock);
		return;
	}
	s->success++;
	s->instances += instances;
	s->request_us += (uint64_t)(request_ns / 1000);
	s->queue_us += (uint64_t)(queue_ns / 1000);
	s->compute_us += (uint64_t)(compute_ns / 1000);
	observe(&s->request, time_bounds, N_TIME, (double)request_ns / 1e9);
	observe(&s->queue, time_bounds, N_TIME, (double)queue_ns / 1e9);
	observe(&s->compute, time_bounds, N_TIME, (double)compute_ns / 1e9);
	pthread_mutex_unlock(&m->lock);
}

void kf_metrics_batch(struct kf_metrics *m, const char *model, const char *version, size_t size)
{
	struct series *s;

	pthread_mutex_lock(&m->lock);
	s = series_get(m, model, version);
	s->execs++;
	observe(&s->batch, size_bounds, N_SIZE, (double)size);
	pthread_mutex_unlock(&m->lock);
}

void kf_metrics_response(struct kf_metrics *m, int status)
{
	pthread_mutex_lock(&m->lock);
	if (status >= 100 && status < 600)
		m->by_code[status]++;
	pthread_mutex_unlock(&m->lock);
}

void kf_metrics_models_loaded(struct kf_metrics *m, long n)
{
	pthread_mutex_lock(&m->lock);
	m->models_loaded = n;
	pthread_mutex_unlock(&m->lock);
}

static void labels(struct kf_buf *out, const struct series *s)
{
	kf_buf_adds(out, "model=\"");
	kf_buf_add_json_escaped(out, s->model);
	kf_buf_adds(out, "\",version=\"");
	kf_buf_add_json_escaped(out, s->version);
	kf_buf_adds(out, "\"");
}

static void counter(struct kf_metrics *m, struct kf_buf *out, const char *name, const char *help,
		    size_t offset)
{
	size_t i;

	kf_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < m->n; i++) {
		kf_buf_printf(out, "%s{", name);
		labels(out, &m->series[i]);
		kf_buf_printf(out, "} %llu\n",
			      (unsigned long long)*(const uint64_t *)((const char *)&m->series[i] + offset));
	}
}

static void histogram(struct kf_metrics *m, struct kf_buf *out, const char *name, const char *help,
		      size_t offset, const double *bounds, size_t n_bounds)
{
	size_t i, b;

	kf_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < m->n; i++) {
		const struct histogram *h = (const void *)((const char *)&m->series[i] + offset);
		uint64_t cum = 0;

		for (b = 0; b <= n_bounds; b++) {
			cum += h->buckets[b];
			kf_buf_printf(out, "%s_bucket{", name);
			labels(out, &m->series[i]);
			if (b < n_bounds)
				kf_buf_printf(out, ",le=\"%g\"} %llu\n", bounds[b], (unsigned long long)cum);
			else
				kf_buf_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		kf_buf_printf(out, "%s_sum{", name);
		labels(out, &m->series[i]);
		kf_buf_printf(out, "} %.9g\n%s_count{", h->sum, name);
		labels(out, &m->series[i]);
		kf_buf_printf(out, "} %llu\n", (unsigned long long)h->count);
	}
}

#define OFF(field) offsetof(struct series, field)

void kf_metrics_render(struct kf_metrics *m, struct kf_buf *out)
{
	size_t i;

	pthread_mutex_lock(&m->lock);
	counter(m, out, "nv_inference_request_success", "Number of successful inference requests", OFF(success));
	counter(m, out, "nv_inference_request_failure", "Number of failed inference requests", OFF(failure));
	counter(m, out, "nv_inference_count", "Number of inferences performed (instances)", OFF(instances));
	counter(m, out, "nv_inference_exec_count", "Number of model executions (batches)", OFF(execs));
	counter(m, out, "nv_inference_request_duration_us", "Cumulative inference request duration in microseconds",
		OFF(request_us));
	counter(m, out, "nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds",
		OFF(queue_us));
	counter(m, out, "nv_inference_compute_infer_duration_us",
		"Cumulative compute inference duration in microseconds", OFF(compute_us));
	histogram(m, out, "kf_inference_request_duration_seconds", "Inference request duration",
		  OFF(request), time_bounds, N_TIME);
	histogram(m, out, "kf_inference_queue_duration_seconds", "Time requests waited for a batch",
		  OFF(queue), time_bounds, N_TIME);
	histogram(m, out, "kf_inference_compute_duration_seconds", "Model compute time per request",
		  OFF(compute), time_bounds, N_TIME);
	histogram(m, out, "kf_inference_batch_size", "Instances per model execution",
		  OFF(batch), size_bounds, N_SIZE);
	kf_buf_printf(out, "# HELP kf_models_loaded Model versions loaded and ready\n"
			   "# TYPE kf_models_loaded gauge\nkf_models_loaded %ld\n", m->models_loaded);
	kf_buf_adds(out, "# HELP kf_http_responses_total HTTP responses by status code\n"
			 "# TYPE kf_http_responses_total counter\n");
	for (i = 100; i < 600; i++)
		if (m->by_code[i])
			kf_buf_printf(out, "kf_http_responses_total{code=\"%zu\"} %llu\n", i,
				      (unsigned long long)m->by_code[i]);
	pthread_mutex_unlock(&m->lock);
}
