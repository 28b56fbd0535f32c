/*
 * common/utf8.h — strict UTF-8 and JSON's \u escapes, checked once for
 * every layer that reads text from outside (the value codecs, the stores).
 *
 * Strict means what Go, jansson and Terraform accept: no overlong forms,
 * no UTF-16 surrogates, nothing above U+10FFFF, no sequence cut short.
 */
#ifndef CR_UTF8_H
#define CR_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes the multi-byte sequence at p[0..n) (p[0] >= 0x80) into *cp: its
 * length, or 0 unless it is strict UTF-8. */
size_t cr_utf8_char(const unsigned char *p, size_t n, unsigned *cp);

/* True when s[0..n) is strict UTF-8 (ASCII checked eight bytes at a
 * time: most text is). */
bool cr_utf8_valid(const char *s, size_t n);

/* The offset in JSON text s[0..n) of the first \u escape that names half
 * of a UTF-16 surrogate pair without the other half (or U+0000, when
 * `nul_too`), or n when there is none. Parsers differ on such escapes
 * (yajl writes '?', Go U+FFFD, jansson refuses), so callers refuse them
 * before parsing. Escapes that are malformed are left to the parser. */
size_t cr_json_bad_escape(const char *s, size_t n, bool nul_too);

#endif
