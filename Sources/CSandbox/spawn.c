// spawn.c: start one sandboxed process, vfork-style.
//
// The parent calls clone(CLONE_VM|CLONE_VFORK|CLONE_NEW*) on a private stack, as glibc's
// posix_spawn does: the cost does not grow with the parent's memory (fork() of a 4 GiB trainer
// costs 166 ms, this about 1 ms), and the parent thread stays suspended until the child has
// exec'd or died. The child shares the parent's memory, so it must not allocate, lock or touch
// anything but its own stack and the prepared arguments: raw syscalls only from here on, made
// through glibc's syscall(), never its wrappers (mount, umount2, ...), which may do more than the
// syscall. syscall() does set errno on failure, in the parent thread's TLS the child shares; that
// is harmless, because the parent is suspended until the child execs or dies and reads errno
// after clone only when clone itself failed (no child ran). CHECK reads errno right after the
// failed call, before anything else can change it.
//
// Child order (isolate's box_inside, go-sandbox's forkexec):
//   signals -> cgroups -> cgroup namespace -> session -> mounts -> pivot_root -> netns -> hostname -> chdir -> fds
//   -> rlimits -> capabilities -> credentials -> parent-death signal -> no_new_privs -> seccomp (last) -> execve
// (A Python zygote keeps uid 0 and a few capabilities instead, without no_new_privs or seccomp:
// see `zygote_caps`.)
// A failing step writes {stage, errno} to a close-on-exec pipe and exits 127; the parent turns it
// into a SandboxError, never into a verdict.

#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const struct sock_fprog *csandbox_filter_program(const csandbox_filter *filter);

_Static_assert(CSANDBOX_RLIMIT_NPROC == RLIMIT_NPROC, "RLIMIT_NPROC differs on this platform");
_Static_assert(CSANDBOX_RLIMIT_MSGQUEUE == RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE differs on this platform");

#define CHILD_STACK_SIZE (256 * 1024)

typedef struct {
    const csandbox_spawn_args *args;
    int err_fd;   // write end of the error pipe, close-on-exec
} child_context;

typedef struct {
    int32_t stage;
    int32_t err;
} child_error;

/*** The process running inside the box (raw syscalls only) ***/

static void child_fail(int err_fd, csandbox_stage stage, int err) __attribute__((noreturn));
static void child_fail(int err_fd, csandbox_stage stage, int err) {
    child_error e = {(int32_t)stage, (int32_t)err};
    // Nothing useful can be done if this write fails; the parent then sees a bare exit 127
    // without a record, and reports that as an unexplained child failure.
    (void)!syscall(SYS_write, err_fd, &e, sizeof(e));
    syscall(SYS_exit_group, 127);
    __builtin_unreachable();
}

#define CHECK(stage, expr)                              \
    do {                                                \
        if ((long)(expr) < 0) child_fail(err_fd, stage, errno); \
    } while (0)

// The kernel's struct for rt_sigaction (glibc's differs in layout).
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void reset_signals(int err_fd) {
    // Handlers installed by the parent (Swift runtime, NIO) must not run in the child, and
    // ignored signals stay ignored across execve: SIGPIPE ignored by the daemon would otherwise
    // be ignored by the program too. Every catchable signal goes back to its default.
    struct kernel_sigaction dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        // 32 and 33 are glibc-internal; the kernel accepts them and resetting is harmless.
        CHECK(CSANDBOX_STAGE_SIGNALS, syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t)));
    }
}

static void join_cgroups(const csandbox_spawn_args *a, int err_fd) {
    // "0" means "the writing process". Joining before exec means every byte and cycle the
    // program uses, from its first instruction, is charged to the run's cgroups.
    for (size_t i = 0; i < a->cgroup_procs_count; i++)
        CHECK(CSANDBOX_STAGE_CGROUP, syscall(SYS_write, a->cgroup_procs_fds[i], "0", 1));
    // A cgroup namespace rooted at the cgroups just joined: /proc/self/cgroup then reads "/"
    // instead of the host's path (which names assay's own cgroup and pid). It must come after
    // the join, or the namespace's root would be assay's cgroup.
    CHECK(CSANDBOX_STAGE_CGROUP, syscall(SYS_unshare, CLONE_NEWCGROUP));
}

