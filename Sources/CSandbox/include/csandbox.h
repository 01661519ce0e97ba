// csandbox: the C side of assay's executor.
//
// This is the only code in assay that clones, mounts, sets rlimits, loads seccomp and drops
// capabilities. Swift prepares everything (argv, envp, the mount plan, the BPF program, limits)
// in the parent; the child side (spawn.c) makes raw syscalls only, because a Swift process is
// multithreaded and after clone only async-signal-safe calls are legal.
//
// Conventions: functions return 0 or a positive errno; they never print and never exit.
#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Seccomp policy (policy.c)

/// A compiled seccomp BPF program, built once per profile in the parent.
typedef struct csandbox_filter csandbox_filter;

/// Extra per-profile rules on top of the built-in deny-list.
typedef struct {
    /// Syscall names that fail with `deny_errno` (e.g. EPERM).
    const char *_Nonnull const *_Nullable deny_names;
    size_t deny_count;
    int deny_errno;
    /// Syscall names that kill the whole process (verdict SYS).
    const char *_Nonnull const *_Nullable kill_names;
    size_t kill_count;
} csandbox_policy;

/// Builds the BPF program for the built-in deny-list plus `policy`.
/// On failure returns an errno and, where it knows one, writes the offending syscall name to
/// `bad_name` (which must hold 64 bytes).
int csandbox_filter_build(const csandbox_policy *_Nonnull policy,
                          csandbox_filter *_Nullable *_Nonnull out,
                          char *_Nonnull bad_name);
void csandbox_filter_free(csandbox_filter *_Nullable filter);
/// Number of BPF instructions (for tests and diagnostics).
size_t csandbox_filter_length(const csandbox_filter *_Nonnull filter);
/// The BPF instructions themselves (`csandbox_filter_length` × 8 bytes, struct sock_filter), for
/// a Python zygote's child that loads the same filter itself with prctl(PR_SET_SECCOMP).
const void *_Nonnull csandbox_filter_instructions(const csandbox_filter *_Nonnull filter);
/// Syscalls numbered above this return ENOSYS in every box: not yet reviewed for the deny-list.
int csandbox_syscall_reviewed_through(void);
/// The highest native syscall number the installed libseccomp can name (tests).
int csandbox_syscall_highest_known(void);

// MARK: - Child setup stages (spawn.c)

/// Where in the child's setup a failure happened. Reported with its errno over a pipe.
typedef enum {
    CSANDBOX_STAGE_NONE = 0,
    CSANDBOX_STAGE_CLONE = 1,         // parent: clone() itself failed
    CSANDBOX_STAGE_SIGNALS = 2,       // resetting signal dispositions
    CSANDBOX_STAGE_CGROUP = 3,        // joining the run's cgroups
    CSANDBOX_STAGE_SESSION = 4,       // setsid
    CSANDBOX_STAGE_MOUNT = 5,         // private propagation, mount plan
    CSANDBOX_STAGE_PIVOT_ROOT = 6,    // pivot_root and detaching the host's root
    CSANDBOX_STAGE_NETNS = 7,         // joining the pooled empty network namespace
    CSANDBOX_STAGE_HOSTNAME = 8,
    CSANDBOX_STAGE_CHDIR = 9,
    CSANDBOX_STAGE_FDS = 10,          // dup2 of 0/1/2 and close-on-exec of the rest
    CSANDBOX_STAGE_RLIMIT = 11,
    CSANDBOX_STAGE_CAPABILITIES = 12, // bounding set and capability sets
    CSANDBOX_STAGE_CREDENTIALS = 13,  // setgroups, setresgid, setresuid
    CSANDBOX_STAGE_NO_NEW_PRIVS = 14,
    CSANDBOX_STAGE_SECCOMP = 15,
    CSANDBOX_STAGE_EXEC = 16,
} csandbox_stage;

/// One step of the mount plan, executed in order inside the child's new mount namespace.
typedef enum {
    /// Bind `source` (a host path) onto `target`, then remount it read-only, nosuid, nodev.
    CSANDBOX_MOUNT_BIND_RO = 1,
    /// Bind the device directory (or a node) `source` onto `target` (read-only, nosuid, noexec;
    /// devices allowed).
    CSANDBOX_MOUNT_BIND_DEV = 2,
    /// Bind `target` onto itself, writable but nosuid, nodev, noexec (the work dir, /tmp).
    CSANDBOX_MOUNT_SELF_RW_NOEXEC = 3,
    /// Bind `source` onto `target`, writable but nosuid, nodev, noexec.
    CSANDBOX_MOUNT_BIND_RW_NOEXEC = 4,
    /// A fresh procfs of the new pid namespace at `target`.
    CSANDBOX_MOUNT_PROC = 5,
} csandbox_mount_kind;

