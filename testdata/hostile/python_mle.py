# [DMOJ python_mle] Grow a list of ints until the memory cgroup stops the box (MLE, not RE).
x = []
while True:
    x.append(list(range(100000)))
