/* sweep.c — sweep specs: parse, overlay a scale, expand into resolved run
 * configs with stable ids; cost estimates; finished-run detection.
 *
 * Expansion order (dale/sweep.h): runs × zip groups × axes, the last axis
 * fastest.  Values reach dale_config_set as text exactly as a config.json
 * value would (numbers %.17g, integers without a fraction, booleans on/off),
 * so a sweep run and `dale train --config` agree on every option.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dale/sweep.h"
#include "internal.h"

/* ------------------------------------------------------------- ids */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

dale_status dale_run_id(const dale_run_config *c, char id[17])
{
    dale_run_config d, k = *c;
    /* The reference: the defaults resolved for the same task and model, so
     * options whose "auto" resolves to what it resolved to before do not
     * enter the hash either. */
    dale_config_defaults(&d);
    if (dale_config_set(&d, "task", c->task) || dale_config_set(&d, "model", c->model) ||
        dale_config_resolve(&d))
        dale_config_defaults(&d);
    d.out[0] = d.data[0] = '\0';
    k.out[0] = k.data[0] = '\0';
    k.max_memory_gb = d.max_memory_gb;
    char *tk = NULL, *td = NULL;
    cJSON *jk = NULL, *jd = NULL;
    const char **keys = NULL;
    dale_status st = dale_config_to_json(&k, &tk);
    if (!st) st = dale_config_to_json(&d, &td);
    if (st) goto done;
    jk = cJSON_Parse(tk);
    jd = cJSON_Parse(td);
    if (!jk || !jd) { st = DALE_FAIL(DALE_ERR_NOMEM, "dale_run_id: cannot parse config JSON"); goto done; }
    size_t n = (size_t)cJSON_GetArraySize(jk), m = 0;
    keys = dalei_alloc(n ? n : 1, sizeof *keys);
    if (!keys) { st = DALE_ERR_NOMEM; goto done; }
    for (cJSON *it = jk->child; it; it = it->next) {
        if (dale_config_key_is_place(it->string)) continue;
        cJSON *dv = cJSON_GetObjectItemCaseSensitive(jd, it->string);
        int always = !strcmp(it->string, "task") || !strcmp(it->string, "model");
        if (!always && dv && cJSON_Compare(it, dv, 1)) continue;
        keys[m++] = it->string;
    }
    qsort(keys, m, sizeof *keys, cmp_str);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < m; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(jk, keys[i]);
        char *vt = cJSON_PrintUnformatted(v);
        if (!vt) { st = DALE_ERR_NOMEM; goto done; }
        for (const char *p = keys[i]; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ '=') * 1099511628211ull;
        for (const char *p = vt; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ ';') * 1099511628211ull;
        cJSON_free(vt);
    }
    snprintf(id, 17, "%016llx", (unsigned long long)h);
done:
    cJSON_Delete(jk);
    cJSON_Delete(jd);
    dale_config_free_text(tk);
    dale_config_free_text(td);
    dalei_free(keys);
    return st;
}

/* ------------------------------------------------------------ values */

/* A JSON scalar as the text dale_config_set takes. */
static int value_text(const cJSON *v, char *buf, size_t cap)
{
    if (cJSON_IsString(v)) snprintf(buf, cap, "%s", v->valuestring);
    else if (cJSON_IsBool(v)) snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "on" : "off");
    else if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (x == floor(x) && fabs(x) < 9e15) snprintf(buf, cap, "%.0f", x);
        else snprintf(buf, cap, "%.17g", x);
    } else return -1;
    return 0;
}

static double round_to(double x, int decimals, int digits)
{
    if (x == 0 || !isfinite(x)) return x;
    int d = decimals;
    if (digits > 0) d = digits - 1 - (int)floor(log10(fabs(x)));
    double s = pow(10.0, d);
    return round(x * s) / s;
}

/* Expand an axis value (a list of scalars or a range object) into a fresh
 * cJSON array. */
