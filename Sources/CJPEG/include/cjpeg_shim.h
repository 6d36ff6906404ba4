#pragma once
int cjpeg_shim_version(void);
