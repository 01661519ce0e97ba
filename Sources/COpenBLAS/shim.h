// The engine calls CBLAS straight from Swift; Debian's alternatives put cblas.h on the default include path.
#include <cblas.h>
