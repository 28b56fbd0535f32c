/*
 * common/utf8.c — strict UTF-8 and JSON \u escapes (see utf8.h).
 */
#include "common/utf8.h"

#include <stdint.h>
#include <string.h>

size_t cr_utf8_char(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = n ? p[0] : 0, len;
    if (c >= 0xc2 && c <= 0xdf) { *cp = c & 0x1f; len = 1; }
    else if (c >= 0xe0 && c <= 0xef) { *cp = c & 0x0f; len = 2; }
    else if (c >= 0xf0 && c <= 0xf4) { *cp = c & 0x07; len = 3; }
    else return 0;
    if (len >= n)
        return 0;
    for (unsigned i = 1; i <= len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 2 && *cp < 0x800) || (len == 3 && *cp < 0x10000) ||
        *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len + 1;
}

bool cr_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080u)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        unsigned cp;
        size_t len = cr_utf8_char(p, (size_t)(end - p), &cp);
        if (!len)
            return false;
        p += len;
    }
    return true;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

size_t cr_json_bad_escape(const char *s, size_t n, bool nul_too)
{
    /* Backslashes only occur inside strings in valid JSON (a parser
     * rejects any other), so jumping from one to the next with memchr
     * visits every escape and costs next to nothing on text without. */
    const char *p = s, *end = s + n;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p < 2)
            break;
        if (p[1] != 'u') {
            p += 2;                 /* \" \\ \n ...: skip the pair */
            continue;
        }
        unsigned u;
        if (end - p < 6 || hex4(p + 2, &u) < 0) {
            p += 2;                 /* malformed: the parser says so */
            continue;
        }
        if ((u == 0 && nul_too) || (u >= 0xdc00 && u <= 0xdfff))
            return (size_t)(p - s);
        if (u >= 0xd800 && u <= 0xdbff) {
            unsigned lo;
            if (end - p < 12 || p[6] != '\\' || p[7] != 'u'
                || hex4(p + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                return (size_t)(p - s);
            p += 12;
            continue;
        }
        p += 6;
    }
    return n;
}
