// zlib (Debian: zlib1g-dev), used by the tests to decode the PNGs that real renderers draw.
#include <zlib.h>