typedef struct {
    csandbox_mount_kind kind;
    const char *_Nullable source;
    const char *_Nonnull target;  // host path under the box root, before pivot_root
} csandbox_mount;

/// rlimit numbers that Swift's Glibc module does not export (checked against the system
/// headers in spawn.c).
enum { CSANDBOX_RLIMIT_NPROC = 6, CSANDBOX_RLIMIT_MSGQUEUE = 12 };

/// The most descriptors `csandbox_spawn_args.inherit_fds` may hold.
enum { CSANDBOX_MAX_INHERITED = 16 };

typedef struct {
    int resource;       // RLIMIT_*
    uint64_t soft;
    uint64_t hard;
} csandbox_rlimit;

/// Everything the child needs, prepared by the parent. All pointers stay valid until
/// `csandbox_spawn` returns (CLONE_VFORK: the parent is suspended until the child execs).
typedef struct {
    const char *_Nullable path;                       // executable, as seen inside the box
    char *_Nullable const *_Nullable argv;            // NULL-terminated
    char *_Nullable const *_Nullable envp;            // NULL-terminated
    int stdin_fd, stdout_fd, stderr_fd;              // become 0, 1, 2
    int status_fd;                                   // >= 0: becomes 3 (the box init's status pipe)
    // Further descriptors the program inherits, in order, at the next numbers after 2 (or 3 with
    // a status pipe): the warm harness's handles on its per-test cgroup. At most
    // CSANDBOX_MAX_INHERITED.
    const int *_Nullable inherit_fds;
    size_t inherit_count;
    const int *_Nullable cgroup_procs_fds;           // each gets "0" written: join that cgroup
    size_t cgroup_procs_count;
    const char *_Nullable root;                      // box root (host path); NULL: no new root
    const csandbox_mount *_Nullable mounts;
    size_t mount_count;
    const char *_Nullable workdir;                    // inside the box
    int netns_fd;                                    // >= 0: setns into it; < 0: see clone_flags
    unsigned long clone_flags;                       // CLONE_NEW* flags to create
    const char *_Nullable hostname;
    const csandbox_rlimit *_Nullable rlimits;
    size_t rlimit_count;
    uid_t uid;
    gid_t gid;
    int cap_last;                                    // highest capability number on this kernel
    const csandbox_filter *_Nullable filter;         // NULL: no seccomp (weaker mode only)
    // Nonzero only for a Python zygote (never for a program that runs submitted code): the child
    // stays uid 0 and keeps exactly these capabilities (a bit per CAP_* number, dropped from the
    // bounding set otherwise, so execve leaves it these), without no_new_privs or seccomp: its
    // children need them to enter a fresh box of their own, and they drop everything themselves
    // before any submitted code runs. `uid`, `gid` and `filter` are then ignored.
    uint64_t zygote_caps;
} csandbox_spawn_args;

typedef struct {
    pid_t pid;
    int pidfd;
    csandbox_stage failed_stage;   // NONE on success
    int failed_errno;
} csandbox_spawned;

/// Starts the child, vfork-style. Returns 0 when the child has exec'd (then `out->pid` and
/// `out->pidfd` are valid and the caller must reap it), or an errno with `out->failed_stage` set
/// (the child, if one was created, has already been reaped).
int csandbox_spawn(const csandbox_spawn_args *_Nonnull args, csandbox_spawned *_Nonnull out);

// MARK: - Supervision (supervise.c)

typedef struct {
    pid_t pid;                        // <= 0: the box is not our child (a zygote's submission):
                                      // it is not reaped here, and wait_status stays 0
    int pidfd;
    int stdout_fd, stderr_fd;         // read ends, owned (closed) by the supervisor
    size_t stdout_cap, stderr_cap;    // bytes kept; more than that is an output-limit kill
    int64_t wall_limit_ns;
    int64_t cpu_limit_ns;             // checked against cpu_usage_fd
    int cpu_usage_fd;                 // cgroup file with cumulative CPU ns; -1: none
    int cpu_usage_format;             // 0: plain number (cpuacct.usage); 1: cgroup2 cpu.stat
    int64_t poll_interval_ns;         // <= 100 ms
    int64_t start_ns;                 // CLOCK_MONOTONIC just before the spawn (csandbox_now_ns)
    int64_t cpu_base_ns;              // the counter's value when the run began (reused cgroups)
} csandbox_watch;

