/* threads.c — the BLAS thread policy (OpenBLAS). */
#include "dale/linalg.h"

void openblas_set_num_threads(int num_threads);

void dale_set_blas_threads(int n) { openblas_set_num_threads(n > 0 ? n : 1); }