static dale_status axis_values(const cJSON *v, const char *origin, const char *key, cJSON **out)
{
    *out = NULL;
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) == 0)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: axis \"%s\" is an empty list", origin, key);
        for (cJSON *it = v->child; it; it = it->next)
            if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it))
                return DALE_FAIL(DALE_ERR_FORMAT, "%s: axis \"%s\": values must be strings or numbers", origin, key);
        *out = cJSON_Duplicate(v, 1);
        return *out ? DALE_OK : DALE_ERR_NOMEM;
    }
    if (cJSON_IsObject(v)) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(v, "geomspace");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(v, "linspace");
        const cJSON *r = g ? g : l;
        const cJSON *dec = cJSON_GetObjectItemCaseSensitive(v, "decimals");
        const cJSON *dig = cJSON_GetObjectItemCaseSensitive(v, "digits");
        if (!r || (g && l) || !cJSON_IsArray(r) || cJSON_GetArraySize(r) != 3)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: axis \"%s\": a range is {\"geomspace\": [a, b, k]} or "
                             "{\"linspace\": [a, b, k]}", origin, key);
        double a = cJSON_GetArrayItem(r, 0)->valuedouble, b = cJSON_GetArrayItem(r, 1)->valuedouble;
        double kd = cJSON_GetArrayItem(r, 2)->valuedouble;
        if (!(kd >= 1 && kd <= 100000 && kd == floor(kd)) || (g && !(a > 0 && b > 0)))
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: axis \"%s\": need k >= 1 (and a, b > 0 for geomspace)", origin, key);
        int decimals = dec && cJSON_IsNumber(dec) ? dec->valueint : 6;
        int digits = dig && cJSON_IsNumber(dig) ? dig->valueint : 0;
        /* 10^d must stay a finite double with room for x: a double has 17
         * significant digits, so more decimals or digits mean nothing */
        if ((dec && (!cJSON_IsNumber(dec) || dec->valuedouble != decimals || decimals < 0 || decimals > 17)) ||
            (dig && (!cJSON_IsNumber(dig) || dig->valuedouble != digits || digits < 1 || digits > 17)))
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: axis \"%s\": \"decimals\" must be an integer in 0..17 and "
                             "\"digits\" in 1..17", origin, key);
        size_t k = (size_t)kd;
        cJSON *arr = cJSON_CreateArray();
        if (!arr) return DALE_ERR_NOMEM;
        for (size_t i = 0; i < k; i++) {
            double t = k == 1 ? 0 : (double)i / (double)(k - 1), x;
            if (g) x = exp(log(a) + t * (log(b) - log(a)));
            else x = a + t * (b - a);
            cJSON *num = cJSON_CreateNumber(round_to(x, decimals, digits));
            if (!num) { cJSON_Delete(arr); return DALE_ERR_NOMEM; }
            cJSON_AddItemToArray(arr, num);
        }
        *out = arr;
        return DALE_OK;
    }
    return DALE_FAIL(DALE_ERR_FORMAT, "%s: axis \"%s\" must be a list or a range object", origin, key);
}

/* ------------------------------------------------------------ expand */

typedef struct expander {
    const char *origin, *dir;
    const cJSON *base;
    dale_sweep *s;
    size_t cap;
    size_t *slot;  /* open-addressing set of run ids: index + 1 into s->runs, 0 empty */
    size_t nslot;  /* a power of two, at least twice s->n */
} expander;

static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

/* The slot of id in the set: where it is, or the empty slot where it goes. */
static size_t id_slot(const expander *e, const char *id)
{
    size_t m = e->nslot - 1, i = id_hash(id) & m;
    while (e->slot[i] && strcmp(e->s->runs[e->slot[i] - 1].id, id)) i = (i + 1) & m;
    return i;
}

/* Room in the set for one more id (rehashing into a table twice the size). */
static dale_status id_reserve(expander *e)
{
    if (e->nslot && 2 * (e->s->n + 1) <= e->nslot) return DALE_OK;
    size_t nn = e->nslot ? 2 * e->nslot : 64, *old = e->slot, on = e->nslot;
    e->slot = dalei_calloc(nn, sizeof *e->slot);
    if (!e->slot) { e->slot = old; return DALE_ERR_NOMEM; }
    e->nslot = nn;
    for (size_t i = 0; i < on; i++)
        if (old[i]) e->slot[id_slot(e, e->s->runs[old[i] - 1].id)] = old[i];
    dalei_free(old);
    return DALE_OK;
}

