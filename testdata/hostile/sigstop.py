# [cms timeout-sigstop.cpp] Print the answer, then stop. The program is pid 1 of its pid
# namespace, and init ignores signals it sends itself that have no handler, so the stopping is
# done by a child (and a grandchild) while the main process waits for them: the run must still
# end by the wall clock, and the stopped processes must be reaped.
import os, signal
print("answer", flush=True)
pid = os.fork()
if pid == 0:
    if os.fork() == 0:
        while True:
            os.kill(os.getpid(), signal.SIGSTOP)
    while True:
        os.kill(os.getpid(), signal.SIGSTOP)
os.waitpid(pid, 0)
