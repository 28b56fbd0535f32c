/*
 * common/diag.h — diagnostics and attribute paths, the provider's way of
 * saying what is wrong.
 *
 * A diagnostic is what Terraform shows the user: a severity, a one-line
 * summary, a detail paragraph and, when it is about one value, the path of
 * that value in the configuration, so Terraform points at the expression.
 * Every failure that reaches Terraform is a diagnostic; the rpc layer turns
 * them into tfplugin6.Diagnostic messages.
 */
#ifndef CR_COMMON_DIAG_H
#define CR_COMMON_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cr_path_step_kind {
    CR_STEP_ATTR = 1,   /* attribute or block type name */
    CR_STEP_KEY,        /* map key, MAP block label */
    CR_STEP_INDEX       /* list or tuple index */
} cr_path_step_kind;

typedef struct cr_path_step {
    cr_path_step_kind kind;
    char *name;         /* ATTR and KEY; owned */
    int64_t index;      /* INDEX */
} cr_path_step;

/* A path owns its steps. The empty path (len 0) means "the whole block". */
typedef struct cr_path {
    size_t len, cap;
    cr_path_step *steps;
} cr_path;

int  cr_path_push_attr(cr_path *p, const char *name);   /* 0 or -1 (ENOMEM) */
int  cr_path_push_key(cr_path *p, const char *key);
int  cr_path_push_index(cr_path *p, int64_t index);
void cr_path_pop(cr_path *p);
int  cr_path_copy(cr_path *dst, const cr_path *src);    /* dst uninitialised */
void cr_path_free(cr_path *p);
/* "labels[\"team\"]" style rendering for logs and tool output; malloc'd. */
char *cr_path_format(const cr_path *p);

typedef enum cr_diag_severity {
    CR_DIAG_ERROR = 1,
    CR_DIAG_WARNING = 2
} cr_diag_severity;

typedef struct cr_diag {
    cr_diag_severity severity;
    char *summary;      /* owned */
    char *detail;       /* owned, may be NULL */
    cr_path path;       /* owned; len 0 = no attribute */
} cr_diag;

typedef struct cr_diags {
    size_t len, cap;
    cr_diag *items;
} cr_diags;

#define CR_DIAGS_INIT {0, 0, NULL}

/* Adds a diagnostic; `path` may be NULL and is copied. The detail is a
 * printf format. Allocation failure degrades to a fixed "out of memory"
 * diagnostic, so callers never check. */
void cr_diags_add(cr_diags *d, cr_diag_severity sev, const cr_path *path,
                  const char *summary, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define cr_diags_error(d, path, summary, ...) \
    cr_diags_add((d), CR_DIAG_ERROR, (path), (summary), __VA_ARGS__)
/* Convenience: an error about one top-level attribute. */
void cr_diags_attr_error(cr_diags *d, const char *attr, const char *summary,
                         const char *detail_fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool cr_diags_has_error(const cr_diags *d);
/* Moves every diagnostic of src to the end of dst; src is left empty. */
void cr_diags_move(cr_diags *dst, cr_diags *src);
void cr_diags_free(cr_diags *d);

#endif
