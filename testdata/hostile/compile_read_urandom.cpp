// [QingdaoU gcc_random.c; sandbox-anchors #37] The compiler reads an endless file. The compile
// step runs sandboxed with its own limits: the compiler buffers the file until its memory limit
// stops it, and the program is CE (the compiler was stopped).
#include "/dev/urandom"
int main() {}