/* Apply one object of options (skipping "label"); on a bad option record
 * the message in *reason and return non-zero. */
static int apply_obj(dale_run_config *c, const cJSON *o, char *label, char *reason, size_t rcap)
{
    for (const cJSON *it = o ? o->child : NULL; it; it = it->next) {
        char val[600];
        if (!strcmp(it->string, "label")) {
            if (label && cJSON_IsString(it)) snprintf(label, 64, "%s", it->valuestring);
            continue;
        }
        if (value_text(it, val, sizeof val)) {
            snprintf(reason, rcap, "option \"%s\" must be a string or a number", it->string);
            return 1;
        }
        if (dale_config_set(c, it->string, val)) {
            snprintf(reason, rcap, "%s", dale_last_error());
            return 1;
        }
    }
    return 0;
}

/* The options base, run and assign set (later ones win), "label" left
 * out, as one line of JSON owned by the caller (dalei_free); NULL when out
 * of memory. */
static char *given_text(const cJSON *base, const cJSON *run, const cJSON *assign)
{
    cJSON *g = cJSON_CreateObject();
    const cJSON *src[3] = {base, run, assign};
    for (int k = 0; g && k < 3; k++)
        for (const cJSON *it = src[k] ? src[k]->child : NULL; it; it = it->next) {
            if (!it->string || !strcmp(it->string, "label")) continue;
            cJSON *dup = cJSON_Duplicate(it, 1);
            if (!dup) { cJSON_Delete(g); return NULL; }
            cJSON_DeleteItemFromObjectCaseSensitive(g, it->string);
            cJSON_AddItemToObject(g, it->string, dup);
        }
    char *t = g ? cJSON_PrintUnformatted(g) : NULL;
    char *out = t ? dalei_strdup(t) : NULL;
    cJSON_free(t);
    cJSON_Delete(g);
    return out;
}

