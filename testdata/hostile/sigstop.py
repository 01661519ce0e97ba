# [cms timeout-sigstop.cpp] Print the answer, then stop. "self" (stdin): the program stops
# itself in a loop, as the cms program does. Otherwise a child and a grandchild stop themselves
# while the program waits for them. Either way nothing uses CPU: the run must end by the wall
# clock, and the stopped processes must be killed and reaped.
import os, signal, sys
print("answer", flush=True)
if sys.stdin.read().strip() == "self":
    while True:
        os.kill(os.getpid(), signal.SIGSTOP)
pid = os.fork()
if pid == 0:
    if os.fork() == 0:
        while True:
            os.kill(os.getpid(), signal.SIGSTOP)
    while True:
        os.kill(os.getpid(), signal.SIGSTOP)
os.waitpid(pid, 0)