typedef enum {
    CSANDBOX_KILLED_NONE = 0,
    CSANDBOX_KILLED_WALL = 1,
    CSANDBOX_KILLED_CPU = 2,
    CSANDBOX_KILLED_STDOUT = 3,
    CSANDBOX_KILLED_STDERR = 4,
} csandbox_kill_reason;

typedef struct {
    int wait_status;                  // as from wait4
    csandbox_kill_reason killed;
    uint8_t *_Nullable stdout_data;   // malloc'd, grown as output arrives (at most the cap);
    uint8_t *_Nullable stderr_data;   // the caller frees both with free()
    size_t stdout_len, stderr_len;
    int64_t wall_ns;
    int64_t cpu_ns;                   // from the cgroup (whole tree); rusage when none
    int64_t rusage_cpu_ns;
    int64_t maxrss_bytes;             // of the largest waited-for process
} csandbox_outcome;

/// CLOCK_MONOTONIC in ns: wall time counts from before the spawn, so setup is not free time.
int64_t csandbox_now_ns(void);

/// Reads output, enforces wall, CPU and output limits, kills the box's init on a breach
/// (which kills the whole pid namespace), and reaps it. Returns 0 or an errno; either way the
/// pidfd and both read ends are closed and the child reaped (on an error it is killed first).
int csandbox_supervise(const csandbox_watch *_Nonnull watch, csandbox_outcome *_Nonnull out);

// MARK: - Host-side box files (boxfs.c)

/// Mounts a size- and inode-capped tmpfs at `path` (an existing empty directory).
int csandbox_box_mount(const char *_Nonnull path, uint64_t size_bytes, uint64_t inodes);
/// Lazily unmounts the box tmpfs.
int csandbox_box_unmount(const char *_Nonnull path);
/// Opens `name` beneath `dirfd` for reading without following any symlink, and only if it is a
/// regular file (a sandbox may have planted symlinks, FIFOs or device nodes). Returns an fd or -errno.
int csandbox_open_beneath(int dirfd, const char *_Nonnull name);

/// The namespaces every box gets fresh: pid, mount, ipc, uts (the network one is pooled).
unsigned long csandbox_box_clone_flags(void);

/// pipe2(O_CLOEXEC); returns 0 or an errno.
int csandbox_pipe(int fds[_Nonnull 2]);

/// Creates an empty network namespace and returns an fd for it (close-on-exec), or -errno.
int csandbox_netns_create(void);

/// Fills `data` into a sealed memfd (the child's stdin); returns the fd or -errno.
int csandbox_sealed_memfd(const uint8_t *_Nullable data, size_t len);

// MARK: - Messages with descriptors (fdpass.c)

/// The most descriptors one message may carry.
enum { CSANDBOX_MAX_PASSED = 48 };

/// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC); returns 0 or an errno.
int csandbox_seqpacket_pair(int fds[_Nonnull 2]);
/// Sends one message with `nfds` descriptors (SCM_RIGHTS). Returns the bytes sent or -errno.
ssize_t csandbox_send_message(int sock, const void *_Nonnull data, size_t len, const int *_Nullable fds, size_t nfds);
/// Waits up to `timeout_ms` (-1: forever) for one message and receives it with its descriptors
/// (close-on-exec; any beyond `max_fds` are closed). Returns its length (0: the peer closed),
/// -ETIMEDOUT, -EMSGSIZE (truncated: no descriptor kept) or -errno.
ssize_t csandbox_receive_message(int sock, void *_Nonnull buf, size_t cap, int *_Nonnull fds, size_t max_fds,
                                 size_t *_Nonnull nfds, int timeout_ms);

// MARK: - Processes left by a dead assay (procs.c)

/// Sends SIGKILL to every live process whose real uid is in [first_uid, last_uid], each through
/// a pidfd taken before its uid is read (a recycled pid is never hit). Returns how many it found
/// (zombies are not counted: they cannot be killed, only reaped), or -errno when /proc cannot be read.
int csandbox_kill_uid_range(uint32_t first_uid, uint32_t last_uid);

/// SIGKILL through a pidfd (never a recycled pid). Returns 0 or an errno.
int csandbox_pidfd_kill(int pidfd);

#ifdef __cplusplus
}
#endif

#endif
