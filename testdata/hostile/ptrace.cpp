// [sandbox-anchors #10] ptrace another process (a child, and the box's pid 1), PTRACE_TRACEME, and
// process_vm_readv of pid 1. The seccomp deny-list answers EPERM to each; prints one line each.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
static const char *err(long rc) { return rc == -1 ? strerrorname_np(errno) : "OK"; }
int main() {
    fflush(stdout);
    pid_t victim = fork();
    if (victim == 0) { pause(); _exit(0); }
    printf("attach-child %s\n", err(ptrace(PTRACE_ATTACH, victim, nullptr, nullptr)));
    printf("seize-child %s\n", err(ptrace(PTRACE_SEIZE, victim, nullptr, nullptr)));
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        printf("attach-init %s\n", err(ptrace(PTRACE_ATTACH, 1, nullptr, nullptr)));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, nullptr, 0);
    printf("traceme %s\n", err(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)));
    char buf[16], remote[16] = "secret";
    struct iovec local = {buf, sizeof buf}, rem = {remote, sizeof remote};
    printf("process_vm_readv %s\n", err(process_vm_readv(victim, &local, 1, &rem, 1, 0)));
    kill(victim, SIGKILL);
    waitpid(victim, nullptr, 0);
    return 0;
}
