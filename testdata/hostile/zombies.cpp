// Fork 1000 children that exit at once, never reap them, and exit. The zombies count against
// the pids limit, so fork soon fails (EAGAIN); the program still exits 0.
#include <cstdio>
#include <unistd.h>
int main() {
    int made = 0, refused = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid > 0) made++; else refused++;
    }
    printf("made %d refused %d\n", made, refused);
    return 0;
}