static void apply_mounts(const csandbox_spawn_args *a, int err_fd) {
    // On the child's stack: the parent prepares nothing for it, and it is the same for every bind.
    struct mount_attr read_only_tree = {
        .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
    };
    // Stop mount events from propagating to or from the host before touching anything.
    CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
    for (size_t i = 0; i < a->mount_count; i++) {
        const csandbox_mount *m = &a->mounts[i];
        switch (m->kind) {
        case CSANDBOX_MOUNT_BIND_RO:
            // A bind mount ignores MS_RDONLY on creation: it takes a second step. A remount
            // changes only the top mount, and the bind is recursive: whatever is mounted below
            // the source would stay writable (and suid, dev). mount_setattr with AT_RECURSIVE
            // (Linux 5.12) sets the flags on the whole tree at once.
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, m->source, m->target, NULL, MS_BIND | MS_REC, NULL));
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount_setattr, AT_FDCWD, m->target, AT_RECURSIVE,
                                                &read_only_tree, sizeof(read_only_tree)));
            break;
        case CSANDBOX_MOUNT_BIND_DEV:
            // The template /dev holds only the five harmless nodes; devices stay usable (no
            // MS_NODEV) but nothing there can be written, executed or setuid.
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, m->source, m->target, NULL, MS_BIND, NULL));
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, NULL, m->target, NULL,
                                                MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL));
            break;
        case CSANDBOX_MOUNT_SELF_RW_NOEXEC:
        case CSANDBOX_MOUNT_BIND_RW_NOEXEC: {
            // Writable places are noexec, so a program cannot run bytes it wrote.
            const char *src = m->kind == CSANDBOX_MOUNT_SELF_RW_NOEXEC ? m->target : m->source;
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, src, m->target, NULL, MS_BIND, NULL));
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, NULL, m->target, NULL,
                                                MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
            break;
        }
        case CSANDBOX_MOUNT_PROC:
            // A procfs mounted inside the new pid namespace lists only the box's processes.
            CHECK(CSANDBOX_STAGE_MOUNT, syscall(SYS_mount, "proc", m->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
            break;
        default:
            child_fail(err_fd, CSANDBOX_STAGE_MOUNT, EINVAL);
        }
    }
}

