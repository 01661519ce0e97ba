# [issue 9 §2] Python opening /dev/stdout and /dev/stderr by name (common in judge solutions),
# and /dev/stdin.
with open("/dev/stdout", "w") as f:
    f.write("x\n")
with open("/dev/stderr", "w") as f:
    f.write("y\n")
with open("/dev/stdin") as f:
    print(f.read().strip())
