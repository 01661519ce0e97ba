// [cms write-big-fileio.c] lseek to 2 GB and write one byte: past RLIMIT_FSIZE, so the kernel
// sends SIGXFSZ (C++ keeps the default action: the program dies) -> OLE. No sparse file survives.
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
int main() {
    int fd = open("/work/sparse", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 2; }
    if (lseek(fd, 2L << 30, SEEK_SET) < 0) { perror("lseek"); return 3; }
    ssize_t n = write(fd, "x", 1);
    perror("write");  // reached only if SIGXFSZ were ignored
    return n == 1 ? 0 : 4;
}
