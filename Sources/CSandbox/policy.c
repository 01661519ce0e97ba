// policy.c: the seccomp deny-list, compiled once per profile in the parent.
//
// Namespaces, an unprivileged uid, an empty capability set and cgroups do most of the isolation.
// This filter only closes what those do not cover. It returns an errno instead of killing, so
// interpreters stay alive and report an ordinary error (isolate and SandboxFusion do the same);
// a profile may add syscalls that kill the process, which the supervisor reports as SYS.
//
// libseccomp allocates, so it must never run in the child. libseccomp 2.5.4 (Debian 12) has no
// export-to-memory call, so the program goes through a memfd and is read back into memory.

#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

struct csandbox_filter {
    struct sock_fprog prog;
};

// A rule that fails `name` with `err`, whatever its arguments.
typedef struct {
    const char *name;
    int err;
} deny_rule;

/*** Unconditional denials, each with the reason namespaces do not already cover it ***/
static const deny_rule kDenyRules[] = {
    // Debugging another process reads and writes its memory. Pid namespaces hide other boxes,
    // but a box must not trace its own supervisor-visible processes either.
    {"ptrace", EPERM},
    {"process_vm_readv", EPERM},
    {"process_vm_writev", EPERM},
    // Mounting could re-expose host paths or remount the read-only view; the capability check
    // already refuses it, this keeps the attack surface of the mount code out of reach.
    {"mount", EPERM}, {"umount2", EPERM}, {"pivot_root", EPERM}, {"chroot", EPERM},
    {"move_mount", EPERM}, {"open_tree", EPERM}, {"fsopen", EPERM}, {"fsconfig", EPERM},
    {"fsmount", EPERM}, {"fspick", EPERM}, {"mount_setattr", EPERM},
    // New namespaces (a user namespace above all) give back capabilities inside them and
    // expose kernel code that is a frequent source of privilege escalations.
    {"unshare", EPERM},
    {"setns", EPERM},
    // clone3 passes its flags in memory that BPF cannot read, so it cannot be inspected for
    // namespace flags. ENOSYS (not EPERM) makes glibc fall back to clone(2), whose flags are
    // checked below; EPERM would break every thread start (Python: "can't start new thread").
    {"clone3", ENOSYS},
    // Kernel programming interfaces: large attack surface, and perf/bpf leak kernel addresses.
    {"bpf", EPERM},
    {"perf_event_open", EPERM},
    // userfaultfd stalls kernel threads at chosen points: the classic race-exploit helper.
    {"userfaultfd", EPERM},
    // Keyrings are not namespaced: keys would be a channel between boxes (isolate blocks them).
    {"keyctl", EPERM}, {"add_key", EPERM}, {"request_key", EPERM},
    // io_uring performs syscalls the filter never sees, and has a long exploit history.
    {"io_uring_setup", EPERM}, {"io_uring_enter", EPERM}, {"io_uring_register", EPERM},
    // Loading code into the kernel, rebooting it, or swapping.
    {"kexec_load", EPERM}, {"kexec_file_load", EPERM}, {"init_module", EPERM},
    {"finit_module", EPERM}, {"delete_module", EPERM}, {"reboot", EPERM},
    {"swapon", EPERM}, {"swapoff", EPERM},
    // Host-global state that namespaces do not cover: the clock, accounting, quotas, the kernel log.
    {"settimeofday", EPERM}, {"clock_settime", EPERM}, {"clock_adjtime", EPERM},
    {"adjtimex", EPERM}, {"acct", EPERM}, {"quotactl", EPERM}, {"syslog", EPERM},
    // File handles bypass path-based access checks (the "shocker" container escape).
    {"open_by_handle_at", EPERM}, {"name_to_handle_at", EPERM},
    // fanotify watches the whole mount, including files outside the box's view.
    {"fanotify_init", EPERM},
    // Port I/O and old LDT tricks: hardware access and historical kernel bugs.
    {"iopl", EPERM}, {"ioperm", EPERM}, {"modify_ldt", EPERM},
    // File locks on the shared read-only system files (e.g. /usr/bin/python3) are visible to
    // every box: a covert channel between concurrent runs (isolate blocks them for this reason).
    {"flock", EPERM},
    // execveat on a memfd or an fd would run bytes that never touched a mount; all writable
    // mounts are noexec, and this keeps "run what you wrote" closed on that path too.
    {"execveat", EPERM},
};

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, char *bad_name,
                    unsigned count, const struct scmp_arg_cmp *args) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        strncpy(bad_name, name, 63);
        bad_name[63] = 0;
        return EINVAL;
    }
    int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
    if (rc < 0) {
        strncpy(bad_name, name, 63);
        bad_name[63] = 0;
        return -rc;
    }
    return 0;
}

static int named_in(const char *name, const char *const *names, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (strcmp(name, names[i]) == 0) return 1;
    return 0;
}

