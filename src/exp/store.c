/* store.c — the SQLite results store of a sweep (dale/sweep.h).
 *
 * Everything in it is derived from the run directories: config.json,
 * result.json and metrics.csv.  A run is (re)inserted in one IMMEDIATE
 * transaction (delete its rows, insert the new ones), so readers never see
 * half a run and a re-insert is idempotent.  Columns for config keys and
 * metrics.csv columns are added on demand (ALTER TABLE), so runs with more
 * layers, or options added to dale later, fit into an existing store.
 * Column names are always double-quoted ("update" is an SQL keyword).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dale/sweep.h"
#include "internal.h"

#define DNAN ((double)NAN)

struct dale_store {
    sqlite3 *db;
    char path[4200];
};

static dale_status db_fail(dale_store *s, const char *what)
{
    return DALE_FAIL(DALE_ERR_IO, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static dale_status exec(dale_store *s, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        dale_status st = DALE_FAIL(DALE_ERR_IO, "%s: %s (in: %.80s)", s->path, err ? err : "error", sql);
        sqlite3_free(err);
        return st;
    }
    return DALE_OK;
}

/* Switching a new file to WAL needs the database to itself, and SQLite
 * answers SQLITE_BUSY at once, without calling the busy handler, when
 * another process opens the same store at that moment (two sweeps started
 * together).  So that one statement is retried for up to a minute, the
 * busy timeout every other statement gets. */
static dale_status wal_mode(dale_store *s)
{
    for (int tries = 1; tries < 1200; tries++) {
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL);
        if (rc == SQLITE_OK) return DALE_OK;
        if (rc != SQLITE_BUSY) break;
        sqlite3_sleep(50);
    }
    return exec(s, "PRAGMA journal_mode=WAL;"); /* the last try, and its message */
}

/* "given" (the options the sweep spec set, JSON) came after the first
 * stores: an older store gets it when a run is next put into it. */
static const char *const run_cols =
    "id TEXT PRIMARY KEY, label TEXT, status TEXT, reason TEXT, updates INTEGER, wall_s REAL, "
    "train_loss REAL, train_err REAL, val_loss REAL, val_err REAL, test_loss REAL, test_err REAL, "
    "best_val_err REAL, best_val_loss REAL, best_test_err REAL, best_test_loss REAL, "
    "nse0 REAL, smax0 REAL, rho0 REAL, config TEXT, given TEXT";

static dale_status create_tables(dale_store *s)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS runs (%s);", run_cols);
    dale_status st;
    if ((st = exec(s, sql)) ||
        (st = exec(s, "CREATE TABLE IF NOT EXISTS curves (id TEXT, \"update\" INTEGER);")) ||
        (st = exec(s, "CREATE INDEX IF NOT EXISTS curves_id ON curves (id, \"update\");")) ||
        (st = exec(s, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);")))
        return st;
    return DALE_OK;
}

dale_status dale_store_set_meta(dale_store *s, const char *key, const char *value)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?);", -1, &q, NULL) !=
        SQLITE_OK)
        return db_fail(s, "cannot prepare a meta insert");
    sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, value, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? DALE_OK : db_fail(s, "cannot write meta");
}

const char *dale_store_get_meta(dale_store *s, const char *key, char *buf, size_t cap)
{
    sqlite3_stmt *q = NULL;
    const char *found = NULL;
    if (cap == 0) return NULL;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?;", -1, &q, NULL) != SQLITE_OK) return NULL;
    sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
        snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(q, 0));
        found = buf;
    }
    sqlite3_finalize(q);
    return found;
}

dale_status dale_store_open(const char *sweep_dir, dale_store **out)
{
    *out = NULL;
    dale_store *s = dalei_calloc(1, sizeof *s);
    if (!s) return DALE_ERR_NOMEM;
    snprintf(s->path, sizeof s->path, "%s/results.sqlite", sweep_dir);
    dale_status st = DALE_OK;
    if (sqlite3_open(s->path, &s->db) != SQLITE_OK) { st = db_fail(s, "cannot open"); goto fail; }
    sqlite3_busy_timeout(s->db, 60000);
    if ((st = wal_mode(s)) || (st = exec(s, "PRAGMA synchronous=NORMAL;")) ||
        (st = create_tables(s)))
        goto fail;
    *out = s;
    return DALE_OK;
fail:
    dale_store_close(s);
    return st;
}

