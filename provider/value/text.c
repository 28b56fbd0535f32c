/*
 * value/text.c — JSON strings as go-cty writes them (Go's quoting), for
 * the type syntax (type.c) and the JSON codec (json.c), which write into a
 * common/tbuf.h buffer.
 *
 * The bottom of value/: calls nothing else in it.
 * May include: value/internal.h.
 */
#include <stdlib.h>
#include <string.h>

#include "value/internal.h"

/* Strings are escaped the way Go's encoding/json (hence go-cty) does: the
 * short forms for \n \r \t, \u00XX for other control bytes, and the
 * HTML-safe escapes for < > & and U+2028/U+2029, so our JSON (values and
 * type names alike) is the same bytes Terraform would write. */
char *cr_json_quote(const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case: every byte becomes \u00XX. */
    char *out = malloc(n * 6 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\'; *o++ = 'n';
        } else if (c == '\r') {
            *o++ = '\\'; *o++ = 'r';
        } else if (c == '\t') {
            *o++ = '\\'; *o++ = 't';
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80
                   && ((unsigned char)s[i + 2] & 0xfe) == 0xa8) {
            memcpy(o, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            i += 2;
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
