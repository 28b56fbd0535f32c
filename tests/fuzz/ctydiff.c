/*
 * tests/fuzz/ctydiff.c — differential test of the value codecs against
 * go-cty (the library Terraform uses), driven by tests/fuzz/diff.sh.
 *
 *   ctydiff emit FILE...        one request line per fuzz-corpus file
 *   ctydiff check REQ RESP      compare our codec with go-cty's answers
 *
 * A corpus file is read the way fuzz_value.c reads it (first byte: mode and
 * type). For each request both sides decode; when both accept, go-cty's
 * re-encoding must decode (with our codec) to a value equal to ours, and
 * for types without sets our encoding must be byte-identical to go-cty's.
 * Inputs only one side accepts are counted and printed, for a human to
 * judge: several are deliberate (see the summary printed at the end).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value/internal.h"

#include "fuzz_types.h"

static void put_hex(FILE *f, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
}

static size_t unhex(const char *s, unsigned char *out)
{
    size_t n = 0;
    for (; s[0] && s[1] && s[0] != '\n' && s[0] != ' '; s += 2) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            break;
        out[n++] = (unsigned char)v;
    }
    return n;
}

static int emit(int argc, char **argv)
{
    static unsigned char buf[1 << 16];
    for (int i = 0; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (n < 1 || (buf[0] & 3) == 3)
            continue;
        const cr_type *t = fuzz_types[(buf[0] >> 2) % FUZZ_NTYPES];
        char *tj = cr_type_to_json(t);
        printf("%c\t%s\t", (buf[0] & 3) == 2 ? 'j' : 'm', tj);
        put_hex(stdout, buf + 1, n - 1);
        putchar('\n');
        free(tj);
    }
    return 0;
}

static bool has_set(const cr_type *t)
{
    if (!t)
        return false;
    if (t->kind == CR_TYPE_SET)
        return true;
    if (has_set(t->elem))
        return true;
    for (size_t i = 0; i < t->nattrs; i++)
        if (has_set(t->attrs[i].type))
            return true;
    return false;
}

/* go-cty's ["tuple",null] spelling of an empty tuple type, in hex, in
 * either the msgpack or the JSON answer. */
static bool nil_tuple_json(const char *resp)
{
    return strstr(resp, "5b227475706c65222c6e756c6c5d") != NULL;
}

/* True when a msgpack input is, at its root, an ext 12 (refined unknown). */
static bool refined_root(char mode, const unsigned char *in, size_t n)
{
    if (mode != 'm' || n < 2)
        return false;
    size_t at = in[0] >= 0xd4 && in[0] <= 0xd8 ? 1
              : in[0] == 0xc7 ? 2 : in[0] == 0xc8 ? 3 : in[0] == 0xc9 ? 5 : 0;
    return at && at < n && in[at] == 0x0c;
}

/* True when pred holds for v or for any value inside it (collection and
 * structural elements, at any depth). */
static bool any_in_value(const cr_value *v, bool (*pred)(const cr_value *))
{
    if (!v)
        return false;
    if (pred(v))
        return true;
    switch (v->kind) {
    case CR_LIST: case CR_SET: case CR_MAP: case CR_OBJECT: case CR_TUPLE:
        for (size_t i = 0; i < v->u.coll.len; i++)
            if (any_in_value(v->u.coll.items[i], pred))
                return true;
        return false;
    default:
        return false;
    }
}

/* Sets have no defined wire order, so byte comparison skips any value
 * that holds one, including inside dynamic values. */
static bool typed_with_set(const cr_value *v)
{
    return has_set(v->type);
}

static bool value_has_set(const cr_value *v)
{
    return any_in_value(v, typed_with_set);
}

/* Decimal digits of a number's canonical text, exponent left out. */
static size_t significant_digits(const cr_value *num)
{
    size_t digits = 0;
    for (const char *p = num->u.num.text; *p && *p != 'e'; p++)
        digits += *p >= '0' && *p <= '9';
    return digits;
}

/* Numbers on which go-cty itself is not exact, so only a human can judge
 * a disagreement (counted as "known", not as mismatches):
 *  - an integer beyond int64 that a double holds: go-cty before 1.13
 *    (Debian ships 1.12) writes it as a float64, later ones as the
 *    *shortest* digits of the double, which re-read as a different
 *    number; we write its exact digits;
 *  - more significant digits than go-cty's 512-bit mantissa keeps (about
 *    154): go-cty rounds them, we keep them. */
static bool number_inexact_in_go_cty(const cr_value *v)
{
    return v->kind == CR_NUMBER
        && (significant_digits(v) > 150
            || (!v->u.num.is_int && cr_num_is_integer(v)
                && cr_num_exact_double(v, NULL)));
}

static bool inexact_in_go_cty(const cr_value *v)
{
    return any_in_value(v, number_inexact_in_go_cty);
}

/* go-cty's JSON writes a number that came from a float64 as the shortest
 * decimal that reads back as the same double ("0.1"); we write the
 * double's exact value (0.1000000000000000055511151231257827...), which is
 * the number cty holds. Values with such numbers skip the JSON byte check. */
static bool number_is_long_double(const cr_value *v)
{
    return v->kind == CR_NUMBER && significant_digits(v) > 17
        && cr_num_exact_double(v, NULL);
}

static bool has_long_double(const cr_value *v)
{
    return any_in_value(v, number_is_long_double);
}

