// [DMOJ cpp_compile_tle, cpp_compiler_ole; sandbox-anchors #38] Ten million tokens from a few
// macros: the compiler runs out of its own memory budget (the test gives it 128 MiB) before it finishes -> CE.
#define A x x x x x x x x x x
#define B A A A A A A A A A A
#define C B B B B B B B B B B
#define D C C C C C C C C C C
#define E D D D D D D D D D D
#define F E E E E E E E E E E
#define G F F F F F F F F F F
int main() { G }
