/*
 * gen/spec_ops.c — the parts of the spec that make the cells operable:
 * container workers (runtime.kind, runtime.container, cells[].network),
 * the CI pipeline and its OIDC identities (ci), the one observability
 * destination (observability), the edge router's prober that fails cells
 * over on their health (failover), and the isolation rules (data
 * residency, networks of their own).
 *
 * Each value is checked for what it becomes: a string that lands in a
 * trust policy, a URL, a YAML pipeline or a container image reference is
 * held to the characters that place allows, so no spec can open an HCL
 * template sequence or a YAML structure. Options that exclude each other
 * (a GitLab pipeline and pull-request plans, a network for function cells,
 * a Datadog site for an OTLP destination) are refused with the reason.
 * The keys and rules are the ones schemas/cellspec.schema.json documents.
 */
#include "spec_read.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

static const char *const KEYS_CONTAINER[] = { "image", "cpu", "min_workers", "max_workers",
                                           "messages_per_worker", NULL };
static const char *const KEYS_NETWORK[] = { "id", "subnets", NULL };
static const char *const KEYS_CI[] = { "provider", "repository", "issuer", "plan", "apply", "cellgen",
                                    "terraform_version", NULL };
static const char *const KEYS_CI_PLAN[] = { "pull_requests", "branches", NULL };
static const char *const KEYS_CI_APPLY[] = { "branch", "environment", NULL };
static const char *const KEYS_OBS[] = { "destination", "endpoint", "firehose_endpoint", "site", "key", NULL };
static const char *const KEYS_OBS_KEY[] = { "aws", "azure", "azure_vault_id", NULL };
static const char *const KEYS_FAILOVER[] = { "automatic", "schedule", "failures", "successes",
                                          "probe_timeout_seconds", "max_down_percent", "states_cache_seconds",
                                          NULL };

const char *const *cg_ops_keys(const char *section)
{
    static const struct { const char *name; const char *const *keys; } t[] = {
        { "container", KEYS_CONTAINER }, { "network", KEYS_NETWORK }, { "ci", KEYS_CI },
        { "ci.plan", KEYS_CI_PLAN }, { "ci.apply", KEYS_CI_APPLY }, { "observability", KEYS_OBS },
        { "observability.key", KEYS_OBS_KEY }, { "failover", KEYS_FAILOVER },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].name, section)) return t[i].keys;
    return NULL;
}

/* ---- small checks ---------------------------------------------------------- */

static bool all_of(const char *s, const char *punct)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(punct, *s)) return false;
    return true;
}

static bool all_hex(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f')) return false;
    return true;
}

static bool is_guid(const char *s, size_t n)
{
    static const int groups[] = { 8, 4, 4, 4, 12 };
    if (n != 36) return false;
    for (int g = 0, at = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, at++)
            if (!isxdigit((unsigned char)s[at])) return false;
        if (g < 4 && s[at++] != '-') return false;
    }
    return true;
}

static char *dup(const char *s) { return s ? cg_xstrdup(s) : NULL; }

/* An https:// URL: host [":" port] [path], no query, fragment, credentials,
 * spaces, quotes or template characters, at most 512 bytes. */
static bool https_url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) || strlen(u) > 512) return false;
    const char *host = u + 8;
    size_t hl = strcspn(host, ":/");
    if (hl == 0 || !all_of(host, "-._~/:")) return false;
    for (size_t i = 0; i < hl; i++)
        if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.') return false;
    return host[hl - 1] != '.' && u[strlen(u) - 1] != '/';
}

static const char *get_url(cg_reader *r, const cg_ynode *n, const char *what)
{
    const char *u = cg_rd_str(r, n, what);
    if (u && !https_url_ok(u)) {
        cg_rd_err(r, n, "%s must be an https:// URL (host, optional port and path, no trailing '/', query, "
                  "credentials, spaces or quotes), not \"%s\"", what, u);
        return NULL;
    }
    return u;
}

/* YAML's own null: `standby: ~`, `environment:` with nothing after it. */
static bool is_null(const cg_ynode *n)
{
    return n && n->kind == CG_YSCALAR && cg_yscalar_type_of(n) == CG_YT_NULL;
}

static bool uses(const cg_spec *s, cg_cloud c)
{
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cloud == c) return true;
    return false;
}

/* ---- container workers ------------------------------------------------------ */

/* registry/path/name:tag or @sha256:<64 hex>, lowercase repository. A
 * moving tag (none, or "latest") is refused: the two clouds pull at
 * different times and would run different code. */
