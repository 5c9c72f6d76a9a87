#ifndef CONFAB_CLIBUV_SHIM_H
#define CONFAB_CLIBUV_SHIM_H
#include <uv.h>
#endif
