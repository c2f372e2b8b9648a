/* sweep_status.c — `dale sweep status DIR`: where a sweep stands, per run
 * and in total (dale/sweepstate.h), and what squeue says about the Slurm
 * jobs submitted for it (dale/slurm.h).  Printing only. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "dale/slurm.h"
#include "dale/sweepstate.h"

static void status_usage(FILE *f)
{
    fputs("usage: dale sweep status DIR [options]\n\n"
          "Where the sweep in DIR stands, per run and in total: done, diverged, failed,\n"
          "invalid, running or pending, from the run directories (result.json), the run\n"
          "locks and claims, and the results store; and, when DIR/slurm/jobs.txt records\n"
          "submitted Slurm jobs, what squeue says about them.  Changes nothing.\n\n"
          "  --json          one JSON object on stdout instead of the table (default: table)\n"
          "  --summary       the totals only, no line per run (default: every run)\n"
          "  --no-squeue     do not call squeue (default: call it when jobs were submitted)\n"
          "  --timeout S     seconds squeue may take (default 30)\n\n"
          "A run is running while a process holds the lock on DIR/runs/ID/lock or a live\n"
          "process claims it in DIR/runs/ID/claim (a claim of this host whose process is\n"
          "gone is stale and ignored).  Exit codes: 0 read, 1 not a sweep directory,\n"
          "2 usage error.\n",
          f);
}

static const char *run_detail(const dale_run_state *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (r->state == DALE_RUN_RUNNING) {
        if (r->claim_host[0] && !r->claim_stale)
            snprintf(buf, cap, "claimed by %s pid %ld%s%lds ago%s", r->claim_host, r->claim_pid,
                     r->claim_time ? ", " : "", r->claim_time ? (long)(time(NULL) - r->claim_time) : 0L,
                     r->lock_pid ? "; lock held" : "");
        else snprintf(buf, cap, "lock held by pid %ld", r->lock_pid);
        return buf;
    }
    size_t n = 0;
    if (r->state == DALE_RUN_FAILED || r->state == DALE_RUN_INVALID) n += (size_t)snprintf(buf, cap, "%s", r->reason);
    if (r->claim_stale && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%sstale claim of %s pid %ld (gone)", n ? "; " : "", r->claim_host,
                              r->claim_pid);
    if (r->checkpoint && (r->state == DALE_RUN_PENDING || r->state == DALE_RUN_FAILED) && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%sresumes from its checkpoint", n ? "; " : "");
    int fin = r->state == DALE_RUN_DONE || r->state == DALE_RUN_DIVERGED;
    if (fin && !r->store[0] && n < cap)
        snprintf(buf + n, cap - n, "%snot in the store yet (the next dale sweep adds it)", n ? "; " : "");
    return buf;
}

int cmd_sweep_status(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0, summary = 0, squeue = 1;
    double timeout = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { status_usage(stdout); return 0; }
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--summary")) summary = 1;
        else if (!strcmp(a, "--no-squeue")) squeue = 0;
        else if (!strcmp(a, "--timeout") && i + 1 < argc) {
            char *end;
            timeout = strtod(argv[++i], &end);
            if (*end || !(timeout > 0 && timeout <= 3600)) {
                fprintf(stderr, "dale sweep status: --timeout must be seconds in (0, 3600]\n");
                return 2;
            }
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "dale sweep status: unknown option or missing value '%s' (see dale sweep status --help)\n", a);
            return 2;
        } else if (!dir) dir = a;
        else { fprintf(stderr, "dale sweep status: unexpected argument '%s'\n", a); return 2; }
    }
    if (!dir) { status_usage(stderr); return 2; }
    dale_sweep_state *s = NULL;
    if (dale_sweep_state_read(dir, &s)) {
        fprintf(stderr, "dale sweep status: %s\n", dale_last_error());
        return 1;
    }
    dale_slurm_job *q = NULL;
    size_t nq = 0, njobs = 0;
    char qerr[600] = "";
    if (squeue && dale_slurm_queue(dir, timeout, &q, &nq, &njobs))
        snprintf(qerr, sizeof qerr, "%s", dale_last_error());
    char detail[700];
    if (json) {
        cJSON *j = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(j, "counts"), *runs;
        cJSON_AddStringToObject(j, "dir", dir);
        cJSON_AddNumberToObject(j, "runs_total", (double)s->n);
        for (int k = 0; k < DALE_RUN_NSTATES; k++)
            cJSON_AddNumberToObject(c, dale_run_state_name((dale_run_state_kind)k), (double)s->count[k]);
        if (s->have_store) cJSON_AddNumberToObject(j, "store_rows", (double)s->store_rows);
        else cJSON_AddNullToObject(j, "store_rows");
        cJSON_AddStringToObject(j, "note", s->note);
        cJSON *sl = cJSON_AddObjectToObject(j, "slurm");
        cJSON_AddNumberToObject(sl, "submissions", (double)njobs);
        cJSON_AddBoolToObject(sl, "squeue_called", squeue && njobs > 0);
        cJSON_AddStringToObject(sl, "error", qerr);
        cJSON *qa = cJSON_AddArrayToObject(sl, "queue");
        for (size_t i = 0; i < nq; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", q[i].id);
            cJSON_AddStringToObject(e, "state", q[i].state);
            cJSON_AddItemToArray(qa, e);
        }
        runs = cJSON_AddArrayToObject(j, "runs");
        for (size_t i = 0; i < s->n && !summary; i++) {
            const dale_run_state *r = &s->runs[i];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", r->id);
            cJSON_AddStringToObject(e, "label", r->label);
            cJSON_AddStringToObject(e, "state", dale_run_state_name(r->state));
            cJSON_AddStringToObject(e, "result", r->result);
            cJSON_AddStringToObject(e, "store", r->store);
            cJSON_AddStringToObject(e, "reason", r->reason);
            cJSON_AddNumberToObject(e, "lock_pid", (double)r->lock_pid);
            if (r->claim_host[0]) {
                cJSON *cl = cJSON_AddObjectToObject(e, "claim");
                cJSON_AddStringToObject(cl, "host", r->claim_host);
                cJSON_AddNumberToObject(cl, "pid", (double)r->claim_pid);
                cJSON_AddNumberToObject(cl, "time", (double)r->claim_time);
                cJSON_AddBoolToObject(cl, "stale", r->claim_stale);
            } else cJSON_AddNullToObject(e, "claim");
            cJSON_AddBoolToObject(e, "checkpoint", r->checkpoint);
            cJSON_AddStringToObject(e, "detail", run_detail(r, detail, sizeof detail));
            cJSON_AddItemToArray(runs, e);
        }
        char *t = cJSON_Print(j);
        if (t) printf("%s\n", t);
        cJSON_free(t);
        cJSON_Delete(j);
    } else {
        printf("sweep %s: %zu runs: %zu done, %zu diverged, %zu failed, %zu invalid, %zu running, %zu pending\n", dir,
               s->n, s->count[DALE_RUN_DONE], s->count[DALE_RUN_DIVERGED], s->count[DALE_RUN_FAILED],
               s->count[DALE_RUN_INVALID], s->count[DALE_RUN_RUNNING], s->count[DALE_RUN_PENDING]);
        if (s->have_store) printf("store: %zu rows in %s/results.sqlite\n", s->store_rows, dir);
        if (s->note[0]) printf("note: %s\n", s->note);
        if (njobs || qerr[0]) {
            if (qerr[0]) printf("slurm: %zu submission(s) in %s/slurm/jobs.txt; %s (going on without it)\n", njobs, dir, qerr);
            else if (!squeue) printf("slurm: %zu submission(s); squeue not called (--no-squeue)\n", njobs);
            else {
                printf("slurm: %zu submission(s), %zu entr%s in squeue", njobs, nq, nq == 1 ? "y" : "ies");
                for (size_t i = 0; i < nq; i++) printf("%s%s %s", i ? ", " : ": ", q[i].id, q[i].state);
                printf("\n");
            }
        }
        if (!summary && s->n) {
            printf("%-16s  %-24s  %-8s  %-8s  %s\n", "id", "label", "state", "store", "detail");
            for (size_t i = 0; i < s->n; i++) {
                const dale_run_state *r = &s->runs[i];
                printf("%-16s  %-24.24s  %-8s  %-8s  %s\n", r->id, r->label, dale_run_state_name(r->state),
                       r->store[0] ? r->store : "-", run_detail(r, detail, sizeof detail));
            }
        }
    }
    dale_slurm_jobs_free(q);
    dale_sweep_state_free(s);
    return 0;
}
