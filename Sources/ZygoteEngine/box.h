// box.h: entering a submission's box (box.c), shared by the two kinds of box serve.c starts.
#ifndef ASSAY_ZYGOTE_BOX_H
#define ASSAY_ZYGOTE_BOX_H

#include "assay_zygote.h"

#include <linux/filter.h>

/// The request's descriptors (see assay_box_request).
enum { FD_JOB = 0, FD_RECORDS = 1, FD_STDERR = 2, FD_REPLY = 3, FD_NETNS = 4, FD_PROCS = 5 };

/// Everything a box needs, prepared by the zygote before it forks; the child only reads it.
typedef struct {
    const assay_box_request *request;
    const struct sock_filter *filter;
    /// The message's descriptors, in the zygote's numbering.
    const int *fds;
    int nfds;
    /// The capabilities left in the zygote's bounding set: each box drops them from its own.
    const int *bounding;
    int bounding_count;
    /// assay-box-init, as the zygote sees it.
    const char *init_path;
} box_plan;

/// Where entering the box failed, and why.
typedef struct {
    const char *step;
    int err;
} box_failure;

/// The box's own mount, ipc, uts and cgroup namespaces, the slot's network namespace, its
/// tmpfs (/work, /tmp, /dev/shm), a procfs of its pid namespace and the slot's cgroup.
int box_enter_namespaces(const box_plan *b, box_failure *f);
/// `sources` become descriptors 0, 1, ... in that order; every other descriptor is closed.
int box_keep_fds(int *sources, int count, box_failure *f);
/// The run's rlimits, no capability, the slot's uid, not dumpable, no_new_privs and the
/// profile's seccomp filter (last).
int box_drop_privileges(const box_plan *b, box_failure *f);
/// Writes `{"error": "entering the box: STEP: errno N"}` and a newline to `fd`, then exits
/// with `code`: the host reports it as the sandbox's failure, never the program's.
__attribute__((noreturn)) void box_fail(int fd, const box_failure *f, int code);
/// Writes the decimal digits of `value` ending just before `end`; returns where they start.
char *box_decimal(char *end, unsigned long long value);

#endif
