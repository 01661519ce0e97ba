# The shell fork bomb :(){ :|:& };: (dash wants a word for a name, so it is spelled "bomb").
# The function spawns two copies of itself in the background and returns, so the main shell would
# finish at once. It spins instead, on builtins only: a fork of its own (`sleep`, say) can find the
# pids cgroup already full, and dash exits 2 on "Cannot fork", which would make the verdict a race
# between the bomb and the main shell. Spinning keeps the bomb inside the run until the CPU limit
# ends it, whatever the pids limit refuses.
# For the same reason the bomb starts in one background subshell: the main shell forks once, while
# the group is still empty. Called from the main shell, `bomb | bomb &` forks both halves of the
# pipeline there, and the first half's descendants could fill the group before the second fork
# (seen once under a loaded full test run: exit 2 after 27 ms).
# Its "Cannot fork" messages would otherwise race the CPU limit to the stderr cap (OLE): silence
# them so the limit that ends the run is always the same one.
exec 2>/dev/null
bomb() { bomb | bomb & }
{ bomb; } &
while :; do :; done