static void enter_root(const csandbox_spawn_args *a, int err_fd) {
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it then leaves
    // only the box's mounts. Unlike chroot, no reference to the host tree survives.
    CHECK(CSANDBOX_STAGE_PIVOT_ROOT, syscall(SYS_chdir, a->root));
    CHECK(CSANDBOX_STAGE_PIVOT_ROOT, syscall(SYS_pivot_root, ".", "."));
    CHECK(CSANDBOX_STAGE_PIVOT_ROOT, syscall(SYS_umount2, ".", MNT_DETACH));
    CHECK(CSANDBOX_STAGE_PIVOT_ROOT, syscall(SYS_chdir, "/"));
    // The box root itself (empty directories, /dev nodes, the program files) is read-only;
    // only the bind mounts made writable above can be written.
    CHECK(CSANDBOX_STAGE_PIVOT_ROOT, syscall(SYS_mount, NULL, "/", NULL,
                                             MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
}

static void set_fds(const csandbox_spawn_args *a, int err_fd) {
    // Lift every source above the targets first: a source may itself be one of the targets and
    // would be clobbered by an earlier dup3. dup3 into the targets then clears close-on-exec on
    // the copies; everything else, the error pipe included, closes at execve, so no host
    // descriptor leaks but the ones named here.
    if (a->inherit_count > CSANDBOX_MAX_INHERITED) child_fail(err_fd, CSANDBOX_STAGE_FDS, E2BIG);
    int sources[4 + CSANDBOX_MAX_INHERITED] = {a->stdin_fd, a->stdout_fd, a->stderr_fd};
    int count = 3;
    if (a->status_fd >= 0) sources[count++] = a->status_fd;
    for (size_t i = 0; i < a->inherit_count; i++) sources[count++] = a->inherit_fds[i];
    for (int i = 0; i < count; i++) {
        long lifted = syscall(SYS_fcntl, sources[i], F_DUPFD_CLOEXEC, 4 + CSANDBOX_MAX_INHERITED);
        if (lifted < 0) child_fail(err_fd, CSANDBOX_STAGE_FDS, errno);
        sources[i] = (int)lifted;
    }
    for (int target = 0; target < count; target++)
        CHECK(CSANDBOX_STAGE_FDS, syscall(SYS_dup3, sources[target], target, 0));
    CHECK(CSANDBOX_STAGE_FDS, syscall(SYS_close_range, (unsigned)count, ~0U, CLOSE_RANGE_CLOEXEC));
}

static void drop_privileges(const csandbox_spawn_args *a, int err_fd) {
    // The bounding set first: it can only shrink, and only while we still hold CAP_SETPCAP.
    for (int cap = 0; cap <= a->cap_last; cap++)
        CHECK(CSANDBOX_STAGE_CAPABILITIES, syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0));
    CHECK(CSANDBOX_STAGE_CAPABILITIES, syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    // Supplementary groups, then the group, then the user: after setresuid to a non-root uid
    // the process can no longer change its groups (swift-subprocess issue 342).
    CHECK(CSANDBOX_STAGE_CREDENTIALS, syscall(SYS_setgroups, 0, NULL));
    CHECK(CSANDBOX_STAGE_CREDENTIALS, syscall(SYS_setresgid, a->gid, a->gid, a->gid));
    CHECK(CSANDBOX_STAGE_CREDENTIALS, syscall(SYS_setresuid, a->uid, a->uid, a->uid));
    // Leaving uid 0 already cleared the permitted and effective sets; clear them explicitly so
    // the state does not depend on securebits.
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    CHECK(CSANDBOX_STAGE_CAPABILITIES, syscall(SYS_capset, &hdr, data));
}

static void keep_zygote_capabilities(const csandbox_spawn_args *a, int err_fd) {
    // The zygote stays uid 0, so execve gives it the whole bounding set as its permitted and
    // effective sets: shrinking the bounding set to the mask is what limits it. Nothing else of
    // root's power (reading others' files, raw I/O, modules, ptrace) survives the execve.
    for (int cap = 0; cap <= a->cap_last; cap++) {
        if (cap < 64 && (a->zygote_caps >> cap) & 1) continue;
        CHECK(CSANDBOX_STAGE_CAPABILITIES, syscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0));
    }
    CHECK(CSANDBOX_STAGE_CAPABILITIES, syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    CHECK(CSANDBOX_STAGE_CREDENTIALS, syscall(SYS_setgroups, 0, NULL));
}

static int child_main(void *opaque) {
    child_context *ctx = opaque;
    const csandbox_spawn_args *a = ctx->args;
    int err_fd = ctx->err_fd;

    reset_signals(err_fd);
    join_cgroups(a, err_fd);
    // A new session: no controlling terminal, and the box is its own process group.
    CHECK(CSANDBOX_STAGE_SESSION, syscall(SYS_setsid));
    if (a->root) {
        apply_mounts(a, err_fd);
        enter_root(a, err_fd);
    }
    if (a->netns_fd >= 0)
        CHECK(CSANDBOX_STAGE_NETNS, syscall(SYS_setns, a->netns_fd, CLONE_NEWNET));
    if (a->hostname)
        CHECK(CSANDBOX_STAGE_HOSTNAME, syscall(SYS_sethostname, a->hostname, strlen(a->hostname)));
    CHECK(CSANDBOX_STAGE_CHDIR, syscall(SYS_chdir, a->workdir));
    set_fds(a, err_fd);
    for (size_t i = 0; i < a->rlimit_count; i++) {
        struct rlimit r = {a->rlimits[i].soft, a->rlimits[i].hard};
        CHECK(CSANDBOX_STAGE_RLIMIT, syscall(SYS_setrlimit, a->rlimits[i].resource, &r));
    }
    if (a->zygote_caps) {
        keep_zygote_capabilities(a, err_fd);
    } else {
        drop_privileges(a, err_fd);
    }
    // The box dies with the thread that started it, which supervises it to the end: when assay
    // itself is killed (SIGKILL of `assay serve` or `assay grade`) the kernel sends this SIGKILL
    // to the box's pid 1, and the namespace's other processes die with it. Set after the uid
    // change, which clears it (prctl(2)); kept across the execve, since the program is neither
    // setuid nor file-capable. A signal sent from an ancestor pid namespace reaches a namespace
    // init even without a handler. If assay dies between clone and here, the next Sandbox to
    // claim the uid block kills what is left (UidBlocks.claim), so that window leaks nothing.
    CHECK(CSANDBOX_STAGE_CREDENTIALS, syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0));
    // no_new_privs: no setuid binary or file capability can raise privileges again. It is also
    // what allows an unprivileged process to install a seccomp filter. A zygote's children set
    // it themselves, with the filter, after dropping their privileges.
    if (!a->zygote_caps)
        CHECK(CSANDBOX_STAGE_NO_NEW_PRIVS, syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    if (a->filter && !a->zygote_caps)
        CHECK(CSANDBOX_STAGE_SECCOMP,
              syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, csandbox_filter_program(a->filter)));
    // The parent blocked every signal around clone; the mask survives execve, so clear it last.
    uint64_t empty = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL, sizeof(empty));
    syscall(SYS_execve, a->path, a->argv, a->envp);
    child_fail(err_fd, CSANDBOX_STAGE_EXEC, errno);
}

