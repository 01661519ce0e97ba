# The shell fork bomb :(){ :|:& };: (dash wants a word for a name, so it is spelled "bomb").
# The function spawns two copies of itself in the background and returns, so the main shell would
# finish at once: it waits instead, keeping the bomb inside the run until a limit ends it.
# Its "Cannot fork" messages would otherwise race the CPU limit to the stderr cap (OLE): silence
# them so the limit that ends the run is always the same one.
exec 2>/dev/null
bomb() { bomb | bomb & }
bomb
wait
sleep 30