static dale_status add_run(expander *e, const cJSON *run, const cJSON *assign)
{
    dale_sweep *s = e->s;
    if (s->n == e->cap) {
        size_t nc = e->cap ? 2 * e->cap : 16;
        dale_sweep_run *nr = dalei_realloc(s->runs, nc, sizeof *nr);
        if (!nr) return DALE_ERR_NOMEM;
        s->runs = nr;
        e->cap = nc;
    }
    dale_sweep_run *r = &s->runs[s->n];
    memset(r, 0, sizeof *r);
    dale_config_defaults(&r->cfg);
    int bad = apply_obj(&r->cfg, e->base, r->label, r->reason, sizeof r->reason) ||
              apply_obj(&r->cfg, run, r->label, r->reason, sizeof r->reason) ||
              apply_obj(&r->cfg, assign, r->label, r->reason, sizeof r->reason);
    if (!bad && dale_config_resolve(&r->cfg)) {
        snprintf(r->reason, sizeof r->reason, "%s", dale_last_error());
        bad = 1;
    }
    if (!bad) {
        dale_status st = dale_run_id(&r->cfg, r->id);
        if (st) return st;
    } else {
        /* An invalid run still needs a stable id: hash its option text. */
        r->invalid = 1;
        char *t1 = cJSON_PrintUnformatted(run), *t2 = cJSON_PrintUnformatted(assign);
        uint64_t h = 0xcbf29ce484222325ull ^ 0x1badull;
        for (const char *p = t1 ? t1 : ""; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        for (const char *p = t2 ? t2 : ""; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        cJSON_free(t1);
        cJSON_free(t2);
        snprintf(r->id, sizeof r->id, "%016llx", (unsigned long long)h);
    }
    snprintf(r->cfg.out, sizeof r->cfg.out, "%s/runs/%s", e->dir, r->id);
    if (!r->label[0]) {
        /* default label: the run override's options, else the model */
        snprintf(r->label, sizeof r->label, "%s", r->cfg.model);
    }
    r->given = given_text(e->base, run, assign);
    if (id_reserve(e)) {
        dalei_free(r->given);
        r->given = NULL;
        return DALE_ERR_NOMEM;
    }
    size_t at = id_slot(e, r->id);
    if (e->slot[at]) { /* duplicate: merged */
        dalei_free(r->given);
        r->given = NULL;
        return DALE_OK;
    }
    e->slot[at] = ++s->n;
    return DALE_OK;
}

/* Recursive product over the axes (index ai) with assignments in `assign`. */
static dale_status expand_axes(expander *e, const cJSON *run, cJSON **vals, const char **keys, size_t nax,
                               size_t ai, cJSON *assign)
{
    if (ai == nax) return add_run(e, run, assign);
    for (cJSON *v = vals[ai]->child; v; v = v->next) {
        cJSON *dup = cJSON_Duplicate(v, 1);
        if (!dup) return DALE_ERR_NOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(assign, keys[ai]);
        cJSON_AddItemToObject(assign, keys[ai], dup);
        dale_status st = expand_axes(e, run, vals, keys, nax, ai + 1, assign);
        if (st) return st;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(assign, keys[ai]);
    return DALE_OK;
}

/* Zip groups: group gi takes index t in 0..len-1 for all its keys at once. */
static dale_status expand_zip(expander *e, const cJSON *run, const cJSON *zip, size_t gi, cJSON **vals,
                              const char **keys, size_t nax, cJSON *assign)
{
    if (!zip || gi == (size_t)cJSON_GetArraySize(zip)) return expand_axes(e, run, vals, keys, nax, 0, assign);
    const cJSON *g = cJSON_GetArrayItem(zip, (int)gi);
    int len = -1;
    for (const cJSON *it = g->child; it; it = it->next) {
        if (!cJSON_IsArray(it) || (len >= 0 && cJSON_GetArraySize(it) != len) || cJSON_GetArraySize(it) == 0)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: zip group %zu: every key needs a list, all of one length",
                             e->origin, gi);
        len = cJSON_GetArraySize(it);
    }
    for (int t = 0; t < len; t++) {
        for (const cJSON *it = g->child; it; it = it->next) {
            cJSON *dup = cJSON_Duplicate(cJSON_GetArrayItem(it, t), 1);
            if (!dup) return DALE_ERR_NOMEM;
            cJSON_DeleteItemFromObjectCaseSensitive(assign, it->string);
            cJSON_AddItemToObject(assign, it->string, dup);
        }
        dale_status st = expand_zip(e, run, zip, gi + 1, vals, keys, nax, assign);
        if (st) return st;
    }
    return DALE_OK;
}

/* The runs a spec expands to before duplicates merge: runs (or 1) times
 * the length of each zip group times the length of each axis.  Checked
 * before anything is expanded, so a grid of 10^10 is refused at once
 * instead of filling memory: over DALE_SWEEP_MAX_RUNS, DALE_ERR_FORMAT
 * naming each factor.  A malformed zip group counts its first list here
 * and is reported by the expansion. */
static dale_status grid_size_ok(const char *origin, const cJSON *runs, const cJSON *zip, cJSON *const *vals,
                                const char *const *keys, size_t nax)
{
    size_t n = 1, over = 0;
    double total = 1;
    char why[512];
    size_t w = 0;
    why[0] = '\0';
#define GRID_FACTOR(k, ...)                                                                                   \
    do {                                                                                                  \
        size_t k_ = (k);                                                                                  \
        total *= (double)k_;                                                                              \
        if (k_ && n > DALE_SWEEP_MAX_RUNS / k_) over = 1;                                                 \
        else n *= k_;                                                                                     \
        if (w < sizeof why) {                                                                             \
            int m_ = snprintf(why + w, sizeof why - w, __VA_ARGS__);                                     \
            if (m_ > 0) w += (size_t)m_;                                                                  \
        }                                                                                                 \
    } while (0)
    size_t nr = runs ? (size_t)cJSON_GetArraySize(runs) : 0;
    if (nr) GRID_FACTOR(nr, "%s%zu runs", w ? " x " : "", nr);
    for (int g = 0; zip && g < cJSON_GetArraySize(zip); g++) {
        const cJSON *grp = cJSON_GetArrayItem(zip, g);
        const cJSON *first = cJSON_IsObject(grp) ? grp->child : NULL;
        size_t len = cJSON_IsArray(first) ? (size_t)cJSON_GetArraySize(first) : 1;
        GRID_FACTOR(len, "%szip group %d (%s): %zu", w ? " x " : "", g, first ? first->string : "empty", len);
    }
    for (size_t a = 0; a < nax; a++) {
        size_t len = (size_t)cJSON_GetArraySize(vals[a]);
        GRID_FACTOR(len, "%s%s: %zu", w ? " x " : "", keys[a], len);
    }
#undef GRID_FACTOR
    if (!over && n <= DALE_SWEEP_MAX_RUNS) return DALE_OK;
    if (w >= sizeof why) snprintf(why + sizeof why - 5, 5, "...");
    return DALE_FAIL(DALE_ERR_FORMAT, "%s: the grid has %.*g runs, more than the %d a sweep may have (%s); "
                     "shorten an axis or split the sweep into several specs", origin, total < 1e15 ? 15 : 3,
                     total, DALE_SWEEP_MAX_RUNS, why);
}

/* Overlay `over` onto `dst` for key k: objects merge key by key, anything
 * else replaces. */
static dale_status overlay(cJSON *dst, const cJSON *over, const char *k)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(over, k);
    if (!o) return DALE_OK;
    cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, k);
    if (cJSON_IsObject(o) && cJSON_IsObject(d)) {
        for (const cJSON *it = o->child; it; it = it->next) {
            cJSON *dup = cJSON_Duplicate(it, 1);
            if (!dup) return DALE_ERR_NOMEM;
            cJSON_DeleteItemFromObjectCaseSensitive(d, it->string);
            cJSON_AddItemToObject(d, it->string, dup);
        }
        return DALE_OK;
    }
    cJSON *dup = cJSON_Duplicate(o, 1);
    if (!dup) return DALE_ERR_NOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(dst, k);
    cJSON_AddItemToObject(dst, k, dup);
    return DALE_OK;
}

