/* cli.h — subcommands of the dale command-line tool.  Each returns the
 * process exit code: 0 ok, 1 runtime error, 2 usage error. */
#ifndef DALE_CLI_H
#define DALE_CLI_H

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

#endif