void dale_store_close(dale_store *s)
{
    if (!s) return;
    sqlite3_close(s->db);
    dalei_free(s);
}

/* Does table t have column c? */
static int has_column(dale_store *s, const char *t, const char *c)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = ?;", t);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_text(q, 1, c, -1, SQLITE_TRANSIENT);
    int have = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return have;
}

/* Add column c (with `type`) to table t when it has none. */
static dale_status ensure_column(dale_store *s, const char *t, const char *c, const char *type)
{
    char sql[512];
    if (has_column(s, t, c)) return DALE_OK;
    if (strchr(c, '"')) return DALE_FAIL(DALE_ERR_FORMAT, "%s: bad column name %s", s->path, c);
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN \"%s\" %s;", t, c, type);
    return exec(s, sql);
}

/* An option that takes only integers (seed, hidden, batch, ...): its column
 * is INTEGER and its values are stored as integers.  Asked of the option
 * table itself (a fraction is refused), so task options count too. */
static int integer_option(const char *key)
{
    dale_run_config d;
    dale_config_defaults(&d);
    return dale_config_has(key) && dale_config_set(&d, key, "0.5") != DALE_OK;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : DNAN;
}

static void bind_num(sqlite3_stmt *q, int i, double v)
{
    if (isfinite(v)) sqlite3_bind_double(q, i, v);
    else sqlite3_bind_null(q, i);
}

#define MAXCOL 64

/* metrics.csv: header names into hdr (count *nh); rows appended by the
 * callback as doubles. */
static dale_status insert_curves(dale_store *s, const char *id, const char *csv, double best[4], double init[3])
{
    for (int k = 0; k < 4; k++) best[k] = DNAN;
    for (int k = 0; k < 3; k++) init[k] = DNAN;
    if (!csv) return DALE_OK;
    char *text = dalei_strdup(csv);
    if (!text) return DALE_ERR_NOMEM;
    dale_status st = DALE_OK;
    sqlite3_stmt *q = NULL;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    char *hdr[MAXCOL];
    size_t nh = 0;
    if (!line) goto done;
    for (char *sv = NULL, *tok = strtok_r(line, ",", &sv); tok && nh < MAXCOL; tok = strtok_r(NULL, ",", &sv))
        hdr[nh++] = tok;
    if (nh < 2 || strcmp(hdr[0], "update")) goto done; /* not a metrics file: no curves */
    char sql[8192];
    size_t o = (size_t)snprintf(sql, sizeof sql, "INSERT INTO curves (id");
    for (size_t i = 0; i < nh; i++) {
        if ((st = ensure_column(s, "curves", hdr[i], i == 0 ? "INTEGER" : "REAL"))) goto done;
        o += (size_t)snprintf(sql + o, sizeof sql - o, ", \"%s\"", hdr[i]);
    }
    o += (size_t)snprintf(sql + o, sizeof sql - o, ") VALUES (?");
    for (size_t i = 0; i < nh; i++) o += (size_t)snprintf(sql + o, sizeof sql - o, ", ?");
    snprintf(sql + o, sizeof sql - o, ");");
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) { st = db_fail(s, "prepare curves"); goto done; }
    int ci[7] = {-1, -1, -1, -1, -1, -1, -1}; /* val_err val_loss test_err test_loss nse smax rho */
    static const char *const want[7] = {"val_err", "val_loss", "test_err", "test_loss", "nse_cell0", "smax_cell0",
                                        "rho_cell0"};
    for (size_t i = 0; i < nh; i++)
        for (int k = 0; k < 7; k++)
            if (!strcmp(hdr[i], want[k])) ci[k] = (int)i;
    int row = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        double v[MAXCOL];
        size_t nv = 0;
        for (char *p = line; nv < nh;) {
            char *end;
            v[nv++] = strtod(p, &end);
            if (end == p) v[nv - 1] = DNAN;
            p = strchr(p, ',');
            if (!p) break;
            p++;
        }
        if (nv < nh) continue; /* a torn last line */
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)v[0]);
        for (size_t i = 1; i < nh; i++) bind_num(q, (int)i + 2, v[i]);
        if (sqlite3_step(q) != SQLITE_DONE) { st = db_fail(s, "insert curve row"); goto done; }
        for (int k = 0; k < 4; k++)
            if (ci[k] >= 0 && isfinite(v[ci[k]]) && !(v[ci[k]] >= best[k])) best[k] = v[ci[k]];
        if (row == 0)
            for (int k = 0; k < 3; k++)
                if (ci[4 + k] >= 0) init[k] = v[ci[4 + k]];
        row++;
    }
