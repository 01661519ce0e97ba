// procs.c: kill what a dead assay process left running with its uid block's uids.
//
// A box dies with the thread that started it (spawn.c sets a parent-death signal on its pid 1),
// but not if assay is killed between the clone and that prctl. Before a uid block is handed out
// again, every process still running with its uids is killed (StrayProcesses.swift).

#include "csandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

// 1 if /proc/<pid>/status names a live process (not a zombie) with a real uid in range.
static int live_in_range(int pid, uint32_t first, uint32_t last) {
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *state = strstr(buf, "\nState:\t");
    if (state && (state[8] == 'Z' || state[8] == 'X')) return 0;
    const char *uid = strstr(buf, "\nUid:\t");
    if (!uid) return 0;
    unsigned long real = strtoul(uid + 6, NULL, 10);
    return real >= first && real <= last;
}

int csandbox_kill_uid_range(uint32_t first_uid, uint32_t last_uid) {
    DIR *proc = opendir("/proc");
    if (!proc) return -errno;
    int found = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(entry->d_name, &end, 10);
        if (*end != 0 || pid <= 0) continue;
        if (!live_in_range((int)pid, first_uid, last_uid)) continue;
        // The pidfd pins this process; reading the uid again through its pid then cannot
        // describe a different process that reused the number.
        int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
        if (pidfd < 0) continue;
        if (live_in_range((int)pid, first_uid, last_uid)) {
            found++;
            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        }
        close(pidfd);
    }
    closedir(proc);
    return found;
}

int csandbox_pidfd_kill(int pidfd) {
    return syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 ? errno : 0;
}
