# [DMOJ py2_tle; cms timeout-cputime] Burn CPU forever.
print("answer", flush=True)
while True:
    pass
