/* kf train: built-in trainers (--model), prediction (kf train predict),
 * TFJob/PyTorchJob manifests run locally (kf train JOB.yaml) and written
 * for a cluster (--emit). */
#include "config.h"

#include "kf_cmd.h"
#include "kf_print.h"
#include "ml/kf_allreduce.h"
#include "ml/kf_bundle.h"
#include "ml/kf_dense.h"
#include "ml/kf_train.h"
#include "ml/kf_trainjob.h"
#include "ml/kf_xgb.h"
#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_str.h"
#include "util/kf_yaml.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef KF_HAVE_XGBOOST
#define MODELS "logistic|softmax|linear|mlp|mf|xgboost"
#else
#define MODELS "logistic|softmax|linear|mlp|mf"
#endif

static const struct kf_opt train_opts[] = {
	{ 0, "model", KF_OPT_REQUIRED, "KIND", "model: " MODELS, MODELS },
	{ 0, "data", KF_OPT_REQUIRED, "CSV", "training data (CSV or JSON Lines, may be gzipped)", "file" },
	{ 0, "label", KF_OPT_REQUIRED, "COL", "the label column", NULL },
	{ 0, "label-expr", KF_OPT_REQUIRED, "EXPR", "derive the label, e.g. 'tips > 0.2 * fare' (its columns are not features)", NULL },
	{ 0, "task", KF_OPT_REQUIRED, "TASK", "binary, multiclass or regression (default: by model)", "binary|multiclass|regression" },
	{ 0, "features", KF_OPT_REQUIRED, "FILE", "feature spec (kf-features(5)); default: inferred from column types", "file" },
	{ 0, "ignore", KF_OPT_REQUIRED, "COLS", "columns left out of the inferred spec (comma-separated, repeatable)", NULL },
	{ 0, "eval", KF_OPT_REQUIRED, "CSV", "evaluation data (default: split from --data)", "file" },
	{ 0, "eval-split", KF_OPT_REQUIRED, "mod:K:R", "row i (from 0) is eval when i % K == R", NULL },
	{ 0, "eval-fraction", KF_OPT_REQUIRED, "F", "a random fraction F of the rows is eval", NULL },
	{ 0, "split-seed", KF_OPT_REQUIRED, "S", "seed of --eval-fraction (default 1)", NULL },
	{ 0, "out", KF_OPT_REQUIRED, "DIR", "write the model bundle (and checkpoints) here", "dir" },
	{ 0, "epochs", KF_OPT_REQUIRED, "N", "passes over the data (default 10; mlp 30)", NULL },
	{ 0, "lr", KF_OPT_REQUIRED, "X", "Adam learning rate (default 0.02; mlp 0.002)", NULL },
	{ 0, "batch", KF_OPT_REQUIRED, "N", "mini-batch size (default 256)", NULL },
	{ 0, "l2", KF_OPT_REQUIRED, "X", "L2 penalty on the weights (default 1e-5)", NULL },
	{ 0, "hidden", KF_OPT_REQUIRED, "N,N", "mlp hidden layer sizes (default 64,32)", NULL },
	{ 0, "dropout", KF_OPT_REQUIRED, "P", "mlp dropout on hidden layers (default 0.1)", NULL },
	{ 0, "patience", KF_OPT_REQUIRED, "N", "mlp: stop after N epochs without eval improvement (default 3, 0 = never)", NULL },
	{ 0, "threads", KF_OPT_REQUIRED, "N", "CPU threads (default: all cores)", NULL },
	{ 0, "device", KF_OPT_REQUIRED, "DEV", "cpu or cuda", "cpu|cuda" },
	{ 0, "seed", KF_OPT_REQUIRED, "S", "random seed (default 1): same seed, same model", NULL },
	{ 0, "resume", KF_OPT_NONE, NULL, "continue from the last checkpoint in --out", NULL },
	{ 0, "predictions", KF_OPT_REQUIRED, "FILE", "also write predictions for every --data row (CSV)", "file" },
#ifdef KF_HAVE_XGBOOST
	{ 0, "rounds", KF_OPT_REQUIRED, "N", "xgboost: boosting rounds (default 300, early stop on eval)", NULL },
	{ 0, "max-depth", KF_OPT_REQUIRED, "N", "xgboost: tree depth (default 6)", NULL },
	{ 0, "eta", KF_OPT_REQUIRED, "X", "xgboost: learning rate (default 0.1)", NULL },
#endif
	{ 0, "user", KF_OPT_REQUIRED, "COL", "mf: the user column", NULL },
	{ 0, "item", KF_OPT_REQUIRED, "COL", "mf: the item column", NULL },
	{ 0, "item-sep", KF_OPT_REQUIRED, "SEP", "mf: the item column lists several items separated by SEP", NULL },
	{ 0, "rating", KF_OPT_REQUIRED, "COL", "mf: explicit ratings (default: implicit, counts)", NULL },
	{ 0, "factors", KF_OPT_REQUIRED, "N", "mf: latent factors (default 32)", NULL },
	{ 0, "iters", KF_OPT_REQUIRED, "N", "mf: ALS iterations (default 10)", NULL },
	{ 0, "alpha", KF_OPT_REQUIRED, "X", "mf: implicit confidence scale (default 10)", NULL },
	{ 0, "reg", KF_OPT_REQUIRED, "X", "mf: regularisation (default 0.1)", NULL },
	{ 0, "workers", KF_OPT_REQUIRED, "N", "train data-parallel on N workers (a local TFJob)", NULL },
	{ 0, "ps", KF_OPT_REQUIRED, "N", "with --workers: N parameter servers (0 or 1; the gradient hub)", NULL },
	{ 0, "emit", KF_OPT_NONE, NULL, "with --workers: print the TFJob instead of running it", NULL },
	{ 0, "image", KF_OPT_REQUIRED, "IMAGE", "container image in the emitted TFJob", NULL },
	{ 0, "name", KF_OPT_REQUIRED, "NAME", "the job's name (default kf-train)", NULL },
	{ 0, "log-dir", KF_OPT_REQUIRED, "DIR", "JOB.yaml: keep replica logs here (default: the store)", "dir" },
	{ 0, "dry-run", KF_OPT_NONE, NULL, "JOB.yaml: validate, print each replica's argv and env, run nothing", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

static const struct kf_opt predict_opts[] = {
	{ 0, "model-dir", KF_OPT_REQUIRED, "DIR", "the model bundle", "dir" },
	{ 0, "data", KF_OPT_REQUIRED, "CSV", "rows to predict (CSV or JSON Lines; extra columns are ignored)", "file" },
	{ 0, "format", KF_OPT_REQUIRED, "FMT", "csv or jsonl (default csv)", "csv|jsonl" },
	{ 0, "top-k", KF_OPT_REQUIRED, "K", "mf: items per user (default 10)", NULL },
	{ 0, "user", KF_OPT_REQUIRED, "COL", "mf: the user column of --data", NULL },
	{ 0, NULL, 0, NULL, NULL, NULL },
};

/* ---- option values ------------------------------------------------------- */

static int num_opt(const struct kf_args *a, const char *name, double lo, double hi, double *out,
		   struct kf_err *err)
{
	const char *v = kf_args_get(a, name);

	if (!v)
		return 0;
	if (!kf_str_to_double(v, out) || *out < lo || *out > hi)
		return kf_err_set(err, KF_EUSAGE, "--%s: \"%s\" is not a number in [%g, %g]", name, v, lo, hi);
	return 1;
}

static int int_opt(const struct kf_args *a, const char *name, long lo, long hi, long *out, struct kf_err *err)
{
	const char *v = kf_args_get(a, name);

	if (!v)
		return 0;
	if (!kf_str_to_long(v, out) || *out < lo || *out > hi)
		return kf_err_set(err, KF_EUSAGE, "--%s: \"%s\" is not an integer in [%ld, %ld]", name, v, lo, hi);
	return 1;
}

struct parsed {
	struct kf_train_opts o;
	size_t hidden[16];
	struct kf_strv ignore;
	long workers, ps;
};

static int parse_hidden(const char *v, struct parsed *p, struct kf_err *err)
{
	char *copy = kf_xstrdup(v), *save = NULL, *tok;
	int rc = 0;

	p->o.n_hidden = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long n;

		if (!kf_str_to_long(tok, &n) || n < 1 || n > 65536 || p->o.n_hidden == 16) {
			rc = kf_err_set(err, KF_EUSAGE, "--hidden: \"%s\" is not a list of layer sizes like 64,32", v);
			break;
		}
		p->hidden[p->o.n_hidden++] = (size_t)n;
	}
	free(copy);
	return rc;
}

static const char *const known_models[] = { "logistic", "softmax", "linear", "mlp", "mf", "xgboost" };

static int parse_train(const struct kf_args *a, struct parsed *p, struct kf_err *err)
{
	struct kf_train_opts *o = &p->o;
	const struct kf_strv *ign = kf_args_all(a, "ignore");
	const char *split = kf_args_get(a, "eval-split");
	bool mlp;
	long l;
	size_t i;
	int rc;

	kf_train_opts_init(o);
	o->model = kf_args_get(a, "model");
	for (i = 0; i < 6; i++)
		if (!strcmp(o->model, known_models[i]))
			break;
	if (i == 6 || (i == 5 && !kf_xgb_available()))
		return kf_err_set(err, KF_EUSAGE, "--model: unknown model \"%s\" (expected %s)", o->model,
				  MODELS);
	o->data = kf_args_get(a, "data");
	if (!o->data)
		return kf_err_set(err, KF_EUSAGE, "--data CSV is required");
	o->label = kf_args_get(a, "label");
	o->label_expr = kf_args_get(a, "label-expr");
	if (o->label && o->label_expr)
		return kf_err_set(err, KF_EUSAGE, "--label and --label-expr exclude each other");
	o->task = kf_args_get(a, "task");
	o->features = kf_args_get(a, "features");
	o->eval = kf_args_get(a, "eval");
	o->out = kf_args_get(a, "out");
	o->predictions = kf_args_get(a, "predictions");
	o->device = kf_args_has(a, "device") ? kf_args_get(a, "device") : "cpu";
	o->resume = kf_args_has(a, "resume");
	for (i = 0; ign && i < ign->n; i++) {
		char *copy = kf_xstrdup(ign->v[i]), *save = NULL, *tok;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			kf_strv_push(&p->ignore, tok);
		free(copy);
	}
	o->ignore = (const char *const *)p->ignore.v;
	o->n_ignore = p->ignore.n;
	if (split) {
		char extra;

		if (sscanf(split, "mod:%ld:%ld%c", &o->split_mod, &o->split_rem, &extra) != 2 || o->split_mod < 2 ||
		    o->split_rem < 0 || o->split_rem >= o->split_mod)
			return kf_err_set(err, KF_EUSAGE, "--eval-split: \"%s\" is not mod:K:R with 0 <= R < K", split);
	}
	if ((rc = num_opt(a, "eval-fraction", 0, 0.99, &o->eval_fraction, err)) < 0)
		return rc;
	if (((split != NULL) + (o->eval != NULL) + (o->eval_fraction > 0)) > 1)
		return kf_err_set(err, KF_EUSAGE, "--eval, --eval-split and --eval-fraction exclude each other");
	if ((rc = int_opt(a, "split-seed", 0, 1L << 62, &l, err)) < 0)
		return rc;
	o->split_seed = rc ? (uint64_t)l : 1;
	if ((rc = int_opt(a, "seed", 0, 1L << 62, &l, err)) < 0)
		return rc;
	o->seed = rc ? (uint64_t)l : 1;
	mlp = !strcmp(o->model, "mlp");
	o->epochs = mlp ? 30 : 10;
	if ((rc = int_opt(a, "epochs", 1, 100000, &l, err)) < 0)
		return rc;
	if (rc)
		o->epochs = (int)l;
	o->lr = mlp ? 0.002 : 0.02;
	if ((rc = num_opt(a, "lr", 1e-9, 10, &o->lr, err)) < 0)
		return rc;
	o->batch = 256;
	if ((rc = int_opt(a, "batch", 1, 1 << 20, &l, err)) < 0)
		return rc;
	if (rc)
		o->batch = (size_t)l;
	o->l2 = 1e-5;
	if ((rc = num_opt(a, "l2", 0, 100, &o->l2, err)) < 0)
		return rc;
	p->hidden[0] = 64;
	p->hidden[1] = 32;
	o->n_hidden = 2;
	if (kf_args_has(a, "hidden") && (rc = parse_hidden(kf_args_get(a, "hidden"), p, err)) < 0)
		return rc;
	o->hidden = p->hidden;
	o->dropout = 0.1;
	if ((rc = num_opt(a, "dropout", 0, 0.95, &o->dropout, err)) < 0)
		return rc;
	if ((rc = int_opt(a, "patience", 0, 1000, &l, err)) < 0)
		return rc;
	if (rc)
		o->patience = (int)l;
	if ((rc = int_opt(a, "threads", 1, 1024, &l, err)) < 0)
		return rc;
	if (rc)
		o->threads = (int)l;
	if ((rc = int_opt(a, "rounds", 1, 100000, &l, err)) < 0)
		return rc;
	if (rc)
		o->rounds = (int)l;
	if ((rc = int_opt(a, "max-depth", 1, 64, &l, err)) < 0)
		return rc;
	if (rc)
		o->max_depth = (int)l;
	if ((rc = num_opt(a, "eta", 1e-6, 1, &o->eta, err)) < 0)
		return rc;
	o->user_col = kf_args_get(a, "user");
	o->item_col = kf_args_get(a, "item");
	o->item_sep = kf_args_get(a, "item-sep");
	o->rating_col = kf_args_get(a, "rating");
	if ((rc = int_opt(a, "factors", 1, 1024, &l, err)) < 0)
		return rc;
	if (rc)
		o->factors = (size_t)l;
	if ((rc = int_opt(a, "iters", 1, 10000, &l, err)) < 0)
		return rc;
	if (rc)
		o->iters = (int)l;
	if ((rc = num_opt(a, "alpha", 0, 1e6, &o->alpha, err)) < 0)
		return rc;
	if ((rc = num_opt(a, "reg", 0, 1e6, &o->reg, err)) < 0)
		return rc;
	p->workers = 0;
	if ((rc = int_opt(a, "workers", 1, 64, &p->workers, err)) < 0)
		return rc;
	p->ps = 0;
	if ((rc = int_opt(a, "ps", 0, 1, &p->ps, err)) < 0)
		return rc;
	return 0;
}

/* ---- distributed: TF_CONFIG and the PyTorch variables --------------------- */

struct cluster {
	int rank, world;     /* among chief/master + workers */
	char hub[128];
	bool hub_is_rank0;
	bool is_ps, is_evaluator;
};

static const char *addr_at(const cJSON *cl, const char *type, int i)
{
	const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cl, type), i);

	return cJSON_IsString(a) ? a->valuestring : NULL;
}

