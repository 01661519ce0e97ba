# [sandbox-anchors #24; piston tests/fallocate.py] Fill /tmp and /dev/shm (they share the box's
# tmpfs: the same directory) with 8 MiB files (each under RLIMIT_FSIZE) until the tmpfs size cap says ENOSPC.
i=0
while [ $i -lt 200 ]; do
  head -c 8388608 /dev/zero > /dev/shm/fill$i || { echo "shm full at $i"; break; }
  i=$((i+1))
done
j=0
while [ $j -lt 200 ]; do
  head -c 8388608 /dev/zero > /tmp/tfill$j || { echo "tmp full at $j"; exit 3; }
  j=$((j+1))
done
echo "never full"
