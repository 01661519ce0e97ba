// [DMOJ c_signal_ir/signal.c] Ignore SIGXCPU, SIGTERM, SIGVTALRM, SIGINT, SIGHUP, then spin. The
// limit must still hold: the supervisor kills with SIGKILL, which cannot be ignored.
#include <csignal>
#include <initializer_list>
int main() {
    for (int s : {SIGXCPU, SIGTERM, SIGVTALRM, SIGINT, SIGHUP, SIGALRM, SIGUSR1})
        signal(s, SIG_IGN);
    for (volatile unsigned long i = 0;; i++) {}
}
