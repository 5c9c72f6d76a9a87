#ifndef CONFAB_CHIREDIS_SHIM_H
#define CONFAB_CHIREDIS_SHIM_H
#include "../CLibUV/shim.h"
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#endif