/* 0 and *c filled when this process is one of several replicas; 1 when it
 * trains alone; negative on a malformed TF_CONFIG. */
static int read_cluster(struct cluster *c, struct kf_err *err)
{
	const char *tf = getenv("TF_CONFIG"), *ws = getenv("WORLD_SIZE");
	cJSON *j;
	const cJSON *cl, *task, *type, *index;
	int n_chief, n_workers, idx;

	memset(c, 0, sizeof *c);
	if (tf && *tf) {
		j = cJSON_Parse(tf);
		cl = cJSON_GetObjectItemCaseSensitive(j, "cluster");
		task = cJSON_GetObjectItemCaseSensitive(j, "task");
		type = cJSON_GetObjectItemCaseSensitive(task, "type");
		index = cJSON_GetObjectItemCaseSensitive(task, "index");
		if (!cJSON_IsObject(cl) || !cJSON_IsString(type) || !cJSON_IsNumber(index)) {
			cJSON_Delete(j);
			return kf_err_set(err, KF_EINPUT, "TF_CONFIG: expected {\"cluster\": {...}, \"task\": {\"type\", \"index\"}}");
		}
		n_chief = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl, "chief")) +
			  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl, "master"));
		n_workers = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cl, "worker"));
		idx = index->valueint;
		c->world = n_chief + n_workers;
		if (!strcmp(type->valuestring, "chief") || !strcmp(type->valuestring, "master"))
			c->rank = 0;
		else if (!strcmp(type->valuestring, "worker"))
			c->rank = n_chief + idx;
		else if (!strcmp(type->valuestring, "ps"))
			c->is_ps = true;
		else
			c->is_evaluator = true;
		if (addr_at(cl, "ps", 0)) {
			snprintf(c->hub, sizeof c->hub, "%s", addr_at(cl, "ps", 0));
			c->is_ps = c->is_ps && idx == 0 ? true : c->is_ps;
		} else {
			const char *a0 = n_chief ? (addr_at(cl, "chief", 0) ? addr_at(cl, "chief", 0) : addr_at(cl, "master", 0))
						 : addr_at(cl, "worker", 0);

			snprintf(c->hub, sizeof c->hub, "%s", a0 ? a0 : "");
			c->hub_is_rank0 = true;
		}
		if (c->is_ps && idx != 0)
			c->hub[0] = '\0';   /* only ps 0 reduces; the others have nothing to do */
		cJSON_Delete(j);
		return c->world > 1 || c->is_ps || c->is_evaluator ? 0 : 1;
	}
	if (ws && getenv("RANK") && getenv("MASTER_ADDR") && getenv("MASTER_PORT")) {
		long w, r;

		if (!kf_str_to_long(ws, &w) || !kf_str_to_long(getenv("RANK"), &r) || w < 1 || r < 0 || r >= w)
			return kf_err_set(err, KF_EINPUT, "WORLD_SIZE/RANK: bad values");
		c->world = (int)w;
		c->rank = (int)r;
		snprintf(c->hub, sizeof c->hub, "%s:%s", getenv("MASTER_ADDR"), getenv("MASTER_PORT"));
		c->hub_is_rank0 = true;
		return c->world > 1 ? 0 : 1;
	}
	return 1;
}

