/*
 * plugin/parent.h — noticing that the process which launched us is gone.
 *
 * Terraform starts a provider as its child and ends it with go-plugin's
 * GRPCController/Shutdown. When Terraform itself dies without that (killed
 * with SIGKILL, by the OOM killer, a crash), nothing else would ever tell
 * the provider, and it would linger, holding its routing map open. The
 * watch calls back once the parent process has exited.
 */
#ifndef CR_PLUGIN_PARENT_H
#define CR_PLUGIN_PARENT_H

#include <sys/types.h>

typedef void (*cr_parent_gone_fn)(void *arg);

/* Starts a detached thread that calls gone(arg) once, from that thread,
 * when process `parent` has exited (at once if it already has). `parent`
 * is the getppid() read first thing at start-up: by the time the watch
 * starts, the parent may be gone and we reparented, and that is noticed.
 * The thread blocks whatever signals the caller blocks and lives until the
 * process exits. Returns 0, or -1 with errno set (no thread). */
int cr_parent_watch(pid_t parent, cr_parent_gone_fn gone, void *arg);

#endif