done:
    sqlite3_finalize(q);
    dalei_free(text);
    return st;
}

/* The "given" object of <run>/sweep.json as one line of JSON (dalei_free),
 * or NULL (no sweep.json, or one written before dale recorded it). */
static char *sweep_given(const char *run_dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/sweep.json", run_dir);
    char *t = dalei_read_text(path, 1 << 20);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "given");
    char *p = cJSON_IsObject(g) ? cJSON_PrintUnformatted(g) : NULL;
    char *out = p ? dalei_strdup(p) : NULL;
    cJSON_free(p);
    cJSON_Delete(j);
    dalei_free(t);
    return out;
}

dale_status dale_store_put_run(dale_store *s, const char *run_dir, const char *id, const char *label,
                               const char *status, const char *reason)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run_dir);
    char *cfg_text = dalei_read_text(path, 1 << 24);
    snprintf(path, sizeof path, "%s/result.json", run_dir);
    char *res_text = dalei_read_text(path, 1 << 20);
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    char *csv = dalei_read_text(path, 1 << 28);
    cJSON *cfg = cfg_text ? cJSON_Parse(cfg_text) : NULL, *res = res_text ? cJSON_Parse(res_text) : NULL;
    char *given = sweep_given(run_dir);
    sqlite3_stmt *q = NULL;
    dale_status st = exec(s, "BEGIN IMMEDIATE;");
    if (st) goto out;
    sqlite3_stmt *del;
    static const char *const dels[2] = {"DELETE FROM runs WHERE id = ?;", "DELETE FROM curves WHERE id = ?;"};
    for (int k = 0; k < 2; k++) {
        if (sqlite3_prepare_v2(s->db, dels[k], -1, &del, NULL) != SQLITE_OK) { st = db_fail(s, "prepare"); goto rollback; }
        sqlite3_bind_text(del, 1, id, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(del);
        sqlite3_finalize(del);
        if (rc != SQLITE_DONE) { st = db_fail(s, "delete"); goto rollback; }
    }
    double best[4], init[3];
    if ((st = insert_curves(s, id, csv, best, init))) goto rollback;
    if ((st = ensure_column(s, "runs", "given", "TEXT"))) goto rollback;
    /* config columns */
    char sql[16384];
    size_t o = (size_t)snprintf(sql, sizeof sql,
                                "INSERT INTO runs (id, label, status, reason, updates, wall_s, train_loss, train_err, "
                                "val_loss, val_err, test_loss, test_err, best_val_err, best_val_loss, best_test_err, "
                                "best_test_loss, nse0, smax0, rho0, config, given");
    int ncfg = 0;
    char isint[256] = {0}; /* per config item: an integer option */
    for (const cJSON *it = cfg ? cfg->child : NULL; it && o < sizeof sql - 200 && ncfg < 256; it = it->next) {
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it)) continue;
        if (!strcmp(it->string, "given")) continue; /* not an option; the column above */
        isint[ncfg] = (char)(cJSON_IsNumber(it) && integer_option(it->string));
        const char *type = cJSON_IsString(it) ? "TEXT" : isint[ncfg] ? "INTEGER" : "REAL";
        if ((st = ensure_column(s, "runs", it->string, type))) goto rollback;
        o += (size_t)snprintf(sql + o, sizeof sql - o, ", \"%s\"", it->string);
        ncfg++;
    }
    o += (size_t)snprintf(sql + o, sizeof sql - o, ") VALUES (?");
    for (int i = 1; i < 21 + ncfg; i++) o += (size_t)snprintf(sql + o, sizeof sql - o, ", ?");
    snprintf(sql + o, sizeof sql - o, ");");
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) { st = db_fail(s, "prepare run"); goto rollback; }
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(res, "status");
    const cJSON *rr = cJSON_GetObjectItemCaseSensitive(res, "reason");
    sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, label ? label : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, status ? status : cJSON_IsString(rs) ? rs->valuestring : "pending", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 4, reason ? reason : cJSON_IsString(rr) ? rr->valuestring : "", -1, SQLITE_TRANSIENT);
    double upd = jnum(res, "updates");
    if (isfinite(upd)) sqlite3_bind_int64(q, 5, (sqlite3_int64)upd);
    else sqlite3_bind_null(q, 5);
    static const char *const rk[7] = {"wall_s", "train_loss", "train_err", "val_loss", "val_err", "test_loss", "test_err"};
    for (int k = 0; k < 7; k++) bind_num(q, 6 + k, jnum(res, rk[k]));
    for (int k = 0; k < 4; k++) bind_num(q, 13 + k, best[k]);
    for (int k = 0; k < 3; k++) bind_num(q, 17 + k, init[k]);
    if (cfg_text) sqlite3_bind_text(q, 20, cfg_text, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(q, 20);
    if (given) sqlite3_bind_text(q, 21, given, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(q, 21);
    int i = 22;
    for (const cJSON *it = cfg ? cfg->child : NULL; it && i < 22 + ncfg; it = it->next) {
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it)) continue;
        if (!strcmp(it->string, "given")) continue;
        double x = it->valuedouble;
        if (cJSON_IsString(it)) sqlite3_bind_text(q, i, it->valuestring, -1, SQLITE_TRANSIENT);
        else if (isint[i - 22] && x == floor(x) && fabs(x) < 9.2e18) sqlite3_bind_int64(q, i, (sqlite3_int64)x);
        else sqlite3_bind_double(q, i, x);
        i++;
    }
    if (sqlite3_step(q) != SQLITE_DONE) { st = db_fail(s, "insert run"); goto rollback; }
    sqlite3_finalize(q);
    q = NULL;
    if ((st = exec(s, "COMMIT;"))) goto rollback;
    goto out;
