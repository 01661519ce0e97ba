// policy.c: the seccomp deny-list, compiled once per profile in the parent.
//
// Namespaces, an unprivileged uid, an empty capability set and cgroups do most of the isolation.
// This filter only closes what those do not cover. It returns an errno instead of killing, so
// interpreters stay alive and report an ordinary error (isolate and SandboxFusion do the same);
// a profile may add syscalls that kill the process, which the supervisor reports as SYS.
//
// libseccomp allocates, so it must never run in the child. libseccomp 2.5.4 (Debian 12) has no
// export-to-memory call, so the program goes through a memfd and is read back into memory.
//
// Argument compares: libseccomp compares all 64 bits of an argument, but the kernel reads an
// `int` or `unsigned int` argument (fcntl's and ioctl's cmd, a pid) from the low 32 bits only, so
// an equality test on 64 bits is bypassed by setting a high bit (`fcntl(fd, F_SETLK | 1L << 32)`
// locks). Every "deny when equal" rule on such an argument therefore compares under the mask
// 0xffffffff (SCMP_CMP_MASKED_EQ); "deny when not equal" (NE) on 64 bits is the safe direction
// (it denies every value whose low 32 bits differ from the allowed one, and harmlessly also
// values that differ from it only in the high bits).
//
// Keeping the deny-list current as kernels add syscalls: a deny-list allows by default, so a
// syscall added by a newer kernel would be allowed without anyone having looked at it. Two things
// prevent that. (1) Every syscall numbered above CSANDBOX_REVIEWED_THROUGH (456, futex_requeue,
// the last one Debian 12's libseccomp 2.5.4-1+deb12u1 names; numbers above 423 are the same on
// every architecture) fails with ENOSYS, by a few BPF instructions placed in front of
// libseccomp's program (see `kUnreviewedPrefix`), which work whether or not the installed
// libseccomp can name the syscall. ENOSYS is what an older kernel answers, so libc and runtimes
// fall back exactly as they do there; a syscall is allowed only after it was read and either
// listed here or the constant was raised past it. (2) In IsolationGapTests, seccomp_gaps.py calls
// one (listmount, 458) and expects ENOSYS, and `everySyscallLibseccompKnowsIsReviewed` fails when
// the installed libseccomp knows a syscall numbered above the constant (an upgrade that could
// tempt someone to name it in a rule without reviewing the gap). Raising the constant is the
// review: read every syscall up to the new number and classify it here first.

#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
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
    // execveat runs a file by descriptor; nothing a box runs needs it, so it is one entry point
    // less. This does NOT stop a program from running bytes it wrote: memfd_create is allowed and a
    // memfd still execs through execve("/proc/self/fd/N") (the noexec of /work, /tmp and /proc
    // does not apply to the memfd's internal mount), and any process can map its own memory
    // executable. Whatever runs that way runs under the same uid, namespaces, limits and this
    // filter, so noexec on the writable mounts is defence in depth, not a boundary.
    {"execveat", EPERM},
    // inotify sees opens, reads and closes of the shared read-only /usr inodes by every other
    // box and by the host: a cross-box channel and a leak of what the host runs.
    {"inotify_init", EPERM}, {"inotify_init1", EPERM},
    // kcmp compares kernel objects of two processes (reveals kernel pointer order); pidfd_getfd
    // steals a descriptor from another process; process_madvise acts on another process's memory.
    // Docker's default profile denies all three without CAP_SYS_PTRACE.
    {"kcmp", EPERM}, {"pidfd_getfd", EPERM}, {"process_madvise", EPERM},
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
    // because a masked compare tests one bit pattern at a time. The mask holds only low bits, so
    // high bits (which the kernel drops: it reads the low 32) cannot hide a flag. CLONE_NEWTIME
    // (0x80) is not here: clone(2) reads that byte as the exit signal, and a time namespace can
    // only be made by unshare or clone3, both denied above.
    static const unsigned long kNamespaceFlags[] = {
        CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
        CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP,
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
    // Boxes get no tty, but the rule costs nothing. ioctl's cmd is an unsigned int: 32-bit compare.
    struct scmp_arg_cmp tiocsti = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, TIOCSTI);
    rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", bad_name, 1, &tiocsti);
    if (rc) return rc;

    // fcntl commands, compared as the kernel reads them (32 bits, see the header):
    // - record locks (set and query): the same cross-box channel as flock above; F_GETLK alone
    //   reads another box's lock, which is enough for a channel;
    // - F_NOTIFY (dnotify) and F_SETLEASE: notified of other boxes' and the host's opens and
    //   writes of the shared files, like inotify.
    static const int kFcntlCommands[] = {F_SETLK, F_SETLKW, F_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
                                         F_OFD_GETLK, F_NOTIFY, F_SETLEASE};
    for (size_t i = 0; i < sizeof(kFcntlCommands) / sizeof(kFcntlCommands[0]); i++) {
        struct scmp_arg_cmp cmd = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL, (scmp_datum_t)(uint32_t)kFcntlCommands[i]);
        rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "fcntl", bad_name, 1, &cmd);
        if (rc) return rc;
    }

    // Acting on another process's rlimits, priority, scheduling, CPU placement or io priority.
    // The kernel allows these between processes of the same uid, and a box process may share a
    // uid with another process (the warm executor's test and its harness; the box init): the
    // program could lift its harness's limits or starve it. Only "this process" (0) is allowed;
    // NE compares 64 bits, which denies every value whose low 32 bits are not 0 (see the header).
    // A thread's own tid counts as another pid here (pthread_setaffinity_np,
    // pthread_setschedparam fail with EPERM, an ordinary error their callers report).
    static const char *const kSelfOnly[] = {
        "prlimit64", "sched_setscheduler", "sched_setparam", "sched_setattr", "sched_setaffinity",
        // Moving another process's pages between NUMA nodes: same reason.
        "migrate_pages", "move_pages",
    };
    struct scmp_arg_cmp other_pid = SCMP_A0(SCMP_CMP_NE, 0);
    for (size_t i = 0; i < sizeof(kSelfOnly) / sizeof(kSelfOnly[0]); i++) {
        rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), kSelfOnly[i], bad_name, 1, &other_pid);
        if (rc) return rc;
    }
    // setpriority(which, who, prio): only PRIO_PROCESS (0) of who 0; a process group or a user
    // (PRIO_PGRP, PRIO_USER) reaches other processes. Two rules: the conditions of one rule are
    // ANDed, and either argument alone must deny.
    struct scmp_arg_cmp not_prio_process = SCMP_A0(SCMP_CMP_NE, PRIO_PROCESS);
    struct scmp_arg_cmp not_self_who = SCMP_A1(SCMP_CMP_NE, 0);
    rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "setpriority", bad_name, 1, &not_prio_process);
    if (!rc) rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "setpriority", bad_name, 1, &not_self_who);
    if (rc) return rc;
    // ioprio_set(which, who, ioprio): only IOPRIO_WHO_PROCESS (1) of who 0, for the same reason.
    struct scmp_arg_cmp not_ioprio_process = SCMP_A0(SCMP_CMP_NE, 1 /* IOPRIO_WHO_PROCESS */);
    rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioprio_set", bad_name, 1, &not_ioprio_process);
    if (!rc) rc = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), "ioprio_set", bad_name, 1, &not_self_who);
    if (rc) return rc;
    return 0;
}

