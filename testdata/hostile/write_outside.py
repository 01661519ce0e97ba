# [cms write-forbidden-*.c; QingdaoU write_file_open*.c; sandbox-anchors #39, #40, #41] Write
# outside /work and /tmp: the source in /app, system dirs, /etc, /, /proc, /dev. Also run bytes
# the program wrote ([cms executing-output.c]): the writable mounts are noexec. One line each.
import errno, os, shutil, subprocess
targets = ["/app/main.py", "/app/new.txt", "/usr/bin/python3", "/usr/evil", "/etc/passwd", "/etc/evil",
           "/evil", "/dev/evil", "/dev/null.evil", "/proc/sys/kernel/hostname", "/proc/sysrq-trigger",
           "/sys/evil", "/lib/evil", "/.assay-init"]
for t in targets:
    try:
        fd = os.open(t, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"pwned")
        os.close(fd)
        print(t, "WRITTEN")
    except OSError as e:
        print(t, errno.errorcode[e.errno])
for op, fn in [("unlink /app/main.py", lambda: os.unlink("/app/main.py")),
               ("rename /app/main.py", lambda: os.rename("/app/main.py", "/work/x")),
               ("chmod /app/main.py", lambda: os.chmod("/app/main.py", 0o777)),
               ("mkdir /usr/x", lambda: os.mkdir("/usr/x")),
               ("sethostname", lambda: __import__("socket").sethostname("evil"))]:
    try:
        fn(); print(op, "DONE")
    except OSError as e:
        print(op, errno.errorcode[e.errno])
# Run a copy of /usr/bin/true from /work and from /tmp.
for d in ("/work", "/tmp", "/dev/shm"):
    shutil.copy("/usr/bin/true", d + "/t")
    os.chmod(d + "/t", 0o755)
    try:
        subprocess.run([d + "/t"], check=False)
        print("exec", d, "RAN")
    except OSError as e:
        print("exec", d, errno.errorcode[e.errno])
# /work itself is writable.
with open("/work/ok.txt", "w") as f:
    f.write("fine")
print("work writable")
