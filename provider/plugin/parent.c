/*
 * plugin/parent.c — the parent watch (see parent.h).
 *
 * A pidfd of the parent (pidfd_open, Linux 5.3) turns readable when the
 * parent *process* exits, and a thread can simply wait on it. The classic
 * prctl(PR_SET_PDEATHSIG) is not used: it fires when the *thread* that
 * forked us exits, and Go's os/exec forks from whichever OS thread the
 * goroutine happens to run on, so a Go runtime thread ending would look
 * like Terraform dying. Where pidfd_open is refused (an older kernel, a
 * seccomp filter), the thread polls getppid() instead: once the parent is
 * gone we have been reparented (to init or a subreaper) and the value
 * changes.
 *
 * A pid can be reused once its process is gone, so the pidfd is only
 * trusted after getppid() confirms, *after* it was opened, that our parent
 * still is that pid: a parent that died first would have reparented us.
 */
#include "plugin/parent.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/* How often getppid() is asked when there is no pidfd. */
#define PARENT_POLL_MS 250

typedef struct parent_watch {
    pid_t parent;
    int pidfd;                  /* -1: poll getppid() */
    cr_parent_gone_fn gone;
    void *arg;
} parent_watch;

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

static void *watch_main(void *arg)
{
    parent_watch w = *(parent_watch *)arg;
    free(arg);

    if (w.pidfd >= 0) {
        struct pollfd p = {w.pidfd, POLLIN, 0};
        int rc;
        while ((rc = poll(&p, 1, -1)) < 0 && errno == EINTR)
            ;
        close(w.pidfd);
        if (rc < 0)     /* cannot wait on it after all: ask getppid() */
            w.pidfd = -1;
    }
    if (w.pidfd < 0) {
        struct timespec ts = {0, PARENT_POLL_MS * 1000000L};
        while (getppid() == w.parent)
            nanosleep(&ts, NULL);
    }
    cr_log_info("plugin", "parent process %ld has exited", (long)w.parent);
    w.gone(w.arg);
    return NULL;
}

int cr_parent_watch(pid_t parent, cr_parent_gone_fn gone, void *arg)
{
    parent_watch *w = malloc(sizeof *w);
    if (w == NULL)
        return -1;
    w->parent = parent;
    w->gone = gone;
    w->arg = arg;
    w->pidfd = pidfd_of(parent);
    if (w->pidfd >= 0 && getppid() != parent) {
        /* Already reparented: the pidfd may name an unrelated process that
         * took the pid over. The thread reports at once (getppid differs). */
        close(w->pidfd);
        w->pidfd = -1;
    } else if (w->pidfd < 0) {
        cr_log_debug("plugin", "no pidfd for the parent process (errno %d): "
                     "polling getppid() every %d ms", errno, PARENT_POLL_MS);
    }

    pthread_attr_t attr;
    pthread_t t;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &attr, watch_main, w);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        if (w->pidfd >= 0)
            close(w->pidfd);
        free(w);
        errno = rc;
        return -1;
    }
    return 0;
}
