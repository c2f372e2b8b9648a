/* mpi-hello.c — an MPI probe for the cluster tests: each rank prints
 * "mpi-hello: rank R of S on HOST"; with an argument N, a rank whose world
 * is not N ranks says so and exits 1, so a launcher that starts singletons
 * (or too few ranks) cannot pass silently. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank = 0, size = 0, len = 0;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(host, &len);
    printf("mpi-hello: rank %d of %d on %s\n", rank, size, host);
    fflush(stdout);
    int rc = 0;
    if (argc > 1 && size != atoi(argv[1])) {
        fprintf(stderr, "mpi-hello: rank %d: world size %d, expected %s\n", rank, size, argv[1]);
        rc = 1;
    }
    /* every rank reaches the barrier, so a broken transport hangs here
     * (the test's timeout catches it) instead of passing */
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return rc;
}
