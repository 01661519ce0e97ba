// [QingdaoU/Judger child_proc_real_time_limit.c] The child sleeps, the parent waits: no CPU is
// used, so only the wall clock can end this (TLE wall), and the child must not survive.
#include <sys/wait.h>
#include <unistd.h>
int main() {
    pid_t pid = fork();
    if (pid == 0) { sleep(100); return 0; }
    int status;
    waitpid(pid, &status, 0);
    return 0;
}
