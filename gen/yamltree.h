/*
 * gen/yamltree.h — a YAML document as a tree of positioned nodes.
 *
 * libyaml's event parser feeds a small tree builder; every node keeps the
 * line and column where it starts so that the spec checker can point at the
 * exact place of each problem. The loader is the first line of defence
 * against hostile input: it refuses aliases (the "billion laughs" expansion
 * needs them, and a cell spec has no use for them), bounds nesting depth,
 * scalar size, value and document count, and reports duplicate mapping keys,
 * which YAML forbids but many parsers silently accept.
 */
#ifndef CG_YAMLTREE_H
#define CG_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define CG_YAML_MAX_DEPTH   64
#define CG_YAML_MAX_SCALAR  (1u << 20)      /* bytes in one scalar */
#define CG_YAML_MAX_INPUT   (256u << 20)    /* bytes in one spec file */
/* Values (scalars and collections) in one spec: a tree node costs ~100
 * bytes against as little as 4 bytes of YAML ("- a\n"), so the byte limit
 * alone would allow a 7 GB tree. 8M values is ~600,000 tenants. */
#define CG_YAML_MAX_NODES   (8u << 20)

typedef enum cg_ykind { CG_YSCALAR = 1, CG_YSEQ, CG_YMAP } cg_ykind;

typedef struct cg_ynode cg_ynode;
struct cg_ynode {
    cg_ykind kind;
    int line, col;          /* 1-based, where the node starts */
    /* CG_YSCALAR */
    char *str;              /* NUL-terminated; may contain no NUL itself */
    size_t len;
    bool plain;             /* plain (unquoted) style: YAML resolves its type */
    bool has_tag;           /* an explicit tag such as !!str was given */
    /* CG_YSEQ: items; CG_YMAP: keys[i] -> items[i] (keys are scalars) */
    cg_ynode **keys;
    cg_ynode **items;
    size_t n, cap;
};

/* Parses one YAML document. On success returns 0 and sets *root (NULL for
 * an empty document). On failure adds diagnostics to d and returns -1. */
int  cg_yaml_load(const char *text, size_t len, cg_ynode **root, cg_diags *d);
void cg_ynode_free(cg_ynode *n);

/* Value of key in a mapping, or NULL. */
const cg_ynode *cg_ymap_get(const cg_ynode *map, const char *key);

/* What a scalar means under the YAML 1.2 core schema (plain style only;
 * quoted scalars and explicitly tagged ones are always strings). */
typedef enum cg_yscalar_type {
    CG_YT_STRING = 1, CG_YT_NULL, CG_YT_BOOL, CG_YT_INT, CG_YT_FLOAT
} cg_yscalar_type;

cg_yscalar_type cg_yscalar_type_of(const cg_ynode *n);
const char *cg_ynode_describe(const cg_ynode *n);   /* "a string", "a list", ... */

#endif
