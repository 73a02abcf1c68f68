/* kf_store: SQLite metadata (ML Metadata's model) and content-addressed
 * artifacts. The sqlite3 handle never leaves this file. */
#include "config.h"

#include "store/kf_store.h"
#include "util/kf_buf.h"
#include "util/kf_err.h"
#include "util/kf_fs.h"
#include "util/kf_mem.h"
#include "util/kf_time.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 60000
#define STMT_CACHE 64
#define TYPE_CACHE 32

struct stmt_slot {
	const char *sql;   /* static text: the pointer is the key */
	sqlite3_stmt *st;
};

struct kf_store {
	char *dir;
	char *blobs;       /* dir/artifacts/sha256 */
	char *tmp;         /* dir/artifacts/tmp */
	sqlite3 *db;
	int depth;         /* kf_store_begin nesting */
	bool doomed;       /* an inner rollback: the outer commit fails */
	struct stmt_slot stmts[STMT_CACHE];
	size_t n_stmts;
	/* Type ids already looked up (types are never deleted) */
	struct { int kind; char *name; int64_t id; } types[TYPE_CACHE];
	size_t n_types;
};

static void forget_types(struct kf_store *s);

/* ---- schema ------------------------------------------------------------ */

/* Each migration takes the schema from version i to i + 1. Never edit one
 * that has shipped: add the next. */
static const char *const migrations[] = {
	/* 0 -> 1: ML Metadata's tables (its schema v10 names) plus kf's own. */
	"CREATE TABLE IF NOT EXISTS MLMDEnv (schema_version INTEGER PRIMARY KEY);"
	"CREATE TABLE Type (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT,"
	" type_kind INTEGER NOT NULL, description TEXT, UNIQUE (name, type_kind));"
	"CREATE TABLE TypeProperty (type_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" data_type INTEGER, PRIMARY KEY (type_id, name));"
	"CREATE TABLE Artifact (id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL, uri TEXT,"
	" state INTEGER, name TEXT, digest TEXT,"
	" create_time_since_epoch INTEGER NOT NULL DEFAULT 0,"
	" last_update_time_since_epoch INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX idx_artifact_digest ON Artifact (digest);"
	"CREATE INDEX idx_artifact_uri ON Artifact (uri);"
	"CREATE INDEX idx_artifact_type ON Artifact (type_id, create_time_since_epoch);"
	"CREATE TABLE ArtifactProperty (artifact_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" is_custom_property INTEGER NOT NULL DEFAULT 1, data_type INTEGER NOT NULL,"
	" int_value INTEGER, double_value REAL, string_value TEXT,"
	" PRIMARY KEY (artifact_id, name, is_custom_property));"
	"CREATE TABLE Execution (id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL,"
	" last_known_state INTEGER, name TEXT,"
	" create_time_since_epoch INTEGER NOT NULL DEFAULT 0,"
	" last_update_time_since_epoch INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX idx_execution_type ON Execution (type_id, create_time_since_epoch);"
	"CREATE TABLE ExecutionProperty (execution_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" is_custom_property INTEGER NOT NULL DEFAULT 1, data_type INTEGER NOT NULL,"
	" int_value INTEGER, double_value REAL, string_value TEXT,"
	" PRIMARY KEY (execution_id, name, is_custom_property));"
	"CREATE TABLE Context (id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL,"
	" name TEXT NOT NULL, create_time_since_epoch INTEGER NOT NULL DEFAULT 0,"
	" last_update_time_since_epoch INTEGER NOT NULL DEFAULT 0, UNIQUE (type_id, name));"
	"CREATE TABLE ContextProperty (context_id INTEGER NOT NULL, name TEXT NOT NULL,"
	" is_custom_property INTEGER NOT NULL DEFAULT 1, data_type INTEGER NOT NULL,"
	" int_value INTEGER, double_value REAL, string_value TEXT,"
	" PRIMARY KEY (context_id, name, is_custom_property));"
	"CREATE TABLE ParentContext (context_id INTEGER NOT NULL,"
	" parent_context_id INTEGER NOT NULL, PRIMARY KEY (context_id, parent_context_id));"
	"CREATE INDEX idx_parentcontext_parent ON ParentContext (parent_context_id);"
	"CREATE TABLE Event (id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL,"
	" execution_id INTEGER NOT NULL, type INTEGER NOT NULL,"
	" milliseconds_since_epoch INTEGER);"
	"CREATE INDEX idx_event_artifact ON Event (artifact_id, execution_id);"
	"CREATE INDEX idx_event_execution ON Event (execution_id, artifact_id);"
	"CREATE TABLE EventPath (event_id INTEGER NOT NULL, is_index_step INTEGER NOT NULL,"
	" step_index INTEGER, step_key TEXT);"
	"CREATE INDEX idx_eventpath_event ON EventPath (event_id);"
	"CREATE TABLE Attribution (id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL,"
	" artifact_id INTEGER NOT NULL, UNIQUE (context_id, artifact_id));"
	"CREATE INDEX idx_attribution_artifact ON Attribution (artifact_id);"
	"CREATE TABLE Association (id INTEGER PRIMARY KEY, context_id INTEGER NOT NULL,"
	" execution_id INTEGER NOT NULL, UNIQUE (context_id, execution_id));"
	"CREATE INDEX idx_association_execution ON Association (execution_id);"
	"CREATE TABLE kf_run (id TEXT PRIMARY KEY, name TEXT, pipeline TEXT, source TEXT,"
	" params TEXT, plan TEXT, state TEXT NOT NULL, message TEXT, pid INTEGER,"
	" created INTEGER NOT NULL, started INTEGER, finished INTEGER, context_id INTEGER);"
	"CREATE INDEX idx_run_created ON kf_run (created);"
	"CREATE TABLE kf_task (run_id TEXT NOT NULL, task TEXT NOT NULL, step TEXT,"
	" state TEXT NOT NULL, attempt INTEGER, exit_code INTEGER, started INTEGER,"
	" finished INTEGER, execution_id INTEGER, cache_key TEXT, outputs TEXT, message TEXT,"
	" pid INTEGER, PRIMARY KEY (run_id, task));"
	"CREATE TABLE kf_cache (key TEXT PRIMARY KEY, outputs TEXT NOT NULL,"
	" execution_id INTEGER, created INTEGER NOT NULL);",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

static int db_err(struct kf_store *s, struct kf_err *err, const char *what)
{
	int code = sqlite3_errcode(s->db);

	return kf_err_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? KF_EENV : KF_EIO,
			  "store \"%s\": %s: %s", s->dir, what, sqlite3_errmsg(s->db));
}

static int exec_sql(struct kf_store *s, const char *sql, struct kf_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		kf_err_set(err, KF_EIO, "store \"%s\": %s", s->dir, msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return KF_EIO;
	}
	return 0;
}

/* A prepared statement for a static SQL text, reset and with no bindings. */
static sqlite3_stmt *stmt(struct kf_store *s, const char *sql, struct kf_err *err)
{
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < s->n_stmts; i++) {
		if (s->stmts[i].sql == sql) {
			sqlite3_reset(s->stmts[i].st);
			sqlite3_clear_bindings(s->stmts[i].st);
			return s->stmts[i].st;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		db_err(s, err, "prepare");
		return NULL;
	}
	if (s->n_stmts < STMT_CACHE) {
		s->stmts[s->n_stmts].sql = sql;
		s->stmts[s->n_stmts++].st = st;
	}
	return st;
}