static bool image_ok(const char *s, const char **why)
{
    size_t n = strlen(s);
    *why = "must be a registry/repository reference";
    if (n < 3 || n > 512 || !all_of(s, "-._/:@")) return false;
    const char *at = strchr(s, '@');
    if (at) {
        if (strncmp(at, "@sha256:", 8) || !all_hex(at + 8, 64, 64)) {
            *why = "has a digest that is not @sha256: and 64 lowercase hex digits";
            return false;
        }
    }
    const char *end = at ? at : s + n;
    const char *slash = NULL;
    for (const char *p = s; p < end; p++)
        if (*p == '/') slash = p;
    const char *colon = NULL;
    for (const char *p = slash ? slash : s; p < end; p++)
        if (*p == ':') colon = p;
    if (!at && (!colon || colon + 1 == end)) {
        *why = "has no tag or digest; pin one (name:1.4.0 or name@sha256:...) so both clouds run the same code";
        return false;
    }
    if (colon && end - colon - 1 == 6 && !strncmp(colon + 1, "latest", 6)) {
        *why = "uses the moving tag \"latest\"; pin a version or a digest so both clouds run the same code";
        return false;
    }
    for (const char *p = s; p < (colon ? colon : end); p++)
        if (isupper((unsigned char)*p)) {
            *why = "has uppercase letters in its repository name";
            return false;
        }
    return s[0] != '/' && s[0] != '-' && s[0] != '.';
}

void cg_rd_container(cg_reader *r, const cg_ynode *n, cg_spec *s)
{
    const cg_ynode *kind = cg_ymap_get(n, "kind"), *c = cg_ymap_get(n, "container");
    s->runtime_kind = CG_RT_FUNCTION;
    if (kind) {
        const char *k = cg_rd_str(r, kind, "runtime.kind");
        if (k && !strcmp(k, "container")) s->runtime_kind = CG_RT_CONTAINER;
        else if (k && strcmp(k, "function"))
            cg_rd_err(r, kind, "runtime.kind must be \"function\" (Lambda / Azure Functions, the default) or "
                      "\"container\" (ECS Fargate / Container Apps), not \"%s\"", k);
    }
    if (s->runtime_kind == CG_RT_FUNCTION) {
        if (c)
            cg_rd_err(r, c, "runtime.container is for runtime.kind: container; function consumers run from "
                      "runtime.packages (remove it, or set kind: container)");
        return;
    }
    if (!c) {
        cg_rd_err(r, kind, "runtime.kind: container needs runtime.container (at least the image)");
        return;
    }
    if (!cg_rd_map(r, c, "runtime.container")) return;
    cg_rd_keys(r, c, "runtime.container", KEYS_CONTAINER);
    cg_container *ct = &s->container;
    ct->min_workers = 1;
    ct->max_workers = 10;
    ct->messages_per_worker = 100;
    const cg_ynode *v;
    if ((v = cg_rd_need(r, c, "image", "runtime.container"))) {
        const char *img = cg_rd_str(r, v, "runtime.container.image"), *why;
        if (img && !image_ok(img, &why))
            cg_rd_err(r, v, "runtime.container.image \"%s\" %s", img, why);
        else
            ct->image = dup(img);
    }
    /* Container Apps (consumption) fixes 2 GiB per vCPU; these sizes are
     * also valid Fargate CPU/memory pairs, so both clouds run the same. */
    ct->cpu = cg_xstrdup("0.5");
    if ((v = cg_ymap_get(c, "cpu"))) {
        static const char *const sizes[] = { "0.25", "0.5", "1", "2", "4", NULL };
        bool ok = v->kind == CG_YSCALAR && !is_null(v);
        bool found = false;
        for (size_t i = 0; ok && sizes[i]; i++) found |= !strcmp(sizes[i], v->str);
        if (!found)
            cg_rd_err(r, v, "runtime.container.cpu must be 0.25, 0.5, 1, 2 or 4 vCPUs (with 2 GiB of memory "
                      "each: the sizes both Fargate and Container Apps run)");
        else {
            free(ct->cpu);
            ct->cpu = cg_xstrdup(v->str);
        }
    }
    if ((v = cg_ymap_get(c, "min_workers")))
        cg_rd_int(r, v, "runtime.container.min_workers", 0, 300, &ct->min_workers);
    if ((v = cg_ymap_get(c, "max_workers")) &&
        cg_rd_int(r, v, "runtime.container.max_workers", 1, 300, &ct->max_workers) &&
        ct->max_workers < ct->min_workers)
        cg_rd_err(r, v, "runtime.container.max_workers (%ld) is below min_workers (%ld)", ct->max_workers,
                  ct->min_workers);
    if ((v = cg_ymap_get(c, "messages_per_worker")))
        cg_rd_int(r, v, "runtime.container.messages_per_worker", 1, 10000, &ct->messages_per_worker);
}

/* ---- networks -------------------------------------------------------------- */

/* /subscriptions/<guid>/resourceGroups/<rg>/providers/<type>/<name>:
 * true when s is such an id of the given provider type; *name_at points at
 * the last segment. */
