// box.c: entering a submission's box, in the zygote's child that becomes the box's pid 1.
//
// For a program box that child shares the zygote's memory (serve.c vforks it), so, as spawn.c's
// child, everything here makes raw syscalls through syscall(), never libc's wrappers, and
// touches nothing but its own stack and the plan, which it only reads. syscall() sets errno on
// failure, in the zygote's thread-local errno the child shares: harmless, since the zygote
// waits until the child has exec'd or died and reads errno only where its own calls failed.
// STEP reads errno right after the failed call.
//
// The steps and their order are a cold box's (spawn.c), less what the zygote's own start did
// once for all its boxes (the read-only root, the sanitized /etc and /dev, the empty hostname).

#include "box.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STEP(name, expr)                       \
    do {                                       \
        if ((long)(expr) < 0) {                \
            f->step = (name);                  \
            f->err = errno;                    \
            return -1;                         \
        }                                      \
    } while (0)

char *box_decimal(char *end, unsigned long long value) {
    do {
        *--end = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    return end;
}

static void append(char **at, const char *text) {
    while (*text) *(*at)++ = *text++;
}

void box_fail(int fd, const box_failure *f, int code) {
    char line[256], digits[24], *at = line;
    digits[sizeof(digits) - 1] = 0;
    append(&at, "{\"error\": \"entering the box: ");
    // Steps are this file's own literals: no character in them needs escaping in JSON.
    append(&at, f->step);
    append(&at, ": errno ");
    append(&at, box_decimal(digits + sizeof(digits) - 1, (unsigned)f->err));
    append(&at, "\"}\n");
    // Nothing useful can be done if this write fails: the host then sees a box that ended
    // without a record, which it reports as the sandbox's failure too.
    (void)!syscall(SYS_write, fd, line, at - line);
    syscall(SYS_exit_group, code);
    __builtin_unreachable();
}

/// Writable places are noexec, nosuid and nodev, as in a cold box (spawn.c apply_mounts).
static int bind_writable(const char *source, const char *target, box_failure *f) {
    STEP("bind /work, /tmp or /dev/shm", syscall(SYS_mount, source, target, NULL, MS_BIND, NULL));
    STEP("remount /work, /tmp or /dev/shm",
         syscall(SYS_mount, NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
    return 0;
}

int box_enter_namespaces(const box_plan *b, box_failure *f) {
    const assay_box_request *r = b->request;
    // Fresh mount, ipc and uts namespaces (the pid namespace is new already: the zygote started
    // this process in it). The mount namespace is a copy of the zygote's: nothing done to it
    // here reaches the zygote or the host.
    STEP("unshare", syscall(SYS_unshare, CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS));
    // The slot's own empty network namespace, as a cold run of the slot gets.
    STEP("setns network", syscall(SYS_setns, b->fds[FD_NETNS], CLONE_NEWNET));
    // Stop mount events from propagating to or from the zygote before touching anything.
    STEP("make mounts private", syscall(SYS_mount, NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
    // One capped tmpfs holds /work, /tmp and /dev/shm, as a cold box's root does.
    char options[96], digits[24];
    char *at = options;
    digits[sizeof(digits) - 1] = 0;
    append(&at, "size=");
    append(&at, box_decimal(digits + sizeof(digits) - 1, (unsigned long long)r->box_bytes));
    append(&at, ",nr_inodes=");
    append(&at, box_decimal(digits + sizeof(digits) - 1, (unsigned long long)r->box_inodes));
    append(&at, ",mode=0755");
    *at = 0;
    STEP("mount the box tmpfs", syscall(SYS_mount, "tmpfs", "/box", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options));
    static const char *const owned[] = {"/box/work", "/box/tmp"};
    for (int i = 0; i < 2; i++) {
        STEP("mkdir /work or /tmp", syscall(SYS_mkdirat, AT_FDCWD, owned[i], 0755));
        STEP("chown /work or /tmp", syscall(SYS_fchownat, AT_FDCWD, owned[i], (uid_t)r->uid, (gid_t)r->uid, 0));
    }
    if (bind_writable("/box/work", "/work", f) < 0 || bind_writable("/box/tmp", "/tmp", f) < 0 ||
        bind_writable("/box/tmp", "/dev/shm", f) < 0)
        return -1;
    STEP("unmount /box", syscall(SYS_umount2, "/box", MNT_DETACH));
    // A procfs of the new pid namespace, in place of the zygote's.
    STEP("unmount /proc", syscall(SYS_umount2, "/proc", MNT_DETACH));
    STEP("mount /proc", syscall(SYS_mount, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
    // Every byte and cycle from here on is charged to the slot's cgroup ("0": the writer); the
    // cgroup namespace is rooted there, so /proc/self/cgroup names no host path. It must come
    // after the join, or its root would be the zygote's cgroup.
    for (int64_t i = 0; i < r->procs; i++)
        STEP("join the slot's cgroup", syscall(SYS_write, b->fds[FD_PROCS + i], "0", 1));
    STEP("unshare cgroup", syscall(SYS_unshare, CLONE_NEWCGROUP));
    // A new session: the box is its own process group, so no kill(0, …) reaches the zygote.
    STEP("setsid", syscall(SYS_setsid));
    // The box's /work, not the zygote's, which its own mount now hides.
    STEP("chdir /work", syscall(SYS_chdir, "/work"));
    STEP("name", syscall(SYS_prctl, PR_SET_NAME, "assay-box", 0, 0, 0));
    return 0;
}

int box_keep_fds(int *sources, int count, box_failure *f) {
    // Every source is lifted above the targets first, so no dup3 clobbers one still to be
    // moved; the lifted copies are then closed with everything else the zygote held (its
    // control socket, its boxes' pidfds and reply sockets, the slot's descriptors).
    for (int i = 0; i < count; i++) {
        long lifted = syscall(SYS_fcntl, sources[i], F_DUPFD_CLOEXEC, count);
        STEP("lift descriptors", lifted);
        sources[i] = (int)lifted;
    }
    for (int target = 0; target < count; target++) STEP("place descriptors", syscall(SYS_dup3, sources[target], target, 0));
    STEP("close descriptors", syscall(SYS_close_range, (unsigned)count, ~0U, 0));
    return 0;
}

int box_drop_privileges(const box_plan *b, box_failure *f) {
    const assay_box_request *r = b->request;
    // After the descriptors: RLIMIT_NOFILE may be lower than the numbers they were lifted to.
    for (int64_t i = 0; i < r->rlimit_count; i++) {
        struct rlimit limit = {(rlim_t)r->rlimits[i][1], (rlim_t)r->rlimits[i][2]};
        STEP("rlimit", syscall(SYS_prlimit64, 0, (int)r->rlimits[i][0], &limit, NULL));
    }
    // As spawn.c drop_privileges: the bounding set while CAP_SETPCAP is still held (only the
    // zygote's few are left in it), then the groups, the gid and the uid (which clears the
    // remaining capabilities), then the capability sets explicitly, so the state does not
    // depend on securebits.
    for (int i = 0; i < b->bounding_count; i++)
        STEP("drop a capability", syscall(SYS_prctl, PR_CAPBSET_DROP, b->bounding[i], 0, 0, 0));
    STEP("clear ambient capabilities", syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    STEP("setgroups", syscall(SYS_setgroups, 0, NULL));
    STEP("setresgid", syscall(SYS_setresgid, (gid_t)r->uid, (gid_t)r->uid, (gid_t)r->uid));
    STEP("setresuid", syscall(SYS_setresuid, (uid_t)r->uid, (uid_t)r->uid, (uid_t)r->uid));
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {{0, 0, 0}, {0, 0, 0}};
    STEP("capset", syscall(SYS_capset, &header, data));
    // The uid change set dumpability from fs.suid_dumpable; no process of the box may read
    // this one's memory or descriptors, whatever the host's setting.
    STEP("dumpable", syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0));
    // No setuid binary or file capability can raise privileges again; it also allows an
    // unprivileged process to install the filter.
    STEP("no_new_privs", syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    struct sock_fprog program = {(unsigned short)r->filter_length, (struct sock_filter *)b->filter};
    STEP("seccomp", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program));
    return 0;
}
