# A Python MemoryError caused by the memory limit. The program catches nothing: the traceback and
# exit status 1 would read as RE, but the cause is memory, so the verdict must be MLE.
# Each chunk is written (not calloc'ed zero pages), so the cgroup charges it at once.
chunks = []
while True:
    chunks.append(b"\x01" * (4 << 20))
