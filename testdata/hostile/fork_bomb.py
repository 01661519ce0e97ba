# Classic fork bomb [engineer-man/piston tests/fork.py]. Every process forks until the pids
# cgroup refuses (BlockingIOError); the first refusal in the main process ends the run.
import os
while True:
    os.fork()
