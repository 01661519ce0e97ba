# [DMOJ cpp_ole; piston runaway_output.py] Print forever.
import sys
chunk = "a" * 65536
while True:
    sys.stdout.write(chunk)
