/*
 * value/number.c — cty numbers as exact decimal text.
 *
 * cty numbers are arbitrary-precision: Terraform sends 0.1 as the string
 * "0.1", not as the nearest double, and expects the same value back. We keep
 * every number as canonical decimal text plus two fast paths (int64 when the
 * value is an integer that fits, and the nearest double). "Canonical" means
 * one spelling per value — no sign on zero, no leading or trailing zeros,
 * plain digits unless the exponent is far out — so equality is strcmp.
 */
#include "value/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exponents beyond this are refused: cty would accept them, but no real
 * configuration holds such numbers and they would make the plain-decimal
 * rendering arbitrarily long. */
#define NUM_MAX_EXP 100000L

/* Plain spelling for integers up to this many digits, and for fractions
 * with at most this many zeros after the point; scientific beyond. */
#define NUM_PLAIN_INT 64
#define NUM_PLAIN_FRAC_ZEROS 20

static char *render(bool neg, const char *dig, size_t n, long exp)
{
    /* value = dig × 10^exp, dig has no leading or trailing zeros. */
    if (!n)
        return strdup("0");
    long point = (long)n + exp;          /* digits before the point */
    size_t cap = n + 64 + (exp > 0 && exp <= NUM_PLAIN_INT ? (size_t)exp : 0)
               + NUM_PLAIN_FRAC_ZEROS;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    if (neg)
        *p++ = '-';
    if (exp >= 0 && point <= NUM_PLAIN_INT) {
        memcpy(p, dig, n);
        p += n;
        memset(p, '0', (size_t)exp);
        p += exp;
    } else if (exp < 0 && point > 0) {
        memcpy(p, dig, (size_t)point);
        p += point;
        *p++ = '.';
        memcpy(p, dig + point, n - (size_t)point);
        p += n - (size_t)point;
    } else if (exp < 0 && -point <= NUM_PLAIN_FRAC_ZEROS) {
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)-point);
        p += -point;
        memcpy(p, dig, n);
        p += n;
    } else {
        *p++ = dig[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, n - 1);
            p += n - 1;
        }
        p += sprintf(p, "e%+ld", point - 1);
    }
    *p = '\0';
    return s;
}

char *cr_num_canonical(const char *text, size_t len, int *oom)
{
    if (oom)
        *oom = 0;
    if (!text || !len)
        return NULL;
    const char *p = text, *end = text + len;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    /* Mantissa digits without the point; `frac` counts those after it. */
    char *dig = malloc(len + 1);
    if (!dig) {
        if (oom)
            *oom = 1;
        return NULL;
    }
    size_t n = 0, ndigits = 0;
    long frac = 0;
    bool point = false;
    for (; p < end; p++) {
        if (*p >= '0' && *p <= '9') {
            ndigits++;
            if (point)
                frac++;
            /* Leading zeros are dropped; after the point they still count
             * in `frac`, which is what moves the point in 0.00x. */
            if (n || *p != '0')
                dig[n++] = *p;
        } else if (*p == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    long exp = 0;
    if (!ndigits)
        goto bad;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == end)
            goto bad;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            exp = exp * 10 + (*p - '0');
            if (exp > NUM_MAX_EXP * 10)
                goto bad;
        }
        if (eneg)
            exp = -exp;
    }
    if (p != end)
        goto bad;
    exp -= frac;
    while (n && dig[n - 1] == '0') {
        n--;
        exp++;
    }
    if (!n) {
        neg = false;
        exp = 0;
    }
    if (exp + (long)n > NUM_MAX_EXP || exp + (long)n < -NUM_MAX_EXP)
        goto bad;
    char *s = render(neg, dig, n, exp);
    free(dig);
    if (!s && oom)
        *oom = 1;
    return s;
bad:
    free(dig);
    return NULL;
}

/* Number text is always C-locale text ('.' as the decimal point). The
 * provider never calls setlocale, but a library that did must not turn 1.5
 * into "1,5", so conversions run under an explicit C locale. */
static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_loc_init(void)
{
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
    pthread_once(&c_loc_once, c_loc_init);
    return c_loc;
}

char *cr_num_plain(const char *text)
{
    const char *e = strchr(text, 'e');
    if (!e)
        return strdup(text);
    /* Canonical scientific form: [-]d[.ddd]e±X. */
    bool neg = text[0] == '-';
    const char *m = text + neg;
    char *dig = malloc(strlen(text) + 1);
    if (!dig)
        return NULL;
    size_t n = 0;
    for (const char *p = m; p < e; p++)
        if (*p != '.')
            dig[n++] = *p;
    long x = strtol(e + 1, NULL, 10);         /* bounded by NUM_MAX_EXP */
    long point = x + 1;                        /* digits before the point */
    size_t cap = n + (size_t)labs(x) + 4;
    char *s = malloc(cap), *p = s;
    if (!s) {
        free(dig);
        return NULL;
    }
    if (neg)
        *p++ = '-';
    if (point >= (long)n) {
        memcpy(p, dig, n);
        p += n;
        memset(p, '0', (size_t)(point - (long)n));
        p += point - (long)n;
    } else if (point > 0) {
        memcpy(p, dig, (size_t)point);
        p += point;
        *p++ = '.';
        memcpy(p, dig + point, n - (size_t)point);
        p += n - (size_t)point;
    } else {
        *p++ = '0';
        *p++ = '.';
        memset(p, '0', (size_t)-point);
        p += -point;
        memcpy(p, dig, n);
        p += n;
    }
    *p = '\0';
    free(dig);
    return s;
}