/* Step a statement that returns no row; frees it when it was not cached. */
static int step_done(struct kf_store *s, sqlite3_stmt *st, struct kf_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(s, err, "write");
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_json(sqlite3_stmt *st, int i, const cJSON *v)
{
	char *text;

	if (!v) {
		sqlite3_bind_null(st, i);
		return;
	}
	text = cJSON_PrintUnformatted(v);
	sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
	cJSON_free(text);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int schema_version(struct kf_store *s)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT max(schema_version) FROM MLMDEnv", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;   /* no table yet: a new store */
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(struct kf_store *s, struct kf_err *err)
{
	int v, rc;

	if (schema_version(s) == KF_STORE_SCHEMA_VERSION)
		return 0;
	/* Another process may be migrating too: take the write lock, then look
	 * again. */
	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	v = schema_version(s);
	if (v > KF_STORE_SCHEMA_VERSION) {
		kf_store_rollback(s);
		return kf_err_set(err, KF_EENV,
				  "store \"%s\" has schema version %d, newer than this kf (%d)",
				  s->dir, v, KF_STORE_SCHEMA_VERSION);
	}
	for (; v < N_MIGRATIONS; v++) {
		char set[96];

		if ((rc = exec_sql(s, migrations[v], err)) < 0) {
			kf_err_prefix(err, "migration to schema version %d", v + 1);
			kf_store_rollback(s);
			return rc;
		}
		snprintf(set, sizeof set, "DELETE FROM MLMDEnv; INSERT INTO MLMDEnv VALUES (%d);", v + 1);
		if ((rc = exec_sql(s, set, err)) < 0) {
			kf_store_rollback(s);
			return rc;
		}
	}
	return kf_store_commit(s, err);
}

int kf_store_open(const char *dir, struct kf_store **out, struct kf_err *err)
{
	struct kf_store *s = kf_xcalloc(1, sizeof *s);
	char *db_path = NULL;
	int rc;

	*out = NULL;
	s->dir = kf_xstrdup(dir);
	s->blobs = kf_xasprintf("%s/artifacts/sha256", dir);
	s->tmp = kf_xasprintf("%s/artifacts/tmp", dir);
	if ((rc = kf_fs_mkdirs(s->blobs, err)) < 0 || (rc = kf_fs_mkdirs(s->tmp, err)) < 0)
		goto out;
	db_path = kf_path_join(dir, "kf.db");
	if (sqlite3_open_v2(db_path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = kf_err_set(err, KF_EIO, "cannot open store \"%s\": %s", db_path,
				s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* WAL: readers never block the writer; NORMAL sync is durable against
	 * process crashes and keeps the database consistent on power loss. */
	/* Switching a new database to WAL takes an exclusive lock for which
	 * SQLite does not call the busy handler: when several kf processes
	 * create one store at once, the losers wait and try again here. */
	for (int tries = 0;; tries++) {
		rc = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			      "PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;", err);
		if (rc == 0 || sqlite3_errcode(s->db) != SQLITE_BUSY || tries * 10 >= BUSY_TIMEOUT_MS)
			break;
		usleep(10000);
	}
	if (rc < 0)
		goto out;
	if ((rc = migrate(s, err)) < 0)
		goto out;
	*out = s;
	s = NULL;
out:
	free(db_path);
	kf_store_close(s);
	return rc;
}

void kf_store_close(struct kf_store *s)
{
	if (!s)
		return;
	if (s->depth)
		kf_store_rollback(s);
	for (size_t i = 0; i < s->n_stmts; i++)
		sqlite3_finalize(s->stmts[i].st);
	forget_types(s);
	if (s->db)
		sqlite3_close(s->db);
	free(s->dir);
	free(s->blobs);
	free(s->tmp);
	free(s);
}

const char *kf_store_dir(const struct kf_store *s)
{
	return s->dir;
}

int kf_store_schema_version(struct kf_store *s)
{
	return schema_version(s);
}

int kf_store_begin(struct kf_store *s, struct kf_err *err)
{
	int rc;

	if (s->depth++ > 0)
		return 0;
	s->doomed = false;
	if ((rc = exec_sql(s, "BEGIN IMMEDIATE", err)) < 0)
		s->depth = 0;
	return rc;
}

int kf_store_commit(struct kf_store *s, struct kf_err *err)
{
	if (s->depth <= 0)
		return kf_err_set(err, KF_EIO, "store \"%s\": commit without a transaction", s->dir);
	if (--s->depth > 0)
		return 0;
	if (s->doomed) {
		exec_sql(s, "ROLLBACK", err);
		forget_types(s);
		return kf_err_set(err, KF_EIO, "store \"%s\": transaction rolled back", s->dir);
	}
	if (exec_sql(s, "COMMIT", err) < 0) {
		struct kf_err ignore;

		exec_sql(s, "ROLLBACK", &ignore);
		forget_types(s);
		return KF_EIO;
	}
	return 0;
}

/* A rolled-back transaction may take away types it created. */
static void forget_types(struct kf_store *s)
{
	for (size_t i = 0; i < s->n_types; i++)
		free(s->types[i].name);
	s->n_types = 0;
}

void kf_store_rollback(struct kf_store *s)
{
	struct kf_err ignore;

	if (s->depth <= 0)
		return;
	if (--s->depth > 0) {
		s->doomed = true;
		return;
	}
	exec_sql(s, "ROLLBACK", &ignore);
	forget_types(s);
}

/* ---- names ------------------------------------------------------------ */

static const char *const art_states[] = {
	"UNKNOWN", "PENDING", "LIVE", "MARKED_FOR_DELETION", "DELETED", "ABANDONED", "REFERENCE",
};
static const char *const exec_states[] = {
	"UNKNOWN", "NEW", "RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED",
};
static const char *const event_types[] = {
	"UNKNOWN", "DECLARED_OUTPUT", "DECLARED_INPUT", "INPUT", "OUTPUT",
	"INTERNAL_INPUT", "INTERNAL_OUTPUT", "PENDING_OUTPUT",
};

#define NAME_OF(tab, i) ((i) >= 0 && (size_t)(i) < sizeof tab / sizeof tab[0] ? tab[i] : "UNKNOWN")

static int parse_name(const char *const *tab, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(tab[i], name))
			return (int)i;
	return -1;
}

const char *kf_artifact_state_name(int state) { return NAME_OF(art_states, state); }
const char *kf_exec_state_name(int state) { return NAME_OF(exec_states, state); }
const char *kf_event_type_name(int type) { return NAME_OF(event_types, type); }

int kf_artifact_state_parse(const char *name)
{
	return parse_name(art_states, sizeof art_states / sizeof art_states[0], name);
}

int kf_exec_state_parse(const char *name)
{
	return parse_name(exec_states, sizeof exec_states / sizeof exec_states[0], name);
}

/* ---- properties --------------------------------------------------------- */

static struct kf_store_prop *prop_slot(struct kf_store_props *p, const char *name)
{
	struct kf_store_prop *it;

	for (size_t i = 0; i < p->n; i++) {
		if (!strcmp(p->items[i].name, name)) {
			free(p->items[i].s);
			p->items[i].s = NULL;
			return &p->items[i];
		}
	}
	KF_GROW(p->items, p->cap, p->n + 1);
	it = &p->items[p->n++];
	memset(it, 0, sizeof *it);
	it->name = kf_xstrdup(name);
	return it;
}

void kf_store_props_int(struct kf_store_props *p, const char *name, int64_t v)
{
	struct kf_store_prop *it = prop_slot(p, name);

	it->type = KF_PROP_INT;
	it->i = v;
}

void kf_store_props_double(struct kf_store_props *p, const char *name, double v)
{
	struct kf_store_prop *it = prop_slot(p, name);

	it->type = KF_PROP_DOUBLE;
	it->d = v;
}

void kf_store_props_str(struct kf_store_props *p, const char *name, const char *v)
{
	struct kf_store_prop *it = prop_slot(p, name);

	it->type = KF_PROP_STRING;
	it->s = kf_xstrdup(v ? v : "");
}

void kf_store_props_json(struct kf_store_props *p, const char *name, const cJSON *v)
{
	struct kf_store_prop *it = prop_slot(p, name);
	char *text = v ? cJSON_PrintUnformatted(v) : NULL;

	it->type = KF_PROP_JSON;
	it->s = kf_xstrdup(text ? text : "null");
	cJSON_free(text);
}

void kf_store_props_from_json(struct kf_store_props *p, const cJSON *obj)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, obj) {
		if (!v->string)
			continue;
		if (cJSON_IsNumber(v)) {
			double d = v->valuedouble;

			if (d == floor(d) && fabs(d) < 9007199254740992.0)
				kf_store_props_int(p, v->string, (int64_t)d);
			else
				kf_store_props_double(p, v->string, d);
		} else if (cJSON_IsString(v)) {
			kf_store_props_str(p, v->string, v->valuestring);
		} else if (cJSON_IsBool(v)) {
			kf_store_props_int(p, v->string, cJSON_IsTrue(v));
		} else {
			kf_store_props_json(p, v->string, v);
		}
	}
}

void kf_store_props_release(struct kf_store_props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].s);
	}
	free(p->items);
	p->items = NULL;
	p->n = p->cap = 0;
}