rollback:
    sqlite3_finalize(q);
    q = NULL;
    sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
out:
    cJSON_Delete(cfg);
    cJSON_Delete(res);
    dalei_free(cfg_text);
    dalei_free(res_text);
    dalei_free(csv);
    dalei_free(given);
    return st;
}

/* label from <run>/sweep.json ({"id": .., "label": ..}) */
static void run_label(const char *run_dir, char *label, size_t cap)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/sweep.json", run_dir);
    char *t = dalei_read_text(path, 1 << 16);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "label");
    snprintf(label, cap, "%s", cJSON_IsString(l) ? l->valuestring : "");
    cJSON_Delete(j);
    dalei_free(t);
}

static int has_file(const char *dir, const char *name)
{
    char p[4700];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int row_exists(dale_store *s, const char *id)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM runs WHERE id = ?;", -1, &q, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
    int have = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    return have;
}

/* A run directory that no sweep made (`dale train --out DIR/NAME`): its id
 * is the run id of its config.json (what a sweep would call it), or, when
 * that cannot be read or another directory already has it, a hash of its
 * name; its label is its sweep.json label or else the directory name. */
static dale_status put_plain_run(dale_store *s, const char *run, const char *name)
{
    char id[17] = "", label[64];
    char path[4700];
    snprintf(path, sizeof path, "%s/config.json", run);
    dale_run_config c;
    dale_config_defaults(&c);
    if (dale_config_load_json(&c, path) || dale_run_id(&c, id) || row_exists(s, id)) {
        uint64_t h = 1469598103934665603ull;
        for (const char *p = "dir:"; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        snprintf(id, sizeof id, "%016llx", (unsigned long long)h);
    }
    run_label(run, label, sizeof label);
    if (!label[0]) snprintf(label, sizeof label, "%.63s", name);
    return dale_store_put_run(s, run, id, label, NULL, NULL);
}

dale_status dale_store_rebuild(dale_store *s, const char *sweep_dir, size_t *count)
{
    *count = 0;
    /* recreated, so that columns take this version's types (INTEGER seeds) */
    dale_status st = exec(s, "DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS curves;");
    if (!st) st = create_tables(s);
    if (st) return st;
    /* the runs of a sweep: <dir>/runs/<id> */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/runs", sweep_dir);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && !st && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".stale-")) continue; /* moved aside: another run */
        char run[4500], label[64];
        snprintf(run, sizeof run, "%s/%s", dir, e->d_name);
        int have_result = has_file(run, "result.json");
        if (strlen(e->d_name) == 16 && (have_result || has_file(run, "sweep.json"))) {
            run_label(run, label, sizeof label);
            st = dale_store_put_run(s, run, e->d_name, label, have_result ? NULL : "pending", NULL);
        } else if (have_result && has_file(run, "config.json")) st = put_plain_run(s, run, e->d_name);
        else continue;
        if (!st) (*count)++;
    }
    if (d) closedir(d);
    /* run directories of their own: <dir>/<name> with config.json and result.json */
    d = st ? NULL : opendir(sweep_dir);
    if (!d && !st) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", sweep_dir, strerror(errno));
    while (d && !st && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "runs") || strstr(e->d_name, ".stale-")) continue;
        char run[4500];
        snprintf(run, sizeof run, "%s/%s", sweep_dir, e->d_name);
        if (!has_file(run, "result.json") || !has_file(run, "config.json")) continue;
        st = put_plain_run(s, run, e->d_name);
        if (!st) (*count)++;
    }
    if (d) closedir(d);
    return st;
}

