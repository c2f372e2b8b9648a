/* dale/version.h — the version of the library and the commit it was built from.
 *
 * Every run records both (config.json and result.json carry "dale_version"
 * and "dale_commit"), so a result can be traced to the code that made it.
 */
#ifndef DALE_VERSION_H
#define DALE_VERSION_H

#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The release this library is, e.g. "0.15.0"; a static string, never NULL. */
DALE_API const char *dale_version(void);

/* The short git commit of the source tree it was built from ("-dirty"
 * appended when tracked files had changes), or "unknown" when it was built
 * outside a git checkout; a static string, never NULL. */
DALE_API const char *dale_git_commit(void);

#ifdef __cplusplus
}
#endif
#endif
