/*
 * tests/fuzz/fuzz_types.h — the types the fuzz inputs are decoded against.
 *
 * Shared by the libFuzzer target and the go-cty differential driver so a
 * corpus file means the same thing to both: its first byte's upper six bits
 * pick one of these types.
 */
#ifndef CR_FUZZ_TYPES_H
#define CR_FUZZ_TYPES_H

#include "value/value.h"

static const cr_type t_map_str = { .kind = CR_TYPE_MAP, .elem = &cr_type_string };
static const cr_type t_set_num = { .kind = CR_TYPE_SET, .elem = &cr_type_number };
static const cr_type t_list_dyn = { .kind = CR_TYPE_LIST, .elem = &cr_type_dynamic };
static const cr_type_attr tup_attrs[] = {
    { .type = &cr_type_bool }, { .type = &t_set_num },
};
static const cr_type t_tuple = { .kind = CR_TYPE_TUPLE, .nattrs = 2,
                                 .attrs = tup_attrs };
static const cr_type_attr obj_attrs[] = {
    { "a", &cr_type_string }, { "b", &t_map_str }, { "c", &cr_type_number },
    { "d", &t_list_dyn }, { "e", &t_tuple },
};
static const cr_type t_obj = { .kind = CR_TYPE_OBJECT, .nattrs = 5,
                               .attrs = obj_attrs };
static const cr_type *const fuzz_types[] = {
    &cr_type_string, &cr_type_number, &cr_type_bool, &cr_type_dynamic,
    &t_map_str, &t_set_num, &t_list_dyn, &t_tuple, &t_obj,
};
#define FUZZ_NTYPES (sizeof fuzz_types / sizeof fuzz_types[0])

#endif
