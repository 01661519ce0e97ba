// [QingdaoU memory3.c; cms oom-static.c; DMOJ c_failinit] A 400 MB static array, touched.
#include <cstdio>
static char big[400 << 20];
int main() {
    for (long i = 0; i < (long)sizeof big; i += 4096) big[i] = 1;
    printf("%d\n", big[4096]);
    return 0;
}
