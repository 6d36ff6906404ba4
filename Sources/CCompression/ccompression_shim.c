#include "ccompression_shim.h"
