# [DMOJ isolate.py handle_prlimit] Try to raise every hard limit to infinity, and to change the
# limits of another process (its parent and pid 1, from a child). Each must fail with EPERM and leave the limit as
# it was. Prints one line per attempt.
import os, resource, sys
INF = resource.RLIM_INFINITY
names = ["RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_STACK", "RLIMIT_CORE"]
for name in names:
    r = getattr(resource, name)
    before = resource.getrlimit(r)
    try:
        resource.setrlimit(r, (INF, INF))
        outcome = "RAISED"
    except (ValueError, OSError) as e:
        outcome = "EPERM" if isinstance(e, ValueError) or getattr(e, "errno", 0) == 1 else "ERR%s" % e
    after = resource.getrlimit(r)
    # Raising the soft limit up to the hard limit is allowed; the hard limit must never rise.
    # RLIMIT_AS starts at infinity here (memory is a cgroup), so there is nothing to raise.
    if before[1] == INF:
        print(name, "unlimited-already", after == before)
    else:
        print(name, outcome, "unchanged" if after == before else "CHANGED %s -> %s" % (before, after))
# prlimit on another process: a child targets its parent.
sys.stdout.flush()
parent = os.getpid()
pid = os.fork()
if pid == 0:
    try:
        resource.prlimit(1, resource.RLIMIT_CPU, (INF, INF))
        print("prlimit-init RAISED", flush=True)
    except OSError as e:
        print("prlimit-init", "EPERM" if e.errno == 1 else e.errno, flush=True)
    try:
        resource.prlimit(parent, resource.RLIMIT_CPU, (INF, INF))
        print("prlimit-parent RAISED", flush=True)
    except OSError as e:
        print("prlimit-parent", "EPERM" if e.errno == 1 else e.errno, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("final-cpu", resource.getrlimit(resource.RLIMIT_CPU))