/* ---- output ----------------------------------------------------------------- */

static void show_progress(void *arg, const char *line)
{
	const struct kf_ctx *ctx = arg;

	if (!ctx->quiet && (ctx->stderr_tty || ctx->verbose))
		fprintf(stderr, "%s\n", line);
}

/* name=value lines: the format Katib's StdOut metrics collector reads. */
static int print_metrics(const cJSON *m, struct kf_err *err)
{
	struct kf_buf b = KF_BUF_INIT;
	const cJSON *it;
	int rc;

	cJSON_ArrayForEach(it, m)
		if (cJSON_IsNumber(it))
			kf_buf_printf(&b, "%s=%.6g\n", it->string, it->valuedouble);
	rc = kf_print_buf(&b, err);
	kf_buf_release(&b);
	return rc;
}

/* ---- lineage ------------------------------------------------------------------ */

/* Record the training as TFX lays it out: a kf.Transform execution (the
 * training data in, the fitted transform out), then a kf.Train execution
 * (the data, the eval data and that transform in; the model bundle and its
 * metrics out), in one transaction, stored content-addressed. So an
 * upstream trace of a model reaches its transform, as it reaches TFX's
 * transform graph. The bundle is not written to after: lineage finds it by
 * its content digest, so a pipeline step's output, a repository copy and
 * the bundle kf serve loads are all joined to this record. */