enum owner { OWN_ARTIFACT, OWN_EXECUTION, OWN_CONTEXT };

static const char *const prop_insert_sql[] = {
	"INSERT OR REPLACE INTO ArtifactProperty (artifact_id, name, is_custom_property,"
	" data_type, int_value, double_value, string_value) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)",
	"INSERT OR REPLACE INTO ExecutionProperty (execution_id, name, is_custom_property,"
	" data_type, int_value, double_value, string_value) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)",
	"INSERT OR REPLACE INTO ContextProperty (context_id, name, is_custom_property,"
	" data_type, int_value, double_value, string_value) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)",
};

static int props_write(struct kf_store *s, enum owner own, int64_t id,
		       const struct kf_store_props *p, struct kf_err *err)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct kf_store_prop *it = &p->items[i];
		sqlite3_stmt *st = stmt(s, prop_insert_sql[own], err);
		int rc;

		if (!st)
			return KF_EIO;
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, it->name);
		sqlite3_bind_int(st, 3, it->type);
		if (it->type == KF_PROP_INT)
			sqlite3_bind_int64(st, 4, it->i);
		if (it->type == KF_PROP_DOUBLE)
			sqlite3_bind_double(st, 5, it->d);
		if (it->type == KF_PROP_STRING || it->type == KF_PROP_JSON)
			bind_text(st, 6, it->s);
		if ((rc = step_done(s, st, err)) < 0)
			return rc;
	}
	return 0;
}

/* ---- content-addressed artifacts --------------------------------------- */

char *kf_store_blob_path(const struct kf_store *s, const char *hex)
{
	return kf_xasprintf("%s/%.2s/%s", s->blobs, hex, hex + 2);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy src to dst (a new file), hashing the bytes; hex may be NULL. */
static int copy_file(const char *src, const char *dst, mode_t mode, char *hex,
		     struct kf_err *err)
{
	char buf[65536];
	struct kf_sha256 h;
	int in, outfd = -1, rc = 0;
	ssize_t n;

	kf_sha256_init(&h);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return kf_err_sys(err, "cannot open \"%s\"", src);
	outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (outfd < 0) {
		rc = kf_err_sys(err, "cannot create \"%s\"", dst);
		goto out;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = kf_err_sys(err, "cannot read \"%s\"", src);
			goto out;
		}
		kf_sha256_update(&h, buf, (size_t)n);
		if (write_all(outfd, buf, (size_t)n) != 0) {
			rc = kf_err_sys(err, "cannot write \"%s\"", dst);
			goto out;
		}
	}
	if (hex)
		kf_sha256_final_hex(&h, hex);
out:
	close(in);
	if (outfd >= 0 && close(outfd) != 0 && !rc)
		rc = kf_err_sys(err, "cannot write \"%s\"", dst);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a directory (without . and ..). */
static int list_dir(const char *path, char ***names, size_t *n, struct kf_err *err)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return kf_err_sys(err, "cannot open directory \"%s\"", path);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		KF_GROW(*names, cap, *n + 1);
		(*names)[(*n)++] = kf_xstrdup(e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof **names, cmp_names);
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int digest_dir(const char *path, char *hex, struct kf_err *err);

static int digest_entry(const char *path, char *hex, char *kind, struct kf_err *err)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return kf_err_sys(err, "cannot stat \"%s\"", path);
	if (S_ISDIR(st.st_mode)) {
		*kind = 'd';
		return digest_dir(path, hex, err);
	}
	if (!S_ISREG(st.st_mode))
		return kf_err_set(err, KF_EINPUT,
				  "artifact \"%s\" is not a regular file or directory", path);
	*kind = (st.st_mode & S_IXUSR) ? 'x' : 'f';
	return kf_sha256_file(path, hex, err);
}

static int digest_dir(const char *path, char *hex, struct kf_err *err)
{
	struct kf_sha256 h;
	char **names;
	size_t n;
	int rc;

	if ((rc = list_dir(path, &names, &n, err)) < 0)
		return rc;
	kf_sha256_init(&h);
	kf_sha256_update(&h, "kf-dir-v1\n", 10);
	for (size_t i = 0; i < n && !rc; i++) {
		char *child = kf_path_join(path, names[i]);
		char sub[KF_SHA256_HEX_LEN + 1], kind;

		if ((rc = digest_entry(child, sub, &kind, err)) == 0) {
			char head[KF_SHA256_HEX_LEN + 4];

			snprintf(head, sizeof head, "%c %s ", kind, sub);
			kf_sha256_update(&h, head, strlen(head));
			kf_sha256_update(&h, names[i], strlen(names[i]) + 1);
		}
		free(child);
	}
	free_names(names, n);
	if (!rc)
		kf_sha256_final_hex(&h, hex);
	return rc;
}

int kf_store_digest_path(const char *path, char hex[KF_SHA256_HEX_LEN + 1], bool *is_dir,
			 struct kf_err *err)
{
	char kind;
	int rc = digest_entry(path, hex, &kind, err);

	if (is_dir)
		*is_dir = kind == 'd';
	return rc;
}