int dale_store_has_finished(dale_store *s, const char *id)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT status FROM runs WHERE id = ?;", -1, &q, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
    int fin = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        fin = t && (!strcmp(t, "ok") || !strcmp(t, "diverged"));
    }
    sqlite3_finalize(q);
    return fin;
}

static double col_num(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? DNAN : sqlite3_column_double(q, i);
}

dale_status dale_store_load(dale_store *s, long at, dale_store_row **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *q = NULL, *c = NULL;
    dale_store_row *r = NULL;
    size_t cap = 0, k = 0;
    dale_status st = DALE_OK;
    /* a store from before "given" has no such column */
    int have_given = has_column(s, "runs", "given");
    if (sqlite3_prepare_v2(s->db,
                           have_given ? "SELECT id, label, status, config, nse0, smax0, rho0, wall_s, given FROM runs "
                                        "ORDER BY id;"
                                      : "SELECT id, label, status, config, nse0, smax0, rho0, wall_s FROM runs ORDER BY id;",
                           -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, "prepare");
    /* val/test columns exist only once some run had them */
    const char *csql = "SELECT \"update\", train_loss, train_err, val_loss, val_err, test_loss, test_err FROM curves "
                       "WHERE id = ?1 AND (?2 < 0 OR \"update\" <= ?2) ORDER BY \"update\" DESC LIMIT 1;";
    int have_curves = sqlite3_prepare_v2(s->db, csql, -1, &c, NULL) == SQLITE_OK;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (k == cap) {
            size_t nc = cap ? 2 * cap : 64;
            dale_store_row *nr = dalei_realloc(r, nc, sizeof *nr);
            if (!nr) { st = DALE_ERR_NOMEM; goto fail; }
            r = nr;
            cap = nc;
        }
        dale_store_row *w = &r[k];
        memset(w, 0, sizeof *w);
        snprintf(w->id, sizeof w->id, "%s", (const char *)sqlite3_column_text(q, 0));
        const char *lab = (const char *)sqlite3_column_text(q, 1), *sts = (const char *)sqlite3_column_text(q, 2);
        const char *cfg = (const char *)sqlite3_column_text(q, 3);
        snprintf(w->label, sizeof w->label, "%s", lab ? lab : "");
        snprintf(w->status, sizeof w->status, "%s", sts ? sts : "");
        w->config = dalei_strdup(cfg ? cfg : "{}");
        if (!w->config) { st = DALE_ERR_NOMEM; goto fail; }
        k++;
        w->nse0 = col_num(q, 4);
        w->smax0 = col_num(q, 5);
        w->rho0 = col_num(q, 6);
        w->wall_s = col_num(q, 7);
        const char *gv = have_given ? (const char *)sqlite3_column_text(q, 8) : NULL;
        if (gv && !(w->given = dalei_strdup(gv))) { st = DALE_ERR_NOMEM; goto fail; }
        w->update = -1;
        for (int m = 0; m < 6; m++) w->m[m] = DNAN;
        if (have_curves) {
            sqlite3_reset(c);
            sqlite3_bind_text(c, 1, w->id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(c, 2, at);
            if (sqlite3_step(c) == SQLITE_ROW) {
                w->update = (long)sqlite3_column_int64(c, 0);
                for (int m = 0; m < 6; m++) w->m[m] = col_num(c, 1 + m);
            }
        }
    }
    sqlite3_finalize(q);
    sqlite3_finalize(c);
    *rows = r;
    *n = k;
    return DALE_OK;
fail:
    sqlite3_finalize(q);
    sqlite3_finalize(c);
    dale_store_rows_free(r, k);
    return st;
}

void dale_store_rows_free(dale_store_row *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) {
        dalei_free(rows[i].config);
        dalei_free(rows[i].given);
    }
    dalei_free(rows);
}
