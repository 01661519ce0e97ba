// serve.c: the zygote's loop: the host's requests in, boxes out, each box's end reported.
//
// Processes, per submission (the zygote is uid 0 with a few capabilities, see ZygoteProgram):
//
//   harness box: the zygote forks a child into a new pid namespace (its pid 1). The child
//     enters the box (box.c) and returns to Python to run the warm harness, whose tests are its
//     children.
//
//   program box (`/run_code`): the zygote vforks a child X into a new pid namespace (its
//     pid 1). X shares the zygote's memory while the zygote waits, so it costs no copy of the
//     interpreter. X enters the box and drops every privilege, forks the program P (pid 2: the
//     one copy of the zygote per run; it inherits the box and returns to Python), then execs
//     assay-box-init, which adopts P. So, as in a cold box, the program's parent is the box's
//     init from its first instruction (getppid() is 1), the program has ordinary signal
//     semantics as pid 2, and the init, not the program, reports how the program ended on a
//     status pipe no program process holds.
//
// The zygote's own work per box is a fork or a vfork, one pidfd and two small messages; it
// never runs Python between requests, so it writes to few of the pages its children share.

#include "assay_zygote.h"
#include "box.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// The most descriptors one request may carry (the host's CSANDBOX_MAX_PASSED).
#define MAX_FDS 64
/// A request is its fixed part and at most BPF_MAXINSNS instructions.
#define MAX_REQUEST (sizeof(assay_box_request) + 4096 * sizeof(struct sock_filter))
/// assay-box-init's status record for "could not start the program" (Sources/BoxInit/main.c).
#define RECORD_FORK_FAILED 3

typedef struct {
    int pidfd;
    pid_t pid;
    int reply;  // the submission's reply socket, where the box's end is reported
} running_box;

typedef struct {
    const char *init_path;
    const assay_fork_hooks *hooks;
    int own_pid_ns;
    int bounding[64];
    int bounding_count;
    running_box *boxes;
    int box_count, box_capacity;
} zygote;

