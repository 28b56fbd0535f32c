/*
 * plugin/parent.c — the parent watch (see parent.h).
 *
 * A pidfd of the parent (pidfd_open, Linux 5.3) turns readable when the
 * parent *process* exits, and the serving thread simply polls it along
 * with its other descriptors. The classic prctl(PR_SET_PDEATHSIG) is not
 * used: it fires when the *thread* that forked us exits, and Go's os/exec
 * forks from whichever OS thread the goroutine happens to run on, so a Go
 * runtime thread ending would look like Terraform dying. Where pidfd_open
 * is refused (an older kernel, a seccomp filter), the watch asks getppid()
 * periodically instead: once the parent is gone we have been reparented
 * (to init or a subreaper) and the value changes.
 *
 * A pid can be reused once its process is gone, so the pidfd is only
 * trusted after getppid() confirms, *after* it was opened, that our parent
 * still is that pid: a parent that died first would have reparented us.
 */
#include "plugin/parent.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

static void ask_getppid(cr_parent_watch *w)
{
    if (w->watch.fd >= 0)
        close(w->watch.fd);
    w->watch.fd = -1;
    w->watch.period_ms = CR_PARENT_POLL_MS;
}

/* cr_server_watch.check: the pidfd turned readable, or a period passed. */
static bool check(cr_server_watch *sw)
{
    cr_parent_watch *w = (cr_parent_watch *)(void *)
        ((char *)sw - offsetof(cr_parent_watch, watch));
    if (w->watch.fd >= 0) {
        struct pollfd p = {w->watch.fd, POLLIN, 0};
        int rc = poll(&p, 1, 0);
        if (rc == 0 || (rc < 0 && errno == EINTR))
            return false;
        if (rc < 0 || !(p.revents & POLLIN)) {
            /* cannot wait on it after all: ask getppid() */
            ask_getppid(w);
            return false;
        }
    } else if (getppid() == w->parent) {
        return false;
    }
    cr_log_info("plugin", "parent process %ld has exited", (long)w->parent);
    w->gone(w->arg);
    return true;
}

void cr_parent_watch_init(cr_parent_watch *w, pid_t parent,
                          cr_parent_gone_fn gone, void *arg)
{
    w->parent = parent;
    w->gone = gone;
    w->arg = arg;
    w->watch.check = check;
    w->watch.period_ms = 0;
    w->watch.fd = pidfd_of(parent);
    if (w->watch.fd >= 0 && getppid() != parent) {
        /* Already reparented: the pidfd may name an unrelated process that
         * took the pid over. getppid() differs: the first check reports. */
        ask_getppid(w);
    } else if (w->watch.fd < 0) {
        cr_log_debug("plugin", "no pidfd for the parent process (errno %d): "
                     "asking getppid() every %d ms", errno, CR_PARENT_POLL_MS);
        ask_getppid(w);
    }
}

void cr_parent_watch_close(cr_parent_watch *w)
{
    if (w->watch.fd >= 0)
        close(w->watch.fd);
    w->watch.fd = -1;
}