static int record_training(struct kf_ctx *ctx, const struct kf_train_opts *o, const cJSON *metrics,
			   struct kf_err *err)
{
	char *dir = kf_ctx_store_dir(ctx), *abs_out = kf_path_absolute(o->out);
	char *transform = kf_path_join(o->out, "transform.json"), *mfile = kf_path_join(o->out, "metrics.json");
	struct kf_store *st = NULL;
	struct kf_store_props ep = KF_STORE_PROPS_INIT, mp = KF_STORE_PROPS_INIT;
	struct kf_store_ref in[3], out[2];
	struct kf_store_record rec;
	size_t n_in = 0, n_out = 0, i;
	int64_t ctx_id = 0, exec_id = 0;
	int rc;

	memset(in, 0, sizeof in);
	memset(out, 0, sizeof out);
	rc = kf_store_open(dir, &st, err);
	if (rc < 0)
		goto out;
	kf_store_props_str(&ep, "model", o->model);
	if (o->label)
		kf_store_props_str(&ep, "label", o->label);
	if (o->label_expr)
		kf_store_props_str(&ep, "label_expr", o->label_expr);
	kf_store_props_int(&ep, "seed", (int64_t)o->seed);
	kf_store_props_str(&ep, "out", abs_out);
	kf_store_props_from_json(&ep, metrics);
	kf_store_props_from_json(&mp, metrics);
	rc = kf_store_context(st, "kf.Training", abs_out, NULL, 0, &ctx_id, err);
	if (rc < 0 || (rc = kf_store_begin(st, err)) < 0)
		goto out;
	if (kf_fs_exists(transform)) {
		struct kf_store_ref data = { .path = "data", .type = "Dataset", .file = o->data };
		struct kf_store_ref fitted = { .path = "transform", .type = "Transform", .file = transform, .put = true };
		struct kf_store_record fit = { .type = "kf.Transform", .name = o->model, .state = KF_EXEC_COMPLETE,
					       .inputs = &data, .n_inputs = 1, .outputs = &fitted, .n_outputs = 1,
					       .contexts = &ctx_id, .n_contexts = 1 };

		rc = kf_store_record(st, &fit, &exec_id, err);
		in[n_in++] = (struct kf_store_ref){ .path = "transform", .type = "Transform", .id = fitted.id };
		kf_store_ref_release(&data);
		kf_store_ref_release(&fitted);
		if (rc < 0) {
			kf_store_rollback(st);
			goto out;
		}
	}
	in[n_in++] = (struct kf_store_ref){ .path = "data", .type = "Dataset", .file = o->data };
	if (o->eval)
		in[n_in++] = (struct kf_store_ref){ .path = "eval", .type = "Dataset", .file = o->eval };
	out[n_out++] = (struct kf_store_ref){ .path = "model", .type = "Model", .file = o->out, .put = true };
	out[n_out++] = (struct kf_store_ref){ .path = "metrics", .type = "Metrics", .file = mfile, .put = true, .props = &mp };
	memset(&rec, 0, sizeof rec);
	rec.type = "kf.Train";
	rec.name = o->model;
	rec.state = KF_EXEC_COMPLETE;
	rec.props = &ep;
	rec.inputs = in;
	rec.n_inputs = n_in;
	rec.outputs = out;
	rec.n_outputs = n_out;
	rec.contexts = &ctx_id;
	rec.n_contexts = 1;
	rc = kf_store_record(st, &rec, &exec_id, err);
	if (rc < 0) {
		kf_store_rollback(st);
		goto out;
	}
	if ((rc = kf_store_commit(st, err)) < 0)
		goto out;
	if (ctx->verbose)
		kf_print_info(ctx, "kf: recorded execution %lld in %s", (long long)exec_id, kf_store_dir(st));
out:
	for (i = 0; i < 3; i++)
		kf_store_ref_release(&in[i]);
	for (i = 0; i < 2; i++)
		kf_store_ref_release(&out[i]);
	kf_store_props_release(&ep);
	kf_store_props_release(&mp);
	kf_store_close(st);
	free(dir);
	free(abs_out);
	free(transform);
	free(mfile);
	return rc;
}