/// Never blocks the zygote: a reply socket holds one or two small messages, and a host that
/// has gone away only makes the send fail.
static void answer(int reply, const char *text, size_t length, int fd) {
    struct iovec iov = {(void *)text, length};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof(control.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    (void)sendmsg(reply, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/// `{"KEY": VALUE}`
static void answer_number(int reply, const char *key, long long value, int fd) {
    char text[64], digits[24], *at = text;
    digits[sizeof(digits) - 1] = 0;
    const char *parts[] = {"{\"", key, "\": ", value < 0 ? "-" : "",
                           box_decimal(digits + sizeof(digits) - 1, (unsigned long long)(value < 0 ? -value : value)), "}"};
    for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++)
        for (const char *p = parts[i]; *p; p++) *at++ = *p;
    answer(reply, text, (size_t)(at - text), fd);
}

/// `{"error": "WHAT: errno N"}`: the host reports it as a sandbox error.
static void answer_error(int reply, const char *what, int err) {
    char text[256], digits[24];
    digits[sizeof(digits) - 1] = 0;
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"error\": \"%s: errno %s\"}", what,
                                box_decimal(digits + sizeof(digits) - 1, (unsigned)err));
    answer(reply, text, n < sizeof(text) ? n : sizeof(text) - 1, -1);
}

static void record(int fd, int32_t kind, int32_t value) {
    int32_t rec[2] = {kind, value};
    (void)!syscall(SYS_write, fd, rec, sizeof(rec));
}

/// Runs in X, pid 1 of the program's box, sharing the zygote's memory (see the top of this
/// file); returns only in the program P, which it forks. X itself ends in assay-box-init.
static __attribute__((noinline)) int enter_program_box(const box_plan *b) {
    const int *fds = b->fds;
    const int status = fds[FD_PROCS + b->request->procs], stdin_fd = fds[FD_PROCS + b->request->procs + 1];
    box_failure f = {0};
    // A failure to enter goes to the program's stdout, which the host shows in its error.
    if (box_enter_namespaces(b, &f) < 0) box_fail(fds[FD_RECORDS], &f, 70);
    // The start pipe: P reads it to EOF before running anything submitted, and EOF comes only
    // when the init closes its end, after making itself non-dumpable. Until then the init is a
    // freshly exec'd process of P's uid, whose /proc/1/fd (the status pipe) P could open.
    int start[2];
    if (syscall(SYS_pipe2, start, O_CLOEXEC) < 0) {
        f = (box_failure){"start pipe", errno};
        box_fail(fds[FD_RECORDS], &f, 70);
    }
    // P's layout (assay_zygote.h); the init keeps 3 and the start pipe's write end.
    int layout[7] = {fds[FD_JOB], fds[FD_RECORDS], fds[FD_STDERR], status, stdin_fd, start[0], start[1]};
    if (box_keep_fds(layout, 7, &f) < 0) box_fail(fds[FD_RECORDS], &f, 70);
    // Dropped here, before P exists: P inherits the box as it is, and no process of P's uid
    // ever sees this one privileged.
    if (box_drop_privileges(b, &f) < 0) box_fail(1, &f, 70);
    long program = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (program == 0) {
        syscall(SYS_close, 6);
        return ASSAY_ZYGOTE_PROGRAM;
    }
    if (program < 0) {
        record(3, RECORD_FORK_FAILED, errno);
        syscall(SYS_exit_group, 126);
    }
    // The init's descriptors: the status pipe at 3 and the start pipe's write end at 4.
    for (int fd = 0; fd < 6; fd++)
        if (fd != 3) syscall(SYS_close, fd);
    syscall(SYS_dup3, 6, 4, 0);
    syscall(SYS_close, 6);
    // As spawn.c reset_signals: the zygote's handlers and ignored signals (Python ignores
    // SIGPIPE) are not the init's; then the mask the zygote set around the vfork is cleared.
    struct {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
    } dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 1; sig < 65; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
    uint64_t none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
    char digits[24];
    digits[sizeof(digits) - 1] = 0;
    char *argv[] = {"assay-box-init", "--adopt", box_decimal(digits + sizeof(digits) - 1, (unsigned long long)program), NULL};
    char *envp[] = {NULL};
    syscall(SYS_execve, b->init_path, argv, envp);
    // No init: the host reports the record as the sandbox's failure; this exit ends the box.
    record(3, RECORD_FORK_FAILED, errno);
    syscall(SYS_exit_group, 127);
    __builtin_unreachable();
}

/// Runs in the harness box, pid 1 of its pid namespace (a fork: its own memory).
static void enter_harness_box(const box_plan *b) {
    box_failure f = {0};
    if (box_enter_namespaces(b, &f) < 0) box_fail(b->fds[FD_RECORDS], &f, 70);
    // 0 job, 1 records, 2 stderr, then the per-test cgroup handles at 3, 4, ... (the job
    // names them by those numbers).
    int first = FD_PROCS + (int)b->request->procs;
    int layout[MAX_FDS];
    int count = 0;
    layout[count++] = b->fds[FD_JOB];
    layout[count++] = b->fds[FD_RECORDS];
    layout[count++] = b->fds[FD_STDERR];
    for (int i = first; i < b->nfds; i++) layout[count++] = b->fds[i];
    if (box_keep_fds(layout, count, &f) < 0) box_fail(b->fds[FD_RECORDS], &f, 70);
    if (box_drop_privileges(b, &f) < 0) box_fail(1, &f, 70);
}

/// Why a request cannot be served, or NULL.
static const char *invalid(const uint8_t *message, size_t length, int nfds) {
    if (length < sizeof(assay_box_request)) return "request too short";
    const assay_box_request *r = (const assay_box_request *)message;
    if (r->magic != ASSAY_BOX_REQUEST_MAGIC) return "request from another build of assay (rebuild both with swift build)";
    if (r->kind != ASSAY_ZYGOTE_HARNESS && r->kind != ASSAY_ZYGOTE_PROGRAM) return "unknown kind of box";
    if (r->procs < 0 || r->procs > MAX_FDS || nfds < FD_PROCS + r->procs + (r->kind == ASSAY_ZYGOTE_PROGRAM ? 2 : 0))
        return "request descriptors missing";
    if (r->rlimit_count < 0 || r->rlimit_count > ASSAY_BOX_REQUEST_MAX_RLIMITS) return "too many rlimits";
    if (r->filter_length < 1 || r->filter_length > 4096 ||
        length != sizeof(assay_box_request) + (size_t)r->filter_length * sizeof(struct sock_filter))
        return "seccomp filter missing or cut short";
    return NULL;
}

static int track(zygote *z, int pidfd, pid_t pid, int reply) {
    if (z->box_count == z->box_capacity) {
        int capacity = z->box_capacity ? 2 * z->box_capacity : 64;
        running_box *grown = realloc(z->boxes, sizeof(running_box) * (size_t)capacity);
        if (!grown) return -1;
        z->boxes = grown;
        z->box_capacity = capacity;
    }
    z->boxes[z->box_count++] = (running_box){pidfd, pid, reply};
    return 0;
}

/// Starts the box `message` asks for. Returns 0 in the zygote; in the box's process, the
/// value assay_zygote_serve returns there.
static int start_box(zygote *z, const uint8_t *message, size_t length, const int *fds, int nfds) {
    const char *why = invalid(message, length, nfds);
    int reply = nfds > FD_REPLY ? fds[FD_REPLY] : -1;
    if (why) {
        if (reply >= 0) answer_error(reply, why, EINVAL);
        for (int i = 0; i < nfds; i++) close(fds[i]);
        return 0;
    }
    const assay_box_request *r = (const assay_box_request *)message;
    box_plan plan = {r, (const struct sock_filter *)(message + sizeof(*r)), fds, nfds,
                     z->bounding, z->bounding_count, z->init_path};
    // Every signal blocked across the fork: no handler of the zygote's may run in a child that
    // shares its memory, or between the unshare and the zygote's return to its pid namespace.
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    z->hooks->before();
    pid_t pid = -1;
    int err = 0;
    // The next child is pid 1 of a new pid namespace; the zygote itself stays in its own.
    if (unshare(CLONE_NEWPID) < 0) {
        err = errno;
    } else if (r->kind == ASSAY_ZYGOTE_HARNESS) {
        pid = fork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            z->hooks->child();
            enter_harness_box(&plan);
            return ASSAY_ZYGOTE_HARNESS;
        }
    } else {
        pid = vfork();
        if (pid == 0) {
            int kind = enter_program_box(&plan);
            // Only the program gets here.
            sigprocmask(SIG_SETMASK, &old, NULL);
            z->hooks->child();
            return kind;
        }
    }
    if (pid < 0 && !err) err = errno;
    // Back in the zygote's own pid namespace for its children, so the next unshare makes a
    // sibling of this box's namespace, not one nested in it. A zygote that cannot go back is
    // broken: it ends (with the box), and the host replaces it.
    if (setns(z->own_pid_ns, CLONE_NEWPID) < 0) {
        if (pid > 0) kill(pid, SIGKILL);
        _exit(70);
    }
    z->hooks->parent();
    sigprocmask(SIG_SETMASK, &old, NULL);
    int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    if (pid > 0 && pidfd < 0) {
        err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    for (int i = 0; i < nfds; i++)
        if (i != FD_REPLY) close(fds[i]);
    if (pidfd < 0 || track(z, pidfd, pid, reply) < 0) {
        answer_error(reply, pidfd < 0 ? "starting the box" : "tracking the box", pidfd < 0 ? err : ENOMEM);
        if (pidfd >= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(pidfd);
        }
        close(reply);
        return 0;
    }
    answer_number(reply, "box", pid, pidfd);
    return 0;
}

/// The box at `index` has ended: reap it and tell its submission how.
static void reap(zygote *z, int index) {
    running_box box = z->boxes[index];
    z->boxes[index] = z->boxes[--z->box_count];
    int status = 0;
    while (waitpid(box.pid, &status, 0) < 0 && errno == EINTR) {}
    answer_number(box.reply, "status", status, -1);
    close(box.reply);
    close(box.pidfd);
}

int assay_zygote_serve(int control, const char *init_path, const assay_fork_hooks *hooks) {
    zygote z = {.init_path = init_path, .hooks = hooks};
    z.own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (z.own_pid_ns < 0) return -1;
    // The capabilities left in the zygote's bounding set (the host cut it to a few): the only
    // ones each box has to drop from its own.
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) z.bounding[z.bounding_count++] = cap;
    uint8_t *message = malloc(MAX_REQUEST);
    struct pollfd *polls = NULL;
    int poll_capacity = 0;
    if (!message) return -1;
    for (;;) {
        if (poll_capacity < z.box_count + 1) {
            poll_capacity = 2 * (z.box_count + 1);
            struct pollfd *grown = realloc(polls, sizeof(*polls) * (size_t)poll_capacity);
            if (!grown) return -1;
            polls = grown;
        }
        polls[0] = (struct pollfd){control, POLLIN, 0};
        for (int i = 0; i < z.box_count; i++) polls[i + 1] = (struct pollfd){z.boxes[i].pidfd, POLLIN, 0};
        int ready = poll(polls, (nfds_t)z.box_count + 1, -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return -1;
        // Ended boxes first, from the end of the list, so removing one moves none still to check.
        for (int i = z.box_count - 1; i >= 0; i--)
            if (polls[i + 1].revents) reap(&z, i);
        if (!polls[0].revents) continue;
        union {
            char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
            struct cmsghdr align;
        } cmsg;
        struct iovec iov = {message, MAX_REQUEST};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cmsg.buf, .msg_controllen = sizeof(cmsg.buf)};
        ssize_t n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        int fds[MAX_FDS], nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < count && nfds < MAX_FDS; i++) memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
        if (n == 0 && nfds == 0) return ASSAY_ZYGOTE_CLOSED;  // the host closed its end
        if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
            if (nfds > FD_REPLY) answer_error(fds[FD_REPLY], "request too large", E2BIG);
            for (int i = 0; i < nfds; i++) close(fds[i]);
            continue;
        }
        int kind = start_box(&z, message, (size_t)n, fds, nfds);
        if (kind != 0) return kind;
    }
}