dale_status dale_sweep_parse(const char *text, const char *origin, const char *dir, const char *scale,
                             dale_sweep **out)
{
    *out = NULL;
    static const char *const top[] = {"name", "description", "base", "runs", "zip", "axes", "scales", "analysis"};
    dale_status st = DALE_OK;
    cJSON *root = cJSON_Parse(text), *assign = NULL, **vals = NULL;
    const char **keys = NULL;
    size_t nax = 0;
    dale_sweep *s = NULL;
    if (!root || !cJSON_IsObject(root)) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: not a valid JSON object", origin);
        goto done;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        size_t i = 0;
        while (i < sizeof top / sizeof top[0] && strcmp(top[i], it->string)) i++;
        if (i == sizeof top / sizeof top[0]) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: unknown key \"%s\" (expected name, description, base, runs, "
                           "zip, axes, scales, analysis)", origin, it->string);
            goto done;
        }
    }
    if (scale && scale[0] && strcmp(scale, "paper")) {
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "scales"), scale);
        if (!sc) { st = DALE_FAIL(DALE_ERR_ARG, "%s: no scale \"%s\" in \"scales\"", origin, scale); goto done; }
        static const char *const ok[] = {"base", "axes", "runs", "zip"};
        for (const cJSON *it = sc->child; it; it = it->next) {
            size_t i = 0;
            while (i < 4 && strcmp(ok[i], it->string)) i++;
            if (i == 4) {
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s: scale \"%s\": unknown key \"%s\"", origin, scale, it->string);
                goto done;
            }
        }
        for (int k = 0; k < 4; k++) {
            if (!cJSON_GetObjectItemCaseSensitive(root, ok[k]) && cJSON_GetObjectItemCaseSensitive(sc, ok[k]))
                cJSON_AddItemToObject(root, ok[k], k == 0 || k == 1 ? cJSON_CreateObject() : cJSON_CreateArray());
            if ((st = overlay(root, sc, ok[k]))) goto done;
        }
    }
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "base");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");
    const cJSON *zip = cJSON_GetObjectItemCaseSensitive(root, "zip");
    const cJSON *axes = cJSON_GetObjectItemCaseSensitive(root, "axes");
    if ((base && !cJSON_IsObject(base)) || (runs && !cJSON_IsArray(runs)) || (zip && !cJSON_IsArray(zip)) ||
        (axes && !cJSON_IsObject(axes))) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: base and axes must be objects, runs and zip lists", origin);
        goto done;
    }
    for (const cJSON *it = base ? base->child : NULL; it; it = it->next)
        if (strcmp(it->string, "label") && !dale_config_has(it->string)) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: base: unknown option \"%s\"", origin, it->string);
            goto done;
        }
    for (const cJSON *it = axes ? axes->child : NULL; it; it = it->next)
        if (!dale_config_has(it->string)) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: axes: unknown option \"%s\"", origin, it->string);
            goto done;
        }
    s = dalei_calloc(1, sizeof *s);
    if (!s) { st = DALE_ERR_NOMEM; goto done; }
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "name");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(root, "description");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(root, "analysis");
    snprintf(s->name, sizeof s->name, "%s", cJSON_IsString(nm) ? nm->valuestring : "sweep");
    snprintf(s->description, sizeof s->description, "%s", cJSON_IsString(ds) ? ds->valuestring : "");
    if (an) {
        char *t = cJSON_PrintUnformatted(an);
        s->analysis = t ? dalei_strdup(t) : NULL;
        cJSON_free(t);
    }
    nax = axes ? (size_t)cJSON_GetArraySize(axes) : 0;
    vals = dalei_calloc(nax ? nax : 1, sizeof *vals);
    keys = dalei_calloc(nax ? nax : 1, sizeof *keys);
    assign = cJSON_CreateObject();
    if (!vals || !keys || !assign) { st = DALE_ERR_NOMEM; goto done; }
    size_t a = 0;
    for (const cJSON *it = axes ? axes->child : NULL; it; it = it->next, a++) {
        keys[a] = it->string;
        if ((st = axis_values(it, origin, it->string, &vals[a]))) goto done;
    }
    if ((st = grid_size_ok(origin, runs, zip, vals, keys, nax))) goto done;
    expander e = {origin, dir, base, s, 0, NULL, 0};
    if (runs && cJSON_GetArraySize(runs) > 0) {
        for (const cJSON *r = runs->child; r && !st; r = r->next) {
            if (!cJSON_IsObject(r))
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s: every element of \"runs\" must be an object", origin);
            else st = expand_zip(&e, r, zip, 0, vals, keys, nax, assign);
        }
    } else {
        cJSON *empty = cJSON_CreateObject();
        if (!empty) st = DALE_ERR_NOMEM;
        else st = expand_zip(&e, empty, zip, 0, vals, keys, nax, assign);
        cJSON_Delete(empty);
    }
    dalei_free(e.slot);
    if (st) goto done;
    *out = s;
    s = NULL;
