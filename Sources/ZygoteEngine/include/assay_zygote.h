// assay_zygote.h: the Python zygote's engine (libassay-zygote.so).
//
// The zygote (ZygoteProgram.swift) is a Python interpreter that has imported the harness and
// the preamble and never runs submitted code. Once it is ready it calls `assay_zygote_serve`
// through ctypes, and from then on this C code does all of its work: it reads the host's
// requests, starts each submission's box and reports how the box ended. It returns to Python
// only in a box, with the box entered and every privilege dropped, or when the host is gone.
//
// The library is loaded into the zygote from the zygote's own read-only /app, so it must not
// need the Swift runtime, which no box binds: it links only system libraries under /usr (libc,
// and the C++ runtime the Swift driver names, unused), which the zygote's root binds read-only
// (see Package.swift).
#ifndef ASSAY_ZYGOTE_H
#define ASSAY_ZYGOTE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What `assay_zygote_serve` returned in.
enum {
    /// The zygote itself: the host closed its socket, so the zygote ends.
    ASSAY_ZYGOTE_CLOSED = 0,
    /// A submission's box, pid 1 of its own pid namespace, that runs the warm harness.
    /// Descriptors: 0 the job, 1 the record stream, 2 stderr, then the per-test cgroup handles.
    ASSAY_ZYGOTE_HARNESS = 1,
    /// A `/run_code` program, pid 2 of its box, under the box's init (assay-box-init).
    /// Descriptors: 0 the job, 1 stdout, 2 stderr, 3 the init's status pipe (for a failure
    /// before the program starts), 4 the program's stdin, 5 the start pipe (EOF once the init
    /// has closed itself to this process: nothing submitted may run before that).
    ASSAY_ZYGOTE_PROGRAM = 2,
};

/// Python's fork hooks (PyOS_BeforeFork, PyOS_AfterFork_Parent, PyOS_AfterFork_Child), called
/// around each fork of the interpreter as os.fork calls them.
typedef struct {
    void (*before)(void);
    void (*parent)(void);
    void (*child)(void);
} assay_fork_hooks;

/// Serves the host on the SOCK_SEQPACKET socket `control` (see ZygoteProgram.swift for the
/// protocol). `init_path` is assay-box-init as the zygote sees it. Returns one of the values
/// above, or -1 when the zygote can no longer serve (the host then replaces it).
int assay_zygote_serve(int control, const char *init_path, const assay_fork_hooks *hooks);

// MARK: - The request (host → zygote), one message

/// The first field of every request: a host and an engine that agree on this layout.
#define ASSAY_BOX_REQUEST_MAGIC 0x31677a7961737361LL  /* "assayzg1" */
#define ASSAY_BOX_REQUEST_MAX_RLIMITS 16

/// The request's fixed part; `filter_length` BPF instructions (struct sock_filter, 8 bytes
/// each) follow it. Every field is 8 bytes, native byte order, so the layout has no padding.
/// The message's descriptors: 0 the job, 1 the record stream (a program's stdout), 2 stderr,
/// 3 the submission's reply socket, 4 the slot's network namespace, then `procs` cgroup
/// `cgroup.procs` descriptors, then the per-test cgroup handles (a program: its status pipe and
/// its stdin).
typedef struct {
    int64_t magic;
    int64_t kind;          // ASSAY_ZYGOTE_HARNESS or ASSAY_ZYGOTE_PROGRAM
    int64_t uid;           // the slot's uid (and gid)
    int64_t procs;         // how many cgroup.procs descriptors follow the network namespace
    int64_t box_bytes;     // the box tmpfs's size (/work, /tmp and /dev/shm together)
    int64_t box_inodes;
    int64_t rlimit_count;
    int64_t filter_length;
    // resource, soft, hard (RLIM_INFINITY as all ones)
    uint64_t rlimits[ASSAY_BOX_REQUEST_MAX_RLIMITS][3];
} assay_box_request;

#ifdef __cplusplus
}
#endif

#endif
