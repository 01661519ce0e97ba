# [sandbox-anchors #27] Fill the stdout pipe without anyone reading (on a naive supervisor that
# reads stderr first this deadlocks), then flood stderr too.
import os
os.write(1, b"o" * (1 << 20))
while True:
    os.write(2, b"e" * 65536)
