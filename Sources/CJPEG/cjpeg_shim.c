#include "cjpeg_shim.h"
#include <stdio.h>
#include <jpeglib.h>
int cjpeg_shim_version(void) { return JPEG_LIB_VERSION; }