static bool azure_id_ok(const char *s, const char *type, const char **name_at)
{
    if (strncmp(s, "/subscriptions/", 15) || strlen(s) > 1024) return false;
    const char *p = s + 15;
    if (!is_guid(p, strcspn(p, "/"))) return false;
    p += 36;
    if (strncasecmp(p, "/resourceGroups/", 16)) return false;
    p += 16;
    size_t rg = strcspn(p, "/");
    if (rg == 0 || rg > 90) return false;
    for (size_t i = 0; i < rg; i++)
        if (!isalnum((unsigned char)p[i]) && !strchr("-_.()", p[i])) return false;
    p += rg;
    size_t tl = strlen(type);
    if (strncmp(p, "/providers/", 11) || strncasecmp(p + 11, type, tl) || p[11 + tl] != '/') return false;
    p += 12 + tl;
    size_t nl = strlen(p);
    if (nl == 0 || nl > 80 || !all_of(p, "-_.")) return false;
    *name_at = p;
    return true;
}

void cg_rd_network(cg_reader *r, const cg_ynode *n, const cg_spec *s, cg_cell *c)
{
    if (s->runtime_kind != CG_RT_CONTAINER) {
        cg_rd_err(r, n, "a cell's network is where its container workers run (runtime.kind: container); "
                  "function cells need none");
        return;
    }
    if (!cg_rd_map(r, n, "a cell's network")) return;
    cg_rd_keys(r, n, "a cell's network", KEYS_NETWORK);
    const cg_ynode *idn = cg_rd_need(r, n, "id", "network"), *subs = cg_rd_need(r, n, "subnets", "network");
    const char *id = idn ? cg_rd_str(r, idn, "network.id") : NULL, *name;
    bool aws = c->cloud == CG_AWS;
    if (id && aws && !(!strncmp(id, "vpc-", 4) && all_hex(id + 4, 8, 17))) {
        cg_rd_err(r, idn, "network.id of an AWS cell must be a VPC id (vpc- and 8-17 hex digits), not \"%s\"", id);
        id = NULL;
    } else if (id && !aws && !azure_id_ok(id, "Microsoft.Network/virtualNetworks", &name)) {
        cg_rd_err(r, idn, "network.id of an Azure cell must be a virtual network's resource id "
                  "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/virtualNetworks/<name>), "
                  "not \"%s\"", id);
        id = NULL;
    }
    if (!subs || !cg_rd_list(r, subs, "network.subnets")) return;
    size_t max = aws ? 16 : 1;
    if (subs->n < 1 || subs->n > max) {
        cg_rd_err(r, subs, aws ? "network.subnets of an AWS cell lists 1 to 16 subnets (in the VPC; two zones or "
                                 "more for availability)"
                               : "network.subnets of an Azure cell lists exactly one subnet: the Container Apps "
                                 "environment's (a /23 or larger, delegated to Microsoft.App/environments)");
        return;
    }
    if (!id) return;
    c->network.subnets = cg_xcalloc(subs->n, sizeof *c->network.subnets);
    for (size_t i = 0; i < subs->n; i++) {
        const char *sn = cg_rd_str(r, subs->items[i], "a subnet");
        if (!sn) continue;
        bool ok;
        if (aws) {
            ok = !strncmp(sn, "subnet-", 7) && all_hex(sn + 7, 8, 17);
        } else {
            size_t il = strlen(id);
            ok = !strncmp(sn, id, il) && !strncmp(sn + il, "/subnets/", 9) && sn[il + 9] &&
                 strlen(sn + il + 9) <= 80 && all_of(sn + il + 9, "-_.");
        }
        if (!ok) {
            cg_rd_err(r, subs->items[i], aws ? "\"%s\" is not a subnet id (subnet- and 8-17 hex digits)"
                                             : "\"%s\" is not a subnet of the cell's network (<network.id>/subnets/<name>)",
                      sn);
            continue;
        }
        for (size_t j = 0; j < c->network.nsubnets; j++)
            if (!strcmp(c->network.subnets[j], sn)) {
                cg_rd_err(r, subs->items[i], "subnet \"%s\" is listed twice", sn);
                ok = false;
            }
        if (ok) c->network.subnets[c->network.nsubnets++] = cg_xstrdup(sn);
    }
    c->network.id = cg_xstrdup(id);
}

/* Isolation: a cell's workers run in a network of its own. Two cells in
 * one network (or one subnet) would let one cell's workers reach the
 * other's data stores, which the cells exist to keep apart. */
