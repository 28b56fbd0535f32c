/*
 * store/backend.c — the store toolkit (store/backend.h): the helpers every
 * backend needs, written once. Each backend used to carry its own copy of
 * these (time stamps, printable copies of ids, the words of a conflict), and
 * the copies had started to drift: the same conflict read differently on
 * SQLite and on Workers KV, and only one backend checked the time it read.
 *
 * It builds on store/store.c (entries, cr_store_err_set) and nothing in
 * store.c calls back into it.
 */
#include "store/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors --------------------------------------------------------------- */

cr_store_rc cr_store_err_nomem(cr_store_err *err)
{
    return cr_store_err_set(err, CR_STORE_NOMEM, "out of memory");
}

cr_store_rc cr_store_err_exists(cr_store_err *err, const char *tenant_id,
                                int64_t cur)
{
    char pb[CR_STORE_PRINTABLE];
    if (err)
        err->actual_version = cur;
    return cr_store_err_set(err, CR_STORE_EXISTS,
        "tenant \"%s\" already has an entry in the routing map (version "
        "%lld)", cr_store_printable(tenant_id, pb), (long long)cur);
}

cr_store_rc cr_store_err_changed(cr_store_err *err, const char *tenant_id,
                                 int64_t expect, int64_t cur)
{
    char pb[CR_STORE_PRINTABLE];
    if (err)
        err->actual_version = cur;
    if (cur == 0)
        return cr_store_err_set(err, CR_STORE_CONFLICT,
            "the entry for tenant \"%s\" was deleted by someone else "
            "(expected version %lld)", cr_store_printable(tenant_id, pb),
            (long long)expect);
    return cr_store_err_set(err, CR_STORE_CONFLICT,
        "the entry for tenant \"%s\" was changed by someone else: expected "
        "version %lld, found %lld", cr_store_printable(tenant_id, pb),
        (long long)expect, (long long)cur);
}

cr_store_rc cr_store_err_no_entry(cr_store_err *err, const char *tenant_id)
{
    char pb[CR_STORE_PRINTABLE];
    return cr_store_err_set(err, CR_STORE_NOT_FOUND,
                            "tenant \"%s\" has no entry in the routing map",
                            cr_store_printable(tenant_id, pb));
}

cr_store_rc cr_store_err_damaged(cr_store_err *err, const char *where,
                                 const char *tenant_id, const char *what)
{
    char pb[CR_STORE_PRINTABLE];
    return cr_store_err_set(err, CR_STORE_INVALID,
        "%s holds an invalid entry for tenant \"%s\": %s (repair it with "
        "cellctl set or cellctl delete)", where,
        cr_store_printable(tenant_id, pb), what);
}

cr_store_rc cr_store_err_cell_exists(cr_store_err *err, const char *cell_id,
                                     int64_t cur)
{
    char pb[CR_STORE_PRINTABLE];
    if (err)
        err->actual_version = cur;
    return cr_store_err_set(err, CR_STORE_EXISTS,
        "cell \"%s\" is already defined in the routing map (version %lld)",
        cr_store_printable(cell_id, pb), (long long)cur);
}

cr_store_rc cr_store_err_cell_changed(cr_store_err *err, const char *cell_id,
                                      bool record, int64_t expect,
                                      int64_t cur)
{
    char pb[CR_STORE_PRINTABLE];
    const char *what = record ? "serving state" : "definition";
    if (err)
        err->actual_version = cur;
    if (cur == 0)
        return cr_store_err_set(err, CR_STORE_CONFLICT,
            "the %s of cell \"%s\" was removed by someone else (expected "
            "version %lld)", what, cr_store_printable(cell_id, pb),
            (long long)expect);
    return cr_store_err_set(err, CR_STORE_CONFLICT,
        "the %s of cell \"%s\" was changed by someone else: expected "
        "version %lld, found %lld", what, cr_store_printable(cell_id, pb),
        (long long)expect, (long long)cur);
}

cr_store_rc cr_store_err_no_cell(cr_store_err *err, const char *cell_id)
{
    char pb[CR_STORE_PRINTABLE];
    return cr_store_err_set(err, CR_STORE_NOT_FOUND,
                            "cell \"%s\" is not defined in the routing map",
                            cr_store_printable(cell_id, pb));
}

