/* sha256.c — SHA-256 (FIPS 180-4) for verifying data and result files.
 *
 * A plain, portable implementation: 64-byte blocks, big-endian words, the
 * standard message schedule and compression function.  Speed is not the
 * point (about 200 MB/s here, a fraction of a second for MNIST); the tests
 * check it against the FIPS example vectors and sha256sum.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "dale/sha256.h"
#include "internal.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

/* Compress one 64-byte block into the state h. */
static void block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + S1 + ch + K[i] + w[i];
        uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        k = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void dale_sha256_init(dale_sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
    s->nbuf = 0;
}

void dale_sha256_update(dale_sha256 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->len += n;
    if (s->nbuf) {
        size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        n -= take;
        if (s->nbuf < 64) return;
        block(s->h, s->buf);
        s->nbuf = 0;
    }
    for (; n >= 64; n -= 64, p += 64) block(s->h, p);
    memcpy(s->buf, p, n);
    s->nbuf = n;
}

void dale_sha256_final(dale_sha256 *s, uint8_t out[32])
{
    /* Padding: 0x80, zeros to 56 mod 64, then the bit length big-endian. */
    uint64_t bits = s->len * 8;
    uint8_t pad[72] = {0x80};
    size_t npad = (s->nbuf < 56 ? 56 : 120) - s->nbuf;
    for (int i = 0; i < 8; i++) pad[npad + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
    dale_sha256_update(s, pad, npad + 8);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

void dale_sha256_hex(const uint8_t d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

dale_status dale_file_sha256(const char *path, char hex[65], size_t *bytes)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return DALE_FAIL(DALE_ERR_IO, "%s: is a directory, not a file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    gzbuffer(gz, 1u << 17);
    uint8_t *buf = dalei_alloc(1u << 16, 1);
    if (!buf) { gzclose(gz); return DALE_ERR_NOMEM; }
    dale_sha256 s;
    dale_sha256_init(&s);
    size_t total = 0;
    int r;
    while ((r = gzread(gz, buf, 1u << 16)) > 0) {
        dale_sha256_update(&s, buf, (size_t)r);
        total += (size_t)r;
    }
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    dale_status st = DALE_OK;
    if (r < 0 || err != Z_OK)
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: corrupt or truncated gzip data after %zu bytes: %s", path, total,
                       err == Z_ERRNO ? strerror(errno) : msg);
    dalei_free(buf);
    gzclose(gz);
    if (st) return st;
    uint8_t d[32];
    dale_sha256_final(&s, d);
    dale_sha256_hex(d, hex);
    if (bytes) *bytes = total;
    return DALE_OK;
}
