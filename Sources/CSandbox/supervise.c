// supervise.c: watch one running box until it ends.
//
// One poll loop on the pidfd and the two output pipes. Every wake (at most every poll interval,
// <= 100 ms) checks the wall clock and the cgroup's CPU counter; on a breach, or when an output
// passes its cap, the box's init (pid 1 of its pid namespace) gets SIGKILL, which makes the
// kernel kill every other process of the namespace, stopped ones included. The supervisor keeps
// reading the pipes so a flood can never block it, and stops storing bytes at the cap, so its
// own memory stays bounded whatever the program prints.

#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t csandbox_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// CPU of the box's cgroup in ns since the run began, or -1 when it cannot be read.
static int64_t read_cpu_ns(int fd, int format, int64_t base) {
    if (fd < 0) return -1;
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    if (format == 0) return strtoll(buf, NULL, 10) - base;  // cpuacct.usage: ns
    // cgroup v2 cpu.stat: "usage_usec N" on the first line.
    const char *p = strstr(buf, "usage_usec ");
    if (!p) return -1;
    return strtoll(p + 11, NULL, 10) * 1000 - base;
}

typedef struct {
    int fd;
    uint8_t *buf;     // grows with the output, never past cap
    size_t size;      // allocated bytes
    size_t cap;
    size_t len;
    int over;  // more than cap bytes arrived
} stream;

// Makes room for more output, doubling up to the cap: memory follows what was printed, not
// what might have been. Returns 0 when no more can be allocated.
static int grow(stream *s) {
    if (s->size >= s->cap) return 0;
    size_t want = s->size ? s->size * 2 : 65536;
    if (want > s->cap) want = s->cap;
    uint8_t *bigger = realloc(s->buf, want);
    if (!bigger) return 0;
    s->buf = bigger;
    s->size = want;
    return 1;
}

// Drains what is readable now. Returns 1 at EOF, 0 otherwise.
static int drain(stream *s) {
    uint8_t scratch[65536];
    for (;;) {
        uint8_t *dst = scratch;
        size_t room = sizeof(scratch);
        if (s->len == s->size && s->len < s->cap) grow(s);
        if (s->len < s->size) {
            dst = s->buf + s->len;
            room = s->size - s->len;
        }
        ssize_t n = read(s->fd, dst, room);
        if (n > 0) {
            if (dst == scratch) {
                // Past the cap (or out of memory for the buffer): counted as too much output.
                s->over = 1;
            } else {
                s->len += (size_t)n;
            }
            continue;
        }
        if (n == 0) return 1;
        if (errno == EINTR) continue;
        return 0;  // EAGAIN: nothing more for now
    }
}

static void kill_box(const csandbox_watch *w) {
    // pidfd_send_signal cannot hit a recycled pid. SIGKILL on a pid namespace's init kills the
    // whole namespace; stopped processes die too (SIGKILL needs no SIGCONT).
    if (syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0) < 0 && w->pid > 0) kill(w->pid, SIGKILL);
}

