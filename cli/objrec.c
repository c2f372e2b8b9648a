/* objrec.c — `dale data make-objrec`: render an object-recognition data set
 * from the user's own folders of cut-outs and background photos. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dale/objrec.h"

static void usage(FILE *f)
{
    fputs("usage: dale data make-objrec --objects DIR --backgrounds DIR --out DIR [options]\n\n"
          "Render grey composites of object cut-outs on natural backgrounds (paper 2.3):\n"
          "random background crop -> 256x256, object pasted with its alpha at a random\n"
          "scale, position and in-plane rotation, bicubic downsampling by 3 -> 85x85.\n"
          "Objects: DIR/<category>/.../<object>.png with alpha; backgrounds: every\n"
          "JPEG/PNG below DIR.  Corrupt or alpha-less files are reported and skipped.\n"
          "Writes IDX images and labels per split, manifest.csv, categories.txt,\n"
          "objrec.json, contact-sheet.png and SHA256SUMS (docs/objrec.md).\n\n"
          "options:\n"
          "  --objects DIR          category folders of PNG cut-outs (required)\n"
          "  --backgrounds DIR      background photos, searched recursively (required)\n"
          "  --out DIR              output folder, created if missing (required)\n"
          "  --seed S               seed of every random choice (default: 0)\n"
          "  --categories N         categories used, the first N with enough objects (default: 8)\n"
          "  --per-category N       objects per category (default: 8)\n"
          "  --train N              training images (default: 512)\n"
          "  --val N                validation images (default: 64)\n"
          "  --test N               test images (default: 64)\n"
          "  --variation LEVEL      pose preset low | medium | high (default: high); the four\n"
          "                         options below override it (low: no rotation, size 0.6,\n"
          "                         centred; medium: +-15 deg, 0.5-0.7, shift 0.5)\n"
          "  --rotate on|off        in-plane rotation (default: on)\n"
          "  --max-angle DEG        rotation range +-DEG (default: 30)\n"
          "  --scale-min F          smallest object size, fraction of the canvas (default: 0.4)\n"
          "  --scale-max F          largest object size (default: 0.8)\n"
          "  --shift F              object centre: 1 anywhere it fits, 0 centred, F within F\n"
          "                         of that range around the centre (default: 1)\n"
          "  --quiet                no progress lines\n",
          f);
}

static int parse_size(const char *opt, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-') {
        fprintf(stderr, "dale data make-objrec: %s: expected a non-negative integer (got '%s')\n", opt, v);
        return 0;
    }
    *out = (size_t)x;
    return 1;
}

static int parse_double(const char *opt, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end) {
        fprintf(stderr, "dale data make-objrec: %s: expected a number (got '%s')\n", opt, v);
        return 0;
    }
    *out = x;
    return 1;
}

int cmd_data_make_objrec(int argc, char **argv)
{
    dale_objrec_options o;
    dale_objrec_defaults(&o);
    o.log = stderr;
    /* the preset first, wherever it stands, so that the single knobs override it */
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--variation")) {
            if (dale_objrec_variation(&o, argv[i + 1])) {
                fprintf(stderr, "dale data make-objrec: --variation: %s\n", dale_last_error());
                return 2;
            }
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            o.log = NULL;
            continue;
        }
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "dale data make-objrec: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "dale data make-objrec: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        int ok = 1;
        size_t seed;
        if (!strcmp(a, "--objects")) o.objects_dir = v;
        else if (!strcmp(a, "--backgrounds")) o.backgrounds_dir = v;
        else if (!strcmp(a, "--out")) o.out_dir = v;
        else if (!strcmp(a, "--seed")) { ok = parse_size(a, v, &seed); o.seed = (uint64_t)seed; }
        else if (!strcmp(a, "--categories")) ok = parse_size(a, v, &o.categories);
        else if (!strcmp(a, "--per-category")) ok = parse_size(a, v, &o.per_category);
        else if (!strcmp(a, "--train")) ok = parse_size(a, v, &o.n_train);
        else if (!strcmp(a, "--val")) ok = parse_size(a, v, &o.n_val);
        else if (!strcmp(a, "--test")) ok = parse_size(a, v, &o.n_test);
        else if (!strcmp(a, "--variation")) continue; /* applied above */
        else if (!strcmp(a, "--max-angle")) { ok = parse_double(a, v, &o.max_angle); o.variation = "custom"; }
        else if (!strcmp(a, "--scale-min")) { ok = parse_double(a, v, &o.scale_min); o.variation = "custom"; }
        else if (!strcmp(a, "--scale-max")) { ok = parse_double(a, v, &o.scale_max); o.variation = "custom"; }
        else if (!strcmp(a, "--shift")) { ok = parse_double(a, v, &o.shift); o.variation = "custom"; }
        else if (!strcmp(a, "--rotate")) {
            o.variation = "custom";
            if (!strcmp(v, "on")) o.rotate = 1;
            else if (!strcmp(v, "off")) o.rotate = 0;
            else {
                fprintf(stderr, "dale data make-objrec: --rotate: expected on or off (got '%s')\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "dale data make-objrec: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (!ok) return 2;
    }
    if (!o.objects_dir || !o.backgrounds_dir || !o.out_dir) {
        fprintf(stderr, "dale data make-objrec: --objects, --backgrounds and --out are required (see --help)\n");
        return 2;
    }
    dale_objrec_report r;
    dale_status st = dale_objrec_make(&o, &r);
    if (st == DALE_ERR_ARG) {
        fprintf(stderr, "dale data make-objrec: %s\n", dale_last_error());
        return 2;
    }
    if (st) {
        fprintf(stderr, "dale data make-objrec: %s\n", dale_last_error());
        return 1;
    }
    printf("%s: %zu/%zu/%zu images of %zux%zu, %zu categories x %zu objects, %zu backgrounds; skipped %zu corrupt "
           "objects, %zu without alpha, %zu corrupt backgrounds\n",
           o.out_dir, o.n_train, o.n_val, o.n_test, r.side, r.side, o.categories, o.per_category, r.backgrounds_used,
           r.objects_corrupt, r.objects_no_alpha, r.backgrounds_corrupt);
    return 0;
}
