/* test_claim.c — claim files (dale/claim.h), the on-demand hand-out of runs
 * to independent sweep processes:
 *
 * 1. A claim is created once, reads back as host/pid/time of this process,
 *    is this process's on a second take, and release removes it.
 * 2. A live process's claim on this host is respected; once that process is
 *    gone the claim is taken over (took_over, holder named).
 * 3. Another host's claim is respected while younger than the limit and
 *    taken over when older; release leaves another process's claim alone.
 * 4. A claim file that does not parse counts as held while fresh and as
 *    stale once a minute old.
 * 5. Eight processes claiming one run at once: exactly one wins.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dale/claim.h"
#include "check.h"

static char dir[256], host[256];

static void put(const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/claim", dir);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int exists(void)
{
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/claim", dir);
    return stat(p, &sb) == 0;
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/dale-claim.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) return 1;
    gethostname(host, sizeof host - 1);
    dale_claim c, h;
    char line[600];
    int took = -1;

    /* 1 */
    CHECK(dale_claim_read(dir, &c) == DALE_ERR_IO && errno == ENOENT, "no claim: ENOENT");
    CHECK(dale_claim_take(dir, 86400, &h, &took) == 1 && took == 0, "first take wins");
    CHECK_OK(dale_claim_read(dir, &c));
    CHECK(!strcmp(c.host, host) && c.pid == (long)getpid() && llabs(c.time - (long long)time(NULL)) < 5,
          "claim reads host=%s pid=%ld time=%lld", c.host, c.pid, c.time);
    CHECK(dale_claim_take(dir, 86400, &h, &took) == 1, "own claim: still this process's");
    dale_claim_release(dir);
    CHECK(!exists(), "release removes it");

    /* 2 */
    pid_t kid = fork();
    if (kid == 0) {
        pause();
        _exit(0);
    }
    long long now = (long long)time(NULL);
    snprintf(line, sizeof line, "host=%s pid=%ld time=%lld\n", host, (long)kid, now);
    put(line);
    CHECK(dale_claim_take(dir, 86400, &h, &took) == 0 && h.pid == (long)kid, "a live process's claim is respected");
    dale_claim_release(dir);
    CHECK(exists(), "release leaves another process's claim");
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    CHECK(dale_claim_take(dir, 86400, &h, &took) == 1 && took == 1 && h.pid == (long)kid,
          "a dead process's claim is taken over (took %d, holder pid %ld)", took, h.pid);
    CHECK_OK(dale_claim_read(dir, &c));
    CHECK(c.pid == (long)getpid(), "the claim is now this process's");
    dale_claim_release(dir);

    /* 3 */
    snprintf(line, sizeof line, "host=elsewhere.example pid=1 time=%lld\n", now);
    put(line);
    CHECK(dale_claim_take(dir, 50, &h, &took) == 0 && !strcmp(h.host, "elsewhere.example"), "a fresh remote claim is respected");
    snprintf(line, sizeof line, "host=elsewhere.example pid=1 time=%lld\n", now - 100);
    put(line);
    CHECK(dale_claim_take(dir, 50, &h, &took) == 1 && took == 1, "a remote claim older than the limit is taken over");
    dale_claim_release(dir);

    /* 4 */
    put("garbage\n");
    CHECK(dale_claim_read(dir, &c) == DALE_ERR_FORMAT, "garbage: DALE_ERR_FORMAT");
    CHECK(dale_claim_take(dir, 86400, &h, &took) == 0, "a fresh unparseable claim is respected");
    char p[512];
    snprintf(p, sizeof p, "%s/claim", dir);
    struct timeval tv[2] = {{(time_t)(now - 120), 0}, {(time_t)(now - 120), 0}};
    utimes(p, tv);
    CHECK(dale_claim_take(dir, 86400, &h, &took) == 1 && took == 1, "an unparseable claim a minute old is taken over");
    dale_claim_release(dir);

    /* 5: each child reports through res, then waits on go until all have
     * tried (a winner that exited early would leave a dead process's claim,
     * which the next taker rightly takes over) */
    pid_t kids[8];
    int res[2], go[2];
    if (pipe(res) || pipe(go)) return 1;
    for (int i = 0; i < 8; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            close(res[0]);
            close(go[1]);
            char r = dale_claim_take(dir, 86400, NULL, NULL) == 1 ? 'w' : 'l';
            if (write(res[1], &r, 1) != 1) _exit(1);
            char x;
            while (read(go[0], &x, 1) > 0) {}
            _exit(0);
        }
    }
    close(res[1]);
    close(go[0]);
    int wins = 0, losses = 0;
    for (int i = 0; i < 8; i++) {
        char r;
        if (read(res[0], &r, 1) != 1) break;
        wins += r == 'w';
        losses += r == 'l';
    }
    CHECK(wins == 1 && losses == 7, "8 processes at once: %d won, %d lost", wins, losses);
    CHECK_OK(dale_claim_read(dir, &c));
    int winner = 0;
    for (int i = 0; i < 8; i++) winner |= c.pid == (long)kids[i];
    CHECK(winner, "the claim names the winner");
    close(go[1]);
    close(res[0]);
    for (int i = 0; i < 8; i++) waitpid(kids[i], NULL, 0);
    unlink(p);
    rmdir(dir);
    return check_done("test_claim");
}
