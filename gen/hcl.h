/*
 * gen/hcl.h — HCL text: the literals the spec's values become, and the
 * alignment pass that gives a rendered .tf file the layout `terraform fmt`
 * (hclwrite.Format) writes.
 *
 * The Terraform itself is written by hand in gen/templates/ (template.h);
 * what C still writes are values: quoted strings, object keys, and objects
 * of strings (tags, labels). A value changes the width of the line it lands
 * on, so after substitution cg_hcl_align lines the `=` signs up again by
 * hclwrite's rule:
 *  - a line is "an attribute" when its first `=` (not `==`, `=>`, `!=`,
 *    `<=`, `>=`, and not in a string or comment) follows at least one token
 *    and the brackets after it balance on that line (`x = {` opens a
 *    multi-line value and is not one);
 *  - in a run of consecutive attribute lines, every `=` stands one column
 *    after the longest key (keys count in columns: cellgen's keys are ASCII,
 *    see cg_hcl_key); any other line ends the run;
 *  - a line with an `=` that is not an attribute gets exactly one space
 *    before it.
 * Heredocs and multi-line block comments belong to the line they start on,
 * as in hclwrite. Trailing comments after an attribute are not realigned
 * (hclwrite aligns those too): templates do not use them, and the format
 * checks of the tests would show one.
 */
#ifndef CG_HCL_H
#define CG_HCL_H

#include "spec.h"
#include "util.h"

/* An HCL quoted string for s: escapes quotes, backslashes, control
 * characters, and the template openers ${ and %{. malloc'd. */
char *cg_hcl_quote(const char *s);
/* The same without the surrounding quotes: s as the content of an HCL
 * string, for a value that fills a hole inside quotes. malloc'd. */
char *cg_hcl_escape(const char *s);
/* An object key: bare when it is a safe identifier, quoted otherwise. Used
 * for names the spec already restricts to identifiers (consumer names);
 * free-form keys (tags, labels, tenant ids) are always quoted. malloc'd. */
char *cg_hcl_key(const char *s);
/* An object of strings: `{}` when empty, else one `key = "value"` line per
 * entry between `{` and `}`, unindented and unaligned (the template engine
 * indents a multi-line value, cg_hcl_align aligns it). Keys are quoted when
 * quote_keys, else written by cg_hcl_key. malloc'd. */
char *cg_hcl_object(const cg_kvlist *kv, bool quote_keys);

/* Realigns the `=` of every attribute line in text[0..len) by the rules
 * above, appending the result to out. */
void cg_hcl_align(const char *text, size_t len, cg_buf *out);

#endif