void cg_rd_networks_apart(cg_reader *r, const cg_ynode *cells, const cg_spec *s)
{
    if (s->runtime_kind != CG_RT_CONTAINER) return;
    for (size_t i = 0; i < s->ncells && i < cells->n; i++) {
        const cg_cell *c = &s->cells[i];
        const cg_ynode *node = cells->items[i];
        if (node->kind != CG_YMAP) continue;
        const cg_ynode *net = cg_ymap_get(node, "network");
        if (c->cloud == CG_AWS && !net) {
            const cg_ynode *at = cg_ymap_get(node, "id");
            cg_rd_err(r, at ? at : node, "AWS cell \"%s\" runs container workers: it needs a network (the VPC "
                      "id and the subnets its Fargate tasks run in)", c->id ? c->id : "?");
            continue;
        }
        if (!c->network.id) continue;
        for (size_t j = 0; j < i; j++) {
            const cg_cell *o = &s->cells[j];
            if (!o->network.id) continue;
            const cg_ynode *at = cg_ymap_get(net, "id");
            if (!strcmp(o->network.id, c->network.id)) {
                cg_rd_err(r, at, "cell \"%s\" shares network %s with cell \"%s\" (line %d); one cell's workers "
                          "could reach the other's data stores: give every cell a network of its own", c->id,
                          c->network.id, o->id, o->line);
                break;
            }
            for (size_t a = 0; a < c->network.nsubnets; a++)
                for (size_t b = 0; b < o->network.nsubnets; b++)
                    if (!strcmp(c->network.subnets[a], o->network.subnets[b]))
                        cg_rd_err(r, at, "cell \"%s\" shares subnet %s with cell \"%s\" (line %d); give every "
                                  "cell a network of its own", c->id, c->network.subnets[a], o->id, o->line);
        }
    }
}

/* ---- data residency ------------------------------------------------------ */

const char *cg_cell_residency(const cg_cell *c)
{
    for (size_t i = 0; i < c->tags.len; i++)
        if (!strcmp(c->tags.items[i].key, CG_RESIDENCY_KEY)) return c->tags.items[i].value;
    return NULL;
}

static const char *shown(const char *residency)
{
    return residency ? residency : "none";
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* A tenant's data stays where its data-residency label says: its cell and
 * its standby carry the same data-residency tag. A tenant without the
 * label takes its primary cell's: a failover must not carry its data out
 * of that residency either. */
void cg_rd_residency(cg_reader *r, const cg_ynode *tenant, const cg_spec *s, const cg_tenant *t)
{
    if (t->cell == SIZE_MAX) return;
    const char *want = NULL;
    for (size_t i = 0; i < t->labels.len; i++)
        if (!strcmp(t->labels.items[i].key, CG_RESIDENCY_KEY)) want = t->labels.items[i].value;
    const cg_cell *primary = &s->cells[t->cell];
    const char *have = cg_cell_residency(primary);
    const char *tid = t->id ? t->id : "?";
    if (want && !same(want, have))
        cg_rd_err(r, cg_ymap_get(tenant, "cell"), "tenant \"%s\" has data-residency \"%s\", but cell \"%s\" has "
                  "data-residency \"%s\": a tenant's data stays in its residency; place it on a cell tagged "
                  "data-residency: %s", tid, want, primary->id, shown(have), want);
    if (t->standby < 0) return;
    const cg_cell *sb = &s->cells[t->standby];
    const char *sbr = cg_cell_residency(sb), *bound = want ? want : have;
    if ((want || have) && !same(bound, sbr))
        cg_rd_err(r, cg_ymap_get(tenant, "standby"), "standby cell \"%s\" has data-residency \"%s\", outside the "
                  "tenant's \"%s\" (%s): a failover would carry its data out; choose a standby tagged "
                  "data-residency: %s", sb->id, shown(sbr), bound,
                  want ? "its data-residency label" : "that of its cell", bound);
}

/* ---- ci --------------------------------------------------------------------- */

/* A branch name as git allows it, restricted to what a trust policy's
 * exact subject and a YAML pipeline can hold without quoting surprises. */
static bool branch_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > 200 || !all_of(b, "-._/") || b[0] == '-' || b[0] == '/' || b[n - 1] == '/' ||
        b[n - 1] == '.' || strstr(b, "..") || strstr(b, "//") || strstr(b, "/.") || strstr(b, ".lock"))
        return false;
    return true;
}

static const char *get_branch(cg_reader *r, const cg_ynode *n, const char *what)
{
    const char *b = cg_rd_str(r, n, what);
    if (b && !branch_ok(b)) {
        cg_rd_err(r, n, "%s \"%s\" must be an exact branch name (letters, digits, '-', '_', '.', '/'; no "
                  "wildcards: a trust policy pins it exactly)", what, b);
        return NULL;
    }
    return b;
}

