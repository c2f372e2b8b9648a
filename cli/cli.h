/* cli.h — subcommands of the dale command-line tool.  Each returns the
 * process exit code: 0 ok, 1 runtime error, 2 usage error. */
#ifndef DALE_CLI_H
#define DALE_CLI_H

#include <stddef.h>

int cmd_train(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_data_make_objrec(int argc, char **argv); /* dale data make-objrec */
int cmd_eval(int argc, char **argv);
int cmd_spectrum(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_transplant(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_psychometric(int argc, char **argv);

/* Strict numbers for flags (cli/eval.c): digits only, no sign; count also
 * at most 1e8.  Return 0 when v parses, else 1. */
int cli_parse_u64(const char *v, unsigned long long *out);
int cli_parse_count(const char *v, size_t *out);

#endif
