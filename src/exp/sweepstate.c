/* sweepstate.c — where a sweep stands (dale/sweepstate.h), read from the
 * run directories, their locks and claims, and the store, changing
 * nothing. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dale/claim.h"
#include "dale/sweep.h"
#include "dale/sweepstate.h"
#include "internal.h"

const char *dale_run_state_name(dale_run_state_kind k)
{
    static const char *const names[] = {"done", "diverged", "failed", "invalid", "running", "pending"};
    return (unsigned)k < DALE_RUN_NSTATES ? names[k] : "?";
}

void dale_sweep_state_free(dale_sweep_state *s)
{
    if (!s) return;
    dalei_free(s->runs);
    dalei_free(s);
}

static int is_run_id(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == 16 && s[16] == '\0';
}

/* A string member of a JSON object file into buf ("" when absent). */
static void json_file_string(const char *path, const char *const *keys, char *const *bufs, const size_t *caps,
                             size_t nkeys)
{
    for (size_t i = 0; i < nkeys; i++) bufs[i][0] = '\0';
    char *text = dalei_read_text(path, 1 << 20);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    dalei_free(text);
    for (size_t i = 0; j && i < nkeys; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        if (cJSON_IsString(v)) snprintf(bufs[i], caps[i], "%s", v->valuestring);
    }
    cJSON_Delete(j);
}

/* <run>/claim, read by the claim module itself.  For status a claim is
 * stale only when it is this host's and its process is gone: another
 * host's claim is shown as it is, however old. */
static void read_claim(const char *run_dir, dale_run_state *r)
{
    dale_claim c;
    dale_status st = dale_claim_read(run_dir, &c);
    if (st == DALE_ERR_IO) return; /* no claim */
    if (st) {                      /* a claim that does not parse: held by "?" */
        snprintf(r->claim_host, sizeof r->claim_host, "?");
        return;
    }
    snprintf(r->claim_host, sizeof r->claim_host, "%s", c.host);
    r->claim_pid = c.pid;
    r->claim_time = c.time;
    r->claim_stale = dale_claim_is_stale(&c, HUGE_VAL, c.time);
}

static void classify(const char *run_dir, dale_run_state *r, int invalid_in_spec, const char *spec_reason)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/result.json", run_dir);
    static const char *const keys[] = {"status", "reason"};
    char *bufs[] = {r->result, r->reason};
    const size_t caps[] = {sizeof r->result, sizeof r->reason};
    json_file_string(path, keys, bufs, caps, 2);
    snprintf(path, sizeof path, "%s/lock", run_dir);
    r->lock_pid = dalei_lock_holder(path);
    read_claim(run_dir, r);
    snprintf(path, sizeof path, "%s/checkpoint.npz", run_dir);
    r->checkpoint = access(path, F_OK) == 0;
    int claimed = r->claim_host[0] && !r->claim_stale;
    if (!strcmp(r->result, "ok")) r->state = DALE_RUN_DONE;
    else if (!strcmp(r->result, "diverged")) r->state = DALE_RUN_DIVERGED;
    else if (invalid_in_spec || !strcmp(r->result, "invalid")) {
        r->state = DALE_RUN_INVALID;
        if (!r->reason[0] && spec_reason) snprintf(r->reason, sizeof r->reason, "%s", spec_reason);
    } else if (r->lock_pid > 0 || claimed) r->state = DALE_RUN_RUNNING;
    else if (!strcmp(r->result, "failed")) r->state = DALE_RUN_FAILED;
    else r->state = DALE_RUN_PENDING;
}

/* The scale DIR/scale.json names (NULL: none or "paper"). */
static const char *sweep_scale(const char *dir, char *buf, size_t cap)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/scale.json", dir);
    static const char *const keys[] = {"scale"};
    char *bufs[] = {buf};
    const size_t caps[] = {cap};
    json_file_string(path, keys, bufs, caps, 1);
    return buf[0] && strcmp(buf, "paper") ? buf : NULL;
}

static int cmp_state_id(const void *a, const void *b)
{
    return strcmp(((const dale_run_state *)a)->id, ((const dale_run_state *)b)->id);
}