/*** The parent ***/

int csandbox_spawn(const csandbox_spawn_args *args, csandbox_spawned *out) {
    memset(out, 0, sizeof(*out));
    out->pid = -1;
    out->pidfd = -1;

    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        out->failed_stage = CSANDBOX_STAGE_CLONE;
        return out->failed_errno = errno;
    }
    void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        out->failed_stage = CSANDBOX_STAGE_CLONE;
        return out->failed_errno = e;
    }

    // Block every signal across clone so no parent handler runs on the child's stack before
    // it resets them (glibc's posix_spawn does the same).
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    child_context ctx = {args, pipefd[1]};
    int pidfd = -1;
    unsigned long flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD | args->clone_flags;
    pid_t pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE, (int)flags, &ctx, &pidfd);
    int clone_errno = errno;

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    // CLONE_VFORK: by now the child has exec'd or exited, so its stack is no longer in use.
    munmap(stack, CHILD_STACK_SIZE);
    close(pipefd[1]);

    if (pid < 0) {
        close(pipefd[0]);
        out->failed_stage = CSANDBOX_STAGE_CLONE;
        return out->failed_errno = clone_errno;
    }

    child_error e = {0, 0};
    ssize_t n;
    do {
        n = read(pipefd[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);

    if (n == 0) {  // the pipe closed on execve: the program is running
        out->pid = pid;
        out->pidfd = pidfd;
        return 0;
    }
    // The child failed before execve and exited 127; reap it so no zombie is left behind.
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {}
    if (pidfd >= 0) close(pidfd);
    if (n == sizeof(e)) {
        out->failed_stage = (csandbox_stage)e.stage;
        out->failed_errno = e.err;
    } else {
        out->failed_stage = CSANDBOX_STAGE_EXEC;
        out->failed_errno = EIO;
    }
    return out->failed_errno ? out->failed_errno : EIO;
}
