// OpenBLAS's CBLAS interface (Debian: libopenblas-dev installs it as <cblas.h>),
// including openblas_set_num_threads / openblas_get_num_threads.
#include <cblas.h>