int csandbox_supervise(const csandbox_watch *w, csandbox_outcome *out) {
    memset(out, 0, sizeof(*out));
    stream streams[2] = {
        {w->stdout_fd, NULL, 0, w->stdout_cap, 0, 0},
        {w->stderr_fd, NULL, 0, w->stderr_cap, 0, 0},
    };
    for (int i = 0; i < 2; i++) fcntl(streams[i].fd, F_SETFL, fcntl(streams[i].fd, F_GETFL) | O_NONBLOCK);

    int64_t start = w->start_ns > 0 ? w->start_ns : csandbox_now_ns();
    int64_t interval = w->poll_interval_ns > 0 ? w->poll_interval_ns : 100000000LL;
    int exited = 0, open_streams = 2;
    int eof[2] = {0, 0};
    int64_t cpu_at_kill = -1;
    // Every way out of this function goes through the reaping and closing below: an error kills
    // the box first, so the wait cannot hang, and the caller never has to clean up after a
    // failure (it has handed over the pidfd and the read ends).
    int failure = 0;

    while (!exited || open_streams > 0) {
        struct pollfd pfds[3];
        int nfds = 0, idx[2] = {-1, -1}, pid_idx = -1;
        for (int i = 0; i < 2; i++) {
            if (eof[i]) continue;
            idx[i] = nfds;
            pfds[nfds++] = (struct pollfd){streams[i].fd, POLLIN, 0};
        }
        if (!exited) {
            pid_idx = nfds;
            pfds[nfds++] = (struct pollfd){w->pidfd, POLLIN, 0};
        }
        int64_t elapsed = csandbox_now_ns() - start;
        int64_t wait_ns = interval;
        if (!exited && out->killed == CSANDBOX_KILLED_NONE) {
            int64_t left = w->wall_limit_ns - elapsed;
            if (left < wait_ns) wait_ns = left > 0 ? left : 0;
        }
        int timeout_ms = (int)((wait_ns + 999999) / 1000000);
        int rc = poll(pfds, (nfds_t)nfds, timeout_ms);
        if (rc < 0 && errno != EINTR) {
            failure = errno;
            kill_box(w);
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (idx[i] < 0 || !(pfds[idx[i]].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (drain(&streams[i])) {
                eof[i] = 1;
                open_streams--;
            }
        }
        if (pid_idx >= 0 && (pfds[pid_idx].revents & POLLIN)) exited = 1;

        if (!exited && out->killed == CSANDBOX_KILLED_NONE) {
            csandbox_kill_reason reason = CSANDBOX_KILLED_NONE;
            int64_t cpu = read_cpu_ns(w->cpu_usage_fd, w->cpu_usage_format, w->cpu_base_ns);
            if (streams[0].over) reason = CSANDBOX_KILLED_STDOUT;
            else if (streams[1].over) reason = CSANDBOX_KILLED_STDERR;
            else if (cpu >= 0 && w->cpu_limit_ns > 0 && cpu > w->cpu_limit_ns) reason = CSANDBOX_KILLED_CPU;
            else if (csandbox_now_ns() - start >= w->wall_limit_ns) reason = CSANDBOX_KILLED_WALL;
            if (reason != CSANDBOX_KILLED_NONE) {
                out->killed = reason;
                cpu_at_kill = cpu;
                kill_box(w);
            }
        }
        // Once the box is dead every writer is gone, so the pipes reach EOF promptly; a stream
        // still open long after that means a descriptor leaked, and waiting on it would hang.
        if (exited && open_streams > 0 && csandbox_now_ns() - start > w->wall_limit_ns + 2000000000LL) break;
    }
    out->wall_ns = csandbox_now_ns() - start;

    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    int status = 0;
    if (w->pid > 0) {
        pid_t r;
        do {
            r = wait4(w->pid, &status, __WALL, &ru);
        } while (r < 0 && errno == EINTR);
        if (r < 0 && !failure) failure = errno;
    }
    // Otherwise the box is a zygote's grandchild: its parent there reaps it and reports the
    // status; the pidfd's readability above already said it has ended.
    for (int i = 0; i < 2; i++) close(streams[i].fd);
    close(w->pidfd);
    if (failure) {
        free(streams[0].buf);
        free(streams[1].buf);
        return failure;
    }
    out->wait_status = status;
    out->rusage_cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
                         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
    out->maxrss_bytes = (int64_t)ru.ru_maxrss * 1024;
    int64_t cpu = read_cpu_ns(w->cpu_usage_fd, w->cpu_usage_format, w->cpu_base_ns);
    if (cpu < cpu_at_kill) cpu = cpu_at_kill;
    out->cpu_ns = cpu >= 0 ? cpu : out->rusage_cpu_ns;
    out->stdout_data = streams[0].buf;
    out->stderr_data = streams[1].buf;
    out->stdout_len = streams[0].len;
    out->stderr_len = streams[1].len;
    return 0;
}
