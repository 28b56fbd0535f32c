/*
 * gen/naming.c — derived resource names and the clouds' naming rules (see
 * naming.h). Each rule cites the limit the cloud documents; the messages
 * say which input to shorten.
 */
#include "naming.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *cg_naming_compact(const char *system, const char *cell_id)
{
    char *all = cg_xasprintf("%s%s", system, cell_id);
    char *w = all;
    for (const char *r = all; *r; r++)
        if (*r != '-') *w++ = *r;
    *w = '\0';
    return all;
}

typedef struct rule {
    const char *what;           /* "Lambda function name" */
    size_t min, max;
    const char *charset;        /* allowed punctuation besides [A-Za-z0-9] */
    bool lower_only;
    bool start_letter;
    bool end_alnum;
} rule;

static void check(const rule *r, const char *name, const char *hint,
                  int line, int col, cg_diags *d)
{
    size_t n = strlen(name);
    if (n < r->min || n > r->max) {
        cg_diag_add(d, line, col, "%s \"%s\" is %zu characters; the cloud allows %zu to %zu (%s)",
                    r->what, name, n, r->min, r->max, hint);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool ok = isdigit(c) || islower(c) || (!r->lower_only && isupper(c)) ||
                  (c && strchr(r->charset, c));
        if (!ok) {
            cg_diag_add(d, line, col, "%s \"%s\" may not contain '%c' (%s)", r->what, name, c, hint);
            return;
        }
    }
    if (r->start_letter && !isalpha((unsigned char)name[0]))
        cg_diag_add(d, line, col, "%s \"%s\" must start with a letter (%s)", r->what, name, hint);
    if (r->end_alnum && !isalnum((unsigned char)name[n - 1]))
        cg_diag_add(d, line, col, "%s \"%s\" must end with a letter or digit (%s)", r->what, name, hint);
}

/* AWS documents these limits on each service's quota page. */
static const rule aws_lambda   = { "Lambda function name", 1, 64, "-_", false, false, false };
static const rule aws_sqs      = { "SQS queue name", 1, 80, "-_", false, false, false };
static const rule aws_dynamodb = { "DynamoDB table name", 3, 255, "-_.", false, false, false };
static const rule aws_sns      = { "SNS topic name", 1, 256, "-_", false, false, false };
static const rule aws_role     = { "IAM role name", 1, 64, "+=,.@-_", false, false, false };

/* Azure: "Naming rules and restrictions for Azure resources". */
static const rule az_storage = { "Azure storage account name", 3, 24, "", true, false, false };
static const rule az_funcapp = { "Azure Function App name", 2, 60, "-", false, false, true };
static const rule az_cosmos  = { "Azure Cosmos DB account name", 3, 44, "-", true, false, true };
static const rule az_sbns    = { "Azure Service Bus namespace name", 6, 50, "-", false, true, true };
static const rule az_rg      = { "Azure resource group name", 1, 90, "-_.()", false, false, false };
static const rule az_sbsub   = { "Azure Service Bus subscription name", 1, 50, "-_.", false, false, false };
static const rule az_sbtopic = { "Azure Service Bus topic name", 1, 260, "-_.", false, false, false };
static const rule az_plan    = { "Azure App Service plan name", 1, 60, "-", false, false, false };

/* Container workers and the observability pipeline (spec_ops.c). */
static const rule aws_firehose = { "Firehose delivery stream name", 1, 64, "-_.", false, false, false };
static const rule aws_bucket   = { "S3 bucket name", 3, 63, "-.", true, false, true };
static const rule az_app       = { "Azure Container App name", 2, 32, "-", true, true, true };
static const rule az_appenv    = { "Azure Container Apps environment name", 2, 60, "-", false, true, true };
static const rule az_ehns      = { "Azure Event Hubs namespace name", 6, 50, "-", false, true, true };

