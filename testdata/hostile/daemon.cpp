// Double fork + setsid: a daemon that outlives main. Main prints and exits 0 at once; the
// daemon keeps running, tries to write to stdout later and to a file. The verdict is main's (OK);
// the daemon must be dead when the run returns and its late output must not appear.
#include <cstdio>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
int main() {
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (fork() != 0) _exit(0);  // the intermediate parent exits: the grandchild is orphaned
        for (int i = 0; i < 100; i++) {
            usleep(100000);
            dprintf(1, "LATE %d\n", i);
            int fd = open("/tmp/daemon-was-here", O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) { dprintf(fd, "%d\n", i); close(fd); }
        }
        _exit(0);
    }
    waitpid(pid, nullptr, 0);
    printf("main done\n");
    return 0;
}
