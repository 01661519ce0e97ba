# [piston tests/fallocate.py] Write 200 MB to the work dir. RLIMIT_FSIZE (16 MiB by default)
# stops it: CPython ignores SIGXFSZ at start-up, so write() fails with EFBIG, an uncaught
# OSError, exit 1 -> RE.
with open("/work/big", "wb") as f:
    for _ in range(200):
        f.write(b"\0" * (1 << 20))
        f.flush()
print("wrote 200 MB")
