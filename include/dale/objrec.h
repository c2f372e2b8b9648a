/* dale/objrec.h — the naturalistic object-recognition data set and task.
 *
 * Data set (a directory, e.g. DATA/objrec):
 *   {train,val,test}-images-idx3-ubyte   (N, side, side) uint8 grey images
 *   {train,val,test}-labels-idx1-ubyte   (N) uint8 category labels
 *   categories.txt   one category name per line, in label order
 *   manifest.csv     one row per image: index, split, label, category,
 *                    object, background, crop_x, crop_y, crop_size, scale,
 *                    x, y, angle (see docs/objrec.md)
 *   objrec.json      how it was made: seed, sizes, pose ranges, the objects
 *                    and backgrounds used, what was skipped
 *   contact-sheet.png  rendered samples, one row per category, to look at
 *   SHA256SUMS       sha256sum-format sums of every file above but itself
 *                    (written last: a directory without it is incomplete)
 *
 * Rendering of one image (all in grey, ITU-R 601 luma of the sources):
 *   1. a background photo, pre-scaled so its shorter side is at most 512;
 *      a square crop of side u(0.5, 1) x shorter side at a uniform position,
 *      resized to canvas x canvas (256);
 *   2. the object cut-out (cropped to its alpha bounding box), resized so
 *      its longer side is scale x canvas with scale ~ u(scale_min,
 *      scale_max), rotated by angle ~ u(-max_angle, max_angle) degrees
 *      (0 without rotation; positive = clockwise on screen), centred at
 *      (x, y) uniform over the positions that keep it inside the canvas,
 *      and pasted with its alpha (premultiplied, bilinear sampling);
 *   3. downsampled by `factor` (3) to side = canvas / factor (85) pixels with
 *      the Catmull-Rom bicubic, rounded to uint8.
 * Resampling is stb_image_resize's (dale/image.h).  Every random choice of
 * image k comes from its own stream dale_rng_fork(rng(seed), k), so an image
 * does not depend on how many were rendered before it.
 *
 * Splits: objects are ordered category-interleaved (object 0 of every
 * category, then object 1, ...); sample i of a split shows object i mod
 * (categories x per_category), so with 512/64/64 and 64 objects every object
 * appears 8/1/1 times and categories are balanced exactly (within one when
 * a split size is not a multiple of the category count).  Samples are then
 * shuffled within their split.  The same objects and backgrounds appear in
 * all splits, with different poses and crops (as in Majaj et al. 2015).
 */
#ifndef DALE_OBJREC_H
#define DALE_OBJREC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dale/status.h"
#include "dale/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sources come either from directories or from explicit lists:
 *   objects_dir: one level of category folders, sorted by name; below each,
 *     every *.png (searched recursively, sorted by relative path) is an
 *     object.  The first `categories` categories holding at least
 *     `per_category` usable objects are used, and the first `per_category`
 *     usable objects of each.
 *   backgrounds_dir: every *.jpg, *.jpeg and *.png below it (recursive,
 *     sorted); at most DALE_OBJREC_MAX_BACKGROUNDS usable ones are used.
 *   Lists (when objects_dir is NULL): object_files[i] belongs to the
 *     category named object_categories[i]; categories are taken in order of
 *     first appearance, objects in list order; background_files likewise.
 * A usable object decodes, has an alpha channel, and is a cut-out: at least
 * 1 % of its pixels are transparent (alpha < 128) and at least 1 % opaque.
 * Files that do not decode (corrupt, truncated, not images) are reported
 * on `log` and skipped, and counted in the report; so are objects without
 * alpha.  Only when too few usable files remain is it an error. */
#define DALE_OBJREC_MAX_BACKGROUNDS 1000

typedef struct dale_objrec_options {
    const char *objects_dir, *backgrounds_dir;
    size_t n_object_files;
    const char *const *object_files, *const *object_categories;
    size_t n_background_files;
    const char *const *background_files;
    const char *out_dir;            /* created if missing (with parents) */
    uint64_t seed;                  /* 0 */
    size_t categories, per_category; /* 8, 8 */
    size_t n_train, n_val, n_test;  /* 512, 64, 64 */
    int rotate;                     /* 1: in-plane rotation on */
    double max_angle;               /* 30 degrees */
    double scale_min, scale_max;    /* 0.4, 0.8 of the canvas */
    double shift;                   /* 1: object centre anywhere it stays inside the
                                     * canvas; 0: centred; f: within f of that range */
    const char *variation;          /* preset name written to objrec.json ("high") */
    size_t canvas, factor;          /* 256, 3 */
    int contact_sheet;              /* 1: write contact-sheet.png */
    const char *source;             /* label written to objrec.json ("folders" when NULL) */
    FILE *log;                      /* progress and skipped files; may be NULL */
} dale_objrec_options;

