// [sandbox-anchors #17] 8 threads spin for 1 s of wall time each: 2+ cores of CPU per wall
// second. The CPU limit counts the sum over threads (cgroup accounting), so this is TLE by CPU.
#include <chrono>
#include <thread>
#include <vector>
int main() {
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; i++)
        ts.emplace_back([] {
            auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            while (std::chrono::steady_clock::now() < end) {}
        });
    for (auto &t : ts) t.join();
    return 0;
}
