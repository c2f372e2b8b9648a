/* dale/image.h — image files and resampling for the object-recognition data.
 *
 * A thin layer over the public-domain stb headers from Debian's libstb-dev
 * (stb_image: PNG/JPEG/BMP/... decoding; stb_image_write: PNG/JPEG encoding;
 * stb_image_resize: separable filtered resampling).  Nothing here decodes a
 * format by hand.  Pixels are 8-bit, row-major, channels interleaved
 * (grey, grey+alpha, RGB or RGBA); resampling works on float planes.
 * All memory, stb's included, goes through dalei_alloc/dalei_free.
 */
#ifndef DALE_IMAGE_H
#define DALE_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest width or height accepted from a file (a hostile header cannot ask
 * for more), and the largest file read (bytes). */
#define DALE_IMAGE_MAX_SIDE 16384
#define DALE_IMAGE_MAX_FILE ((size_t)256 << 20)

typedef struct dale_image {
    size_t w, h;       /* width, height in pixels */
    int channels;      /* channels in data (as requested) */
    int file_channels; /* channels the file holds: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
    uint8_t *data;     /* (h, w, channels), owned; free with dale_image_free */
} dale_image;

/* Decode the image file at path (any format stb_image reads: PNG, JPEG, BMP,
 * GIF, TGA, PSD, PNM) into *out with `channels` (1..4) channels: stb converts
 * (grey = the ITU-R 601 luma of RGB, alpha 255 when the file has none).
 * Errors, each naming the file: DALE_ERR_IO (cannot open or read, larger
 * than DALE_IMAGE_MAX_FILE), DALE_ERR_FORMAT (not an image, corrupt or
 * truncated data, a side above DALE_IMAGE_MAX_SIDE; the message carries
 * stb's reason), DALE_ERR_ARG, DALE_ERR_NOMEM.  On failure *out is zeroed. */
DALE_API dale_status dale_image_load(const char *path, int channels, dale_image *out);

DALE_API void dale_image_free(dale_image *im); /* frees data; NULL-safe, idempotent */

/* Write an 8-bit image (h, w, channels 1..4) to path, as PNG when the name
 * ends in .png and as JPEG (quality 95; no alpha) when it ends in .jpg or
 * .jpeg (case-insensitive).  Written atomically (temporary file + rename).
 * Errors: DALE_ERR_ARG (bad sizes, unknown extension), DALE_ERR_NOMEM,
 * DALE_ERR_IO. */
DALE_API dale_status dale_image_write(const char *path, size_t w, size_t h, int channels, const uint8_t *data);

/* Resample float planes in (ih, iw, channels) to out (oh, ow, channels)
 * with the Catmull-Rom cubic (the "bicubic" of PIL and MATLAB, a = -0.5);
 * channels are filtered independently (premultiply alpha first if it
 * matters).  Edges: edge_zero = 0 clamps (replicates the border), 1 treats
 * outside pixels as 0 (for premultiplied cut-outs).  Allocates scratch
 * memory.  Errors: DALE_ERR_ARG (a zero size or over DALE_IMAGE_MAX_SIDE),
 * DALE_ERR_NOMEM. */
DALE_API dale_status dale_image_resize(const float *in, size_t iw, size_t ih, float *out, size_t ow, size_t oh,
                                       int channels, int edge_zero);

/* Draw `text` (ASCII; other bytes are skipped) into a grey image (h, w) at
 * pixel (x, y) (top-left of the first character) with value `value`, using
 * stb_easy_font's bitmap strokes magnified `scale` times (characters are
 * about 6 x 12 pixels at scale 2).  Pixels outside the image are clipped.
 * Nothing allocates; long texts are cut at 200 characters. */
DALE_API void dale_image_draw_text(uint8_t *grey, size_t w, size_t h, int x, int y, const char *text, int scale,
                                   uint8_t value);

#ifdef __cplusplus
}
#endif
#endif
