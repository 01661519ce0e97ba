// [QingdaoU/Judger child_proc_cpu_time_limit.c] The child burns CPU while the parent only waits:
// the CPU limit counts the whole process tree, so this is TLE by CPU.
#include <sys/wait.h>
#include <unistd.h>
int main() {
    pid_t pid = fork();
    if (pid == 0) { for (volatile unsigned long i = 0;; i++) {} }
    int status;
    waitpid(pid, &status, 0);
    return 0;
}
