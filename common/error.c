/*
 * Messages and names for the LUX_E* codes, generated from LUX_ERROR_MAP so the
 * enum and the text can never drift apart.
 */
#include "error.h"

#include <errno.h>

const char *lux_strerror(int code)
{
    switch (code) {
#define LUX_ERROR_MSG(name, value, msg)                                                            \
    case value:                                                                                    \
        return msg;
        LUX_ERROR_MAP(LUX_ERROR_MSG)
#undef LUX_ERROR_MSG
    }
    return "unknown error";
}

const char *lux_errname(int code)
{
    switch (code) {
#define LUX_ERROR_NAME(name, value, msg)                                                           \
    case value:                                                                                    \
        return "LUX_E" #name;
        LUX_ERROR_MAP(LUX_ERROR_NAME)
#undef LUX_ERROR_NAME
    }
    return "LUX_E?";
}

int lux_error_from_errno(int err)
{
    switch (err) {
    case 0:
        return LUX_EOK;
    case ENOMEM:
        return LUX_ENOMEM;
    case EINVAL:
        return LUX_EINVAL;
    case ENOENT:
        return LUX_ENOENT;
    case EEXIST:
        return LUX_EEXIST;
    case ETIMEDOUT:
        return LUX_ETIMEDOUT;
    case EAGAIN:
        return LUX_EAGAIN;
    case EINTR:
        return LUX_EINTERRUPTED;
    case EBUSY:
        return LUX_EBUSY;
    case ERANGE:
        return LUX_ERANGE;
    case EPIPE:
    case ECONNRESET:
        return LUX_ECLOSED;
    case ENOSPC:
    case EDQUOT:
        return LUX_ENOSPC;
    case EIO:
        return LUX_EIO;
    case EACCES:
    case EPERM:
        return LUX_EACCESS;
    default:
        return LUX_ESYS;
    }
}
