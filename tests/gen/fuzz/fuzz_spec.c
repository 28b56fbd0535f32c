/*
 * tests/gen/fuzz/fuzz_spec.c — libFuzzer target: any bytes as a cell spec.
 * A spec either yields diagnostics or a model that renders every file;
 * neither path may crash, leak or hang. Run with tests/gen/fuzz/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "generate.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cg_spec s;
    cg_diags d = {0};
    if (cg_spec_load((const char *)data, size, &s, &d) == 0) {
        cg_gen_opts o = { "fuzz.yaml", "out/root", "out/modules", NULL, NULL };
        cg_fileset fs = {0};
        char *err = NULL;
        if (cg_generate(&s, &o, &fs, &err) != 0) free(err);
        cg_fileset_free(&fs);
        cg_spec_free(&s);
    }
    cg_diags_free(&d);
    return 0;
}