static bool repository_ok(cg_ci_provider p, const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 255 || !all_of(s, "-_./") || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") ||
        strstr(s, ".."))
        return false;
    size_t slashes = 0;
    for (const char *p = s; *p; p++) slashes += *p == '/';
    return p == CG_CI_GITHUB ? slashes == 1 : slashes >= 1;
}

static void read_plan(cg_reader *r, const cg_ynode *n, cg_ci *ci)
{
    if (!cg_rd_map(r, n, "ci.plan")) return;
    cg_rd_keys(r, n, "ci.plan", KEYS_CI_PLAN);
    size_t errors_before = r->errors;
    const cg_ynode *v;
    if ((v = cg_ymap_get(n, "pull_requests"))) {
        cg_rd_bool(r, v, "ci.plan.pull_requests", &ci->plan_pull_requests);
        if (ci->plan_pull_requests && ci->provider == CG_CI_GITLAB)
            cg_rd_err(r, v, "ci.plan.pull_requests is for GitHub: a GitLab merge request pipeline's token names "
                      "its source branch (sub project_path:...:ref_type:branch:ref:<branch>), which a trust policy "
                      "cannot pin exactly; list the branches that may plan in ci.plan.branches");
    }
    if ((v = cg_ymap_get(n, "branches")) && cg_rd_list(r, v, "ci.plan.branches")) {
        /* Azure allows 20 federated credentials per identity; pull
         * requests take one. */
        if (v->n > 19) {
            cg_rd_err(r, v, "ci.plan.branches lists %zu branches; at most 19 (an Azure identity takes 20 "
                      "federated credentials, and pull requests need one)", v->n);
            return;
        }
        ci->plan_branches = cg_xcalloc(v->n ? v->n : 1, sizeof *ci->plan_branches);
        for (size_t i = 0; i < v->n; i++) {
            const char *b = get_branch(r, v->items[i], "ci.plan.branches entry");
            if (!b) continue;
            bool dupl = false;
            for (size_t j = 0; j < ci->nplan_branches; j++) dupl |= !strcmp(ci->plan_branches[j], b);
            if (dupl) cg_rd_err(r, v->items[i], "branch \"%s\" is listed twice", b);
            else ci->plan_branches[ci->nplan_branches++] = cg_xstrdup(b);
        }
    }
    if (!ci->plan_pull_requests && !ci->nplan_branches && r->errors == errors_before)
        cg_rd_err(r, n, "ci.plan allows no one to plan: set pull_requests: true (GitHub) or list branches");
}

static void read_apply(cg_reader *r, const cg_ynode *n, cg_ci *ci)
{
    if (!cg_rd_map(r, n, "ci.apply")) return;
    cg_rd_keys(r, n, "ci.apply", KEYS_CI_APPLY);
    const cg_ynode *v;
    if ((v = cg_rd_need(r, n, "branch", "ci.apply"))) ci->apply_branch = dup(get_branch(r, v, "ci.apply.branch"));
    if ((v = cg_ymap_get(n, "environment")) && !is_null(v)) {
        const char *e = cg_rd_str(r, v, "ci.apply.environment");
        if (e && (strlen(e) > 100 || !all_of(e, "-_.") || !isalnum((unsigned char)e[0])))
            cg_rd_err(r, v, "ci.apply.environment \"%s\" must be 1-100 letters, digits, '-', '_' or '.', starting "
                      "with a letter or digit", e);
        else
            ci->apply_environment = dup(e);
    }
}

