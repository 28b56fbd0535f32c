/*
 * tests/unit/test_handshake.c — the go-plugin handshake rules: cookie,
 * protocol negotiation, socket path and group, the handshake line and the
 * debug-mode reattach string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "plugin/handshake.h"

/* ---- cookie ------------------------------------------------------------ */

static void test_cookie(void **state)
{
    (void)state;
    assert_true(cr_handshake_cookie_ok(
        "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"));
    assert_false(cr_handshake_cookie_ok(NULL));
    assert_false(cr_handshake_cookie_ok(""));
    /* a prefix, a longer value, one changed character */
    assert_false(cr_handshake_cookie_ok("d602bf8f470bc67ca7faa0386276bbdd"));
    assert_false(cr_handshake_cookie_ok(
        "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 "));
    assert_false(cr_handshake_cookie_ok(
        "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b3"));
    /* the explanation says what the binary is */
    assert_non_null(strstr(cr_handshake_cookie_help(), "This binary is a plugin"));
}

/* ---- negotiation ------------------------------------------------------- */

static int negotiate(const char *offered, char *err, size_t errlen)
{
    int v = -1;
    int rc = cr_handshake_negotiate(offered, &v, err, errlen);
    if (rc == 0)
        assert_int_equal(v, 6);
    else
        assert_int_equal(v, -1);    /* untouched on failure */
    return rc;
}

static void test_negotiate_ok(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(negotiate("6", err, sizeof err), 0);
    assert_int_equal(negotiate("5,6", err, sizeof err), 0);
    assert_int_equal(negotiate("6,5", err, sizeof err), 0);
    assert_int_equal(negotiate("4, 5 ,6", err, sizeof err), 0);
    assert_int_equal(negotiate("6,7", err, sizeof err), 0);
}

static void test_negotiate_errors(void **state)
{
    (void)state;
    char err[256];

    err[0] = '\0';
    assert_int_equal(negotiate("5", err, sizeof err), -1);
    assert_non_null(strstr(err, "protocol 6"));
    assert_non_null(strstr(err, "\"5\""));

    assert_int_equal(negotiate("4,5", err, sizeof err), -1);
    assert_int_equal(negotiate("60", err, sizeof err), -1);

    err[0] = '\0';
    assert_int_equal(negotiate(NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "PLUGIN_PROTOCOL_VERSIONS"));
    assert_int_equal(negotiate("", err, sizeof err), -1);

    const char *garbage[] = {
        "six", "5,,6", "6,", ",6", "5;6", "-6", "6x", "5 6", "0x6",
        "99999999999999999999999,6", "\xff", "6,\n",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        err[0] = '\0';
        assert_int_equal(negotiate(garbage[i], err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    /* a tiny error buffer is still NUL-terminated and never overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(negotiate("5", small, sizeof small), -1);
    assert_int_equal(small[sizeof small - 1], '\0');
}

/* ---- socket path ------------------------------------------------------- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cr-hs-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

static void test_socket_path_dirs(void **state)
{
    (void)state;
    char path[CR_HANDSHAKE_SOCKET_MAX], err[256];

    /* PLUGIN_UNIX_SOCKET_DIR wins over TMPDIR */
    assert_int_equal(cr_handshake_socket_path(tmpdir, "/", path, sizeof path,
                                              err, sizeof err), 0);
    assert_int_equal(strncmp(path, tmpdir, strlen(tmpdir)), 0);
    assert_string_equal(path + strlen(tmpdir), strrchr(path, '/'));
    assert_int_equal(strncmp(strrchr(path, '/'), "/plugin", 7), 0);
    assert_true(strlen(strrchr(path, '/')) > strlen("/plugin"));

    /* empty socket dir falls back to TMPDIR */
    assert_int_equal(cr_handshake_socket_path("", tmpdir, path, sizeof path,
                                              err, sizeof err), 0);
    assert_int_equal(strncmp(path, tmpdir, strlen(tmpdir)), 0);

    /* neither: /tmp */
    assert_int_equal(cr_handshake_socket_path(NULL, NULL, path, sizeof path,
                                              err, sizeof err), 0);
    assert_int_equal(strncmp(path, "/tmp/plugin", 11), 0);

    /* the path does not exist yet, and two calls give different names */
    char again[CR_HANDSHAKE_SOCKET_MAX];
    assert_int_equal(cr_handshake_socket_path(tmpdir, NULL, path, sizeof path,
                                              err, sizeof err), 0);
    assert_int_equal(cr_handshake_socket_path(tmpdir, NULL, again, sizeof again,
                                              err, sizeof err), 0);
    struct stat st;
    assert_int_not_equal(lstat(path, &st), 0);
    assert_string_not_equal(path, again);
}

static void test_socket_path_relative_dir_made_absolute(void **state)
{
    (void)state;
    char cwd[4096], path[CR_HANDSHAKE_SOCKET_MAX], err[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmpdir), 0);
    int rc = cr_handshake_socket_path(".", NULL, path, sizeof path,
                                      err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(path[0], '/');
    assert_int_equal(strncmp(path, tmpdir, strlen(tmpdir)), 0);
}

static void test_socket_path_errors(void **state)
{
    (void)state;
    char path[CR_HANDSHAKE_SOCKET_MAX], err[256];

    err[0] = '\0';
    assert_int_equal(cr_handshake_socket_path("/nonexistent/cr-test", NULL,
                                              path, sizeof path, err,
                                              sizeof err), -1);
    assert_non_null(strstr(err, "PLUGIN_UNIX_SOCKET_DIR"));

    /* a file, not a directory */
    assert_int_equal(cr_handshake_socket_path("/etc/hostname", NULL, path,
                                              sizeof path, err, sizeof err), -1);

    /* too long for sun_path: build a deep directory */
    char deep[512];
    snprintf(deep, sizeof deep, "%s/%s", tmpdir,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_int_equal(mkdir(deep, 0700), 0);
    err[0] = '\0';
    int rc = cr_handshake_socket_path(deep, NULL, path, sizeof path,
                                      err, sizeof err);
    assert_int_equal(rmdir(deep), 0);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "too long"));

    /* '|' would break the handshake line */
    char piped[128];
    snprintf(piped, sizeof piped, "%s/a|b", tmpdir);
    assert_int_equal(mkdir(piped, 0700), 0);
    err[0] = '\0';
    rc = cr_handshake_socket_path(piped, NULL, path, sizeof path,
                                  err, sizeof err);
    assert_int_equal(rmdir(piped), 0);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "'|'"));
}