void cg_naming_check_cell(const cg_spec *s, const cg_cell *c, int line, int col, cg_diags *d)
{
    char *prefix = cg_xasprintf("%s-%s", s->system, c->id);
    const char *hint_cell = "shorten the system name or the cell id";
    char *n;

    if (c->cloud == CG_AWS) {
        static const char *fixed[] = { "ingest", "forwarder" };
        for (size_t i = 0; i < 2; i++) {
            n = cg_xasprintf("%s-%s", prefix, fixed[i]);
            check(&aws_lambda, n, hint_cell, line, col, d);
            check(&aws_role, n, hint_cell, line, col, d);
            free(n);
        }
        n = cg_xasprintf("%s-%s", prefix, s->table);
        check(&aws_dynamodb, n, "shorten the system name, the cell id or pipeline.table", line, col, d);
        free(n);
        n = cg_xasprintf("%s-%s", prefix, s->topic);
        check(&aws_sns, n, "shorten the system name, the cell id or pipeline.topic", line, col, d);
        free(n);
        for (size_t i = 0; i < s->nconsumers; i++) {
            const char *hint = "shorten the system name, the cell id or the consumer name";
            n = cg_xasprintf("%s-%s", prefix, s->consumers[i].name);
            check(&aws_lambda, n, hint, line, col, d);
            check(&aws_role, n, hint, line, col, d);
            free(n);
            n = cg_xasprintf("%s-%s-dlq", prefix, s->consumers[i].name);
            check(&aws_sqs, n, hint, line, col, d);
            free(n);
        }
    } else {
        n = cg_naming_compact(s->system, c->id);
        check(&az_storage, n, "the system name and cell id without hyphens; shorten them", line, col, d);
        free(n);
        n = cg_xasprintf("%s-fn", prefix);
        check(&az_funcapp, n, hint_cell, line, col, d);
        free(n);
        n = cg_xasprintf("%s-plan", prefix);
        check(&az_plan, n, hint_cell, line, col, d);
        free(n);
        check(&az_cosmos, prefix, hint_cell, line, col, d);
        n = cg_xasprintf("%s-bus", prefix);
        check(&az_sbns, n, hint_cell, line, col, d);
        free(n);
        n = cg_xasprintf("rg-%s", prefix);
        check(&az_rg, n, hint_cell, line, col, d);
        free(n);
        check(&az_sbtopic, s->topic, "shorten pipeline.topic", line, col, d);
        for (size_t i = 0; i < s->nconsumers; i++)
            check(&az_sbsub, s->consumers[i].name, "shorten the consumer name", line, col, d);
    }
    free(prefix);
}

void cg_naming_check_ops(const cg_spec *s, const cg_cell *c, int line, int col, cg_diags *d)
{
    char *prefix = cg_xasprintf("%s-%s", s->system, c->id);
    const char *hint_cell = "shorten the system name or the cell id";
    const char *hint_consumer = "shorten the system name, the cell id or the consumer name";
    char *n;
    bool container = s->runtime_kind == CG_RT_CONTAINER, telemetry = s->obs.destination != CG_OBS_NONE;
    if (c->cloud == CG_AWS) {
        /* Roles that are not a consumer's use '_' (which no consumer name
         * has) so they can never take a consumer's name. */
        for (size_t i = 0; container && i < s->nconsumers; i++) {
            n = cg_xasprintf("%s-%s_task", prefix, s->consumers[i].name);
            check(&aws_role, n, hint_consumer, line, col, d);
            free(n);
        }
        if (container) {
            n = cg_xasprintf("%s_ecs-execution", prefix);
            check(&aws_role, n, hint_cell, line, col, d);
            free(n);
        }
        if (telemetry) {
            static const char *const streams[] = { "logs", "metrics" };
            static const char *const roles[] = { "firehose", "cwlogs", "metric-stream" };
            for (size_t i = 0; i < 2; i++) {
                n = cg_xasprintf("%s_%s", prefix, streams[i]);
                check(&aws_firehose, n, hint_cell, line, col, d);
                free(n);
            }
            for (size_t i = 0; i < 3; i++) {
                n = cg_xasprintf("%s_%s", prefix, roles[i]);
                check(&aws_role, n, hint_cell, line, col, d);
                free(n);
            }
            n = cg_xasprintf("%s-telemetry", prefix);
            check(&aws_bucket, n, hint_cell, line, col, d);
            free(n);
        }
    } else {
        if (container || telemetry) {
            n = cg_xasprintf("%s-env", prefix);
            check(&az_appenv, n, hint_cell, line, col, d);
            free(n);
        }
        for (size_t i = 0; container && i < s->nconsumers; i++) {
            const char *name = s->consumers[i].name;
            check(&az_app, name, "the consumer name is the Container App's name; shorten it", line, col, d);
            if (strstr(name, "--"))
                cg_diag_add(d, line, col, "Azure Container App name \"%s\" may not contain \"--\" (the consumer "
                            "name is the Container App's name)", name);
            if (telemetry && !strcmp(name, "telemetry"))
                cg_diag_add(d, line, col, "consumer name \"telemetry\" is the Container App of the cell's "
                            "observability pipeline; rename the consumer");
        }
        if (telemetry) {
            n = cg_xasprintf("%s-telemetry", prefix);
            check(&az_ehns, n, hint_cell, line, col, d);
            free(n);
        }
    }
    free(prefix);
}
