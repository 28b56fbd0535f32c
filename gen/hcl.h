/*
 * gen/hcl.h — a small writer for HCL in the canonical layout that
 * `terraform fmt` (hclwrite.Format) produces.
 *
 * The layout rules that matter, taken from hclwrite's formatter:
 *  - two spaces of indent per open bracket level;
 *  - in a run of consecutive lines that are each a complete one-line
 *    attribute (`key = value` with balanced brackets), the `=` signs are
 *    aligned one column after the longest key; any other line (a block
 *    header, a closing brace, a blank line, a comment, an attribute whose
 *    value opens a multi-line bracket) ends the run;
 *  - one space around `=`, none inside brackets, `{}` for empty blocks.
 * The writer buffers a run of attributes and aligns it when the run ends,
 * so callers just state attributes and blocks in order.
 */
#ifndef CG_HCL_H
#define CG_HCL_H

#include "util.h"

typedef struct cg_hcl_attr_line {
    char *key, *value;
} cg_hcl_attr_line;

typedef struct cg_hcl {
    cg_buf out;
    int indent;
    cg_hcl_attr_line *run;
    size_t nrun, caprun;
} cg_hcl;

/* `key = value` (value is an HCL expression, written verbatim). Keys must be
 * ASCII: alignment counts columns (hclwrite counts grapheme clusters), and
 * spec.c restricts every user-supplied key (tags, labels, ids) to ASCII. */
void cg_hcl_attr(cg_hcl *h, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* `key = "value"` with value quoted and escaped. */
void cg_hcl_attr_str(cg_hcl *h, const char *key, const char *value);
/* `header {` and one more indent level. header is e.g. `resource "x" "y"`
 * or `tags =` (then it opens an object expression). */
void cg_hcl_open(cg_hcl *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like cg_hcl_open but the caller gives the whole opening line, for
 * `type = map(object({` or `policy = jsonencode({`. */
void cg_hcl_open_line(cg_hcl *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the innermost level with closer ("}", "]", "}))", "})"). */
void cg_hcl_close(cg_hcl *h, const char *closer);
/* Ends a block with "}" and the blank line that separates it from what
 * follows: how every block but the last one at its level ends. */
void cg_hcl_end(cg_hcl *h);
/* A nested block holding one attribute (value verbatim), on three lines:
 * `header {`, `key = value`, `}`; e.g. `identity { type = ... }`. */
void cg_hcl_block1(cg_hcl *h, const char *header, const char *key, const char *value);
/* A raw line at the current indent (list items, for-expressions). */
void cg_hcl_line(cg_hcl *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cg_hcl_comment(cg_hcl *h, const char *text);
void cg_hcl_blank(cg_hcl *h);
/* `key {}`: an empty block (e.g. azurerm's `features {}`). */
void cg_hcl_empty_block(cg_hcl *h, const char *header);
/* Flushes and returns the text (malloc'd); the writer is reset. */
char *cg_hcl_finish(cg_hcl *h);

/* An HCL quoted string for s: escapes quotes, backslashes, control
 * characters, and the template openers ${ and %{. malloc'd. */
char *cg_hcl_quote(const char *s);
/* An object key: bare when it is a safe identifier, quoted otherwise. Used
 * for names the spec already restricts to identifiers (consumer names);
 * free-form keys (tags, labels, tenant ids) are always quoted. malloc'd. */
char *cg_hcl_key(const char *s);

#endif