static void test_socket_group(void **state)
{
    (void)state;
    char file[128], err[256];
    snprintf(file, sizeof file, "%s/sock", tmpdir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(chmod(file, 0600), 0);

    /* nothing asked: nothing changed */
    assert_int_equal(cr_handshake_socket_group(file, NULL, err, sizeof err), 0);
    assert_int_equal(cr_handshake_socket_group(file, "", err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* our own group, by number: allowed for any user */
    char gid[32];
    snprintf(gid, sizeof gid, "%u", (unsigned)getegid());
    assert_int_equal(cr_handshake_socket_group(file, gid, err, sizeof err), 0);
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0660);
    assert_int_equal(st.st_gid, getegid());

    err[0] = '\0';
    assert_int_equal(cr_handshake_socket_group(file, "no-such-group-cr",
                                               err, sizeof err), -1);
    assert_non_null(strstr(err, "no such group"));
    assert_int_equal(unlink(file), 0);
}

/* ---- the line ---------------------------------------------------------- */

static void test_line(void **state)
{
    (void)state;
    char line[512];
    int n = cr_handshake_line(line, sizeof line, 6, "unix",
                              "/tmp/plugin123", "MIIBabc");
    assert_string_equal(line, "1|6|unix|/tmp/plugin123|grpc|MIIBabc\n");
    assert_int_equal(n, (int)strlen(line));

    /* no TLS: the sixth field is present and empty */
    cr_handshake_line(line, sizeof line, 6, "unix", "/tmp/p", NULL);
    assert_string_equal(line, "1|6|unix|/tmp/p|grpc|\n");

    /* separators or line breaks inside a field are refused */
    assert_int_equal(cr_handshake_line(line, sizeof line, 6, "unix",
                                       "/tmp/a|b", NULL), -1);
    assert_int_equal(cr_handshake_line(line, sizeof line, 6, "unix",
                                       "/tmp/a\nb", NULL), -1);
    assert_int_equal(cr_handshake_line(line, sizeof line, 6, "unix",
                                       "/tmp/a", "ab\n"), -1);
    /* too small a buffer */
    assert_int_equal(cr_handshake_line(line, 10, 6, "unix", "/tmp/p", NULL), -1);
}

static void test_reattach(void **state)
{
    (void)state;
    char *s = cr_handshake_reattach_json(
        "registry.terraform.io/cellrouter/cellrouter", 6, 4242, "unix",
        "/tmp/plugin\"9");
    assert_non_null(s);
    assert_string_equal(s,
        "{\"registry.terraform.io/cellrouter/cellrouter\":{\"Protocol\":\"grpc\","
        "\"ProtocolVersion\":6,\"Pid\":4242,\"Test\":true,\"Addr\":{\"Network\":"
        "\"unix\",\"String\":\"/tmp/plugin\\\"9\"}}}");
    json_error_t jerr;
    json_t *j = json_loads(s, 0, &jerr);
    assert_non_null(j);
    json_decref(j);

    char *q = cr_handshake_shell_quote(s);
    assert_non_null(q);
    assert_int_equal(q[0], '\'');
    assert_int_equal(q[strlen(q) - 1], '\'');
    free(q);
    free(s);

    q = cr_handshake_shell_quote("it's");
    assert_string_equal(q, "'it'\\''s'");
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_negotiate_ok),
        cmocka_unit_test(test_negotiate_errors),
        cmocka_unit_test(test_socket_path_dirs),
        cmocka_unit_test(test_socket_path_relative_dir_made_absolute),
        cmocka_unit_test(test_socket_path_errors),
        cmocka_unit_test(test_socket_group),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_reattach),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