typedef struct dale_objrec_report {
    size_t objects_used, objects_corrupt, objects_no_alpha;
    size_t backgrounds_used, backgrounds_corrupt;
    size_t categories_skipped; /* category folders with too few usable objects */
    size_t side;               /* image side in pixels */
} dale_objrec_report;

/* The defaults listed next to each field above. */
DALE_API void dale_objrec_defaults(dale_objrec_options *o);

/* Pose-variation presets (docs/objrec.md), in the spirit of the low /
 * medium / high variation sets of Majaj et al. (2015):
 *   low     no rotation, size 0.6 of the canvas, centred;
 *   medium  rotation +-15 degrees, size 0.5-0.7, centre within half the range;
 *   high    rotation +-30 degrees, size 0.4-0.8, centre anywhere inside.
 * The background crop is random at every level.  Sets rotate, max_angle,
 * scale_min, scale_max, shift and variation.  Errors: DALE_ERR_ARG (an
 * unknown name; the message lists the names). */
DALE_API dale_status dale_objrec_variation(dale_objrec_options *o, const char *level);

/* Render the data set described by o into o->out_dir (the files listed at
 * the top).  rep (may be NULL) receives the counts.  Deterministic: the same
 * sources, options and seed give byte-identical files.  Errors: DALE_ERR_ARG
 * (bad options: counts 0, a split smaller than nothing, scale range outside
 * (0, 1], canvas not divisible into at least 8 pixels), DALE_ERR_IO
 * (unreadable folders, output not writable), DALE_ERR_FORMAT (fewer usable
 * categories, objects or backgrounds than needed; the message says which
 * category has how many), DALE_ERR_NOMEM. */
DALE_API dale_status dale_objrec_make(const dale_objrec_options *o, dale_objrec_report *rep);

/* Check a data set directory: objrec.json present and SHA256SUMS matching
 * every file it lists.  Prints one line per file to log (may be NULL).
 * Errors: DALE_ERR_IO (missing files), DALE_ERR_FORMAT (a mismatch). */
DALE_API dale_status dale_objrec_verify(const char *dir, FILE *log);

/* `dale data get objrec`: build the default data set into data_dir/objrec
 * from Debian packages (objects: photo stamps of tuxpaint-stamps-default in
 * eight categories; backgrounds: mate-backgrounds nature photos and one JPEG
 * per plasma-workspace-wallpapers wallpaper), seed 0, default options.
 * Missing packages are installed with apt-get when running as root
 * (install = 1), else the error names them.  A data set already in place
 * that verifies and was built this way is kept.  Errors as for
 * dale_objrec_make, plus DALE_ERR_IO when packages are missing. */
#define DALE_OBJREC_GET_VARIATION "low" /* the default build's preset */
typedef struct dale_objrec_get_options {
    int install;  /* 1: apt-get install missing packages (as root) */
    int force;    /* 1: rebuild even when a verified copy is in place */
    const char *variation; /* preset (dale_objrec_variation); NULL: the default */
    FILE *log;
} dale_objrec_get_options;
DALE_API dale_status dale_objrec_get(const char *data_dir, const dale_objrec_get_options *o);

/* The object-recognition task (paper Sec. 2.3, 6.2.4): T = steps time
 * steps; input d = side x side; the image, scaled by 1/255, is the input at
 * step 1 and the input is 0 at steps 2..T; cross-entropy on the category at
 * the last step (output width = number of categories).  Splits train / val /
 * test are the data set's.  dir is the data set directory, or a data
 * directory holding it as dir/objrec.  input_mean is the mean pixel /255
 * over the training images.  center = 1: the step-1 input is image / 255
 * minus that mean (zero-mean over the training set; input_mean is then 0).  Errors: DALE_ERR_IO (missing files, with a
 * hint naming `dale data get objrec`), DALE_ERR_FORMAT (inconsistent
 * files), DALE_ERR_ARG (steps 0), DALE_ERR_NOMEM. */
typedef struct dale_objrec_task_config {
    const char *dir;
    size_t steps;
    int center; /* subtract the mean training pixel */
} dale_objrec_task_config;
DALE_API dale_status dale_task_objrec_create(const dale_objrec_task_config *cfg, dale_task **out);

#ifdef __cplusplus
}
#endif
#endif