char *cr_num_from_double(double d)
{
    /* glibc prints the exact binary value for any precision; 767 significant
     * digits cover every double, subnormals included. */
    char buf[800];
    locale_t c = c_locale(), old = c ? uselocale(c) : (locale_t)0;
    int n = snprintf(buf, sizeof buf, "%.767e", d);
    if (c)
        uselocale(old);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    int oom = 0;
    return cr_num_canonical(buf, (size_t)n, &oom);
}

bool cr_num_is_inf(const cr_value *v)
{
    return v && v->kind == CR_NUMBER && v->u.num.text
        && (!strcmp(v->u.num.text, CR_NUM_POS_INF)
            || !strcmp(v->u.num.text, CR_NUM_NEG_INF));
}

void cr_num_fill(cr_value *v)
{
    const char *s = v->u.num.text;
    v->u.num.is_int = false;
    v->u.num.i = 0;
    if (!strcmp(s, CR_NUM_POS_INF)) {
        v->u.num.f = INFINITY;
        return;
    }
    if (!strcmp(s, CR_NUM_NEG_INF)) {
        v->u.num.f = -INFINITY;
        return;
    }
    /* Canonical text is valid strtod input; out-of-range values become
     * ±HUGE_VAL (inf) or 0, which is the documented "nearest double". */
    locale_t c = c_locale();
    v->u.num.f = c ? strtod_l(s, NULL, c) : strtod(s, NULL);
    if (strchr(s, '.') || strchr(s, 'e'))
        return;
    errno = 0;
    char *end;
    long long i = strtoll(s, &end, 10);
    if (!errno && !*end) {
        v->u.num.is_int = true;
        v->u.num.i = i;
    }
}

bool cr_num_is_integer(const cr_value *v)
{
    if (cr_num_is_inf(v))
        return false;
    const char *s = v->u.num.text;
    const char *e = strchr(s, 'e'), *dot = strchr(s, '.');
    /* Plain canonical text has a point exactly when it has a fraction. */
    if (!e)
        return !dot;
    /* d[.ddd]e±X is an integer when X covers every digit after the point. */
    long frac = dot ? (long)(e - dot - 1) : 0;
    return strtol(e + 1, NULL, 10) >= frac;
}

bool cr_num_exact_double(const cr_value *v, double *d)
{
    double f = v->u.num.f;
    if (!isfinite(f))
        return false;
    char *t = cr_num_from_double(f);
    bool same = t && !strcmp(t, v->u.num.text);
    free(t);
    if (same && d)
        *d = f;
    return same;
}

cr_value *cr_num_adopt(char *text)
{
    if (!text)
        return NULL;
    cr_value *v = cr_value_alloc(CR_NUMBER, &cr_type_number);
    if (!v) {
        free(text);
        return NULL;
    }
    v->u.num.text = text;
    cr_num_fill(v);
    return v;
}

cr_value *cr_num_infinity(bool negative)
{
    return cr_num_adopt(strdup(negative ? CR_NUM_NEG_INF : CR_NUM_POS_INF));
}

cr_value *cr_value_number(const char *text)
{
    if (!text)
        return NULL;
    return cr_num_adopt(cr_num_canonical(text, strlen(text), NULL));
}

cr_value *cr_num_inline(const char *text, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    cr_value *v = cr_value_alloc_extra(CR_NUMBER, &cr_type_number, n + 1);
    if (!v)
        return NULL;
    v->u.num.text = (char *)(v + 1);
    memcpy(v->u.num.text, text, n);
    v->u.num.text[n] = '\0';
    cr_num_fill(v);
    return v;
}

/* Fills number value v (text room after the struct) with int64 i. The
 * decimal spelling of an integer is already canonical; the fast paths are
 * set directly ((double)i rounds to nearest, as strtod of the text would). */
static cr_value *int_fill(cr_value *v, const char *text, size_t n, int64_t i)
{
    v->u.num.text = (char *)(v + 1);
    memcpy(v->u.num.text, text, n + 1);
    v->u.num.is_int = true;
    v->u.num.i = i;
    v->u.num.f = (double)i;
    return v;
}

cr_value *cr_value_int(int64_t i)
{
    char buf[CR_VALUE_INT_TEXT];
    int n = snprintf(buf, sizeof buf, "%" PRId64, i);
    cr_value *v = cr_value_alloc_extra(CR_NUMBER, &cr_type_number,
                                       (size_t)n + 1);
    return v ? int_fill(v, buf, (size_t)n, i) : NULL;
}

cr_value *cr_value_embed_int(void *mem, int64_t i)
{
    char buf[CR_VALUE_INT_TEXT];
    int n = snprintf(buf, sizeof buf, "%" PRId64, i);
    return int_fill(cr_value_embed(mem, CR_NUMBER, &cr_type_number), buf,
                    (size_t)n, i);
}
