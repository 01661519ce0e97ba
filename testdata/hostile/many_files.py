# [sandbox-anchors #30] Create 100k empty files: the tmpfs inode cap (4096 by default) answers
# ENOSPC long before. The first run creates; the next run counts what it sees.
import os, sys
if sys.stdin.read().strip() == "count":
    print("work", len(os.listdir("/work")), "tmp", len(os.listdir("/tmp")))
    sys.exit(0)
for i in range(100000):
    open("/work/f%06d" % i, "w").close()
