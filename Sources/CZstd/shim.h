#ifndef STACKC_CZSTD_SHIM_H
#define STACKC_CZSTD_SHIM_H
#include <zstd.h>
#endif
