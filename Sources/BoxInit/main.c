// assay-box-init: pid 1 of every box.
//
// The first process of a pid namespace has init semantics: the kernel drops every signal it
// sends itself or receives from inside the namespace unless it installed a handler. A program
// running as pid 1 would therefore survive SIGXFSZ, SIGPIPE, SIGXCPU and abort()'s SIGABRT,
// and its verdicts would differ from a normal run. So this tiny static init takes pid 1 and the
// program runs as pid 2 with ordinary signal semantics. It also reaps orphans, and when the
// program ends it exits, which makes the kernel kill whatever the program left running.
//
// It runs after every restriction is in place (unprivileged uid, no capabilities, seccomp),
// with the supervisor's status pipe as fd 3. Records on that pipe (8 bytes each):
//   {1, wait status}  the program ended with this status
//   {2, errno}        execve of the program failed (an error of the caller, not a verdict)

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

enum { STATUS_FD = 3, RECORD_EXITED = 1, RECORD_EXEC_FAILED = 2 };

extern char **environ;

static void record(int32_t kind, int32_t value) {
    int32_t rec[2] = {kind, value};
    (void)!write(STATUS_FD, rec, sizeof(rec));
}

int main(int argc, char **argv) {
    if (argc < 2) return 127;
    // The program runs under the same uid. Without this it could open /proc/1/fd/3 and write a
    // forged status; a non-dumpable process's /proc entries are closed to other processes.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    // The program must not inherit the status pipe.
    fcntl(STATUS_FD, F_SETFD, FD_CLOEXEC);

    pid_t program = vfork();
    if (program < 0) return 126;
    if (program == 0) {
        execve(argv[1], argv + 1, environ);
        record(RECORD_EXEC_FAILED, errno);
        _exit(127);
    }
    for (;;) {
        int status;
        // Any child: orphans re-parented to pid 1 are reaped here too.
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == program) {
            record(RECORD_EXITED, status);
            return 0;
        }
        if (pid < 0 && errno != EINTR) return 126;
    }
}
