// assay-box-init: pid 1 of every box.
//
// The first process of a pid namespace has init semantics: the kernel drops every signal it
// sends itself or receives from inside the namespace unless it installed a handler. A program
// running as pid 1 would therefore survive SIGXFSZ, SIGPIPE, SIGXCPU and abort()'s SIGABRT,
// and its verdicts would differ from a normal run. So this tiny init takes pid 1 and the
// program runs as pid 2 with ordinary signal semantics. It also reaps orphans, and when the
// program ends it exits, which makes the kernel kill whatever the program left running.
//
// It runs after every restriction is in place (unprivileged uid, no capabilities, seccomp),
// with the supervisor's status pipe as fd 3. Two ways to start:
//   assay-box-init PROGRAM ARGS...   forks and execs the program (a cold box, spawn.c)
//   assay-box-init --adopt PID       the program is already running as its child PID (a
//                                    Python zygote's program box, Sources/ZygoteEngine/serve.c),
//                                    waiting on a start pipe at fd 4 for this init to close it
// Records on the status pipe (8 bytes each):
//   {1, wait status}  the program ended with this status
//   {2, errno}        execve of the program failed (an error of the caller, not a verdict)
//   {3, errno}        the init could not fork the program (the box was full before it began:
//                     a fault of the sandbox, never the program's)
//
// Why no libc: this binary starts once per sandboxed run, on the hot path. Linked the usual way
// (SwiftPM links it with the Swift runtime, statically) its start-up costs about 0.4 ms before
// the program even begins. Its entry point is therefore `assay_init_start` (set in
// Package.swift), which skips libc's and the runtime's initialisation entirely: the code below
// uses only raw syscalls and the stack, no globals, no relocations, so it runs correctly without
// any of them, and the whole init costs about 0.1 ms.

#include <asm/unistd.h>
#include <linux/prctl.h>
#include <stdint.h>

enum { STATUS_FD = 3, START_FD = 4, RECORD_EXITED = 1, RECORD_EXEC_FAILED = 2, RECORD_FORK_FAILED = 3, F_SETFD_ = 2, FD_CLOEXEC_ = 1, EINTR_ = 4 };

#if defined(__x86_64__)
static long sys(long n, long a, long b, long c, long d) {
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return ret;
}
#define ENTRY_TRAMPOLINE "xor %rbp, %rbp\n mov %rsp, %rdi\n and $-16, %rsp\n call assay_init_main\n hlt\n"
#elif defined(__aarch64__)
static long sys(long n, long a, long b, long c, long d) {
    register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c, x3 __asm__("x3") = d;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#define ENTRY_TRAMPOLINE "mov x29, #0\n mov x30, #0\n mov x0, sp\n bl assay_init_main\n brk #0\n"
#else
#error "assay-box-init supports x86_64 and aarch64"
#endif

__attribute__((noreturn)) static void leave(int code) {
    for (;;) sys(__NR_exit_group, code, 0, 0, 0);
}

static void record(int32_t kind, int32_t value) {
    int32_t rec[2] = {kind, value};
    sys(__NR_write, STATUS_FD, (long)rec, sizeof(rec), 0);
}

/// Reaps every child until `program` ends, then records how it ended and exits, which makes
/// the kernel kill whatever the program left running.
__attribute__((noreturn)) static void reap_until(long program) {
    for (;;) {
        int status = 0;
        // Any child: orphans re-parented to pid 1 are reaped here too.
        long pid = sys(__NR_wait4, -1, (long)&status, 0, 0);
        if (pid == program) {
            record(RECORD_EXITED, status);
            leave(0);
        }
        if (pid < 0 && pid != -EINTR_) leave(126);
    }
}

/// `sp` is the initial stack: argc, argv[0..argc], NULL, envp..., NULL.
__attribute__((used, noreturn)) void assay_init_main(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    if (argc < 2) leave(127);
    // The program runs under the same uid. Without this it could open /proc/1/fd/3 and write a
    // forged status; a non-dumpable process's /proc entries are closed to other processes.
    sys(__NR_prctl, PR_SET_DUMPABLE, 0, 0, 0);
    // The program must not inherit the status pipe.
    sys(__NR_fcntl, STATUS_FD, F_SETFD_, FD_CLOEXEC_, 0);

    const char *adopt = "--adopt";
    int i = 0;
    while (argv[1][i] && argv[1][i] == adopt[i]) i++;
    if (argc == 3 && argv[1][i] == 0 && adopt[i] == 0) {
        long program = 0;
        for (const char *d = argv[2]; *d; d++) {
            if (*d < '0' || *d > '9') leave(127);
            program = program * 10 + (*d - '0');
        }
        // Closed to the program now: let it start.
        sys(__NR_close, START_FD, 0, 0, 0);
        reap_until(program);
    }

    // A plain fork (SIGCHLD only): this process is a few pages, so copying it is cheap, and the
    // child may safely return through this function's frame, unlike a vfork child.
#if defined(__NR_fork)
    long program = sys(__NR_fork, 0, 0, 0, 0);
#else
    long program = sys(__NR_clone, 17 /* SIGCHLD */, 0, 0, 0);
#endif
    if (program < 0) {
        record(RECORD_FORK_FAILED, (int32_t)-program);
        leave(126);
    }
    if (program == 0) {
        long err = sys(__NR_execve, (long)argv[1], (long)(argv + 1), (long)envp, 0);
        record(RECORD_EXEC_FAILED, (int32_t)-err);
        leave(127);
    }
    reap_until(program);
}

__attribute__((naked, noreturn)) void assay_init_start(void) { __asm__ volatile(ENTRY_TRAMPOLINE); }

// Never called (the entry point is assay_init_start); SwiftPM wants an executable to have one.
int main(void) { return 127; }
