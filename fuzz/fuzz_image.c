/* fuzz_image.c — image decoding for the object-recognition data
 * (dale_image_load over stb_image: PNG, JPEG, BMP, GIF, ...).  The input is
 * written to a temp file and decoded twice, as grey and as RGBA; a decoded
 * image must have sides within DALE_IMAGE_MAX_SIDE and every byte readable,
 * and nothing may leak on any path. */
#include "dale/image.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path(".img");
    fuzz_write(path, data, size);
    long live = dalei_alloc_live();
    static const int channels[2] = {1, 4};
    for (int k = 0; k < 2; k++) {
        dale_image im;
        if (dale_image_load(path, channels[k], &im) == DALE_OK) {
            if (!im.w || !im.h || im.w > DALE_IMAGE_MAX_SIDE || im.h > DALE_IMAGE_MAX_SIDE ||
                im.channels != channels[k] || !im.data)
                abort();
            volatile uint8_t sum = 0; /* touch every byte so ASan sees a short buffer */
            for (size_t i = 0; i < im.w * im.h * (size_t)im.channels; i++) sum ^= im.data[i];
            (void)sum;
        }
        dale_image_free(&im);
    }
    fuzz_check_leaks(live, "fuzz_image");
    return 0;
}