static int copy_tree(const char *src, const char *dst, struct kf_err *err)
{
	char **names;
	size_t n;
	int rc;

	if (mkdir(dst, 0700) != 0)
		return kf_err_sys(err, "cannot create \"%s\"", dst);
	if ((rc = list_dir(src, &names, &n, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		char *from = kf_path_join(src, names[i]), *to = kf_path_join(dst, names[i]);
		struct stat st;

		if (lstat(from, &st) != 0)
			rc = kf_err_sys(err, "cannot stat \"%s\"", from);
		else if (S_ISDIR(st.st_mode))
			rc = copy_tree(from, to, err);
		else if (S_ISREG(st.st_mode))
			rc = copy_file(from, to, 0600 | (st.st_mode & S_IXUSR), NULL, err);
		else
			rc = kf_err_set(err, KF_EINPUT,
					"artifact \"%s\" is not a regular file or directory", from);
		free(from);
		free(to);
	}
	free_names(names, n);
	return rc;
}

/* Make a tree read-only (files 0444/0555, directories 0555), fsyncing
 * files so that a crash after the rename cannot leave a torn artifact. */
static int seal_tree(const char *path, struct kf_err *err)
{
	struct stat st;
	int rc = 0;

	if (lstat(path, &st) != 0)
		return kf_err_sys(err, "cannot stat \"%s\"", path);
	if (S_ISDIR(st.st_mode)) {
		char **names;
		size_t n;

		if ((rc = list_dir(path, &names, &n, err)) < 0)
			return rc;
		for (size_t i = 0; i < n && !rc; i++) {
			char *child = kf_path_join(path, names[i]);

			rc = seal_tree(child, err);
			free(child);
		}
		free_names(names, n);
		if (!rc && chmod(path, 0555) != 0)
			rc = kf_err_sys(err, "cannot chmod \"%s\"", path);
		return rc;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kf_err_sys(err, "cannot open \"%s\"", path);
	if (fsync(fd) != 0 || fchmod(fd, (st.st_mode & S_IXUSR) ? 0555 : 0444) != 0)
		rc = kf_err_sys(err, "cannot seal \"%s\"", path);
	close(fd);
	return rc;
}

static char *tmp_name(const struct kf_store *s)
{
	unsigned char r[8];
	static unsigned counter;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		memset(r, 0, sizeof r);
	return kf_xasprintf("%s/%ld.%u.%02x%02x%02x%02x%02x%02x%02x%02x", s->tmp, (long)getpid(),
			    counter++, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
}

int kf_store_put(struct kf_store *s, const char *src, unsigned flags,
		 char hex[KF_SHA256_HEX_LEN + 1], char **path, struct kf_err *err)
{
	char *tmp = tmp_name(s), *final = NULL, *dir = NULL;
	struct stat st;
	bool moved = false, is_dir;
	int rc;

	if (path)
		*path = NULL;
	if (stat(src, &st) != 0) {
		rc = kf_err_sys(err, "cannot stat \"%s\"", src);
		goto out;
	}
	is_dir = S_ISDIR(st.st_mode);
	/* Get the bytes under a private name first, then hash what is there:
	 * the digest is of exactly what gets stored. */
	if ((flags & KF_PUT_MOVE) && rename(src, tmp) == 0) {
		moved = true;
		rc = kf_store_digest_path(tmp, hex, NULL, err);
	} else if (is_dir) {
		if ((rc = copy_tree(src, tmp, err)) == 0)
			rc = kf_store_digest_path(tmp, hex, NULL, err);
	} else if (S_ISREG(st.st_mode)) {
		rc = copy_file(src, tmp, 0600 | (st.st_mode & S_IXUSR), hex, err);
	} else {
		rc = kf_err_set(err, KF_EINPUT, "artifact \"%s\" is not a regular file or directory",
				src);
	}
	if (rc < 0)
		goto fail;
	final = kf_store_blob_path(s, hex);
	if (!kf_fs_exists(final)) {
		dir = kf_path_dirname(final);
		if ((rc = kf_fs_mkdirs(dir, err)) < 0 || (rc = seal_tree(tmp, err)) < 0)
			goto fail;
		/* A directory cannot replace a non-empty one: another writer won
		 * the race with the same content, which is just as good. */
		if (rename(tmp, final) != 0 && errno != ENOTEMPTY && errno != EEXIST) {
			rc = kf_err_sys(err, "cannot store artifact \"%s\"", src);
			goto fail;
		}
	}
	if (kf_fs_exists(tmp)) {
		struct kf_err ignore;

		kf_fs_remove_tree(tmp, &ignore);
	}
	if (path) {
		*path = final;
		final = NULL;
	}
	rc = 0;
	goto out;
fail:
	if (moved && rename(tmp, src) == 0)
		moved = false;
	if (!moved) {
		struct kf_err ignore;

		kf_fs_remove_tree(tmp, &ignore);
	}
out:
	free(tmp);
	free(final);
	free(dir);
	return rc;
}

int kf_store_put_file(struct kf_store *s, const char *src, unsigned flags,
		      char hex[KF_SHA256_HEX_LEN + 1], char **path, struct kf_err *err)
{
	if (kf_fs_is_dir(src))
		return kf_err_set(err, KF_EINPUT, "artifact \"%s\" is a directory, not a file", src);
	return kf_store_put(s, src, flags, hex, path, err);
}

int kf_store_put_dir(struct kf_store *s, const char *src, unsigned flags,
		     char hex[KF_SHA256_HEX_LEN + 1], char **path, struct kf_err *err)
{
	if (!kf_fs_is_dir(src))
		return kf_err_set(err, KF_EINPUT, "artifact \"%s\" is not a directory", src);
	return kf_store_put(s, src, flags, hex, path, err);
}

int kf_store_blob_verify(struct kf_store *s, const char *hex, struct kf_err *err)
{
	char *path = kf_store_blob_path(s, hex);
	char got[KF_SHA256_HEX_LEN + 1];
	int rc;

	if ((rc = kf_store_digest_path(path, got, NULL, err)) == 0 && strcmp(got, hex) != 0)
		rc = kf_err_set(err, KF_EFAIL, "artifact \"%s\" has digest %s, not its name", path,
				got);
	free(path);
	return rc;
}

int kf_store_blob_remove(struct kf_store *s, const char *hex, struct kf_err *err)
{
	char *path = kf_store_blob_path(s, hex);
	char *tmp = tmp_name(s);
	int rc = 0;

	/* Rename away first so that no reader sees a half-removed tree. */
	if (rename(path, tmp) == 0)
		rc = kf_fs_remove_tree(tmp, err);
	else if (errno != ENOENT)
		rc = kf_err_sys(err, "cannot remove artifact \"%s\"", path);
	free(path);
	free(tmp);
	return rc;
}

/* ---- MLMD records ------------------------------------------------------- */

int kf_store_type(struct kf_store *s, enum kf_store_kind kind, const char *name, int64_t *id,
		  struct kf_err *err)
{
	static const char sel[] = "SELECT id FROM Type WHERE name = ?1 AND type_kind = ?2";
	static const char ins[] = "INSERT OR IGNORE INTO Type (name, type_kind) VALUES (?1, ?2)";
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < s->n_types; i++) {
		if (s->types[i].kind == (int)kind && !strcmp(s->types[i].name, name)) {
			*id = s->types[i].id;
			return 0;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		if (!(st = stmt(s, sel, err)))
			return KF_EIO;
		bind_text(st, 1, name);
		sqlite3_bind_int(st, 2, kind);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*id = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
			/* forgotten again if a transaction rolls back */
			if (s->n_types < TYPE_CACHE) {
				s->types[s->n_types].kind = (int)kind;
				s->types[s->n_types].name = kf_xstrdup(name);
				s->types[s->n_types++].id = *id;
			}
			return 0;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_err(s, err, "read type");
		if (!(st = stmt(s, ins, err)))
			return KF_EIO;
		bind_text(st, 1, name);
		sqlite3_bind_int(st, 2, kind);
		if ((rc = step_done(s, st, err)) < 0)
			return rc;
	}
	return kf_err_set(err, KF_EIO, "store \"%s\": cannot create type \"%s\"", s->dir, name);
}

int kf_store_context(struct kf_store *s, const char *type, const char *name,
		     const struct kf_store_props *props, int64_t parent, int64_t *id,
		     struct kf_err *err)
{
	static const char ins[] = "INSERT INTO Context (type_id, name, create_time_since_epoch,"
		" last_update_time_since_epoch) VALUES (?1, ?2, ?3, ?3)"
		" ON CONFLICT (type_id, name) DO UPDATE SET last_update_time_since_epoch = ?3";
	static const char sel[] = "SELECT id FROM Context WHERE type_id = ?1 AND name = ?2";
	static const char par[] = "INSERT OR IGNORE INTO ParentContext VALUES (?1, ?2)";
	sqlite3_stmt *st;
	int64_t type_id;
	int rc;

	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	if ((rc = kf_store_type(s, KF_KIND_CONTEXT, type, &type_id, err)) < 0)
		goto fail;
	if (!(st = stmt(s, ins, err)))
		goto fail_io;
	sqlite3_bind_int64(st, 1, type_id);
	bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, kf_time_wall_ms());
	if ((rc = step_done(s, st, err)) < 0)
		goto fail;
	if (!(st = stmt(s, sel, err)))
		goto fail_io;
	sqlite3_bind_int64(st, 1, type_id);
	bind_text(st, 2, name);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		rc = db_err(s, err, "read context");
		goto fail;
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if ((rc = props_write(s, OWN_CONTEXT, *id, props, err)) < 0)
		goto fail;
	if (parent) {
		if (!(st = stmt(s, par, err)))
			goto fail_io;
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, parent);
		if ((rc = step_done(s, st, err)) < 0)
			goto fail;
	}
	return kf_store_commit(s, err);
fail_io:
	rc = KF_EIO;
fail:
	kf_store_rollback(s);
	return rc;
}

int kf_store_execution_add(struct kf_store *s, const char *type, const char *name, int state,
			   const struct kf_store_props *props, int64_t *id, struct kf_err *err)
{
	static const char ins[] = "INSERT INTO Execution (type_id, last_known_state, name,"
		" create_time_since_epoch, last_update_time_since_epoch) VALUES (?1, ?2, ?3, ?4, ?4)";
	sqlite3_stmt *st;
	int64_t type_id;
	int rc;

	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	if ((rc = kf_store_type(s, KF_KIND_EXECUTION, type, &type_id, err)) < 0)
		goto fail;
	if (!(st = stmt(s, ins, err))) {
		rc = KF_EIO;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, type_id);
	sqlite3_bind_int(st, 2, state);
	bind_text(st, 3, name);
	sqlite3_bind_int64(st, 4, kf_time_wall_ms());
	if ((rc = step_done(s, st, err)) < 0)
		goto fail;
	*id = sqlite3_last_insert_rowid(s->db);
	if ((rc = props_write(s, OWN_EXECUTION, *id, props, err)) < 0)
		goto fail;
	return kf_store_commit(s, err);
fail:
	kf_store_rollback(s);
	return rc;
}

int kf_store_execution_set_state(struct kf_store *s, int64_t id, int state,
				 const struct kf_store_props *props, struct kf_err *err)
{
	static const char upd[] = "UPDATE Execution SET last_known_state = ?2,"
		" last_update_time_since_epoch = ?3 WHERE id = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	if (!(st = stmt(s, upd, err))) {
		rc = KF_EIO;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_int64(st, 3, kf_time_wall_ms());
	if ((rc = step_done(s, st, err)) < 0 ||
	    (rc = props_write(s, OWN_EXECUTION, id, props, err)) < 0)
		goto fail;
	return kf_store_commit(s, err);
fail:
	kf_store_rollback(s);
	return rc;
}

int kf_store_artifact_set_state(struct kf_store *s, int64_t id, int state, struct kf_err *err)
{
	static const char upd[] = "UPDATE Artifact SET state = ?2,"
		" last_update_time_since_epoch = ?3 WHERE id = ?1";
	sqlite3_stmt *st = stmt(s, upd, err);

	if (!st)
		return KF_EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, state);
	sqlite3_bind_int64(st, 3, kf_time_wall_ms());
	return step_done(s, st, err);
}

int kf_store_event_add(struct kf_store *s, int64_t artifact, int64_t execution,
		       enum kf_event_type type, const char *path, struct kf_err *err)
{
	static const char ev[] = "INSERT INTO Event (artifact_id, execution_id, type,"
		" milliseconds_since_epoch) VALUES (?1, ?2, ?3, ?4)";
	static const char evp[] = "INSERT INTO EventPath (event_id, is_index_step, step_key)"
		" VALUES (?1, 0, ?2)";
	sqlite3_stmt *st;
	int64_t event;
	int rc;

	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	if (!(st = stmt(s, ev, err))) {
		rc = KF_EIO;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, artifact);
	sqlite3_bind_int64(st, 2, execution);
	sqlite3_bind_int(st, 3, type);
	sqlite3_bind_int64(st, 4, kf_time_wall_ms());
	if ((rc = step_done(s, st, err)) < 0)
		goto fail;
	event = sqlite3_last_insert_rowid(s->db);
	if (path) {
		if (!(st = stmt(s, evp, err))) {
			rc = KF_EIO;
			goto fail;
		}
		sqlite3_bind_int64(st, 1, event);
		bind_text(st, 2, path);
		if ((rc = step_done(s, st, err)) < 0)
			goto fail;
	}
	return kf_store_commit(s, err);
fail:
	kf_store_rollback(s);
	return rc;
}

static int link_context(struct kf_store *s, const char *sql, int64_t context, int64_t other,
			struct kf_err *err)
{
	sqlite3_stmt *st = stmt(s, sql, err);

	if (!st)
		return KF_EIO;
	sqlite3_bind_int64(st, 1, context);
	sqlite3_bind_int64(st, 2, other);
	return step_done(s, st, err);
}

int kf_store_associate(struct kf_store *s, int64_t context, int64_t execution, struct kf_err *err)
{
	static const char sql[] = "INSERT OR IGNORE INTO Association (context_id, execution_id)"
		" VALUES (?1, ?2)";

	return link_context(s, sql, context, execution, err);
}

int kf_store_attribute(struct kf_store *s, int64_t context, int64_t artifact, struct kf_err *err)
{
	static const char sql[] = "INSERT OR IGNORE INTO Attribution (context_id, artifact_id)"
		" VALUES (?1, ?2)";

	return link_context(s, sql, context, artifact, err);
}

void kf_store_ref_release(struct kf_store_ref *r)
{
	free(r->uri_out);
	r->uri_out = NULL;
}

/* Digest and, with put, store a ref's file: done before the transaction so
 * that copying never holds the write lock. */
static int ref_prepare(struct kf_store *s, struct kf_store_ref *r, struct kf_err *err)
{
	int rc;

	if (r->id || !r->file) {
		if (!r->id && r->digest_in)
			snprintf(r->digest, sizeof r->digest, "%s", r->digest_in);
		if (!r->id && r->uri && !r->uri_out)
			r->uri_out = kf_xstrdup(r->uri);
		return 0;
	}
	free(r->uri_out);
	r->uri_out = NULL;
	if (r->put) {
		rc = kf_store_put(s, r->file, r->move ? KF_PUT_MOVE : 0, r->digest, &r->uri_out, err);
	} else {
		rc = kf_store_digest_path(r->file, r->digest, NULL, err);
		if (!rc)
			r->uri_out = kf_path_absolute(r->file);
	}
	if (rc < 0)
		kf_err_prefix(err, "%s \"%s\"", r->path ? "artifact" : "file",
			      r->path ? r->path : r->file);
	return rc;
}

static int artifact_insert(struct kf_store *s, struct kf_store_ref *r, struct kf_err *err)
{
	static const char ins[] = "INSERT INTO Artifact (type_id, uri, state, name, digest,"
		" create_time_since_epoch, last_update_time_since_epoch)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
	sqlite3_stmt *st;
	int64_t type_id;
	int rc;

	if ((rc = kf_store_type(s, KF_KIND_ARTIFACT, r->type ? r->type : "Artifact", &type_id,
				err)) < 0)
		return rc;
	if (!(st = stmt(s, ins, err)))
		return KF_EIO;
	sqlite3_bind_int64(st, 1, type_id);
	bind_text(st, 2, r->uri_out);
	sqlite3_bind_int(st, 3, r->state ? r->state : KF_ART_LIVE);
	bind_text(st, 4, r->name);
	bind_text(st, 5, r->digest[0] ? r->digest : NULL);
	sqlite3_bind_int64(st, 6, kf_time_wall_ms());
	if ((rc = step_done(s, st, err)) < 0)
		return rc;
	r->id = sqlite3_last_insert_rowid(s->db);
	return props_write(s, OWN_ARTIFACT, r->id, r->props, err);
}

/* Resolve a ref to an artifact id inside the record's transaction. */
static int ref_resolve(struct kf_store *s, struct kf_store_ref *r, bool output, struct kf_err *err)
{
	static const char by_id[] = "SELECT uri, digest FROM Artifact WHERE id = ?1";
	static const char by_digest[] = "SELECT id FROM Artifact WHERE digest = ?1 AND uri IS ?2"
		" AND state = 2 ORDER BY id DESC LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	if (r->id) {
		if (!(st = stmt(s, by_id, err)))
			return KF_EIO;
		sqlite3_bind_int64(st, 1, r->id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_reset(st);
			return kf_err_set(err, KF_ENOTFOUND, "no artifact with id %lld",
					  (long long)r->id);
		}
		free(r->uri_out);
		r->uri_out = sqlite3_column_text(st, 0) ?
			kf_xstrdup((const char *)sqlite3_column_text(st, 0)) : NULL;
		snprintf(r->digest, sizeof r->digest, "%s",
			 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		sqlite3_reset(st);
		return 0;
	}
	if (!output && r->digest[0]) {
		if (!(st = stmt(s, by_digest, err)))
			return KF_EIO;
		bind_text(st, 1, r->digest);
		bind_text(st, 2, r->uri_out);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			r->id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (r->id) {
			if (r->props)
				return props_write(s, OWN_ARTIFACT, r->id, r->props, err);
			return 0;
		}
	}
	return artifact_insert(s, r, err);
}

static int record_side(struct kf_store *s, struct kf_store_record *r, int64_t exec,
		       struct kf_store_ref *refs, size_t n, bool output, struct kf_err *err)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = ref_resolve(s, &refs[i], output, err)) < 0 ||
		    (rc = kf_store_event_add(s, refs[i].id, exec,
					     output ? KF_EVENT_OUTPUT : KF_EVENT_INPUT,
					     refs[i].path, err)) < 0)
			return rc;
		for (size_t c = 0; c < r->n_contexts; c++)
			if ((rc = kf_store_attribute(s, r->contexts[c], refs[i].id, err)) < 0)
				return rc;
	}
	return 0;
}

