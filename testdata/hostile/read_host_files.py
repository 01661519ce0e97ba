# [sandbox-anchors #32, #36; go-judge sanity] Try to read host files: a sentinel the test wrote
# outside the box (paths on stdin), /etc/shadow, ~/.ssh, the daemon's state dir, /proc and /sys
# secrets, and the host through /proc/1/root and a symlink planted in /work. Prints one JSON
# object: what could be read, which pids /proc shows, the environment.
import json, os, sys
paths = [p for p in sys.stdin.read().split("\n") if p]
paths += ["/etc/shadow", "/etc/gshadow", "/root/.ssh/id_rsa", "/root/.bash_history", "/run/assay",
          "/proc/kcore", "/sys/firmware", "/proc/1/root/etc/shadow", "/var/run/docker.sock",
          "/sys/fs/cgroup", "/dev/sda", "/dev/mem"]
out = {"read": {}, "errors": {}}
def attempt(p):
    try:
        if os.path.isdir(p):
            out["read"][p] = "DIR " + ",".join(sorted(os.listdir(p))[:20])
        else:
            with open(p, "rb") as f:
                out["read"][p] = f.read(4096).decode("latin-1")
    except OSError as e:
        out["errors"][p] = e.strerror
for p in paths:
    attempt(p)
# A symlink in the writable work dir that points at each host path: it resolves inside the box.
for i, p in enumerate(paths[:4]):
    link = "/work/link%d" % i
    try:
        os.symlink(p, link)
    except OSError as e:
        out["errors"][link] = e.strerror
        continue
    attempt(link)
out["pids"] = sorted(int(d) for d in os.listdir("/proc") if d.isdigit())
with open("/proc/self/environ", "rb") as f:
    out["environ"] = sorted(x.decode() for x in f.read().split(b"\0") if x)
with open("/proc/1/cmdline", "rb") as f:
    out["cmdline1"] = f.read().decode().split("\0")
with open("/etc/passwd") as f:
    out["passwd_lines"] = len(f.read().splitlines())
out["etc"] = sorted(os.listdir("/etc"))
out["root"] = sorted(os.listdir("/"))
out["uid"] = os.getuid()
with open("/proc/self/status") as f:
    out["caps"] = [l.strip() for l in f if l.startswith("Cap")]
with open("/proc/self/mountinfo") as f:
    out["mounts"] = [l.split()[4] for l in f]
print(json.dumps(out))
