/*
 * tests/unit/test_store_cfkv_provider.c — the provider block's
 * `cloudflare_kv` store: its schema, validation (exactly one store, each
 * setting's rule with its attribute path, the token from the environment,
 * never the token's value in a diagnostic), unknown settings at plan time,
 * and configuration against a local API that refuses the token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resource/resource.h"

#define TOKEN "tok-PROVIDER-S3CRET-0123456789"
#define ACCOUNT "0123456789abcdef0123456789abcdef"

static const cr_type *block_type(void)
{
    const cr_type *t = cr_schema_type(cr_provider_schema());
    long i = cr_type_attr_index(t, "cloudflare_kv");
    assert_true(i >= 0);
    return t->attrs[i].type;
}

/* A provider configuration with a cloudflare_kv block; NULL values stay
 * null. */
static cr_value *config(const char *path, const char *account,
                        const char *ns, const char *token, const char *url,
                        cr_value *retry)
{
    cr_value *o = cr_value_object(cr_schema_type(cr_provider_schema()));
    if (path)
        assert_int_equal(cr_value_object_set(o, "path", cr_value_string(path)), 0);
    cr_value *b = cr_value_object(block_type());
    const char *names[] = {"account_id", "namespace_id", "api_token", "api_url"};
    const char *vals[] = {account, ns, token, url};
    for (size_t i = 0; i < 4; i++)
        if (vals[i])
            assert_int_equal(cr_value_object_set(b, names[i],
                                                 cr_value_string(vals[i])), 0);
    if (retry)
        assert_int_equal(cr_value_object_set(b, "max_retry_seconds", retry), 0);
    assert_int_equal(cr_value_object_set(o, "cloudflare_kv", b), 0);
    return o;
}

static const cr_diag *find(const cr_diags *d, const char *summary)
{
    for (size_t i = 0; i < d->len; i++)
        if (strstr(d->items[i].summary, summary))
            return &d->items[i];
    return NULL;
}

static void assert_no_token(const cr_diags *d)
{
    for (size_t i = 0; i < d->len; i++) {
        assert_null(strstr(d->items[i].summary, "S3CRET"));
        if (d->items[i].detail)
            assert_null(strstr(d->items[i].detail, "S3CRET"));
    }
}

static void test_schema(void **state)
{
    (void)state;
    const cr_schema *s = cr_provider_schema();
    assert_int_equal(s->nblocks, 1);
    assert_string_equal(s->blocks[0].type_name, "cloudflare_kv");
    assert_int_equal(s->blocks[0].nesting, CR_NEST_SINGLE);
    const cr_attr_schema *tok = cr_schema_attr(s->blocks[0].block, "api_token");
    assert_non_null(tok);
    assert_true(tok->flags & CR_ATTR_SENSITIVE);
    assert_true(cr_schema_attr(s->blocks[0].block, "account_id")->flags &
                CR_ATTR_REQUIRED);
}

static void test_validate(void **state)
{
    (void)state;
    unsetenv("CLOUDFLARE_API_TOKEN");
    cr_diags d = CR_DIAGS_INIT;

    /* A good block. */
    cr_value *c = config(NULL, ACCOUNT, ACCOUNT, TOKEN,
                         "https://api.cloudflare.com/client/v4", cr_value_int(5));
    cr_provider_validate(c, &d);
    assert_int_equal(d.len, 0);
    cr_value_free(c);

    /* Both stores. */
    c = config("map.db", ACCOUNT, ACCOUNT, TOKEN, NULL, NULL);
    cr_provider_validate(c, &d);
    assert_non_null(find(&d, "Conflicting routing map stores"));
    assert_non_null(strstr(find(&d, "Conflicting")->detail, "`cloudflare_kv`"));
    cr_diags_free(&d);
    cr_value_free(c);

    /* Each setting's rule, at its path, never quoting the token. */
    c = config(NULL, "../x", ACCOUNT, TOKEN " bad", "http://api.example.com",
               cr_value_int(0));
    cr_provider_validate(c, &d);
    const cr_diag *e = find(&d, "Invalid Cloudflare account id");
    assert_non_null(e);
    assert_int_equal(e->path.len, 2);
    assert_non_null(find(&d, "Invalid Cloudflare API token"));
    assert_non_null(strstr(find(&d, "Invalid Cloudflare API URL")->detail,
                           "https://"));
    assert_non_null(find(&d, "Invalid retry budget"));
    assert_no_token(&d);
    cr_diags_free(&d);
    cr_value_free(c);

    /* No token anywhere; then from the environment. */
    c = config(NULL, ACCOUNT, ACCOUNT, NULL, NULL, NULL);
    cr_provider_validate(c, &d);
    assert_non_null(find(&d, "Missing Cloudflare API token"));
    cr_diags_free(&d);
    setenv("CLOUDFLARE_API_TOKEN", TOKEN, 1);
    cr_provider_validate(c, &d);
    assert_int_equal(d.len, 0);
    setenv("CLOUDFLARE_API_TOKEN", TOKEN "\nX: y", 1);
    cr_provider_validate(c, &d);
    assert_non_null(find(&d, "Invalid Cloudflare API token"));
    assert_no_token(&d);
    cr_diags_free(&d);
    unsetenv("CLOUDFLARE_API_TOKEN");
    cr_value_free(c);
}

static void test_unknown_until_apply(void **state)
{
    (void)state;
    /* namespace_id from a resource not created yet: no error, no store. */
    cr_value *c = config(NULL, ACCOUNT, NULL, TOKEN, NULL, NULL);
    cr_value *b = (cr_value *)cr_value_get(c, "cloudflare_kv");
    assert_int_equal(cr_value_object_set(b, "namespace_id",
                                         cr_value_unknown(&cr_type_string)), 0);
    cr_diags d = CR_DIAGS_INIT;
    cr_provider_state p = {0};
    cr_provider_configure(&p, c, NULL, &d);
    assert_int_equal(d.len, 0);
    assert_null(p.store);
    cr_value_free(c);
}

/* One connection answered with 403, as Cloudflare does for a bad token. */
static void *refuse(void *arg)
{
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    char buf[4096];
    if (fd >= 0) {
        if (read(fd, buf, sizeof buf) < 0)
            (void)0;
        const char *body = "{\"success\":false,\"errors\":[{\"code\":10000,"
                           "\"message\":\"Authentication error\"}]}";
        char head[256];
        int n = snprintf(head, sizeof head, "HTTP/1.1 403 Forbidden\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         strlen(body));
        if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
            (void)0;
        close(fd);
    }
    return NULL;
}

static void test_configure_refused(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 4), 0);
    getsockname(lfd, (struct sockaddr *)&a, &al);
    pthread_t th;
    pthread_create(&th, NULL, refuse, &lfd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/client/v4", ntohs(a.sin_port));

    cr_value *c = config(NULL, ACCOUNT, ACCOUNT, TOKEN, url, NULL);
    cr_diags d = CR_DIAGS_INIT;
    cr_provider_state p = {0};
    cr_provider_configure(&p, c, NULL, &d);
    pthread_join(th, NULL);
    close(lfd);
    assert_null(p.store);
    const cr_diag *e = find(&d, "Cloudflare refused the API token");
    assert_non_null(e);
    assert_non_null(strstr(e->detail, "Workers KV Storage:Edit"));
    assert_non_null(strstr(e->detail, ACCOUNT));
    assert_no_token(&d);
    cr_diags_free(&d);
    cr_value_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_unknown_until_apply),
        cmocka_unit_test(test_configure_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