static int check(const char *reqpath, const char *resppath)
{
    FILE *rq = fopen(reqpath, "r"), *rs = fopen(resppath, "r");
    if (!rq || !rs) {
        perror("open");
        return 2;
    }
    /* getline: go-cty writes huge exponents as plain digits, so one
     * answer line can be far longer than any request. */
    char *req = NULL, *resp = NULL;
    size_t reqcap = 0, respcap = 0;
    unsigned total = 0, both = 0, only_us = 0, only_ref = 0, bad = 0, known = 0;
    unsigned inexact = 0;
    while (getline(&req, &reqcap, rq) > 0 && getline(&resp, &respcap, rs) > 0) {
        total++;
        req[strcspn(req, "\n")] = '\0';
        unsigned char *in = malloc(strlen(req) / 2 + 1);
        unsigned char *ref = malloc(strlen(resp) / 2 + 1);
        char *tab1 = strchr(req, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        char *err = NULL;
        cr_type *t = NULL;
        if (tab2) {
            *tab2 = '\0';
            t = cr_type_from_json(tab1 + 1, strlen(tab1 + 1), &err);
        }
        if (!t) {
            free(err);
            free(in);
            free(ref);
            continue;
        }
        size_t n = unhex(tab2 + 1, in);
        cr_diags d = CR_DIAGS_INIT;
        cr_value *v = req[0] == 'j'
            ? cr_value_decode_json((const char *)in, n, t, &d)
            : cr_value_decode_msgpack(in, n, t, &d);
        bool ref_ok = !strncmp(resp, "OK", 2);
        resp[strcspn(resp, "\n")] = '\0';
        if (v && ref_ok) {
            both++;
            size_t rn = unhex(resp + 3, ref);
            /* The optional third field: go-cty's JSON for known values. */
            const char *jhex = strchr(resp + 3, ' ');
            bool json_ok = true;
            if (jhex && !has_set(t) && !value_has_set(v) && !nil_tuple_json(resp)
                && !inexact_in_go_cty(v) && !has_long_double(v)) {
                unsigned char *jref = malloc(strlen(jhex) / 2 + 1);
                size_t jn = unhex(jhex + 1, jref);
                char *ours_js = cr_value_encode_json_as(v, t);
                json_ok = ours_js && strlen(ours_js) == jn
                       && !memcmp(ours_js, jref, jn);
                if (!json_ok)
                    printf("JSON-MISMATCH %s\n  go-cty=%.*s\n  ours=%s\n",
                           tab1 + 1, (int)jn, (const char *)jref,
                           ours_js ? ours_js : "(none)");
                free(ours_js);
                free(jref);
            }
            cr_diags d2 = CR_DIAGS_INIT;
            cr_value *w = cr_value_decode_msgpack(ref, rn, t, &d2);
            void *ours;
            size_t olen;
            int rc = cr_value_encode_msgpack_as(v, t, &ours, &olen);
            bool same_bytes = rc == 0 && olen == rn && !memcmp(ours, ref, rn);
            /* go-cty spells an empty tuple type ["tuple",null] or
             * ["tuple",[]] depending on how it was built; we always write
             * the latter, so such answers are compared by value only. */
            bool nil_tuple = nil_tuple_json(resp);
            bool differ = !json_ok || !w || !cr_value_equal(v, w)
                       || (!has_set(t) && !value_has_set(v) && !nil_tuple
                           && !same_bytes);
            if (!differ) {
                /* agreement */
            } else if (inexact_in_go_cty(v)) {
                inexact++;
            } else if (refined_root(req[0], in, n)) {
                /* A refined unknown at the root: we write it back as a
                 * plain unknown (refinements dropped, as Terraform allows),
                 * go-cty >= 1.13 keeps the refinements, 1.12 ignores them
                 * and cannot collapse "definitely null" into null. */
                known++;
            } else {
                bad++;
                printf("MISMATCH %c %s input=%s\n  go-cty=%s\n  ours=",
                       req[0], tab1 + 1, tab2 + 1, resp + 3);
                if (rc == 0)
                    put_hex(stdout, ours, olen);
                printf("%s\n", w ? "" : " (go-cty bytes rejected by us)");
            }
            if (rc == 0)
                free(ours);
            cr_value_free(w);
            cr_diags_free(&d2);
        } else if (v) {
            only_us++;
            printf("ONLY-US %c %s input=%s\n  go-cty: %s\n", req[0], tab1 + 1,
                   tab2 + 1, resp);
        } else if (ref_ok) {
            only_ref++;
            printf("ONLY-GO-CTY %c %s input=%s\n  ours: %s: %s\n", req[0],
                   tab1 + 1, tab2 + 1, d.len ? d.items[0].summary : "?",
                   d.len && d.items[0].detail ? d.items[0].detail : "");
        }
        cr_value_free(v);
        cr_diags_free(&d);
        cr_type_free(t);
        free(in);
        free(ref);
    }
    free(req);
    free(resp);
    printf("total %u, both accept %u, mismatches %u (known: %u refined "
           "unknowns, %u numbers go-cty rounds), only ours %u, only go-cty "
           "%u\n", total, both, bad, known, inexact, only_us, only_ref);
    fclose(rq);
    fclose(rs);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "emit"))
        return emit(argc - 2, argv + 2);
    if (argc == 4 && !strcmp(argv[1], "check"))
        return check(argv[2], argv[3]);
    fprintf(stderr, "usage: ctydiff emit FILE... | ctydiff check REQ RESP\n");
    return 2;
}
