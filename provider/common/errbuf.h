/*
 * common/errbuf.h — reporting an error into a caller's fixed buffer.
 *
 * Lower layers that run before any diagnostic machinery exists (the
 * handshake, the gRPC server's set-up) report failures as text in a buffer
 * the caller owns, so reporting never allocates. cr_errbuf_set is the one
 * way they fill it.
 */
#ifndef CR_COMMON_ERRBUF_H
#define CR_COMMON_ERRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Formats into err (when non-NULL) and returns -1, so a failing function
 * can `return cr_errbuf_set(err, errlen, "...", ...);`. */
static inline int cr_errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline int cr_errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#endif