int kf_store_record(struct kf_store *s, struct kf_store_record *r, int64_t *exec_id,
		    struct kf_err *err)
{
	static const char times[] = "UPDATE Execution SET create_time_since_epoch = ?2,"
		" last_update_time_since_epoch = ?3 WHERE id = ?1";
	int64_t exec = 0;
	int rc;

	for (size_t i = 0; i < r->n_inputs; i++)
		if ((rc = ref_prepare(s, &r->inputs[i], err)) < 0)
			return rc;
	for (size_t i = 0; i < r->n_outputs; i++)
		if ((rc = ref_prepare(s, &r->outputs[i], err)) < 0)
			return rc;
	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	if ((rc = kf_store_execution_add(s, r->type, r->name, r->state, r->props, &exec, err)) < 0)
		goto fail;
	if (r->start_ms || r->end_ms) {
		sqlite3_stmt *st = stmt(s, times, err);

		if (!st) {
			rc = KF_EIO;
			goto fail;
		}
		sqlite3_bind_int64(st, 1, exec);
		sqlite3_bind_int64(st, 2, r->start_ms ? r->start_ms : kf_time_wall_ms());
		sqlite3_bind_int64(st, 3, r->end_ms ? r->end_ms : kf_time_wall_ms());
		if ((rc = step_done(s, st, err)) < 0)
			goto fail;
	}
	for (size_t c = 0; c < r->n_contexts; c++)
		if ((rc = kf_store_associate(s, r->contexts[c], exec, err)) < 0)
			goto fail;
	if ((rc = record_side(s, r, exec, r->inputs, r->n_inputs, false, err)) < 0 ||
	    (rc = record_side(s, r, exec, r->outputs, r->n_outputs, true, err)) < 0)
		goto fail;
	if ((rc = kf_store_commit(s, err)) < 0)
		return rc;
	if (exec_id)
		*exec_id = exec;
	return 0;
fail:
	kf_store_rollback(s);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

static cJSON *column_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return cJSON_CreateNumber(sqlite3_column_double(st, i));
	case SQLITE_TEXT:
		return cJSON_CreateString((const char *)sqlite3_column_text(st, i));
	case SQLITE_BLOB:
		return cJSON_CreateString("(blob)");
	default:
		return cJSON_CreateNull();
	}
}

