/* dale/claim.h — claim files: several sweep processes that share a sweep
 * directory (on one machine or on a shared file system across nodes) take
 * runs on demand by claiming them.
 *
 * A claim is the file <run>/claim, created with O_CREAT|O_EXCL, holding one
 * line
 *     host=<hostname> pid=<pid> time=<unix seconds>
 * naming the sweep process that runs the run.  It is removed when the run
 * has been recorded (or stopped and left resumable).  A claim is stale when
 * its host is this host and its pid is gone (kill(pid, 0) fails with
 * ESRCH), or when it is older than a limit (a process on another host
 * cannot be asked); a stale claim is taken over by writing a new claim
 * beside it and renaming it over the old one, then reading it back to see
 * who won.  The claim only hands out work: the run's fcntl lock (<run>/lock,
 * held by the `dale train` child) still keeps two processes from running
 * one run at once, should two takers both believe they won.
 */
#ifndef DALE_CLAIM_H
#define DALE_CLAIM_H

#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_claim {
    char host[256];  /* gethostname() of the claiming process */
    long pid;        /* its process id */
    long long time;  /* when it claimed, unix seconds */
} dale_claim;

/* Read <run_dir>/claim into *c.  Errors: DALE_ERR_IO when there is no
 * claim or it cannot be read (errno ENOENT for none), DALE_ERR_FORMAT when
 * it does not hold the one line above. */
DALE_API dale_status dale_claim_read(const char *run_dir, dale_claim *c);

/* Is claim c stale at unix time now?  1 when c->host is this host and no
 * process c->pid exists, or when now - c->time > stale_seconds; else 0. */
DALE_API int dale_claim_is_stale(const dale_claim *c, double stale_seconds, long long now);

/* Claim the run in run_dir for this process.  Returns 1 when this process
 * holds the claim now (*took_over 1 when it replaced a stale one, which is
 * then copied to *holder), 0 when a live claim of another process holds it
 * (copied to *holder), -1 on an I/O error (message via dale_last_error).
 * holder and took_over may be NULL. */
DALE_API int dale_claim_take(const char *run_dir, double stale_seconds, dale_claim *holder, int *took_over);

/* Remove <run_dir>/claim if it is this process's (same host and pid);
 * another process's claim is left alone.  NULL-safe; never fails. */
DALE_API void dale_claim_release(const char *run_dir);

#ifdef __cplusplus
}
#endif
#endif
