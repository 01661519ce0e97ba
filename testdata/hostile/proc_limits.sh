# [issue 9 §2; nsjail, isolate] Every resource limit of a box process as the kernel reports it:
# none may be inherited from whatever started assay.
cat /proc/self/limits
