/* test_store.c — the results store (dale/sweep.h) and selection keys
 * (dale/select.h) on hand-made run directories, checked through the library
 * and SQLite itself (no sqlite3 shell needed).
 *
 * 1. A store of the first schema (no "given" column, seed REAL) still opens
 *    and takes a run; the run's given options land in the new column.
 * 2. --rebuild recreates it: a sweep run (runs/<16 hex>, sweep.json with
 *    "given") and a plain run directory (DIR/NAME, no sweep.json) both
 *    count; integer options (seed, hidden) are INTEGER, lr REAL; a directory
 *    moved aside (.stale-K) does not count.
 * 3. Group key inhib reads the given value (0.2) or, without one,
 *    1/(1 + ei_ratio) (0.5); a key with one value in every run is flagged
 *    constant, a key no run has is flagged unset.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/config.h"
#include "dale/fileio.h"
#include "dale/select.h"
#include "dale/sweep.h"
#include "internal.h"
#include "check.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    CHECK_OK(dalei_write_file_atomic(p, text, strlen(text)));
}

/* A finished run in dir: config.json (colei, the given inhib, seed) and an
 * ok result.json. */
static void make_run(const char *dir, const char *inhib, const char *seed, double test_loss)
{
    CHECK_OK(dale_mkdirs(dir));
    dale_run_config c;
    dale_config_defaults(&c);
    CHECK_OK(dale_config_set(&c, "model", "colei"));
    CHECK_OK(dale_config_set(&c, "inhib", inhib));
    CHECK_OK(dale_config_set(&c, "seed", seed));
    CHECK_OK(dale_config_resolve(&c));
    char p[1024], res[256];
    snprintf(p, sizeof p, "%s/config.json", dir);
    CHECK_OK(dale_config_write_json(&c, p));
    snprintf(res, sizeof res, "{\n  \"status\": \"ok\",\n  \"updates\": 5,\n  \"test_loss\": %g\n}\n", test_loss);
    write_file(dir, "result.json", res);
}

static char *query(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    char *out = NULL;
    if (sqlite3_open(db, &h) == SQLITE_OK && sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        out = strdup((const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(h);
    return out ? out : strdup("(none)");
}

static void check_query(const char *db, const char *sql, const char *want)
{
    char *got = query(db, sql);
    CHECK(!strcmp(got, want), "%s: got '%s', want '%s'", sql, got, want);
    free(got);
}

int main(void)
{
    char tmpl[] = "/tmp/dale-test-store.XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL, "mkdtemp");
    if (!dir) return check_done("test_store");
    char sweep_run[512], plain[512], stale[512], db[512];
    snprintf(sweep_run, sizeof sweep_run, "%s/runs/0123456789abcdef", dir);
    snprintf(plain, sizeof plain, "%s/mine", dir);
    snprintf(stale, sizeof stale, "%s/runs/0123456789abcdef.stale-1", dir);
    snprintf(db, sizeof db, "%s/results.sqlite", dir);
    make_run(sweep_run, "0.2", "3", 0.25);
    write_file(sweep_run, "sweep.json",
          "{\n  \"id\": \"0123456789abcdef\",\n  \"label\": \"colei\",\n  \"given\": {\"model\": \"colei\", \"inhib\": 0.2}\n}\n");
    make_run(plain, "0.5", "4", 0.5);
    make_run(stale, "0.1", "5", 0.75);

    /* 1. a store of the first schema */
    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK, "create an old store");
    CHECK(sqlite3_exec(h,
                       "CREATE TABLE runs (id TEXT PRIMARY KEY, label TEXT, status TEXT, reason TEXT, updates INTEGER, "
                       "wall_s REAL, train_loss REAL, train_err REAL, val_loss REAL, val_err REAL, test_loss REAL, "
                       "test_err REAL, best_val_err REAL, best_val_loss REAL, best_test_err REAL, best_test_loss REAL, "
                       "nse0 REAL, smax0 REAL, rho0 REAL, config TEXT, seed REAL);"
                       "CREATE TABLE curves (id TEXT, \"update\" INTEGER);",
                       NULL, NULL, NULL) == SQLITE_OK,
          "old schema");
    sqlite3_close(h);
    dale_store *s = NULL;
    CHECK_OK(dale_store_open(dir, &s));
    CHECK_OK(dale_store_put_run(s, sweep_run, "0123456789abcdef", "colei", NULL, NULL));
    dale_store_row *rows = NULL;
    size_t n = 0;
    CHECK_OK(dale_store_load(s, -1, &rows, &n));
    CHECK(n == 1 && rows && rows[0].given && strstr(rows[0].given, "\"inhib\":0.2"), "old store: given loaded (%s)",
          n && rows[0].given ? rows[0].given : "NULL");
    dale_store_rows_free(rows, n);

    /* 2. rebuild: the sweep run and the plain one, not the stale one */
    size_t cnt = 0;
    CHECK_OK(dale_store_rebuild(s, dir, &cnt));
    CHECK(cnt == 2, "rebuild counted %zu run directories, want 2", cnt);
    check_query(db, "SELECT group_concat(t) FROM (SELECT DISTINCT typeof(seed) || '/' || typeof(hidden) || '/' || "
                    "typeof(lr) AS t FROM runs);", "integer/integer/real");
    check_query(db, "SELECT group_concat(seed) FROM (SELECT seed FROM runs ORDER BY seed);", "3,4");
    check_query(db, "SELECT label FROM runs WHERE seed = 4;", "mine");
    check_query(db, "SELECT json_extract(given, '$.inhib') FROM runs WHERE seed = 3;", "0.2");

    /* 3. keys read what the user set */
    CHECK_OK(dale_store_load(s, -1, &rows, &n));
    dale_select_options o = {.select = "test_loss", .group = "inhib,model,nope"};
    dale_selection *sel = NULL;
    CHECK_OK(dale_select(rows, n, &o, &sel));
    if (sel) {
        CHECK(sel->ncells == 2, "cells %zu, want 2", sel->ncells);
        if (sel->ncells == 2) {
            const char *a = sel->rows[sel->cells[0].idx[0]].g[0], *b = sel->rows[sel->cells[1].idx[0]].g[0];
            CHECK(!strcmp(a, "0.2") && !strcmp(b, "0.5"), "inhib cells '%s' '%s' (given, then 1/(1+ei_ratio))", a, b);
            CHECK(sel->cells[0].nconf == 1 && sel->nselected == 0, "one configuration per cell: nothing selected");
        }
        CHECK(sel->gconst[0] == 0 && sel->gconst[1] == 1 && sel->gconst[2] == 2, "key states %d %d %d", sel->gconst[0],
              sel->gconst[1], sel->gconst[2]);
        double v = dale_select_row_metric(&sel->rows[0], "inhib", -1);
        CHECK(v == 0.2 || fabs(v - 0.5) < 1e-12, "inhib as a number: %g", v);
    }
    dale_selection_free(sel);
    dale_store_rows_free(rows, n);
    dale_store_close(s);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "clean up");
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
    return check_done("test_store");
}
