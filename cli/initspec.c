/* initspec.c — the spectra at initialisation of a sweep's runs, pooled per
 * cell of the analysis' group keys, for `dale report` (the analysis key
 * "init_spectra": "lin" | "log"): per cell the eigenvalues of the first 100
 * runs' recurrent W in the complex plane and the histogram of every run's
 * singular values (paper Figs. 3, 14, 15), and a table of NSE, sigma_max and
 * rho (mean and sd over the cell's runs).
 *
 * Each run's W is the draw `dale spectrum` makes for the run's model options
 * and seed (dale_spectrum_draw), which is exactly the W `dale train` starts
 * from (tests/test_spectrum_cli.sh checks it against final.npz of
 * `dale train --max-updates 0`).  A transplanted run starts from another W,
 * so such runs are left out, with a note.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dale/config.h"
#include "dale/report.h"
#include "dale/spectrum.h"
#include "internal.h"

#define EIG_DRAWS 100 /* eigenvalue clouds: the first 100 runs of a cell, as the paper's Fig. 3 */
#define BINS 100

typedef struct icell {
    char name[256];
    dale_net_config nc;
    size_t first, n; /* the cell's jobs: jobs[first .. first + n) after sorting */
} icell;

typedef struct ijob {
    size_t cell;
    dale_net_config nc;
    uint64_t seed;
} ijob;

/* Cell names "k=v, k=v" (or a label) in reading order: part by part, values
 * that both read as numbers by value, others as text. */
static int cmp_cell_name(const char *a, const char *b)
{
    while (*a && *b) {
        size_t la = strcspn(a, ","), lb = strcspn(b, ",");
        const char *va = memchr(a, '=', la), *vb = memchr(b, '=', lb);
        char *ea, *eb;
        double x = va ? strtod(va + 1, &ea) : 0, y = vb ? strtod(vb + 1, &eb) : 0;
        int c;
        if (va && vb && ea == a + la && eb == b + lb && (va - a) == (vb - b) && !strncmp(a, b, (size_t)(va - a)))
            c = x < y ? -1 : x > y;
        else {
            c = strncmp(a, b, la < lb ? la : lb);
            if (!c) c = la < lb ? -1 : la > lb;
        }
        if (c) return c;
        a += la + (a[la] == ',');
        b += lb + (b[lb] == ',');
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int cmp_icell(const void *a, const void *b)
{
    return cmp_cell_name(((const icell *)a)->name, ((const icell *)b)->name);
}

static int cmp_ijob(const void *a, const void *b)
{
    const ijob *x = a, *y = b;
    if (x->cell != y->cell) return x->cell < y->cell ? -1 : 1;
    return x->seed < y->seed ? -1 : x->seed > y->seed;
}

/* The run's value of group key k as text ("label": its sweep label). */
static void key_text(const char *dir, const dale_run_config *c, const char *k, char *out, size_t cap)
{
    if (!strcmp(k, "label")) {
        char p[4400];
        dalei_sfmt(p, sizeof p, "%s/sweep.json", dir);
        char *t = dalei_read_text(p, (size_t)1 << 20);
        cJSON *sj = t ? cJSON_Parse(t) : NULL;
        dalei_free(t);
        const cJSON *lab = cJSON_GetObjectItemCaseSensitive(sj, "label");
        dalei_sfmt(out, cap, "%s", cJSON_IsString(lab) ? lab->valuestring : "-");
        cJSON_Delete(sj);
        return;
    }
    if (!dale_config_get(c, k, out, cap)) dalei_sfmt(out, cap, "-");
}

/* A file-name-safe form of a cell's index. */
static void cell_file(char *buf, size_t cap, size_t k, const char *what)
{
    dalei_sfmt(buf, cap, "initspec_%zu_%s", k, what);
}

static dale_status write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "cannot write %s", path);
    size_t w = fwrite(text, 1, len, f);
    if (fclose(f) || w != len) return DALE_FAIL(DALE_ERR_IO, "cannot write %s", path);
    return DALE_OK;
}

