/*
 * tests/unit/test_log.c — hclog JSON lines: every line parses as JSON with
 * the fields go-plugin reads, hostile text survives the round trip, levels
 * filter, and the environment picks the level the way Terraform does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "common/log.h"

static int fds[2];

static int setup(void **state)
{
    (void)state;
    if (pipe2(fds, O_NONBLOCK) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cr_log_set(CR_LOG_OFF, 2);
    close(fds[0]);
    close(fds[1]);
    return 0;
}

/* Everything written so far, split into lines; returns the count. */
static size_t drain(char *buf, size_t cap, char *lines[], size_t max)
{
    ssize_t n = read(fds[0], buf, cap - 1);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    size_t count = 0;
    char *p = buf;
    while (*p != '\0' && count < max) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);            /* every line is terminated */
        *nl = '\0';
        lines[count++] = p;
        p = nl + 1;
    }
    return count;
}

static json_t *parse(const char *line)
{
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    if (j == NULL)
        fail_msg("not JSON: %s (%s)", line, err.text);
    assert_true(json_is_object(j));
    return j;
}

static void test_shape(void **state)
{
    (void)state;
    cr_log_set(CR_LOG_TRACE, fds[1]);
    cr_log_info("store", "opened %s with %d entries", "/tmp/map.db", 3);

    char buf[4096], *lines[4];
    assert_int_equal(drain(buf, sizeof buf, lines, 4), 1);
    json_t *j = parse(lines[0]);
    assert_string_equal(json_string_value(json_object_get(j, "@level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "@message")),
                        "opened /tmp/map.db with 3 entries");
    assert_string_equal(json_string_value(json_object_get(j, "@module")),
                        "provider.cellrouter.store");
    /* 2006-01-02T15:04:05.000000Z07:00 in UTC */
    const char *ts = json_string_value(json_object_get(j, "@timestamp"));
    assert_non_null(ts);
    assert_int_equal(strlen(ts), strlen("2026-11-26T06:17:16.648933Z"));
    assert_int_equal(ts[4], '-');
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[26], 'Z');
    json_decref(j);
}

static void test_hostile_text(void **state)
{
    (void)state;
    cr_log_set(CR_LOG_TRACE, fds[1]);
    const char *evil = "a\"b\\c\nd\te\x01" "f\x7f" "g\xff" "h\xc3\x28" "i\xe2\x82\xac";
    cr_log_kv(CR_LOG_WARN, "rpc", evil, "tenant", "x\"\n}{", "empty", "", NULL);
    cr_log_error("rpc", "%s", evil);

    char buf[4096], *lines[4];
    assert_int_equal(drain(buf, sizeof buf, lines, 4), 2);
    for (int i = 0; i < 2; i++) {
        assert_null(strchr(lines[i], '\n'));
        json_t *j = parse(lines[i]);
        const char *m = json_string_value(json_object_get(j, "@message"));
        /* valid parts intact, invalid bytes replaced, no truncation */
        assert_int_equal(strncmp(m, "a\"b\\c\nd\te\x01" "f\x7f" "g", 12), 0);
        assert_non_null(strstr(m, "g\xef\xbf\xbdh"));      /* U+FFFD */
        assert_non_null(strstr(m, "i\xe2\x82\xac"));       /* euro sign kept */
        if (i == 0) {
            assert_string_equal(json_string_value(json_object_get(j, "@level")),
                                "warn");
            assert_string_equal(json_string_value(json_object_get(j, "tenant")),
                                "x\"\n}{");
            assert_string_equal(json_string_value(json_object_get(j, "empty")), "");
        }
        json_decref(j);
    }
}

static void test_long_message(void **state)
{
    (void)state;
    cr_log_set(CR_LOG_TRACE, fds[1]);
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_log_debug("value", "<%s>", big);
    char buf[8192], *lines[2];
    assert_int_equal(drain(buf, sizeof buf, lines, 2), 1);
    json_t *j = parse(lines[0]);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "@message"))),
                     sizeof big - 1 + 2);
    json_decref(j);
}

static void test_levels(void **state)
{
    (void)state;
    cr_log_set(CR_LOG_WARN, fds[1]);
    assert_false(cr_log_enabled(CR_LOG_INFO));
    assert_true(cr_log_enabled(CR_LOG_WARN));
    assert_true(cr_log_enabled(CR_LOG_ERROR));
    cr_log_trace("t", "no");
    cr_log_debug("t", "no");
    cr_log_info("t", "no");
    cr_log_warn("t", "yes");
    cr_log_error("t", "yes");
    char buf[4096], *lines[8];
    assert_int_equal(drain(buf, sizeof buf, lines, 8), 2);

    cr_log_set(CR_LOG_OFF, fds[1]);
    cr_log_error("t", "no");
    assert_false(cr_log_enabled(CR_LOG_ERROR));
    assert_int_equal(drain(buf, sizeof buf, lines, 8), 0);
}

static void test_env(void **state)
{
    (void)state;
    unsetenv("TF_LOG");
    unsetenv("TF_LOG_PROVIDER");
    cr_log_init();
    assert_false(cr_log_enabled(CR_LOG_ERROR));     /* silent by default */

    setenv("TF_LOG", "info", 1);
    cr_log_init();
    assert_true(cr_log_enabled(CR_LOG_INFO));
    assert_false(cr_log_enabled(CR_LOG_DEBUG));

    /* TF_LOG_PROVIDER wins over TF_LOG */
    setenv("TF_LOG_PROVIDER", "ERROR", 1);
    cr_log_init();
    assert_false(cr_log_enabled(CR_LOG_WARN));
    assert_true(cr_log_enabled(CR_LOG_ERROR));

    setenv("TF_LOG_PROVIDER", "off", 1);
    cr_log_init();
    assert_false(cr_log_enabled(CR_LOG_ERROR));

    /* JSON and unrecognised values mean TRACE, as in Terraform */
    setenv("TF_LOG_PROVIDER", "json", 1);
    cr_log_init();
    assert_true(cr_log_enabled(CR_LOG_TRACE));
    setenv("TF_LOG_PROVIDER", "verbose", 1);
    cr_log_init();
    assert_true(cr_log_enabled(CR_LOG_TRACE));

    /* an empty TF_LOG_PROVIDER falls back to TF_LOG */
    setenv("TF_LOG_PROVIDER", "", 1);
    cr_log_init();
    assert_true(cr_log_enabled(CR_LOG_INFO));
    assert_false(cr_log_enabled(CR_LOG_DEBUG));

    unsetenv("TF_LOG");
    unsetenv("TF_LOG_PROVIDER");
    cr_log_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_long_message),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_env),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