dale_status dale_sweep_state_read(const char *dir, dale_sweep_state **out)
{
    *out = NULL;
    dale_sweep_state *s = dalei_calloc(1, sizeof *s);
    if (!s) return DALE_ERR_NOMEM;
    char path[4300], scale[128];
    snprintf(path, sizeof path, "%s/spec.json", dir);
    dale_sweep *sw = NULL;
    if (access(path, F_OK) == 0) {
        if (dale_sweep_load(path, dir, sweep_scale(dir, scale, sizeof scale), &sw))
            dalei_sfmt(s->note, sizeof s->note, "the spec copy cannot be read (%s); only run directories are listed",
                     dale_last_error());
    } else snprintf(s->note, sizeof s->note, "no spec.json; only run directories are listed");
    /* the run directories */
    snprintf(path, sizeof path, "%s/runs", dir);
    DIR *d = opendir(path);
    size_t ndirs = 0, capdirs = 64;
    char (*dirs)[17] = dalei_calloc(capdirs, 17);
    if (!dirs) goto nomem;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!is_run_id(e->d_name)) continue;
        if (ndirs == capdirs) {
            void *nd = dalei_realloc(dirs, capdirs * 2, 17);
            if (!nd) {
                closedir(d);
                goto nomem;
            }
            dirs = nd;
            capdirs *= 2;
        }
        memcpy(dirs[ndirs++], e->d_name, 17);
    }
    if (d) closedir(d);
    if (!sw && !d) {
        dalei_free(dirs);
        dale_sweep_state_free(s);
        return DALE_FAIL(DALE_ERR_IO, "%s is not a sweep directory (no spec.json that loads, no runs/)", dir);
    }
    size_t cap = (sw ? sw->n : 0) + ndirs + 1;
    s->runs = dalei_calloc(cap, sizeof *s->runs);
    if (!s->runs) goto nomem;
    s->from_spec = sw != NULL;
    for (size_t i = 0; sw && i < sw->n; i++) {
        dale_run_state *r = &s->runs[s->n++];
        snprintf(r->id, sizeof r->id, "%s", sw->runs[i].id);
        snprintf(r->label, sizeof r->label, "%s", sw->runs[i].label);
        snprintf(path, sizeof path, "%s/runs/%s", dir, r->id);
        classify(path, r, sw->runs[i].invalid, sw->runs[i].reason);
    }
    size_t nspec = s->n;
    qsort(s->runs, nspec, sizeof *s->runs, cmp_state_id);
    for (size_t k = 0; k < ndirs; k++) {
        dale_run_state key;
        memcpy(key.id, dirs[k], 17);
        if (nspec && bsearch(&key, s->runs, nspec, sizeof *s->runs, cmp_state_id)) continue;
        dale_run_state *r = &s->runs[s->n++];
        memcpy(r->id, dirs[k], 17);
        snprintf(path, sizeof path, "%s/runs/%s/sweep.json", dir, r->id);
        static const char *const keys[] = {"label"};
        char *bufs[] = {r->label};
        const size_t caps[] = {sizeof r->label};
        json_file_string(path, keys, bufs, caps, 1);
        snprintf(path, sizeof path, "%s/runs/%s", dir, r->id);
        classify(path, r, 0, NULL);
    }
    dalei_free(dirs);
    dirs = NULL;
    dale_sweep_free(sw);
    sw = NULL;
    qsort(s->runs, s->n, sizeof *s->runs, cmp_state_id);
    /* the store, read-only: a status never creates or changes it */
    snprintf(path, sizeof path, "%s/results.sqlite", dir);
    sqlite3 *db = NULL;
    if (access(path, F_OK) == 0 && sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db, "SELECT id, status FROM runs", -1, &q, NULL) == SQLITE_OK) {
            int rc;
            while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(q, 0);
                const char *st = (const char *)sqlite3_column_text(q, 1);
                s->store_rows++;
                if (!id) continue;
                dale_run_state key;
                snprintf(key.id, sizeof key.id, "%s", id);
                dale_run_state *r = bsearch(&key, s->runs, s->n, sizeof *s->runs, cmp_state_id);
                if (r) snprintf(r->store, sizeof r->store, "%s", st ? st : "?");
            }
            s->have_store = rc == SQLITE_DONE;
        }
        if (!s->have_store && !s->note[0])
            dalei_sfmt(s->note, sizeof s->note, "the store %s cannot be read: %s", path, sqlite3_errmsg(db));
        sqlite3_finalize(q);
    } else if (!s->note[0])
        dalei_sfmt(s->note, sizeof s->note, "no store yet (%s)", path);
    sqlite3_close(db);
    for (size_t i = 0; i < s->n; i++) s->count[s->runs[i].state]++;
    *out = s;
    return DALE_OK;
nomem:
    dalei_free(dirs);
    dale_sweep_free(sw);
    dale_sweep_state_free(s);
    return DALE_ERR_NOMEM;
}