void cg_rd_ci(cg_reader *r, const cg_ynode *n, cg_spec *s)
{
    if (!cg_rd_map(r, n, "ci")) return;
    cg_rd_keys(r, n, "ci", KEYS_CI);
    cg_ci *ci = &s->ci;
    const cg_ynode *v, *prov = cg_rd_need(r, n, "provider", "ci");
    const char *p = prov ? cg_rd_str(r, prov, "ci.provider") : NULL;
    if (p && !strcmp(p, "github")) ci->provider = CG_CI_GITHUB;
    else if (p && !strcmp(p, "gitlab")) ci->provider = CG_CI_GITLAB;
    else if (p) cg_rd_err(r, prov, "ci.provider must be \"github\" (GitHub Actions) or \"gitlab\" (GitLab CI), not \"%s\"", p);
    if (!ci->provider) return;
    if ((v = cg_rd_need(r, n, "repository", "ci"))) {
        const char *repo = cg_rd_str(r, v, "ci.repository");
        if (repo && !repository_ok(ci->provider, repo))
            cg_rd_err(r, v, ci->provider == CG_CI_GITHUB
                              ? "ci.repository \"%s\" must be owner/repository, as in the GitHub URL"
                              : "ci.repository \"%s\" must be the project's full path, group[/subgroup]/project",
                      repo);
        else
            ci->repository = dup(repo);
    }
    if ((v = cg_ymap_get(n, "issuer"))) {
        if (ci->provider == CG_CI_GITHUB)
            cg_rd_err(r, v, "ci.issuer is for GitLab (a self-managed instance's URL); GitHub Actions' tokens always "
                      "come from https://token.actions.githubusercontent.com");
        else
            ci->issuer = dup(get_url(r, v, "ci.issuer"));
    }
    if (!ci->issuer)
        ci->issuer = cg_xstrdup(ci->provider == CG_CI_GITHUB ? "https://token.actions.githubusercontent.com"
                                                             : "https://gitlab.com");
    if ((v = cg_rd_need(r, n, "plan", "ci"))) read_plan(r, v, ci);
    if ((v = cg_rd_need(r, n, "apply", "ci"))) read_apply(r, v, ci);
    ci->cellgen = cg_xstrdup("cellgen");
    if ((v = cg_ymap_get(n, "cellgen"))) {
        const char *c = cg_rd_str(r, v, "ci.cellgen");
        if (c && (strlen(c) > 200 || !all_of(c, "-_./") || c[0] == '-'))
            cg_rd_err(r, v, "ci.cellgen \"%s\" must be the path of the cellgen program in the pipeline (letters, "
                      "digits, '-', '_', '.', '/')", c);
        else if (c) {
            free(ci->cellgen);
            ci->cellgen = cg_xstrdup(c);
        }
    }
    ci->terraform_version = cg_xstrdup("1.11.4");
    if ((v = cg_ymap_get(n, "terraform_version"))) {
        const char *t = cg_rd_str(r, v, "ci.terraform_version");
        unsigned major, minor, patch;
        int used = 0;
        if (t && (sscanf(t, "%u.%u.%u%n", &major, &minor, &patch, &used) != 3 || (size_t)used != strlen(t) ||
                  !all_of(t, ".") || major != 1 || minor < 4 || minor > 15 || strlen(t) > 16))
            cg_rd_err(r, v, "ci.terraform_version \"%s\" must be an exact release from 1.4.0 to 1.15.x (the "
                      "versions the generated configuration supports)", t);
        else if (t) {
            free(ci->terraform_version);
            ci->terraform_version = cg_xstrdup(t);
        }
    }
}

/* ---- observability ---------------------------------------------------------- */

const char *cg_obs_dest_name(cg_obs_dest d)
{
    static const char *const names[] = { "none", "otlp", "datadog", "newrelic", "elastic" };
    return d <= CG_OBS_ELASTIC ? names[d] : "?";
}

/* arn:<partition>:secretsmanager:<region>:<account>:secret:<name> */
static bool secret_arn_ok(const char *s)
{
    if (strncmp(s, "arn:aws", 7) || strlen(s) > 2048 || !all_of(s, "-_:/+=.@")) return false;
    const char *p = strchr(s + 4, ':');
    if (!p || strncmp(p, ":secretsmanager:", 16)) return false;
    p += 16;
    const char *region_end = strchr(p, ':');
    if (!region_end || region_end == p) return false;
    const char *acct = region_end + 1;
    if (strspn(acct, "0123456789") != 12 || strncmp(acct + 12, ":secret:", 8)) return false;
    return acct[20] != '\0';
}

