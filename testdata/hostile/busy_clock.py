# [DMOJ cpp_wall_clock/stall] Busy-wait on the clock for 10 s.
import time
end = time.monotonic() + 10
while time.monotonic() < end:
    pass
print("done")
