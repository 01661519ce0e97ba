// [QingdaoU memory1.c] malloc 80 MB (or more, from stdin in MiB) and touch every page,
// under a 64 MiB limit: the cgroup OOM-kills the box (MLE).
#include <cstdio>
#include <cstdlib>
#include <cstring>
int main() {
    long mib = 80;
    if (scanf("%ld", &mib) != 1) mib = 80;
    char *p = (char *)malloc(mib << 20);
    if (!p) return 1;
    memset(p, 1, mib << 20);
    printf("%d\n", p[12345]);
    return 0;
}