static void read_key(cg_reader *r, const cg_ynode *n, cg_observability *o, const cg_spec *s)
{
    if (n->kind == CG_YSCALAR) {
        /* Never a literal key: not even its shape is echoed back. */
        cg_rd_err(r, n, "observability.key must reference the key in each cloud's secret store (aws: a Secrets "
                  "Manager secret ARN, azure: a Key Vault secret id), never the key itself");
        return;
    }
    if (!cg_rd_map(r, n, "observability.key")) return;
    cg_rd_keys(r, n, "observability.key", KEYS_OBS_KEY);
    const cg_ynode *v;
    bool aws = uses(s, CG_AWS), azure = uses(s, CG_AZURE);
    if ((v = aws ? cg_rd_need(r, n, "aws", "observability.key") : cg_ymap_get(n, "aws"))) {
        const char *a = cg_rd_str(r, v, "observability.key.aws");
        if (a && !secret_arn_ok(a))
            cg_rd_err(r, v, "observability.key.aws must be a Secrets Manager secret ARN "
                      "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)");
        else if (a && !aws)
            cg_rd_err(r, v, "observability.key.aws is given, but the spec has no AWS cell");
        else
            o->key_aws = dup(a);
    }
    const cg_ynode *url = azure ? cg_rd_need(r, n, "azure", "observability.key") : cg_ymap_get(n, "azure");
    const cg_ynode *vault = azure ? cg_rd_need(r, n, "azure_vault_id", "observability.key")
                                  : cg_ymap_get(n, "azure_vault_id");
    if (!azure && (url || vault)) {
        cg_rd_err(r, url ? url : vault, "observability.key.azure is given, but the spec has no Azure cell");
        return;
    }
    const char *u = url ? cg_rd_str(r, url, "observability.key.azure") : NULL;
    const char *vid = vault ? cg_rd_str(r, vault, "observability.key.azure_vault_id") : NULL;
    /* https://<vault>.vault.azure.net/secrets/<name>, versionless so a
     * rotated key is picked up. */
    const char *dot = u ? strstr(u, ".vault.azure.net/secrets/") : NULL;
    size_t vl = dot ? (size_t)(dot - (u + 8)) : 0;
    if (u && (strncmp(u, "https://", 8) || !dot || vl < 3 || vl > 24 || strlen(u) > 512 ||
              !all_of(u + 8, "-./") || strchr(dot + 25, '/') || !dot[25])) {
        cg_rd_err(r, url, "observability.key.azure must be a Key Vault secret id without a version "
                  "(https://<vault>.vault.azure.net/secrets/<name>)");
        u = NULL;
    }
    const char *vname = NULL;
    if (vid && !azure_id_ok(vid, "Microsoft.KeyVault/vaults", &vname)) {
        cg_rd_err(r, vault, "observability.key.azure_vault_id must be the Key Vault's resource id "
                  "(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>)");
        vid = NULL;
    }
    if (u && vid && (strlen(vname) != vl || strncasecmp(vname, u + 8, vl))) {
        cg_rd_err(r, vault, "observability.key.azure_vault_id names vault \"%s\", but the secret is in vault "
                  "\"%.*s\"", vname, (int)vl, u + 8);
        return;
    }
    o->key_azure = dup(u);
    o->key_vault_id = dup(vid);
}

void cg_rd_observability(cg_reader *r, const cg_ynode *n, cg_spec *s)
{
    if (!cg_rd_map(r, n, "observability")) return;
    cg_rd_keys(r, n, "observability", KEYS_OBS);
    cg_observability *o = &s->obs;
    const cg_ynode *v, *dest = cg_rd_need(r, n, "destination", "observability");
    const char *d = dest ? cg_rd_str(r, dest, "observability.destination") : NULL;
    for (int i = CG_OBS_OTLP; d && i <= CG_OBS_ELASTIC; i++)
        if (!strcmp(d, cg_obs_dest_name((cg_obs_dest)i))) o->destination = (cg_obs_dest)i;
    if (d && !o->destination)
        cg_rd_err(r, dest, "observability.destination must be \"otlp\" (an OpenTelemetry endpoint), \"datadog\", "
                  "\"newrelic\" or \"elastic\", not \"%s\"", d);
    if (!o->destination) return;
    const char *dn = cg_obs_dest_name(o->destination);
    bool aws = uses(s, CG_AWS);

    /* endpoint: otlp and elastic; the others follow from site. */
    bool wants_endpoint = o->destination == CG_OBS_OTLP || o->destination == CG_OBS_ELASTIC;
    if ((v = wants_endpoint ? cg_rd_need(r, n, "endpoint", "observability") : cg_ymap_get(n, "endpoint"))) {
        if (!wants_endpoint)
            cg_rd_err(r, v, "observability.endpoint is not used by %s: its intake follows from observability.site",
                      dn);
        else
            o->endpoint = dup(get_url(r, v, "observability.endpoint"));
    }
    /* firehose_endpoint: otlp with AWS cells. Firehose delivers its own
     * HTTP envelope, which a gateway's Firehose receiver takes, not OTLP. */
    bool wants_firehose = o->destination == CG_OBS_OTLP && aws;
    if ((v = wants_firehose ? cg_rd_need(r, n, "firehose_endpoint", "observability")
                            : cg_ymap_get(n, "firehose_endpoint"))) {
        if (o->destination != CG_OBS_OTLP)
            cg_rd_err(r, v, "observability.firehose_endpoint is for destination otlp; %s takes Firehose deliveries "
                      "at its own intake", dn);
        else if (!aws)
            cg_rd_err(r, v, "observability.firehose_endpoint is where AWS cells deliver, but the spec has no AWS "
                      "cell");
        else
            o->firehose_endpoint = dup(get_url(r, v, "observability.firehose_endpoint"));
    }
    bool wants_site = o->destination == CG_OBS_DATADOG || o->destination == CG_OBS_NEWRELIC;
    if ((v = wants_site ? cg_rd_need(r, n, "site", "observability") : cg_ymap_get(n, "site"))) {
        static const char *const dd[] = { "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com",
                                          "datadoghq.eu", "ap1.datadoghq.com", NULL };
        static const char *const nr[] = { "us", "eu", NULL };
        const char *site = cg_rd_str(r, v, "observability.site");
        if (site && !wants_site) {
            cg_rd_err(r, v, "observability.site is for datadog and newrelic; %s takes observability.endpoint", dn);
        } else if (site) {
            const char *const *ok = o->destination == CG_OBS_DATADOG ? dd : nr;
            bool found = false;
            for (size_t i = 0; ok[i]; i++) found |= !strcmp(ok[i], site);
            if (!found)
                cg_rd_err(r, v, o->destination == CG_OBS_DATADOG
                                  ? "observability.site \"%s\" is not a Datadog site (datadoghq.com, "
                                    "us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, ap1.datadoghq.com)"
                                  : "observability.site \"%s\" is not a New Relic region (us or eu)",
                          site);
            else
                o->site = cg_xstrdup(site);
        }
    }
    if ((v = cg_rd_need(r, n, "key", "observability"))) read_key(r, v, o, s);
}

