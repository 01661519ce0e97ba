import Glibc

extension Sandbox {
    /// What moving one process into a slot's cgroup costs after `idleMilliseconds` without any
    /// such move: the median over `samples` moves, in milliseconds (nil on a host without
    /// cgroups). Every box pays one such move when it joins its slot's cgroup.
    ///
    /// On cgroup v1, and on v2 without `favordynmods`, a move takes the kernel's global
    /// threadgroup lock for writing, which waits for an RCU grace period unless another move
    /// has just done so: a few milliseconds on an idle host, next to nothing under load. A
    /// hierarchy mounted with `favordynmods` removes that wait for every hierarchy. `assay bench
    /// startup` prints this, so its figures say which kind of host they came from.
    public func measureCgroupMigration(idleMilliseconds: Int, samples: Int) throws(SandboxError) -> Double? {
        let slot = try slots.acquire()
        defer { slots.release(slot) }
        guard let box = slot.cgroup, let test = slot.testCgroup else { return nil }
        // A process that does nothing, moved back and forth between the slot's two groups.
        var pid: pid_t = 0
        let argv = CStringArray(["/bin/sleep", "60"])
        let rc = argv.withPointers { posix_spawn(&pid, "/bin/sleep", nil, nil, $0, environ) }
        guard rc == 0 else { throw SandboxError(.hostSetupFailed, "cannot start /bin/sleep for the cgroup probe", errno: rc) }
        defer {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let text = String(pid)
        var times: [Double] = []
        for i in 0..<max(1, samples) {
            usleep(useconds_t(idleMilliseconds * 1000))
            let start = Shim.nowNanoseconds()
            for fd in (i % 2 == 0 ? box : test).procsFDs {
                if text.withCString({ pwrite(fd, $0, strlen($0), 0) }) < 0 {
                    throw SandboxError(.hostSetupFailed, "cannot move the cgroup probe's process", errno: errno)
                }
            }
            times.append(Double(Shim.nowNanoseconds() - start) / 1e6)
        }
        return times.sorted()[times.count / 2]
    }
}