cr_store_rc cr_store_err_cell_damaged(cr_store_err *err, const char *where,
                                      const char *cell_id, const char *what)
{
    char pb[CR_STORE_PRINTABLE];
    return cr_store_err_set(err, CR_STORE_INVALID,
        "%s holds an invalid record for cell \"%s\": %s", where,
        cr_store_printable(cell_id, pb), what);
}

cr_store_rc cr_store_err_cell_exhausted(cr_store_err *err, const char *cell_id,
                                        bool record)
{
    char pb[CR_STORE_PRINTABLE];
    return cr_store_err_set(err, CR_STORE_INVALID,
        "%scell \"%s\" has exhausted its versions",
        record ? "the serving state of " : "", cr_store_printable(cell_id, pb));
}

cr_store_rc cr_store_err_cell_in_use(cr_store_err *err, const char *cell_id,
                                     size_t n, const char *const *some,
                                     size_t nsome)
{
    char pb[CR_STORE_PRINTABLE], names[3 * (CR_STORE_PRINTABLE + 4)] = "";
    size_t used = 0;
    for (size_t i = 0; some && i < nsome && i < 3; i++) {
        int w = snprintf(names + used, sizeof names - used, "%s\"%s\"",
                         i ? ", " : "", cr_store_printable(some[i], pb));
        if (w < 0 || (size_t)w >= sizeof names - used)
            break;
        used += (size_t)w;
    }
    return cr_store_err_set(err, CR_STORE_IN_USE,
        "cell \"%s\" still has %zu tenant%s (as primary or standby cell)%s%s%s",
        cr_store_printable(cell_id, pb), n, n == 1 ? "" : "s",
        used ? ": " : "", names, n > nsome && used ? ", ..." : "");
}

/* ---- arguments ------------------------------------------------------------ */

/* Only what every backend needs to look an id up: a damaged entry whose
 * id breaks the id rules must still be readable and deletable by id. */
cr_store_rc cr_store_check_tenant_arg(const char *tenant_id,
                                      cr_store_err *err)
{
    if (!tenant_id || !*tenant_id)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "tenant_id must not be empty");
    if (strlen(tenant_id) > CR_TENANT_ID_MAX)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "tenant_id is longer than %d bytes",
                                CR_TENANT_ID_MAX);
    return CR_STORE_OK;
}

cr_store_rc cr_store_check_expect(int64_t expect, bool for_delete,
                                  cr_store_err *err)
{
    if (expect < CR_VERSION_ANY)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "expected version %lld is not a version",
                                (long long)expect);
    if (for_delete && expect == CR_VERSION_ABSENT)
        return cr_store_err_set(err, CR_STORE_INVALID,
                                "expected version 0 (absent) makes no sense "
                                "for a delete");
    return CR_STORE_OK;
}

/* ---- text ----------------------------------------------------------------- */

