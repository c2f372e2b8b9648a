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

/* Threads a threaded computation can run on within the memory it may use,
 * before it allocates anything.  `fixed` bytes are allocated once,
 * `per_thread` bytes by each worker; each worker that calls BLAS also
 * costs OpenBLAS's 128 MB buffer and a thread stack in address space.
 * Two limits: RAM (or max_gb * 1e9 when max_gb > 0) bounds the bytes
 * used (max_gb < 0: RAM, no option to raise), and `ulimit -v` (RLIMIT_AS) bounds the address space left now
 * (OpenBLAS retries a failed buffer mapping forever, so the check must
 * come first).  Returns `threads` or fewer (a note on stderr naming cmd
 * when fewer), or 0 after DALE_FAIL(DALE_ERR_NOMEM, "out of memory: WHAT
 * needs about ...") when not even one thread fits. */
int cli_fit_memory(const char *cmd, const char *what, double fixed, double per_thread, int threads,
                   double max_gb);

/* Network config (type and init options, hidden width) from a resolved run
 * config, the same mapping dale train uses; input/output widths are 1. */
struct dale_run_config;
struct dale_net_config;
dale_status cli_net_config(const struct dale_run_config *c, struct dale_net_config *nc);

#endif
