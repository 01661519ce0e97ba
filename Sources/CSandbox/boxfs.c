// boxfs.c: host-side operations on a box, and the small kernel objects a run is given.
//
// The box is a tmpfs the host mounts per run: its size and inode caps bound what a program can
// write, and unmounting it frees everything at once. After a run the box is sandbox-written
// territory, so every host access into it refuses symlinks (the Judge0 CVE-2024-28185 and
// go-judge #176 class) and anything that is not a regular file (a FIFO would block the host,
// /dev/zero would never end).

#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Sandbox.rlimits(for:hasCgroup:) names these by number (Swift's Glibc does not export them).
_Static_assert(RLIMIT_RSS == 5 && RLIMIT_MEMLOCK == 8 && RLIMIT_LOCKS == 10 && RLIMIT_SIGPENDING == 11 &&
               RLIMIT_NICE == 13 && RLIMIT_RTPRIO == 14 && RLIMIT_RTTIME == 15,
               "rlimit numbers differ on this platform");

int csandbox_box_mount(const char *path, uint64_t size_bytes, uint64_t inodes) {
    char opts[128];
    // mode=0755 root-owned: the program gets its own writable directories inside, made by the host.
    snprintf(opts, sizeof(opts), "size=%llu,nr_inodes=%llu,mode=0755",
             (unsigned long long)size_bytes, (unsigned long long)inodes);
    if (mount("assay-box", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) return errno;
    return 0;
}

int csandbox_box_unmount(const char *path) {
    // Lazy: a box namespace that is still being torn down may hold the mount a moment longer.
    if (umount2(path, MNT_DETACH) < 0) return errno;
    return 0;
}

int csandbox_open_beneath(int dirfd, const char *name) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    // O_NONBLOCK: opening a FIFO must not wait for a writer that will never come.
    how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
    if (fd < 0) return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

int csandbox_sealed_memfd(const uint8_t *data, size_t len) {
    // A memfd instead of a pipe: no writer thread, no deadlock with a program that never reads,
    // and the program may seek. Sealed, so it cannot be rewritten either.
    int fd = memfd_create("stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            return -e;
        }
        done += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    // Reopen read-only through /proc so the program's fd 0 cannot be written at all.
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    int e = errno;
    close(fd);
    return ro < 0 ? -e : ro;
}

unsigned long csandbox_box_clone_flags(void) {
    return CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
}

int csandbox_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) < 0 ? errno : 0; }

/*** Pooled network namespaces ***/

typedef struct {
    int fd;
    int err;
} netns_result;

static int netns_child(void *opaque) {
    // CLONE_FILES: this fd lands in the parent's table. CLONE_VM: the result is written
    // straight into the parent's memory. Raw syscalls only, as in spawn.c.
    netns_result *r = opaque;
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r->err = errno;
    } else {
        r->fd = (int)fd;
    }
    syscall(SYS_exit, 0);
    return 0;
}

int csandbox_netns_create(void) {
    // A new network namespace costs about 1 ms to create and is torn down asynchronously, so
    // the executor keeps one per concurrent slot. An empty namespace holds no state a run could
    // leave behind: only AF_UNIX sockets pass the seccomp filter and they die with their
    // processes, and without capabilities nothing (routes, sysctls) can be configured.
    enum { STACK = 64 * 1024 };
    void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -errno;
    netns_result r = {-1, 0};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(netns_child, (char *)stack + STACK,
                      CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWNET | SIGCHLD, &r);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, STACK);
    if (pid < 0) return -e;
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {}
    if (r.fd < 0) return -(r.err ? r.err : EIO);
    return r.fd;
}
