// Umbrella header for the LAPACKE and CBLAS C interfaces (Debian: liblapacke-dev, libopenblas-dev).
#include <cblas.h>
#include <lapacke.h>
