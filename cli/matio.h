/* matio.h — reading matrices for `dale diagnose` and `dale transplant`.
 *
 * A matrix source is a file: .npy (2-D float32/float64), .npz (all members,
 * or "FILE.npz:key" for one), or text/CSV (numbers separated by commas
 * and/or whitespace, the same count on every line; blank lines and lines
 * starting with '#' are skipped).  The type comes from the extension, else
 * from the first bytes.  Every entry must be finite.
 */
#ifndef DALE_CLI_MATIO_H
#define DALE_CLI_MATIO_H

#include <stddef.h>
#include "dale/status.h"

typedef struct cli_matrix {
    char label[640]; /* "FILE" or "FILE:key" */
    size_t rows, cols;
    double *data;    /* rows x cols row-major, owned (dalei_alloc) */
    /* For cellK.W_eff of a dale run file (else "" / -1 / -1): */
    char model[16];  /* the parameter names say: "rnn", "colei" or "dann" */
    long updates;    /* updates the parameters had (checkpoint state, else the run's
                        result.json), -1 unknown */
    int factors_nonneg; /* dann: 1 when W_EE, W_IE and W_EI of that cell are all >= 0 */
} cli_matrix;

/* Load the matrices of `spec`.  For an .npz without a key: every member
 * named cellK.W_eff if there is one (a dale run file), else every 2-D
 * square float member.  square != 0 refuses non-square matrices.  On
 * success *mats (array of *count, free with cli_matrices_free).  Errors
 * (DALE_ERR_IO, DALE_ERR_FORMAT, DALE_ERR_NOMEM) carry a message that
 * names the file and the problem in dale_last_error(). */
dale_status cli_load_matrices(const char *spec, int square, cli_matrix **mats, size_t *count);
void cli_matrices_free(cli_matrix *mats, size_t count);

/* "--threads" default: number of online CPUs (at least 1). */
int cli_default_threads(void);

/* Network config (type and init options, hidden width) from a resolved run
 * config, the same mapping dale train uses; input/output widths are 1. */
struct dale_run_config;
struct dale_net_config;
dale_status cli_net_config(const struct dale_run_config *c, struct dale_net_config *nc);

#endif