// Syscalls numbered above this have not been reviewed for the deny-list: ENOSYS (see the header).
// Reviewed above 450 (set_mempolicy_home_node): 451 cachestat (denied below), 452 fchmodat2,
// 453 map_shadow_stack, 454-456 futex_wake/futex_wait/futex_requeue (allowed: a process's own
// files, shadow stack and futexes, no reach beyond what their older forms have).
#define CSANDBOX_REVIEWED_THROUGH 456
// cachestat reports which pages of a file sit in the page cache: on the shared read-only /usr
// files that shows what other boxes and the host have read (mincore stopped answering that for
// files a process cannot write, in Linux 5.0). ENOSYS by number: an older libseccomp cannot name it.
#define CSANDBOX_NR_CACHESTAT 451

#if defined(__x86_64__)
#define CSANDBOX_NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CSANDBOX_NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "policy.c knows the native audit arch of x86_64 and aarch64 only"
#endif

// Placed in front of libseccomp's program: a native syscall numbered above the reviewed range,
// or cachestat, returns ENOSYS; everything else (other architectures, x32's 0x40000000 numbers,
// reviewed numbers) falls through to libseccomp's program, which handles it as before.
static const struct sock_filter kUnreviewedPrefix[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),                                  // 0: seccomp_data.arch
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CSANDBOX_NATIVE_ARCH, 0, 5),        // 1: not native: 7
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),                                  // 2: seccomp_data.nr
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 3, 0),                  // 3: x32: 7
    BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, CSANDBOX_REVIEWED_THROUGH, 1, 0),   // 4: unreviewed: 6
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CSANDBOX_NR_CACHESTAT, 0, 1),       // 5: not cachestat: 7
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),                  // 6
};                                                                          // 7: libseccomp's program
enum { kPrefixLength = sizeof(kUnreviewedPrefix) / sizeof(kUnreviewedPrefix[0]) };

int csandbox_syscall_highest_known(void) {
    int highest = -1;
    for (int nr = 0; nr < 1024; nr++) {
        char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
        if (name) {
            highest = nr;
            free(name);
        }
    }
    return highest;
}

int csandbox_syscall_reviewed_through(void) { return CSANDBOX_REVIEWED_THROUGH; }

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
    struct sock_filter *insns = malloc(sizeof(kUnreviewedPrefix) + (size_t)len);
    if (!f || !insns) {
        free(f);
        free(insns);
        close(fd);
        return ENOMEM;
    }
    memcpy(insns, kUnreviewedPrefix, sizeof(kUnreviewedPrefix));
    ssize_t got = pread(fd, insns + kPrefixLength, (size_t)len, 0);
    close(fd);
    if (got != len) {
        free(f);
        free(insns);
        return EIO;
    }
    f->prog.len = (unsigned short)(kPrefixLength + len / sizeof(struct sock_filter));
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

const void *csandbox_filter_instructions(const csandbox_filter *filter) { return filter->prog.filter; }