static cJSON *row_json(sqlite3_stmt *st)
{
	cJSON *row = cJSON_CreateObject();
	int n = sqlite3_column_count(st);

	for (int i = 0; i < n; i++)
		cJSON_AddItemToObject(row, sqlite3_column_name(st, i), column_json(st, i));
	return row;
}

static int bind_all(sqlite3_stmt *st, const cJSON *binds)
{
	const cJSON *b;
	int i = 1;

	cJSON_ArrayForEach(b, binds) {
		if (cJSON_IsNumber(b)) {
			double d = b->valuedouble;

			if (d == floor(d) && fabs(d) < 9007199254740992.0)
				sqlite3_bind_int64(st, i, (sqlite3_int64)d);
			else
				sqlite3_bind_double(st, i, d);
		} else if (cJSON_IsString(b)) {
			sqlite3_bind_text(st, i, b->valuestring, -1, SQLITE_TRANSIENT);
		} else if (cJSON_IsBool(b)) {
			sqlite3_bind_int(st, i, cJSON_IsTrue(b));
		} else {
			sqlite3_bind_null(st, i);
		}
		i++;
	}
	return 0;
}

/* Rows of a prepared statement into a new array. */
static int rows_of(struct kf_store *s, sqlite3_stmt *st, cJSON **rows, struct kf_err *err)
{
	cJSON *arr = cJSON_CreateArray();
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, row_json(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(arr);
		*rows = NULL;
		return db_err(s, err, "read");
	}
	*rows = arr;
	return 0;
}

int kf_store_query(struct kf_store *s, const char *sql, const cJSON *binds, cJSON **rows,
		   struct kf_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*rows = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return kf_err_set(err, KF_EINPUT, "query: %s", sqlite3_errmsg(s->db));
	if (!st)
		return kf_err_set(err, KF_EINPUT, "query: empty statement");
	if (!sqlite3_stmt_readonly(st)) {
		sqlite3_finalize(st);
		return kf_err_set(err, KF_EINPUT, "query: only read-only statements are allowed");
	}
	bind_all(st, binds);
	rc = rows_of(s, st, rows, err);
	sqlite3_finalize(st);
	return rc;
}

static const char *const prop_select_sql[] = {
	"SELECT name, data_type, int_value, double_value, string_value FROM ArtifactProperty"
	" WHERE artifact_id = ?1 ORDER BY name",
	"SELECT name, data_type, int_value, double_value, string_value FROM ExecutionProperty"
	" WHERE execution_id = ?1 ORDER BY name",
	"SELECT name, data_type, int_value, double_value, string_value FROM ContextProperty"
	" WHERE context_id = ?1 ORDER BY name",
};

static int props_read(struct kf_store *s, enum owner own, int64_t id, cJSON *into,
		      struct kf_err *err)
{
	sqlite3_stmt *st = stmt(s, prop_select_sql[own], err);
	cJSON *props = cJSON_AddObjectToObject(into, "properties");
	int rc;

	if (!st)
		return KF_EIO;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *text = (const char *)sqlite3_column_text(st, 4);
		cJSON *v;

		switch (sqlite3_column_int(st, 1)) {
		case KF_PROP_INT:
			v = cJSON_CreateNumber((double)sqlite3_column_int64(st, 2));
			break;
		case KF_PROP_DOUBLE:
			v = cJSON_CreateNumber(sqlite3_column_double(st, 3));
			break;
		case KF_PROP_JSON:
			v = text ? cJSON_Parse(text) : NULL;
			if (!v)
				v = cJSON_CreateNull();
			break;
		default:
			v = cJSON_CreateString(text ? text : "");
		}
		cJSON_AddItemToObject(props, name, v);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_err(s, err, "read properties");
}

static int one_row(struct kf_store *s, const char *sql, int64_t id, const char *what,
		   cJSON **out, struct kf_err *err)
{
	sqlite3_stmt *st = stmt(s, sql, err);
	int rc;

	*out = NULL;
	if (!st)
		return KF_EIO;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_json(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return kf_err_set(err, KF_ENOTFOUND, "no %s with id %lld", what, (long long)id);
	return *out ? 0 : db_err(s, err, "read");
}

static int add_rows(struct kf_store *s, const char *sql, int64_t id, cJSON *into,
		    const char *key, struct kf_err *err)
{
	sqlite3_stmt *st = stmt(s, sql, err);
	cJSON *rows;
	int rc;

	if (!st)
		return KF_EIO;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = rows_of(s, st, &rows, err)) < 0)
		return rc;
	cJSON_AddItemToObject(into, key, rows);
	return 0;
}