/* ---- failover --------------------------------------------------------------- */

/* A cron expression as Cloudflare's Cron Triggers take it: five fields
 * (minute, hour, day of month, month, day of week) of digits, names
 * (JAN, MON), '*', ',', '-', '/' and the L, W and # forms, one space
 * apart. What each field means is Cloudflare's to check at deploy time;
 * this keeps out what would not be a schedule at all (and anything that
 * could leave its place in HCL or TOML). */
static bool cron_ok(const char *s)
{
    size_t fields = 0, len = 0;
    for (const char *p = s;; p++) {
        if (*p == ' ' || *p == '\0') {
            if (len == 0) return false;
            fields++;
            len = 0;
            if (*p == '\0') break;
            continue;
        }
        if (!isalnum((unsigned char)*p) && !strchr("*,-/#?", *p)) return false;
        if (++len > 64) return false;
    }
    return fields == 5;
}

void cg_rd_failover(cg_reader *r, const cg_ynode *n, cg_spec *s)
{
    cg_failover *f = &s->failover;
    f->automatic = n != NULL;
    f->failures = 3;
    f->successes = 5;
    f->probe_timeout_seconds = 5;
    f->max_down_percent = 50;
    f->states_cache_seconds = 5;
    const char *schedule = "* * * * *";
    if (n && cg_rd_map(r, n, "failover")) {
        cg_rd_keys(r, n, "failover", KEYS_FAILOVER);
        const cg_ynode *v;
        if ((v = cg_ymap_get(n, "automatic"))) cg_rd_bool(r, v, "failover.automatic", &f->automatic);
        if ((v = cg_ymap_get(n, "schedule"))) {
            const char *c = cg_rd_str(r, v, "failover.schedule");
            if (c && !cron_ok(c))
                cg_rd_err(r, v, "failover.schedule \"%s\" is not a cron expression: five fields (minute hour "
                          "day-of-month month day-of-week) one space apart, such as \"* * * * *\" (every minute, "
                          "the default)", c);
            else if (c)
                schedule = c;
        }
        /* The bounds are the Worker's own (edge/worker.js, SETTINGS). */
        if ((v = cg_ymap_get(n, "failures"))) cg_rd_int(r, v, "failover.failures", 1, 100, &f->failures);
        if ((v = cg_ymap_get(n, "successes"))) cg_rd_int(r, v, "failover.successes", 1, 100, &f->successes);
        if ((v = cg_ymap_get(n, "probe_timeout_seconds")))
            cg_rd_int(r, v, "failover.probe_timeout_seconds", 1, 30, &f->probe_timeout_seconds);
        if ((v = cg_ymap_get(n, "max_down_percent")))
            cg_rd_int(r, v, "failover.max_down_percent", 1, 100, &f->max_down_percent);
        if ((v = cg_ymap_get(n, "states_cache_seconds")))
            cg_rd_int(r, v, "failover.states_cache_seconds", 1, 60, &f->states_cache_seconds);
    }
    f->schedule = cg_xstrdup(schedule);
}

void cg_ops_free(cg_spec *s)
{
    free(s->failover.schedule);
    free(s->container.image);
    free(s->container.cpu);
    cg_ci *ci = &s->ci;
    free(ci->repository);
    free(ci->issuer);
    for (size_t i = 0; i < ci->nplan_branches; i++) free(ci->plan_branches[i]);
    free(ci->plan_branches);
    free(ci->apply_branch);
    free(ci->apply_environment);
    free(ci->cellgen);
    free(ci->terraform_version);
    cg_observability *o = &s->obs;
    free(o->endpoint);
    free(o->firehose_endpoint);
    free(o->site);
    free(o->key_aws);
    free(o->key_azure);
    free(o->key_vault_id);
    for (size_t i = 0; i < s->ncells; i++) {
        cg_network *n = &s->cells[i].network;
        free(n->id);
        for (size_t j = 0; j < n->nsubnets; j++) free(n->subnets[j]);
        free(n->subnets);
    }
}
