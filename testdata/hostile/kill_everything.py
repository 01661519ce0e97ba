# [DMOJ sandbox_nasm64_kill_judge; go-judge sanity "Signal Check"] Try to kill the judge and
# everything else: the parent (there is none visible: ppid 0), pid 1 (itself, from a child),
# and kill(-1, SIGKILL). Only the box's own processes may die.
import os, signal, time
# The judge is outside the pid namespace: the parent is the box's init (pid 1) or, when the
# program is init itself, nothing (ppid 0).
me = os.getpid()
print("uid", os.getuid(), flush=True)
print("ppid-inside-box", os.getppid() in (0, 1), flush=True)
# DMOJ's judge-killer: kill(getppid(), SIGXCPU). It reaches at most the box's init, which
# ignores signals from inside its namespace that it has no handler for.
os.kill(os.getppid(), signal.SIGXCPU)
time.sleep(0.05)
print("after-sigxcpu-to-ppid alive", flush=True)
# A child tries to kill init (pid 1): ignored inside the namespace.
c = os.fork()
if c == 0:
    try:
        os.kill(1, signal.SIGKILL); os.kill(1, signal.SIGTERM); os.kill(1, signal.SIGINT)
        print("child-kill-1 sent", flush=True)
    except OSError as e:
        print("child-kill-1", e.errno, flush=True)
    os._exit(0)
os.waitpid(c, 0)
time.sleep(0.1)
print("init survived", flush=True)
# Guess host pids: none exist in this namespace (only init and this program).
hits = 0
for pid in range(1, 4000):
    if pid in (1, me):
        continue
    try:
        os.kill(pid, 0); hits += 1
    except OSError:
        pass
print("visible-foreign-pids", hits, flush=True)
# kill(-1): every process this one may signal, except itself.
victim = os.fork()
if victim == 0:
    time.sleep(30)
    os._exit(0)
os.kill(-1, signal.SIGKILL)
_, status = os.waitpid(victim, 0)
print("own child killed", os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, flush=True)
print("done")