done:
    for (size_t i = 0; i < nax && vals; i++) cJSON_Delete(vals[i]);
    dalei_free(vals);
    dalei_free(keys);
    cJSON_Delete(assign);
    cJSON_Delete(root);
    dale_sweep_free(s);
    return st;
}

/* Each scale may say what its numbers are good for: "kind" (smoke: the
 * pipeline only; reduced: a smaller budget that shows the paper's ordering;
 * paper: the paper's protocol; control: a control experiment beside the
 * claim) and a one-line "note".  `dale reproduce
 * --list` and the results banner read them; they do not change any run, so
 * they are checked and taken out here, before the spec is expanded.
 * Returns 1 when something was taken out, 0 when not, -1 on an error. */
static int strip_scale_notes(cJSON *root, const char *path, dale_status *st)
{
    cJSON *scales = cJSON_GetObjectItemCaseSensitive(root, "scales");
    int stripped = 0;
    for (cJSON *sc = cJSON_IsObject(scales) ? scales->child : NULL; sc; sc = sc->next) {
        if (!cJSON_IsObject(sc)) continue;
        cJSON *kind = cJSON_GetObjectItemCaseSensitive(sc, "kind");
        cJSON *note = cJSON_GetObjectItemCaseSensitive(sc, "note");
        if (kind && !(cJSON_IsString(kind) && (!strcmp(kind->valuestring, "smoke") ||
                                               !strcmp(kind->valuestring, "reduced") ||
                                               !strcmp(kind->valuestring, "paper") ||
                                               !strcmp(kind->valuestring, "control")))) {
            *st = DALE_FAIL(DALE_ERR_FORMAT, "%s: scale \"%s\": \"kind\" must be \"smoke\", \"reduced\", \"paper\" "
                            "or \"control\"", path, sc->string);
            return -1;
        }
        if (note && !cJSON_IsString(note)) {
            *st = DALE_FAIL(DALE_ERR_FORMAT, "%s: scale \"%s\": \"note\" must be a string", path, sc->string);
            return -1;
        }
        if (kind) cJSON_DeleteItemFromObjectCaseSensitive(sc, "kind");
        if (note) cJSON_DeleteItemFromObjectCaseSensitive(sc, "note");
        stripped |= kind || note;
    }
    return stripped;
}