const char *cr_store_printable_n(const char *s, char *buf, size_t max)
{
    size_t o = 0, i = 0;
    if (!s)
        return "(null)";
    for (; s[i] && o < max; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s[i]) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* ---- time ----------------------------------------------------------------- */

void cr_store_now(char out[CR_STORE_TIME_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, CR_STORE_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, CR_STORE_TIME_LEN - n, ".%06ldZ", ts.tv_nsec / 1000);
}

/* The two digits at t, or -1. */
static int two_digits(const char *t)
{
    return t[0] >= '0' && t[0] <= '9' && t[1] >= '0' && t[1] <= '9'
               ? (t[0] - '0') * 10 + (t[1] - '0') : -1;
}

/* RFC 3339 section 5.7: the days of `month` in `year` (Gregorian). */
static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool cr_store_time_ok(const char *t)
{
    if (!t)
        return false;
    /* dddd-dd-ddTdd:dd:dd, each field checked before the next is read, so
     * a short string stops at its NUL. */
    int year = two_digits(t), y2 = year < 0 ? -1 : two_digits(t + 2);
    if (y2 < 0 || t[4] != '-')
        return false;
    year = year * 100 + y2;
    int month = two_digits(t + 5);
    if (month < 1 || month > 12 || t[7] != '-')
        return false;
    int day = two_digits(t + 8);
    if (day < 1 || day > days_in_month(year, month) ||
        (t[10] != 'T' && t[10] != 't'))
        return false;
    int hour = two_digits(t + 11);
    if (hour < 0 || hour > 23 || t[13] != ':')
        return false;
    int minute = two_digits(t + 14);
    if (minute < 0 || minute > 59 || t[16] != ':')
        return false;
    int second = two_digits(t + 17);    /* 60: a leap second */
    if (second < 0 || second > 60)
        return false;
    size_t i = 19;
    if (t[i] == '.') {
        size_t start = ++i;
        while (t[i] >= '0' && t[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return false;
    }
    if (t[i] == 'Z' || t[i] == 'z')
        return t[i + 1] == '\0';
    if (t[i] != '+' && t[i] != '-')
        return false;
    int oh = two_digits(t + i + 1);
    if (oh < 0 || oh > 23 || t[i + 3] != ':')
        return false;
    int om = two_digits(t + i + 4);
    return om >= 0 && om <= 59 && t[i + 6] == '\0';
}

/* ---- labels --------------------------------------------------------------- */

json_t *cr_store_labels_to_json(const cr_entry *e, bool *nomem)
{
    *nomem = false;
    if (!e->has_labels)
        return NULL;
    json_t *o = json_object();
    for (size_t i = 0; o && i < e->nlabels; i++) {
        if (json_object_set_new(o, e->labels[i].key,
                                json_string(e->labels[i].value)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    *nomem = o == NULL;
    return o;
}

const char *cr_store_labels_from_json(json_t *o, cr_entry *e, bool *nomem)
{
    *nomem = false;
    if (!json_is_object(o))
        return "labels are not a JSON object";
    e->has_labels = true;
    for (void *it = json_object_iter(o); it;
         it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        json_t *val = json_object_iter_value(it);
        if (!json_is_string(val))
            return "labels hold a value that is not a string";
        /* JSON allows \u0000 inside strings; a C string cannot hold it. */
        if (strlen(key) != json_object_iter_key_len(it) ||
            strlen(json_string_value(val)) != json_string_length(val))
            return "labels contain a NUL byte";
        if (cr_entry_set_label(e, key, json_string_value(val)) != 0) {
            *nomem = true;
            return "labels could not be copied";
        }
    }
    return NULL;
}

/* ---- lists ---------------------------------------------------------------- */

cr_entry *cr_entry_list_push(cr_entry_list *l)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        cr_entry *items = realloc(l->items, cap * sizeof(cr_entry));
        if (!items)
            return NULL;
        l->items = items;
        l->cap = cap;
    }
    cr_entry *e = &l->items[l->len++];
    memset(e, 0, sizeof(*e));
    return e;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const cr_entry *)a)->tenant_id,
                  ((const cr_entry *)b)->tenant_id);
}

const char *cr_entry_list_sort(cr_entry_list *l)
{
    if (l->len > 1)
        qsort(l->items, l->len, sizeof *l->items, cmp_entry);
    for (size_t i = 1; i < l->len; i++)
        if (strcmp(l->items[i - 1].tenant_id, l->items[i].tenant_id) == 0)
            return l->items[i].tenant_id;
    return NULL;
}

cr_cell *cr_cell_list_push(cr_cell_list *l)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        cr_cell *items = realloc(l->items, cap * sizeof(cr_cell));
        if (!items)
            return NULL;
        l->items = items;
        l->cap = cap;
    }
    cr_cell *c = &l->items[l->len++];
    memset(c, 0, sizeof(*c));
    return c;
}

static int cmp_cell(const void *a, const void *b)
{
    return strcmp(((const cr_cell *)a)->cell_id, ((const cr_cell *)b)->cell_id);
}

const char *cr_cell_list_sort(cr_cell_list *l)
{
    if (l->len > 1)
        qsort(l->items, l->len, sizeof *l->items, cmp_cell);
    for (size_t i = 1; i < l->len; i++)
        if (strcmp(l->items[i - 1].cell_id, l->items[i].cell_id) == 0)
            return l->items[i].cell_id;
    return NULL;
}
