/*
 * gen/template.h — the templates embedded in cellgen and the one rule that
 * fills them (gen/templates/README.md is the reference for template
 * authors).
 *
 * Every file cellgen writes is a template under gen/templates/, written in
 * its own language and compiled into the binary at build time (gen/embed.sh
 * turns each into a byte array; cellgen needs nothing beside it). The C
 * fills in only what the spec decides, as named values:
 *
 *   __name__   is replaced by the text of the value `name` (a lowercase
 *              name: letters, digits and single underscores). It must be a
 *              whole word: `Host__extensions__x` holds no hole. A value of
 *              several lines has its later lines indented like the line the
 *              hole is on.
 *   a line holding only a comment `for __list__` (`# for __cells__`,
 *   `// for __x__`, `<!-- for __x__ -->`) up to the comment line
 *   `end __list__` is written once per item of the list, with the item's
 *   values in scope before the enclosing ones; the two comment lines
 *   themselves are not written. A list of one or no items is a condition.
 *
 * Values are inserted verbatim: the C escapes them for where they go
 * (cg_hcl_escape inside an HCL string, cg_hcl_quote for a whole string).
 * A hole naming no value, a list used as a hole, a text used as a list, or
 * an unmatched for/end is an error naming the template and line.
 */
#ifndef CG_TEMPLATE_H
#define CG_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* One embedded template: its path under gen/templates/ ("root/main.tf")
 * and its bytes (NUL-terminated, len without the NUL). */
typedef struct cg_tpl {
    const char *path;
    const char *text;
    size_t len;
} cg_tpl;

/* Every embedded template, sorted by path (the build writes the table). */
extern const cg_tpl cg_tpl_all[];
extern const size_t cg_tpl_count;

/* A set of named values: texts and lists of item sets. Names are borrowed,
 * not copied: pass string literals. */
typedef struct cg_tpl_vars cg_tpl_vars;

cg_tpl_vars *cg_tpl_vars_new(void);
void cg_tpl_vars_free(cg_tpl_vars *v);
/* Sets name to a copy of text (a name is set once per set). */
void cg_tpl_set(cg_tpl_vars *v, const char *name, const char *text);
/* Sets name to text and takes ownership of it. */
void cg_tpl_set_owned(cg_tpl_vars *v, const char *name, char *text);
void cg_tpl_setf(cg_tpl_vars *v, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Declares the list name (empty until items are added). */
void cg_tpl_list(cg_tpl_vars *v, const char *name);
/* Appends an item to the list name, declaring it if needed, and returns
 * the item's own set of values (owned by v). */
cg_tpl_vars *cg_tpl_item(cg_tpl_vars *v, const char *name);
/* A list of one empty item when cond holds, of none otherwise: a block
 * written only when cond holds. */
void cg_tpl_when(cg_tpl_vars *v, const char *name, bool cond);

/* Renders t with v, appending to out. Returns 0, or -1 with a message
 * ("gen/templates/root/main.tf:12: no value for __x__") in *err. */
int cg_tpl_render(const cg_tpl *t, const cg_tpl_vars *v, cg_buf *out, char **err);

#endif