static int add_builtin_rules(scmp_filter_ctx ctx, const csandbox_policy *policy, char *bad_name) {
    int rc;
    for (size_t i = 0; i < sizeof(kDenyRules) / sizeof(kDenyRules[0]); i++) {
        // A profile's own rule for the same syscall wins (e.g. ptrace as a kill, for SYS).
        if (named_in(kDenyRules[i].name, policy->deny_names, policy->deny_count) ||
            named_in(kDenyRules[i].name, policy->kill_names, policy->kill_count))
            continue;
        rc = add_rule(ctx, SCMP_ACT_ERRNO(kDenyRules[i].err), kDenyRules[i].name, bad_name, 0, NULL);
        if (rc) return rc;
    }

    // clone(2) with any namespace flag: same reason as unshare above. One rule per flag,
    // because a masked compare tests one bit pattern at a time.
    static const unsigned long kNamespaceFlags[] = {
        CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
        CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */,
    };
    for (size_t i = 0; i < sizeof(kNamespaceFlags) / sizeof(kNamespaceFlags[0]); i++) {
        struct scmp_arg_cmp flag = SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceFlags[i], kNamespaceFlags[i]);
        rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "clone", bad_name, 1, &flag);
        if (rc) return rc;
    }

    // Only AF_UNIX sockets. The empty network namespace already has no route anywhere; this also
    // closes families that are not namespaced at all (AF_VSOCK reaches the hypervisor, AF_NETLINK
    // talks to the kernel, AF_PACKET/raw need capabilities but widen the surface).
    struct scmp_arg_cmp not_unix = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
    rc = add_rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", bad_name, 1, &not_unix);
    if (rc) return rc;
    rc = add_rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", bad_name, 1, &not_unix);
    if (rc) return rc;

    // TIOCSTI pushes bytes into a terminal's input queue: a way out through an inherited tty.
    // Boxes get no tty, but the rule costs nothing.
    struct scmp_arg_cmp tiocsti = SCMP_A1(SCMP_CMP_EQ, TIOCSTI);
    rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", bad_name, 1, &tiocsti);
    if (rc) return rc;

    // Record locks through fcntl: the same cross-box channel as flock above.
    static const int kLockCommands[] = {F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW};
    for (size_t i = 0; i < sizeof(kLockCommands) / sizeof(kLockCommands[0]); i++) {
        struct scmp_arg_cmp cmd = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)kLockCommands[i]);
        rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "fcntl", bad_name, 1, &cmd);
        if (rc) return rc;
    }
    return 0;
}

static int export_program(scmp_filter_ctx ctx, csandbox_filter **out) {
    int fd = memfd_create("csandbox-bpf", MFD_CLOEXEC);
    if (fd < 0) return errno;
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) {
        close(fd);
        return -rc;
    }
    off_t len = lseek(fd, 0, SEEK_END);
    if (len <= 0 || len % sizeof(struct sock_filter) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return EIO;
    }
    csandbox_filter *f = calloc(1, sizeof(*f));
    struct sock_filter *insns = malloc((size_t)len);
    if (!f || !insns) {
        free(f);
        free(insns);
        close(fd);
        return ENOMEM;
    }
    ssize_t got = pread(fd, insns, (size_t)len, 0);
    close(fd);
    if (got != len) {
        free(f);
        free(insns);
        return EIO;
    }
    f->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
    f->prog.filter = insns;
    *out = f;
    return 0;
}

int csandbox_filter_build(const csandbox_policy *policy, csandbox_filter **out, char *bad_name) {
    *out = NULL;
    bad_name[0] = 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return ENOMEM;

    // Syscalls of another ABI (i386 via int 0x80, x32) bypass a filter written for x86_64
    // numbers, so a foreign architecture kills the process outright.
    int rc = -seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    // A binary tree instead of a linear list: the syscalls the kernel's per-filter cache cannot
    // short-circuit (those with argument checks) then cost a few compares, not one per rule.
    // Best effort: older libseccomp lacks the attribute and builds the linear form.
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (!rc) rc = add_builtin_rules(ctx, policy, bad_name);
    for (size_t i = 0; !rc && i < policy->deny_count; i++)
        rc = add_rule(ctx, SCMP_ACT_ERRNO((uint32_t)policy->deny_errno), policy->deny_names[i], bad_name, 0, NULL);
    for (size_t i = 0; !rc && i < policy->kill_count; i++)
        rc = add_rule(ctx, SCMP_ACT_KILL_PROCESS, policy->kill_names[i], bad_name, 0, NULL);
    if (!rc) rc = export_program(ctx, out);
    seccomp_release(ctx);
    return rc;
}

void csandbox_filter_free(csandbox_filter *filter) {
    if (!filter) return;
    free(filter->prog.filter);
    free(filter);
}

size_t csandbox_filter_length(const csandbox_filter *filter) { return filter->prog.len; }

// Exposed to spawn.c only.
const struct sock_fprog *csandbox_filter_program(const csandbox_filter *filter) { return &filter->prog; }
