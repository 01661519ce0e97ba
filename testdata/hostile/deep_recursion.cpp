// [sandbox-anchors #25] 1e7 frames of recursion overflow the stack: SIGSEGV, a runtime error
// (RE), not MLE.
#include <cstdio>
volatile int sink;
int down(int n) {
    volatile char pad[256];
    pad[0] = (char)n;
    if (n == 0) return pad[0];
    int r = down(n - 1) + pad[0];
    sink = r;
    return r;
}
int main() {
    printf("%d\n", down(10000000));
    return 0;
}