/* A growing text buffer (freed by the caller). */
typedef struct tbuf { char *p; size_t n, cap; int bad; } tbuf;
static void tb_printf(tbuf *b, const char *fmt, ...) DALEI_PRINTF(2, 3);
static void tb_printf(tbuf *b, const char *fmt, ...)
{
    if (b->bad) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->bad = 1; return; }
        if (b->p && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)k + 1;
        char *q = dalei_alloc(cap, 1);
        if (!q) { b->bad = 1; return; }
        if (b->p) memcpy(q, b->p, b->n);
        dalei_free(b->p);
        b->p = q;
        b->cap = cap;
    }
}

int dalecli_init_spectra(FILE *f, const dalecli_runs *rs, const char *group, int logy, const char *out,
                         int render, dalecli_figure_fn figure)
{
    const char *g = group && *group ? group : "label";
    char keys[8][64];
    size_t nk = 0;
    for (const char *q = g; *q && nk < 8;) {
        size_t l = strcspn(q, ",");
        dalei_sfmt(keys[nk++], sizeof keys[0], "%.*s", (int)(l < 63 ? l : 63), q);
        q += l + (q[l] == ',');
    }
    icell *cells = dalei_calloc(rs->n ? rs->n : 1, sizeof *cells);
    ijob *jobs = dalei_calloc(rs->n ? rs->n : 1, sizeof *jobs);
    dale_run_config *c = dalei_alloc(1, sizeof *c);
    size_t nc = 0, nj = 0, skipped = 0;
    int rc = 1;
    if (!cells || !jobs || !c) goto done;
    for (size_t i = 0; i < rs->n; i++) {
        const char *dir = dalecli_run_dir(rs, i);
        char p[4400], tr[64] = "", name[256] = "", v[128];
        dalei_sfmt(p, sizeof p, "%s/config.json", dir);
        dale_config_defaults(c);
        dale_net_config net;
        if (dale_config_load_json(c, p) || dale_config_net(c, 1, 1, 0.0, &net)) {
            skipped++;
            continue;
        }
        dale_config_get(c, "transplant", tr, sizeof tr);
        if (tr[0] && strcmp(tr, "none") && strcmp(tr, "off")) {
            skipped++;
            continue;
        }
        for (size_t k = 0; k < nk; k++) {
            key_text(dir, c, keys[k], v, sizeof v);
            size_t l = strlen(name);
            dalei_sfmt(name + l, sizeof name - l, "%s%s%s%s", k ? ", " : "", strcmp(keys[k], "label") ? keys[k] : "",
                       strcmp(keys[k], "label") ? "=" : "", v);
        }
        size_t ci = 0;
        while (ci < nc && strcmp(cells[ci].name, name)) ci++;
        if (ci == nc) {
            dalei_sfmt(cells[nc].name, sizeof cells[nc].name, "%s", name);
            cells[nc++].nc = net;
        }
        cells[ci].n++;
        jobs[nj].cell = ci;
        jobs[nj].nc = net;
        jobs[nj++].seed = c->seed;
    }
    fputs("<h2>Spectra at initialisation</h2>\n", f);
    if (skipped)
        fprintf(f, "<p class=\"note\">%zu runs left out: their config could not be read, or they are "
                   "transplanted (their W is not a plain initialisation).</p>\n", skipped);
    if (!nj) {
        fputs("<p class=\"note\">No run to draw.</p>\n", f);
        rc = 0;
        goto done;
    }
    {
        /* cells in reading order (numbers by value), the jobs renumbered to match */
        size_t *rank = dalei_alloc(nc, sizeof *rank);
        icell *sorted = dalei_alloc(nc, sizeof *sorted);
        if (!rank || !sorted) {
            dalei_free(rank);
            dalei_free(sorted);
            goto done;
        }
        memcpy(sorted, cells, nc * sizeof *cells);
        qsort(sorted, nc, sizeof *sorted, cmp_icell);
        for (size_t k = 0; k < nc; k++)
            for (size_t q = 0; q < nc; q++)
                if (!strcmp(cells[k].name, sorted[q].name)) rank[k] = q;
        for (size_t j = 0; j < nj; j++) jobs[j].cell = rank[jobs[j].cell];
        memcpy(cells, sorted, nc * sizeof *cells);
        dalei_free(rank);
        dalei_free(sorted);
    }
    qsort(jobs, nj, sizeof *jobs, cmp_ijob);
    for (size_t j = 0, k = 0; k < nc; k++) {
        cells[k].first = j;
        while (j < nj && jobs[j].cell == k) j++;
    }
    fprintf(f, "<p>Each run's recurrent W at initialisation (the draw <code>dale spectrum</code> makes for the "
               "run's model options and seed: the W <code>dale train</code> starts from), pooled per cell "
               "(%s): eigenvalues of the first %d runs in the complex plane with the initialisation's radius, "
               "and the histogram (%d bins over [0, max &sigma;], density%s) of every run's singular values.</p>\n"
               "<table><caption>Spectra at initialisation per cell (mean &plusmn; sd over runs)</caption>\n"
               "<tr><th>cell</th><th>runs</th><th>n</th><th>NSE</th><th>&sigma;<sub>max</sub></th>"
               "<th>&rho;</th></tr>\n",
            g, EIG_DRAWS, BINS, logy ? ", log y" : "");
    for (size_t k = 0; k < nc; k++) {
        icell *ce = &cells[k];
        /* eigenvalues for the first EIG_DRAWS runs only: RNN and DANN pay a solve each */
        size_t ne = ce->n < EIG_DRAWS ? ce->n : EIG_DRAWS;
        dale_spectrum_job *sj = dalei_calloc(ce->n, sizeof *sj);
        dale_spectrum_set *sets = dalei_calloc(ce->n, sizeof *sets);
        double *sv = dalei_alloc(ce->n * ce->nc.hidden, sizeof *sv), *hist = dalei_alloc(BINS, sizeof *hist);
        double *nse = dalei_alloc(ce->n * 3, sizeof *nse);
        tbuf b = {0};
        int ok = sj && sets && sv && hist && nse;
        for (size_t r = 0; ok && r < ce->n; r++) {
            sj[r].cfg = &jobs[ce->first + r].nc;
            sj[r].seed0 = jobs[ce->first + r].seed;
            sj[r].inits = 1;
        }
        ok = ok && !dale_spectrum_sample(sj, ne, DALE_SPEC_KEEP, 1, sets);
        ok = ok && (ce->n == ne || !dale_spectrum_sample(sj + ne, ce->n - ne, DALE_SPEC_KEEP | DALE_SPEC_NO_EIG, 1,
                                                         sets + ne));
        size_t n = ce->nc.hidden;
        double smax = 0;
        for (size_t r = 0; ok && r < ce->n; r++) {
            if (sets[r].n != n) { ok = 0; break; }
            memcpy(sv + r * n, sets[r].svals, n * sizeof *sv);
            nse[r] = sets[r].sum[0].nse;
            nse[ce->n + r] = sets[r].sum[0].sigma_max;
            nse[2 * ce->n + r] = r < ne ? sets[r].sum[0].rho : (double)NAN;
            smax = fmax(smax, sets[r].sum[0].sigma_max);
        }
        double hi = smax > 0 ? smax * 1.0000001 : 1.0;
        ok = ok && !dale_histogram(sv, ce->n * n, 0.0, hi, BINS, hist, NULL);
        char nm_e[128], nm_s[128], p[4400], title[512];
        cell_file(nm_e, sizeof nm_e, k, "eig");
        cell_file(nm_s, sizeof nm_s, k, "svals");
        if (ok) {
            tb_printf(&b, "draw,re,im\n");
            for (size_t r = 0; r < ne; r++)
                for (size_t i = 0; sets[r].eig_re && i < n; i++)
                    tb_printf(&b, "%zu,%.10g,%.10g\n", r, sets[r].eig_re[i], sets[r].eig_im[i]);
            dalei_sfmt(p, sizeof p, "%s/%s.csv", out, nm_e);
            ok = !b.bad && !write_text(p, b.p, b.n);
            b.n = 0;
        }
        if (ok) {
            tb_printf(&b, "lo,hi,density\n");
            for (size_t i = 0; i < BINS; i++)
                tb_printf(&b, "%.10g,%.10g,%.10g\n", hi * (double)i / BINS, hi * (double)(i + 1) / BINS, hist[i]);
            dalei_sfmt(p, sizeof p, "%s/%s.csv", out, nm_s);
            ok = !b.bad && !write_text(p, b.p, b.n);
        }
        double m[3], sd[3];
        for (int q = 0; ok && q < 3; q++) dale_mean_sd(nse + (size_t)q * ce->n, q == 2 ? ne : ce->n, 1, &m[q], &sd[q]);
        if (ok) {
            fputs("<tr><td>", f);
            for (const char *s = ce->name; *s; s++) {
                if (*s == '<') fputs("&lt;", f);
                else if (*s == '>') fputs("&gt;", f);
                else if (*s == '&') fputs("&amp;", f);
                else fputc(*s, f);
            }
            fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%.4f &plusmn; %.4f</td><td>%.4g &plusmn; %.3g</td>"
                       "<td>%.4g &plusmn; %.3g (%zu runs)</td></tr>\n",
                    ce->n, n, m[0], sd[0], m[1], sd[1], m[2], sd[2], ne);
        }
        int plotted = 0;
        char shown[256]; /* the cell's name in a title: gnuplot reads '_' as a subscript */
        dalei_sfmt(shown, sizeof shown, "%s", ce->name);
        for (char *u = shown; *u; u++)
            if (*u == '_') *u = ' ';
        double rad = dale_model_init_radius(&ce->nc);
        char lab[64];
        dalei_sfmt(lab, sizeof lab, "radius %.3g", rad);
        dalei_sfmt(title, sizeof title, "%s (n = %zu): eigenvalues of %zu initialisations", shown, n, ne);
        char csv[160];
        dalei_sfmt(csv, sizeof csv, "%s.csv", nm_e);
        if (ok && dale_plot_eigs(out, nm_e, csv, (long)ne, rad, lab, title, render, &plotted)) ok = 0;
        dalei_sfmt(title, sizeof title, "%s (n = %zu): singular values of %zu initialisations", shown, n, ce->n);
        dalei_sfmt(csv, sizeof csv, "%s.csv", nm_s);
        if (ok && dale_plot_hist(out, nm_s, csv, logy, title, "singular value", render, &plotted)) ok = 0;
        if (!ok) fprintf(stderr, "dale report: spectra at initialisation of %s: %s\n", ce->name, dale_last_error());
        for (size_t r = 0; sets && r < ce->n; r++) dale_spectrum_set_free(&sets[r]);
        dalei_free(sets);
        dalei_free(sj);
        dalei_free(sv);
        dalei_free(hist);
        dalei_free(nse);
        dalei_free(b.p);
        if (!ok) goto table_end;
    }
    fputs("</table>\n", f);
    for (size_t k = 0; k < nc; k++) {
        char nm[128], cap[600];
        cell_file(nm, sizeof nm, k, "eig");
        dalei_sfmt(cap, sizeof cap, "%s: eigenvalues of W at initialisation (%zu runs; dashed circle: the "
                   "initialisation's radius; paper Fig. 3 A-C)", cells[k].name, cells[k].n < EIG_DRAWS ? cells[k].n : EIG_DRAWS);
        figure(f, out, nm, cap);
        cell_file(nm, sizeof nm, k, "svals");
        dalei_sfmt(cap, sizeof cap, "%s: singular values of W at initialisation, %zu runs pooled%s (paper Figs. 3 D-F, "
                   "14, 15)", cells[k].name, cells[k].n, logy ? ", log density" : "");
        figure(f, out, nm, cap);
    }
    rc = 0;
    goto done;
table_end:
    fputs("</table>\n<p class=\"note\">The spectra could not be drawn (see the message on stderr).</p>\n", f);
done:
    dalei_free(cells);
    dalei_free(jobs);
    dalei_free(c);
    return rc;
}