dale_status dale_sweep_load(const char *path, const char *dir, const char *scale, dale_sweep **out)
{
    *out = NULL;
    char *buf;
    size_t len;
    dale_status st = dalei_read_file(path, (size_t)1 << 24, &buf, &len);
    if (st == DALE_ERR_FORMAT) return DALE_FAIL(DALE_ERR_FORMAT, "%s: spec must be under 16 MiB", path);
    if (st) return st;
    if (strlen(buf) != len) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: NUL byte in the spec", path);
        dalei_free(buf);
        return st;
    }
    cJSON *root = cJSON_ParseWithLength(buf, len);
    char *text = NULL;
    if (!root) {
        size_t line, col;
        char near[32];
        dalei_text_where(buf, len, cJSON_GetErrorPtr(), &line, &col, near, sizeof near);
        if (near[0]) st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: not valid JSON (near '%s')", path, line, col, near);
        else st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: not valid JSON (at an empty line)", path,
                            line, col);
    } else {
        int k = strip_scale_notes(root, path, &st);
        if (k > 0) {
            text = cJSON_PrintUnformatted(root);
            if (!text) st = DALE_FAIL(DALE_ERR_NOMEM, "%s: cannot print the spec", path);
        }
        if (k >= 0 && !st) st = dale_sweep_parse(text ? text : buf, path, dir, scale, out);
    }
    cJSON_free(text);
    cJSON_Delete(root);
    dalei_free(buf);
    return st;
}

void dale_sweep_free(dale_sweep *s)
{
    if (!s) return;
    for (size_t i = 0; s->runs && i < s->n; i++) dalei_free(s->runs[i].given);
    dalei_free(s->runs);
    dalei_free(s->analysis);
    dalei_free(s);
}

/* ------------------------------------------------------------- cost */

/* Updates of a resolved run: its epochs of minibatches (a task whose
 * samples fill several rows, lm, takes one sample per update), capped by
 * max_updates.  0 when the task is unknown. */
static double updates_of(const dale_run_config *c, const dale_task_shape *s)
{
    double per_epoch = s->rows > 1 ? s->ntrain : ceil(s->ntrain / (double)(c->batch > 0 ? c->batch : 1));
    double u = (double)c->epochs * per_epoch;
    if (c->max_updates >= 0 && (double)c->max_updates < u) u = (double)c->max_updates;
    return u;
}

double dale_run_updates(const dale_run_config *c)
{
    dale_task_shape s;
    return dale_config_task_shape(c, &s) ? 0 : updates_of(c, &s);
}

/* CPU seconds of a run from its task's shape: multiply-adds of one batch
 * row (every step's recurrent and deeper-input products, the first layer's
 * input product on the steps with an input, the dense layers and readout
 * at the last step or at every step, the softmax), 2 flops each forward
 * and 6 with the backward, at R flop/s; a fixed cost per update; the
 * memory traffic of the parameters per update (weights, gradients and
 * effective matrices read and written: ~24 bytes a weight, at B bytes/s),
 * which dominates wide input layers such as objrec's; the spectra of each
 * recurrent W at every evaluation; and the parameter files written at each
 * checkpoint (8 bytes a weight, compressed at C bytes/s); with noise, its
 * normal draws.  Calibrated on
 * one core of the development machine (tools/cost_check.sh). */