/* ---- --workers: the TFJob that runs this training ----------------------------- */

/* The replica command: this invocation's own options, without the job
 * ones (--workers, --emit, ...) and the common ones. */
static void replica_args(const struct kf_args *a, struct kf_strv *out)
{
	static const char *const job_opts[] = { "workers", "ps", "emit", "image", "name", "log-dir" };
	size_t i, k, own = 0;

	while (train_opts[own].long_name)
		own++;
	for (i = 0; i < a->n_opts && i < own; i++) {
		const struct kf_opt *opt = &a->opts[i];
		bool skip = false;

		for (k = 0; k < sizeof job_opts / sizeof *job_opts; k++)
			if (!strcmp(opt->long_name, job_opts[k]))
				skip = true;
		if (skip || a->vals[i].count == 0)
			continue;
		if (opt->arg == KF_OPT_NONE) {
			kf_strv_push_owned(out, kf_xasprintf("--%s", opt->long_name));
			continue;
		}
		for (k = 0; k < a->vals[i].values.n; k++) {
			kf_strv_push_owned(out, kf_xasprintf("--%s", opt->long_name));
			kf_strv_push(out, a->vals[i].values.v[k]);
		}
	}
}

static cJSON *replica_spec(const char *image, const struct kf_strv *args, int replicas)
{
	cJSON *spec = cJSON_CreateObject(), *tmpl, *pod, *ctrs, *c, *cmd, *arr;
	size_t i;

	cJSON_AddNumberToObject(spec, "replicas", replicas);
	cJSON_AddStringToObject(spec, "restartPolicy", "OnFailure");
	tmpl = cJSON_AddObjectToObject(spec, "template");
	pod = cJSON_AddObjectToObject(tmpl, "spec");
	ctrs = cJSON_AddArrayToObject(pod, "containers");
	c = cJSON_CreateObject();
	cJSON_AddItemToArray(ctrs, c);
	cJSON_AddStringToObject(c, "name", "tensorflow");
	cJSON_AddStringToObject(c, "image", image);
	cmd = cJSON_AddArrayToObject(c, "command");
	cJSON_AddItemToArray(cmd, cJSON_CreateString("kf"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("train"));
	arr = cJSON_AddArrayToObject(c, "args");
	for (i = 0; i < args->n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(args->v[i]));
	return spec;
}

/* store: the replicas' --store for a local run (NULL in an emitted job). */
static cJSON *build_tfjob(const struct kf_args *a, const struct parsed *p, const char *store)
{
	struct kf_strv args = KF_STRV_INIT;
	const char *name = kf_args_has(a, "name") ? kf_args_get(a, "name") : "kf-train";
	const char *image = kf_args_has(a, "image") ? kf_args_get(a, "image") : "ghcr.io/kf/kf:" PACKAGE_VERSION;
	cJSON *job = cJSON_CreateObject(), *md, *spec, *rs, *rp;

	replica_args(a, &args);
	if (store) {
		kf_strv_push(&args, "--store");
		kf_strv_push(&args, store);
	}
	cJSON_AddStringToObject(job, "apiVersion", "kubeflow.org/v1");
	cJSON_AddStringToObject(job, "kind", "TFJob");
	md = cJSON_AddObjectToObject(job, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	spec = cJSON_AddObjectToObject(job, "spec");
	rp = cJSON_AddObjectToObject(spec, "runPolicy");
	cJSON_AddNumberToObject(rp, "backoffLimit", 3);
	cJSON_AddStringToObject(rp, "cleanPodPolicy", "Running");
	rs = cJSON_AddObjectToObject(spec, "tfReplicaSpecs");
	if (p->ps > 0)
		cJSON_AddItemToObject(rs, "PS", replica_spec(image, &args, (int)p->ps));
	cJSON_AddItemToObject(rs, "Worker", replica_spec(image, &args, (int)p->workers));
	kf_strv_release(&args);
	return job;
}

/* ---- job output -------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Replica output: "worker-0 | line" on stdout, as kubectl logs --prefix. */
static void job_line(void *arg, const char *replica, const char *line)
{
	(void)arg;
	printf("%s | %s\n", replica, line);
	fflush(stdout);
}

static void job_event(void *arg, const char *msg)
{
	const struct kf_ctx *ctx = arg;

	kf_print_info(ctx, "kf: %s", msg);
}

static int run_job(struct kf_ctx *ctx, struct kf_trainjob *tj, const struct kf_args *a, struct kf_err *err)
{
	struct kf_trainjob_opts jo;
	struct sigaction sa, old_int, old_term;
	char *store = kf_ctx_store_dir(ctx);
	int rc;

	kf_trainjob_opts_init(&jo);
	jo.self_exe = ctx->self_exe;
	jo.log_dir = kf_args_get(a, "log-dir");
	jo.store_dir = store;
	jo.on_line = job_line;
	jo.on_event = job_event;
	jo.arg = ctx;
	jo.interrupted = (volatile const int *)&interrupted;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = kf_trainjob_run(tj, &jo, err);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(store);
	return rc;
}

/* ---- run ---------------------------------------------------------------------- */

static int run_job_file(struct kf_ctx *ctx, const char *path, const struct kf_args *a, struct kf_err *err);

/* Run the TFJob that --workers describes, as kf train JOB.yaml would. */
static int run_local_workers(struct kf_ctx *ctx, const cJSON *job, const struct kf_args *a, struct kf_err *err)
{
	struct kf_trainjob *tj = NULL;
	struct kf_errlist errs = KF_ERRLIST_INIT;
	struct kf_buf y = KF_BUF_INIT;
	int rc;

	rc = kf_yaml_emit(job, &y, err);
	if (rc == 0)
		rc = kf_trainjob_load_text(&tj, "--workers", kf_buf_str(&y), y.len, &errs, err);
	if (errs.n) {
		kf_print_errors(ctx, &errs);
		err->msg[0] = '\0';
	}
	if (rc == 0)
		rc = run_job(ctx, tj, a, err);
	kf_errlist_release(&errs);
	kf_trainjob_free(tj);
	kf_buf_release(&y);
	return rc;
}

static int run_train(struct kf_ctx *ctx, struct kf_args *a, struct kf_err *err)
{
	struct parsed p;
	struct cluster cl;
	struct kf_allreduce *ar = NULL;
	cJSON *metrics = NULL;
	int rc;

	memset(&p, 0, sizeof p);
	if (a->argc == 1) {
		if (kf_args_has(a, "model"))
			return kf_err_set(err, KF_EUSAGE, "give a job file or --model, not both");
		return run_job_file(ctx, a->argv[0], a, err);
	}
	if (!kf_args_has(a, "model"))
		return kf_err_set(err, KF_EUSAGE, "give --model KIND (or a TFJob/PyTorchJob file); see kf train -h");
	rc = parse_train(a, &p, err);
	if (rc < 0)
		goto out;
	if (kf_args_has(a, "emit") && !p.workers) {
		rc = kf_err_set(err, KF_EUSAGE, "--emit needs --workers N");
		goto out;
	}
	if (p.workers) {
		char *store = kf_args_has(a, "emit") ? NULL : kf_ctx_store_dir(ctx);
		char *abs = store ? kf_path_absolute(store) : NULL;
		cJSON *job = build_tfjob(a, &p, abs);

		free(store);
		free(abs);

		if (kf_args_has(a, "emit")) {
			struct kf_buf y = KF_BUF_INIT;

			rc = kf_yaml_emit(job, &y, err);
			if (rc == 0)
				rc = kf_print_buf(&y, err);
			kf_buf_release(&y);
		} else {
			rc = run_local_workers(ctx, job, a, err);
		}
		cJSON_Delete(job);
		goto out;
	}
	rc = read_cluster(&cl, err);
	if (rc < 0)
		goto out;
	if (rc == 0) {
		if (cl.is_evaluator) {
			kf_print_info(ctx, "kf train: evaluator replica: the chief evaluates; nothing to do");
			rc = 0;
			goto out;
		}
		if (cl.is_ps) {
			rc = cl.hub[0] ? kf_allreduce_serve(cl.hub, cl.world, err) : 0;
			goto out;
		}
		rc = kf_allreduce_open(&ar, cl.hub, cl.hub_is_rank0, cl.rank, cl.world, err);
		if (rc < 0)
			goto out;
		p.o.rank = cl.rank;
		p.o.world = cl.world;
		p.o.ar = ar;
	}
	if (!p.o.out && p.o.rank == 0) {
		rc = kf_err_set(err, KF_EUSAGE, "--out DIR is required");
		goto out;
	}
	p.o.progress = show_progress;
	p.o.progress_arg = ctx;
	rc = kf_train_run(&p.o, &metrics, err);
	if (rc == 0 && p.o.rank == 0)
		rc = record_training(ctx, &p.o, metrics, err);
	if (rc == 0)
		rc = print_metrics(metrics, err);
out:
	kf_allreduce_close(ar);
	cJSON_Delete(metrics);
	kf_strv_release(&p.ignore);
	return rc;
}

static int run_job_file(struct kf_ctx *ctx, const char *path, const struct kf_args *a, struct kf_err *err)
{
	struct kf_trainjob *tj = NULL;
	struct kf_errlist errs = KF_ERRLIST_INIT;
	int rc;

	rc = kf_trainjob_load(&tj, path, &errs, err);
	if (rc < 0 && errs.n) {
		kf_print_errors(ctx, &errs);
		err->msg[0] = '\0';
	} else if (rc == 0 && kf_args_has(a, "dry-run")) {
		cJSON *plan = NULL;
		struct kf_buf y = KF_BUF_INIT;

		rc = kf_trainjob_describe(tj, &plan, err);
		if (rc == 0)
			rc = kf_yaml_emit(plan, &y, err);
		if (rc == 0)
			rc = kf_print_buf(&y, err);
		kf_buf_release(&y);
		cJSON_Delete(plan);
	} else if (rc == 0) {
		rc = run_job(ctx, tj, a, err);
	}
	kf_errlist_release(&errs);
	kf_trainjob_free(tj);
	return rc;
}

static int run_predict(struct kf_ctx *ctx, struct kf_args *a, struct kf_err *err)
{
	const char *dir = kf_args_get(a, "model-dir"), *data = kf_args_get(a, "data");
	const char *format = kf_args_has(a, "format") ? kf_args_get(a, "format") : "csv";
	long k = 10;
	int rc;

	(void)ctx;
	if (!dir || !data)
		return kf_err_set(err, KF_EUSAGE, "--model-dir DIR and --data CSV are required");
	if (strcmp(format, "csv") && strcmp(format, "jsonl"))
		return kf_err_set(err, KF_EUSAGE, "--format: \"%s\" is not csv or jsonl", format);
	if ((rc = int_opt(a, "top-k", 1, 100000, &k, err)) < 0)
		return rc;
	rc = kf_train_predict(dir, data, format, (size_t)k, kf_args_get(a, "user"), stdout, err);
	if (rc == 0 && fflush(stdout) != 0)
		rc = kf_err_sys(err, "writing predictions");
	return rc;
}

const struct kf_cmd kf_cmd_train_predict = {
	.name = "predict",
	.summary = "predict rows with a model bundle, applying its transform",
	.usage = "train predict --model-dir DIR --data CSV [--format csv|jsonl] [--top-k K] [--user COL]",
	.description = "Writes one line per row of --data to stdout: the class probabilities and the "
		       "prediction (CSV with a header, or JSON Lines). The bundle's fitted transform is "
		       "applied to the raw columns by name, exactly as at training time. An mf bundle "
		       "lists the top K unseen items of each user.",
	.opts = predict_opts,
	.min_args = 0,
	.max_args = 0,
	.run = run_predict,
};

const struct kf_cmd kf_cmd_train = {
	.name = "train",
	.summary = "train built-in models, run TFJob/PyTorchJob manifests locally",
	.usage = "train --model KIND --data CSV (--label COL | --label-expr EXPR) --out DIR [OPTIONS]\n"
		 "train --model KIND ... --workers N [--ps 1] [--emit [--image IMAGE]]\n"
		 "train JOB.yaml [--log-dir DIR] [--dry-run]\n"
		 "train predict --model-dir DIR --data CSV [--format csv|jsonl]",
	.description = "With --model, fit a feature transform and a model on a CSV and write a model "
		       "bundle (kf-model.json, weights, metrics.json) to --out; metrics are printed as "
		       "name=value lines. With a TFJob or PyTorchJob manifest, run each replica as a local "
		       "process with TF_CONFIG or MASTER_ADDR/WORLD_SIZE/RANK set as the training operator does.",
	.opts = train_opts,
	.subs = (const struct kf_cmd *const[]){ &kf_cmd_train_predict, NULL },
	.min_args = 0,
	.max_args = 1,
	.args_complete = "file",
	.run = run_train,
};
