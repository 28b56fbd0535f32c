/*
 * gen/diff.h — line diffs in unified format, for `cellgen --check`.
 *
 * Myers' O(ND) algorithm on lines after trimming the common prefix and
 * suffix, so a one-line change in a 100,000-line file costs next to
 * nothing. When the files differ in more than CG_DIFF_MAX_EDIT lines the
 * search is abandoned and the differing middle is shown as one replaced
 * block: still a correct diff, just not a minimal one.
 */
#ifndef CG_DIFF_H
#define CG_DIFF_H

#include <stddef.h>

#include "util.h"

#define CG_DIFF_MAX_EDIT 4000
#define CG_DIFF_CONTEXT  3

/* Appends a unified diff of a (old) and b (new) to out, with ---/+++
 * headers naming label_a and label_b. Returns the number of changed lines
 * (deleted + inserted); 0 means the texts are equal and nothing is added. */
size_t cg_diff_unified(const char *a, size_t alen, const char *b, size_t blen,
                       const char *label_a, const char *label_b, cg_buf *out);

#endif
