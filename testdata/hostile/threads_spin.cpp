// [sandbox-anchors #17] 8 threads spin until each has used 0.4 s of its own CPU: 3.2 s in all.
// No thread alone passes a 0.5 s CPU limit; only the sum over threads (cgroup accounting) does,
// so this is TLE by CPU. The spin is counted in CPU, not wall time, so a busy host that gives
// the box less than its cores slows the program down but cannot let it finish under the limit.
#include <thread>
#include <time.h>
#include <vector>
static double threadCPUSeconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
int main() {
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; i++)
        ts.emplace_back([] {
            while (threadCPUSeconds() < 0.4) {}
        });
    for (auto &t : ts) t.join();
    return 0;
}
