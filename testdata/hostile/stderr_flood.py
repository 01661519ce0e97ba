# [sandbox-anchors #27] Flood stderr while stdout stays quiet (one line, then nothing).
import sys
print("quiet", flush=True)
chunk = "e" * 65536
while True:
    sys.stderr.write(chunk)
