/*
 * plugin/parent.h — noticing that the process which launched us is gone.
 *
 * Terraform starts a provider as its child and ends it with go-plugin's
 * GRPCController/Shutdown. When Terraform itself dies without that (killed
 * with SIGKILL, by the OOM killer, a crash), nothing else would ever tell
 * the provider, and it would linger, holding its routing map open. The
 * watch calls back once the parent process has exited.
 *
 * The watch has no thread of its own: it is a cr_server_watch that the
 * thread in cr_server_run_watching serves while it waits for the server
 * (a pidfd among the descriptors it polls), so it costs no thread stack
 * and no scheduler wake-up at start-up.
 */
#ifndef CR_PLUGIN_PARENT_H
#define CR_PLUGIN_PARENT_H

#include <stdbool.h>
#include <sys/types.h>

#include "plugin/server.h"

typedef void (*cr_parent_gone_fn)(void *arg);

typedef struct cr_parent_watch {
    cr_server_watch watch;      /* what cr_server_run_watching serves */
    pid_t parent;
    cr_parent_gone_fn gone;
    void *arg;
} cr_parent_watch;

/* Sets up the watch of process `parent`, the getppid() read first thing
 * at start-up: by the time the watch is set up, the parent may be gone and
 * we reparented, and that is noticed. Once the watch is served, gone(arg)
 * is called once, from the serving thread, when the parent has exited (at
 * the first check if it already has). Where the kernel refuses a pidfd,
 * the watch asks getppid() every CR_PARENT_POLL_MS instead. */
#define CR_PARENT_POLL_MS 250
void cr_parent_watch_init(cr_parent_watch *w, pid_t parent,
                          cr_parent_gone_fn gone, void *arg);
/* Closes the pidfd, if any; the watch must not be served any more. */
void cr_parent_watch_close(cr_parent_watch *w);

#endif