/* Replace numeric state/type fields with their names. */
static void name_field(cJSON *obj, const char *key, const char *(*fn)(int))
{
	cJSON *v = cJSON_GetObjectItem(obj, key);

	if (cJSON_IsNumber(v))
		cJSON_ReplaceItemInObject(obj, key, cJSON_CreateString(fn(v->valueint)));
}

static void name_events(cJSON *events)
{
	cJSON *e;

	cJSON_ArrayForEach(e, events)
		name_field(e, "type", kf_event_type_name);
}

static int get_full(struct kf_store *s, const char *sql, enum owner own, int64_t id,
		    const char *what, const char *events_sql, const char *ctx_sql, cJSON **out,
		    struct kf_err *err)
{
	cJSON *obj;
	int rc;

	if ((rc = one_row(s, sql, id, what, &obj, err)) < 0)
		return rc;
	if ((rc = props_read(s, own, id, obj, err)) < 0 ||
	    (events_sql && (rc = add_rows(s, events_sql, id, obj, "events", err)) < 0) ||
	    (ctx_sql && (rc = add_rows(s, ctx_sql, id, obj, "contexts", err)) < 0)) {
		cJSON_Delete(obj);
		return rc;
	}
	name_events(cJSON_GetObjectItem(obj, "events"));
	*out = obj;
	return 0;
}

int kf_store_artifact_get(struct kf_store *s, int64_t id, cJSON **out, struct kf_err *err)
{
	static const char sql[] = "SELECT a.id AS id, t.name AS type, a.name AS name, a.uri AS uri,"
		" a.digest AS digest, a.state AS state, a.create_time_since_epoch AS create_time,"
		" a.last_update_time_since_epoch AS update_time FROM Artifact a"
		" JOIN Type t ON t.id = a.type_id WHERE a.id = ?1";
	static const char ev[] = "SELECT e.execution_id AS execution, e.type AS type,"
		" p.step_key AS path FROM Event e LEFT JOIN EventPath p ON p.event_id = e.id"
		" WHERE e.artifact_id = ?1 ORDER BY e.id";
	static const char cx[] = "SELECT c.id AS id, t.name AS type, c.name AS name"
		" FROM Attribution a JOIN Context c ON c.id = a.context_id"
		" JOIN Type t ON t.id = c.type_id WHERE a.artifact_id = ?1 ORDER BY c.id";
	int rc = get_full(s, sql, OWN_ARTIFACT, id, "artifact", ev, cx, out, err);

	if (!rc)
		name_field(*out, "state", kf_artifact_state_name);
	return rc;
}

int kf_store_execution_get(struct kf_store *s, int64_t id, cJSON **out, struct kf_err *err)
{
	static const char sql[] = "SELECT x.id AS id, t.name AS type, x.name AS name,"
		" x.last_known_state AS state, x.create_time_since_epoch AS create_time,"
		" x.last_update_time_since_epoch AS update_time FROM Execution x"
		" JOIN Type t ON t.id = x.type_id WHERE x.id = ?1";
	static const char ev[] = "SELECT e.artifact_id AS artifact, e.type AS type,"
		" p.step_key AS path FROM Event e LEFT JOIN EventPath p ON p.event_id = e.id"
		" WHERE e.execution_id = ?1 ORDER BY e.id";
	static const char cx[] = "SELECT c.id AS id, t.name AS type, c.name AS name"
		" FROM Association a JOIN Context c ON c.id = a.context_id"
		" JOIN Type t ON t.id = c.type_id WHERE a.execution_id = ?1 ORDER BY c.id";
	int rc = get_full(s, sql, OWN_EXECUTION, id, "execution", ev, cx, out, err);

	if (!rc)
		name_field(*out, "state", kf_exec_state_name);
	return rc;
}

int kf_store_context_get(struct kf_store *s, int64_t id, cJSON **out, struct kf_err *err)
{
	static const char sql[] = "SELECT c.id AS id, t.name AS type, c.name AS name,"
		" c.create_time_since_epoch AS create_time,"
		" c.last_update_time_since_epoch AS update_time FROM Context c"
		" JOIN Type t ON t.id = c.type_id WHERE c.id = ?1";
	static const char par[] = "SELECT parent_context_id AS id FROM ParentContext"
		" WHERE context_id = ?1 ORDER BY parent_context_id";

	return get_full(s, sql, OWN_CONTEXT, id, "context", NULL, par, out, err);
}

/* ---- runs, tasks, cache --------------------------------------------------- */

