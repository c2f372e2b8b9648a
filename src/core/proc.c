/* proc.c — running external programs (apt-get, npm, tar, curl, bible) for the
 * data getters, and the string lists the file walkers build.
 *
 * Programs run through posix_spawnp (PATH search, no shell, so no quoting
 * issues) with stdin from /dev/null and their output in a log file the
 * caller names in its error messages. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include "internal.h"

extern char **environ;

int dalei_run_program(char *const argv[], const char *out_path, const char *log_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out_path) posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    else posix_spawn_file_actions_adddup2(&fa, 2, 1);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return 127;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 127;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void dalei_last_line(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n) snprintf(out, cap, "%s", line);
    }
    fclose(f);
}

void dalei_strlist_free(dalei_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) dalei_free(l->s[i]);
    dalei_free(l->s);
    memset(l, 0, sizeof *l);
}

dale_status dalei_strlist_add(dalei_strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **p = dalei_realloc(l->s, cap, sizeof *p);
        if (!p) return DALE_ERR_NOMEM;
        l->s = p;
        l->cap = cap;
    }
    if (!(l->s[l->n] = dalei_strdup(s))) return DALE_ERR_NOMEM;
    l->n++;
    return DALE_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void dalei_strlist_sort(dalei_strlist *l)
{
    if (l->n > 1) qsort(l->s, l->n, sizeof *l->s, cmp_str);
}
