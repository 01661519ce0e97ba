# [go-judge sanity "Stack Limit"] The stack rlimit the box sees, in KiB.
ulimit -s