char *kf_store_run_new_id(const char *name)
{
	static const char alnum[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char r[8];
	struct kf_buf b = KF_BUF_INIT;
	size_t n = 0;

	for (const char *p = name && *name ? name : "run"; *p && n < 40; p++, n++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		kf_buf_addc(&b, (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '-');
	}
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		int64_t t = kf_time_mono_ns() ^ (int64_t)getpid() << 20;

		memcpy(r, &t, sizeof r);
	}
	kf_buf_addc(&b, '-');
	for (size_t i = 0; i < sizeof r; i++)
		kf_buf_addc(&b, alnum[r[i] % 36]);
	return kf_buf_detach(&b);
}

int kf_store_run_add(struct kf_store *s, const struct kf_store_run *run, struct kf_err *err)
{
	static const char ins[] = "INSERT INTO kf_run (id, name, pipeline, source, params, plan,"
		" state, pid, created, started, context_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?9, ?10)";
	sqlite3_stmt *st = stmt(s, ins, err);

	if (!st)
		return KF_EIO;
	bind_text(st, 1, run->id);
	bind_text(st, 2, run->name);
	bind_text(st, 3, run->pipeline);
	bind_text(st, 4, run->source);
	bind_json(st, 5, run->params);
	bind_json(st, 6, run->plan);
	bind_text(st, 7, run->state ? run->state : "Pending");
	sqlite3_bind_int64(st, 8, (sqlite3_int64)getpid());
	sqlite3_bind_int64(st, 9, kf_time_wall_ms());
	bind_id(st, 10, run->context_id);
	return step_done(s, st, err);
}

int kf_store_run_set_state(struct kf_store *s, const char *run, const char *state, bool finished,
			   const char *message, struct kf_err *err)
{
	static const char upd[] = "UPDATE kf_run SET state = ?2, message = coalesce(?3, message),"
		" finished = CASE WHEN ?4 THEN ?5 ELSE NULL END WHERE id = ?1";
	sqlite3_stmt *st = stmt(s, upd, err);

	if (!st)
		return KF_EIO;
	bind_text(st, 1, run);
	bind_text(st, 2, state);
	bind_text(st, 3, message);
	sqlite3_bind_int(st, 4, finished);
	sqlite3_bind_int64(st, 5, kf_time_wall_ms());
	return step_done(s, st, err);
}

int kf_store_run_set_pid(struct kf_store *s, const char *run, long pid, struct kf_err *err)
{
	static const char upd[] = "UPDATE kf_run SET pid = ?2 WHERE id = ?1";
	sqlite3_stmt *st = stmt(s, upd, err);

	if (!st)
		return KF_EIO;
	bind_text(st, 1, run);
	sqlite3_bind_int64(st, 2, pid);
	return step_done(s, st, err);
}

/* Parse the JSON text columns of a run or task row in place. */
static void parse_json_fields(cJSON *row, const char *const *keys)
{
	for (; *keys; keys++) {
		cJSON *v = cJSON_GetObjectItem(row, *keys);

		if (cJSON_IsString(v)) {
			cJSON *parsed = cJSON_Parse(v->valuestring);

			if (parsed)
				cJSON_ReplaceItemInObject(row, *keys, parsed);
		}
	}
}

int kf_store_run_get(struct kf_store *s, const char *run, cJSON **out, struct kf_err *err)
{
	static const char sql[] = "SELECT id, name, pipeline, source, params, plan, state, message,"
		" pid, created, started, finished, context_id FROM kf_run"
		" WHERE id = ?1 OR name = ?1 OR substr(id, 1, length(?1)) = ?1"
		" ORDER BY id = ?1 DESC, name = ?1 DESC, created DESC LIMIT 2";
	static const char *const json_keys[] = { "params", "plan", NULL };
	sqlite3_stmt *st = stmt(s, sql, err);
	cJSON *rows, *first, *second;
	int rc;

	*out = NULL;
	if (!st)
		return KF_EIO;
	bind_text(st, 1, run);
	if ((rc = rows_of(s, st, &rows, err)) < 0)
		return rc;
	first = cJSON_GetArrayItem(rows, 0);
	second = cJSON_GetArrayItem(rows, 1);
	if (!first) {
		cJSON_Delete(rows);
		return kf_err_set(err, KF_ENOTFOUND, "no run \"%s\"", run);
	}
	/* A prefix (not an exact id or name) must be unambiguous. */
	if (second && strcmp(cJSON_GetObjectItem(first, "id")->valuestring, run) != 0 &&
	    !(cJSON_IsString(cJSON_GetObjectItem(first, "name")) &&
	      !strcmp(cJSON_GetObjectItem(first, "name")->valuestring, run))) {
		cJSON_Delete(rows);
		return kf_err_set(err, KF_EINPUT, "run \"%s\" is ambiguous: give more of its id", run);
	}
	*out = cJSON_DetachItemFromArray(rows, 0);
	cJSON_Delete(rows);
	parse_json_fields(*out, json_keys);
	return 0;
}

int kf_store_run_list(struct kf_store *s, size_t limit, cJSON **out, struct kf_err *err)
{
	static const char sql[] = "SELECT r.id, r.name, r.pipeline, r.source, r.params, r.state,"
		" r.message, r.pid, r.created, r.started, r.finished,"
		" (SELECT count(*) FROM kf_task t WHERE t.run_id = r.id) AS tasks"
		" FROM kf_run r ORDER BY r.created DESC, r.rowid DESC LIMIT ?1";
	static const char *const json_keys[] = { "params", NULL };
	sqlite3_stmt *st = stmt(s, sql, err);
	cJSON *row;
	int rc;

	if (!st)
		return KF_EIO;
	sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	if ((rc = rows_of(s, st, out, err)) < 0)
		return rc;
	cJSON_ArrayForEach(row, *out)
		parse_json_fields(row, json_keys);
	return 0;
}

int kf_store_run_delete(struct kf_store *s, const char *run, struct kf_err *err)
{
	static const char del_tasks[] = "DELETE FROM kf_task WHERE run_id = ?1";
	static const char del_run[] = "DELETE FROM kf_run WHERE id = ?1";
	sqlite3_stmt *st;
	int rc;

	if ((rc = kf_store_begin(s, err)) < 0)
		return rc;
	if (!(st = stmt(s, del_tasks, err))) {
		rc = KF_EIO;
		goto fail;
	}
	bind_text(st, 1, run);
	if ((rc = step_done(s, st, err)) < 0)
		goto fail;
	if (!(st = stmt(s, del_run, err))) {
		rc = KF_EIO;
		goto fail;
	}
	bind_text(st, 1, run);
	if ((rc = step_done(s, st, err)) < 0)
		goto fail;
	if (sqlite3_changes(s->db) == 0) {
		rc = kf_err_set(err, KF_ENOTFOUND, "no run \"%s\"", run);
		goto fail;
	}
	return kf_store_commit(s, err);
fail:
	kf_store_rollback(s);
	return rc;
}

int kf_store_task_put(struct kf_store *s, const struct kf_store_task *t, struct kf_err *err)
{
	static const char sql[] = "INSERT INTO kf_task (run_id, task, step, state, attempt,"
		" exit_code, started, finished, execution_id, cache_key, outputs, message, pid)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
		" ON CONFLICT (run_id, task) DO UPDATE SET step = excluded.step,"
		" state = excluded.state, attempt = excluded.attempt, exit_code = excluded.exit_code,"
		" started = excluded.started, finished = excluded.finished,"
		" execution_id = excluded.execution_id, cache_key = excluded.cache_key,"
		" outputs = excluded.outputs, message = excluded.message, pid = excluded.pid";
	sqlite3_stmt *st = stmt(s, sql, err);

	if (!st)
		return KF_EIO;
	bind_text(st, 1, t->run);
	bind_text(st, 2, t->task);
	bind_text(st, 3, t->step);
	bind_text(st, 4, t->state);
	sqlite3_bind_int(st, 5, t->attempt);
	if (t->exit_code >= 0)
		sqlite3_bind_int(st, 6, t->exit_code);
	bind_id(st, 7, t->started_ms);
	bind_id(st, 8, t->finished_ms);
	bind_id(st, 9, t->execution_id);
	bind_text(st, 10, t->cache_key);
	bind_json(st, 11, t->outputs);
	bind_text(st, 12, t->message);
	bind_id(st, 13, t->pid);
	return step_done(s, st, err);
}

int kf_store_task_list(struct kf_store *s, const char *run, cJSON **out, struct kf_err *err)
{
	static const char sql[] = "SELECT task, step, state, attempt, exit_code, started, finished,"
		" execution_id, cache_key, outputs, message, pid FROM kf_task WHERE run_id = ?1"
		" ORDER BY rowid";
	static const char *const json_keys[] = { "outputs", NULL };
	sqlite3_stmt *st = stmt(s, sql, err);
	cJSON *row;
	int rc;

	if (!st)
		return KF_EIO;
	bind_text(st, 1, run);
	if ((rc = rows_of(s, st, out, err)) < 0)
		return rc;
	cJSON_ArrayForEach(row, *out)
		parse_json_fields(row, json_keys);
	return 0;
}

/* Every stored artifact of a cached outputs document still on disk? */
static bool outputs_present(const cJSON *outputs)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(outputs, "artifacts")) {
		const cJSON *uri = cJSON_GetObjectItem(a, "uri");

		if (cJSON_IsString(uri) && !kf_fs_exists(uri->valuestring))
			return false;
	}
	return true;
}

int kf_store_cache_get(struct kf_store *s, const char *key, int64_t max_age_ms, cJSON **outputs,
		       int64_t *execution_id, struct kf_err *err)
{
	static const char sql[] = "SELECT outputs, execution_id, created FROM kf_cache WHERE key = ?1";
	sqlite3_stmt *st = stmt(s, sql, err);
	int rc;

	*outputs = NULL;
	if (execution_id)
		*execution_id = 0;
	if (!st)
		return KF_EIO;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int64_t created = sqlite3_column_int64(st, 2);

		if (!max_age_ms || kf_time_wall_ms() - created <= max_age_ms) {
			*outputs = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
			if (execution_id)
				*execution_id = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(s, err, "read cache");
	if (*outputs && !outputs_present(*outputs)) {
		cJSON_Delete(*outputs);
		*outputs = NULL;
	}
	return 0;
}

int kf_store_cache_put(struct kf_store *s, const char *key, const cJSON *outputs,
		       int64_t execution_id, struct kf_err *err)
{
	static const char sql[] = "INSERT OR REPLACE INTO kf_cache (key, outputs, execution_id,"
		" created) VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st = stmt(s, sql, err);

	if (!st)
		return KF_EIO;
	bind_text(st, 1, key);
	bind_json(st, 2, outputs);
	bind_id(st, 3, execution_id);
	sqlite3_bind_int64(st, 4, kf_time_wall_ms());
	return step_done(s, st, err);
}
