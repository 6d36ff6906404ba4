#pragma once
#include <zlib.h>
#include <snappy-c.h>
#include <zstd.h>
