# [issue 9 §2] What a box learns about the host's layout: /proc/self/mountinfo (each mount's root
# within its source filesystem: a bind from a host directory shows that directory's path) and
# /proc/self/cgroup (the cgroup path, which names assay's own cgroup). Prints one JSON object.
import json
with open("/proc/self/mountinfo") as f:
    mountinfo = f.read().splitlines()
with open("/proc/self/cgroup") as f:
    cgroup = f.read().splitlines()
print(json.dumps({"mountinfo": mountinfo, "cgroup": cgroup}))