double dale_run_seconds(const dale_run_config *c)
{
    const double R = 7.5e10;        /* flop/s of dale's kernels, one core (docs/experiments.md) */
    const double overhead = 1.5e-4; /* s per update: policy, bookkeeping, small kernels */
    const double Bw = 5e9, Cw = 8e7; /* bytes/s: parameter traffic, checkpoint writing */
    dale_task_shape s;
    if (dale_config_task_shape(c, &s)) return 0;
    double H = (double)c->hidden, L = (double)c->layers, head = 0, prev = H;
    for (const char *p = c->dense; *p;) {
        char *end;
        double d = strtod(p, &end);
        if (end == p) break;
        head += d * prev;
        prev = d;
        p = *end ? end + 1 : end;
    }
    head += s.output * prev;
    double weights = H * s.input + (2 * L - 1) * H * H + head;
    head += 10 * s.output; /* softmax */
    double Tin = s.Tin < s.T ? s.Tin : s.T;
    double per_row = s.T * (H * H * L + (L - 1) * H * H) + Tin * H * s.input + (s.every_step ? s.T : 1) * head;
    double rows = s.rows > 1 ? s.rows : (double)c->batch;
    double upd = updates_of(c, &s);
    double train = upd * (6 * rows * per_row / R + overhead + 24 * weights / Bw);
    /* noise: one normal per unit (and input channel) per step and row, ~25 ns each */
    double draws = (c->noise_rec > 0 ? s.T * L * H : 0) + (c->noise_in > 0 ? s.T * s.input : 0);
    train += upd * rows * draws * 2.5e-8;
    double evals = floor(upd / (double)(c->eval_every > 0 ? c->eval_every : 1)) + 2;
    double eval = evals * 2 * s.neval * per_row / R;
    if (!strcmp(c->spectra, "on")) eval += evals * L * 40 * H * H * H / R;
    double saves = floor(upd / (double)(c->checkpoint_every > 0 ? c->checkpoint_every : 1)) + 3;
    return train + eval + saves * 8 * weights / Cw + 0.1; /* + start-up and data */
}

/* 1 when the two strings name the same existing file or directory under
 * different spellings (relative vs absolute, a symlink, "a/../b"): the
 * same device and inode. */
static int same_place(const char *a, const char *b)
{
    struct stat sa, sb;
    if (!a[0] || !b[0] || stat(a, &sa) || stat(b, &sb)) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* A copy of c in which every string option whose value names the same file
 * or directory as that run's config.json value takes the file's spelling:
 * a corpus resolved under --data as "data/kjv" in one sweep and as
 * "/home/u/dale/data/kjv" in the next is one run, not another (the run id
 * is the same: the default corpus does not enter it).  Only the staleness
 * test sees the copy; ids and config.json are untouched. */
static void adopt_spellings(dale_run_config *k, const char *path)
{
    char *buf = dalei_read_text(path, 1 << 24), *wt = NULL;
    cJSON *have = buf ? cJSON_Parse(buf) : NULL, *want = NULL;
    dalei_free(buf);
    if (cJSON_IsObject(have) && !dale_config_to_json(k, &wt)) want = cJSON_Parse(wt);
    for (cJSON *it = want ? want->child : NULL; it; it = it->next) {
        if (!cJSON_IsString(it) || dale_config_key_is_place(it->string)) continue;
        const cJSON *hv = cJSON_GetObjectItemCaseSensitive(have, it->string);
        if (!cJSON_IsString(hv) || !strcmp(hv->valuestring, it->valuestring)) continue;
        /* a value the option refuses leaves k as it was: then it differs */
        if (same_place(hv->valuestring, it->valuestring)) (void)dale_config_set(k, it->string, hv->valuestring);
    }
    cJSON_Delete(want);
    cJSON_Delete(have);
    dale_config_free_text(wt);
}

int dale_run_config_differs(const dale_run_config *c, const char *run_dir, char *why, size_t cap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run_dir);
    dale_run_config k = *c;
    adopt_spellings(&k, path);
    return dale_config_compare_file(&k, path, 0, why, cap) == 2;
}

int dale_run_finished(const char *run_dir, char *status, size_t cap)
{
    char path[4200];
    if (status && cap) status[0] = '\0';
    snprintf(path, sizeof path, "%s/result.json", run_dir);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status");
    int fin = 0;
    if (cJSON_IsString(s)) {
        if (status && cap) snprintf(status, cap, "%s", s->valuestring);
        fin = !strcmp(s->valuestring, "ok") || !strcmp(s->valuestring, "diverged");
    }
    cJSON_Delete(j);
    return fin;
}
