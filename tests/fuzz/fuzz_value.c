/*
 * tests/fuzz/fuzz_value.c — libFuzzer target for the cty value codecs.
 *
 * The first input byte picks what the rest is fed to: the msgpack decoder
 * (against one of a few schema-like types, dynamic included), the JSON
 * decoder, or the type-JSON parser. Beyond "no crash, no leak, no hang",
 * every successful decode must survive a round trip: encoding the value and
 * decoding the bytes again gives an equal value. Build and run with
 * tests/fuzz/run.sh (clang); the same file replays a corpus without
 * libFuzzer when built with -DCR_FUZZ_MAIN.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value/value.h"

#include "fuzz_types.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static void fuzz_msgpack(const uint8_t *d, size_t n, const cr_type *t)
{
    cr_diags diags = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_msgpack(d, n, t, &diags);
    check(!v == cr_diags_has_error(&diags));
    cr_diags_free(&diags);
    if (!v)
        return;
    void *out;
    size_t len;
    check(cr_value_encode_msgpack_as(v, t, &out, &len) == 0);
    cr_value *w = cr_value_decode_msgpack(out, len, t, &diags);
    check(w && !diags.len);
    check(cr_value_equal(v, w));
    /* Encoding is deterministic. */
    void *out2;
    size_t len2;
    check(cr_value_encode_msgpack_as(w, t, &out2, &len2) == 0);
    check(len == len2 && !memcmp(out, out2, len));
    free(out2);
    free(out);
    cr_value *c = cr_value_copy(v);
    check(c && cr_value_equal(c, v));
    cr_value_free(c);
    cr_value_free(w);
    cr_value_free(v);
}

static void fuzz_json(const uint8_t *d, size_t n, const cr_type *t)
{
    cr_diags diags = CR_DIAGS_INIT;
    cr_value *v = cr_value_decode_json((const char *)d, n, t, &diags);
    check(!v == cr_diags_has_error(&diags));
    cr_diags_free(&diags);
    if (!v)
        return;
    char *s = cr_value_encode_json_as(v, t);
    if (s) {
        cr_value *w = cr_value_decode_json(s, strlen(s), t, &diags);
        check(w && !diags.len);
        check(cr_value_equal(v, w));
        cr_value_free(w);
        free(s);
    }
    cr_value_free(v);
}

static void fuzz_type(const uint8_t *d, size_t n)
{
    char *err = NULL;
    cr_type *t = cr_type_from_json((const char *)d, n, &err);
    check(!t == !!err);
    free(err);
    if (!t)
        return;
    char *s = cr_type_to_json(t);
    check(s != NULL);
    cr_type *u = cr_type_from_json(s, strlen(s), &err);
    check(u && cr_type_equal(t, u));
    free(s);
    cr_type_free(u);
    cr_type_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const cr_type *t = fuzz_types[(sel >> 2) % FUZZ_NTYPES];
    switch (sel & 3) {
    case 0: case 1: fuzz_msgpack(data + 1, size - 1, t); break;
    case 2: fuzz_json(data + 1, size - 1, t); break;
    case 3: fuzz_type(data + 1, size - 1); break;
    }
    return 0;
}

#ifdef CR_FUZZ_MAIN
/* Corpus replay without libFuzzer: each argument is one input file. */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    return 0;
}
#endif
