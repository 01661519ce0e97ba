// [sandbox-anchors #23] mmap 100 GB with MAP_NORESERVE. Untouched, it costs nothing and the run
// is OK; with "touch" on stdin, every page is written until the memory cgroup stops it (MLE).
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
int main() {
    char mode[16] = "";
    if (scanf("%15s", mode) != 1) mode[0] = 0;
    size_t len = 100UL << 30;
    char *p = (char *)mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 2; }
    printf("mapped\n");
    fflush(stdout);
    if (strcmp(mode, "touch") == 0)
        for (size_t i = 0; i < len; i += 4096) p[i] = 1;
    return 0;
}
