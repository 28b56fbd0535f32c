/*
 * gen/emit_module.c — the interface the two cell modules share: input
 * variables, outputs, versions.tf and the README, and the few pieces both
 * main.tf files write alike (the common locals, per consumer for_each, the
 * provider requirements the root configuration repeats).
 *
 * The modules are "matched": same variable names, types, defaults and
 * validation, same output names and meaning. Rather than keeping two copies
 * in step, one table below drives both variables.tf files (so they are
 * byte-identical apart from nothing at all) and both outputs.tf files
 * (which differ only in the expression behind each output). The README
 * tables are rendered from the same tables.
 *
 * The modules are generic: the pipeline's consumers, names and runtime are
 * inputs, not baked in. The spec decides what each root configuration
 * passes; a new consumer is a spec change that leaves the modules alone, and
 * the modules can be published and versioned like any registry module.
 */
#include "emit.h"

#include <stdlib.h>
#include <string.h>

typedef struct validation {
    const char *condition;
    const char *message;
} validation;

typedef struct variable {
    const char *name;
    const char *type;           /* one line, or NULL for a multi-line type */
    const char *type_open;      /* multi-line: opening, fields, closing */
    const char *const *fields;  /* "name\0type" pairs as "name=type" */
    const char *type_close;
    const char *readme_type;
    const char *description;
    const char *default_;       /* NULL = required */
    validation checks[6];
} variable;

static const char *const consumer_fields[] = {
    "handler=string", "batch_size=number", "timeout_seconds=number",
    "max_retries=number", "retention_seconds=number", NULL
};
static const char *const runtime_fields[] = {
    "language=string", "version=string", "memory_mb=number", NULL
};

#define NAME_RE(max) "^[a-z][a-z0-9-]{0," #max "}[a-z0-9]$"

static const variable variables[] = {
    { "system", "string", NULL, NULL, NULL, "`string`",
      "Name of the system the cell belongs to; the first part of every resource name.", NULL,
      { { "can(regex(\"" NAME_RE(14) "\", var.system))",
          "system must be 2-16 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'." } } },
    { "cell_id", "string", NULL, NULL, NULL, "`string`",
      "Identifier of the cell, unique across clouds; the routing map's cell_id.", NULL,
      { { "can(regex(\"" NAME_RE(38) "\", var.cell_id))",
          "cell_id must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'." } } },
    { "location", "string", NULL, NULL, NULL, "`string`",
      "AWS region or Azure location of the cell (us-east-1, eastus). On AWS the region comes from the provider configuration and must equal this value.", NULL,
      { { "can(regex(\"^[a-z0-9-]{2,32}$\", var.location))",
          "location must be a region or location name such as us-east-1 or eastus." } } },
    { "table_name", "string", NULL, NULL, NULL, "`string`",
      "Logical name of the event table (DynamoDB table suffix, Cosmos DB container name).", NULL,
      { { "can(regex(\"" NAME_RE(38) "\", var.table_name))",
          "table_name must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'." } } },
    { "partition_key", "string", NULL, NULL, NULL, "`string`",
      "Attribute the events are partitioned by (DynamoDB hash key, Cosmos DB partition key path).", NULL,
      { { "can(regex(\"^[A-Za-z_][A-Za-z0-9_]{0,254}$\", var.partition_key)) && var.partition_key != \"id\"",
          "partition_key must be 1-255 letters, digits or '_', not starting with a digit, and not \"id\" (the item id)." } } },
    { "topic_name", "string", NULL, NULL, NULL, "`string`",
      "Logical name of the topic the forwarder publishes to (SNS topic suffix, Service Bus topic name).", NULL,
      { { "can(regex(\"" NAME_RE(38) "\", var.topic_name))",
          "topic_name must be 2-40 characters: a lowercase letter, then lowercase letters, digits or '-', not ending in '-'." } } },
    { "consumers", NULL, "map(object({", consumer_fields, "}))",
      "`map(object({ handler = string, batch_size = number, timeout_seconds = number, max_retries = number, retention_seconds = number }))`",
      "Consumers of the topic by name: each gets its own queue (SQS queue / Service Bus subscription) with a dead-letter queue, and a function.", NULL,
      { { "length(var.consumers) >= 1 && length(var.consumers) <= 50 && alltrue([for name in keys(var.consumers) : can(regex(\"" NAME_RE(30) "\", name)) && !contains([\"ingest\", \"forwarder\"], name)])",
          "consumers must have 1-50 entries named like 'billing' (2-32 characters: lowercase letters, digits, '-'); 'ingest' and 'forwarder' are reserved." },
        { "alltrue([for c in values(var.consumers) : c.batch_size >= 1 && c.batch_size <= 10 && floor(c.batch_size) == c.batch_size])",
          "consumers[*].batch_size must be a whole number from 1 to 10." },
        { "alltrue([for c in values(var.consumers) : c.timeout_seconds >= 1 && c.timeout_seconds <= 300 && floor(c.timeout_seconds) == c.timeout_seconds])",
          "consumers[*].timeout_seconds must be a whole number from 1 to 300 (a Service Bus lock lasts at most 5 minutes)." },
        { "alltrue([for c in values(var.consumers) : c.max_retries >= 0 && c.max_retries <= 99 && floor(c.max_retries) == c.max_retries])",
          "consumers[*].max_retries must be a whole number from 0 to 99." },
        { "alltrue([for c in values(var.consumers) : c.retention_seconds >= 60 && c.retention_seconds <= 1209600 && floor(c.retention_seconds) == c.retention_seconds])",
          "consumers[*].retention_seconds must be a whole number from 60 to 1209600 (14 days, the SQS maximum)." },
        { "alltrue([for c in values(var.consumers) : can(regex(\"^[A-Za-z_][A-Za-z0-9_.]{0,127}$\", c.handler))])",
          "consumers[*].handler must look like module.function (at most 128 characters)." } } },
    { "runtime", NULL, "object({", runtime_fields, "})",
      "`object({ language = string, version = string, memory_mb = number })`",
      "Function runtime: language (python or node), its version, and memory per function in MB.", NULL,
      { { "(var.runtime.language == \"python\" && contains([\"3.9\", \"3.10\", \"3.11\", \"3.12\"], var.runtime.version)) || (var.runtime.language == \"node\" && contains([\"18\", \"20\"], var.runtime.version))",
          "runtime must be python 3.9-3.12 or node 18/20, the versions both AWS Lambda and Azure Functions run." },
        { "var.runtime.memory_mb >= 128 && var.runtime.memory_mb <= 10240 && floor(var.runtime.memory_mb) == var.runtime.memory_mb",
          "runtime.memory_mb must be a whole number from 128 to 10240." } } },
    { "ingest_handler", "string", NULL, NULL, NULL, "`string`",
      "Handler of the HTTP ingest function (module.function).", NULL,
      { { "can(regex(\"^[A-Za-z_][A-Za-z0-9_.]{0,127}$\", var.ingest_handler))",
          "ingest_handler must look like module.function (at most 128 characters)." } } },
    { "forwarder_handler", "string", NULL, NULL, NULL, "`string`",
      "Handler of the change-feed function that forwards new events to the topic (module.function).", NULL,
      { { "can(regex(\"^[A-Za-z_][A-Za-z0-9_.]{0,127}$\", var.forwarder_handler))",
          "forwarder_handler must look like module.function (at most 128 characters)." } } },
    { "package_uri", "string", NULL, NULL, NULL, "`string`",
      "Where the function package (zip) is: s3://bucket/key on AWS, an https:// URL on Azure (WEBSITE_RUN_FROM_PACKAGE).", NULL,
      { { "can(regex(\"^(s3://[^/]+/.+|https://.+)$\", var.package_uri))",
          "package_uri must be s3://bucket/key (AWS) or an https:// URL (Azure)." } } },
    { "tags", "map(string)", NULL, NULL, NULL, "`map(string)`",
      "Tags added to every resource that takes tags.", "{}",
      { { "length(var.tags) <= 45",
          "tags may have at most 45 entries (both clouds allow 50; the module adds its own)." } } },
};

typedef struct output {
    const char *name;
    const char *description;
    const char *aws, *azure;
} output;

static const output outputs[] = {
    { "ingest_url", "HTTPS URL that accepts events for this cell (POST); the routing-map endpoint of tenants placed here.",
      "\"${aws_apigatewayv2_api.ingest.api_endpoint}/events\"",
      "\"https://${azurerm_linux_function_app.cell.default_hostname}/api/events\"" },
    { "cell_id", "Identifier of the cell, as given.", "var.cell_id", "var.cell_id" },
    { "table_name", "Name of the event table (DynamoDB table / Cosmos DB container).",
      "aws_dynamodb_table.events.name", "azurerm_cosmosdb_sql_container.events.name" },
    { "topic_name", "Name of the topic new events are published to (SNS topic / Service Bus topic).",
      "aws_sns_topic.events.name", "azurerm_servicebus_topic.events.name" },
    { "consumer_queues", "Queue each consumer reads, by consumer name (SQS queue / Service Bus subscription).",
      "{ for name, q in aws_sqs_queue.consumer : name => q.name }",
      "{ for name, s in azurerm_servicebus_subscription.consumer : name => s.name }" },
    { "dead_letter_queues", "Where each consumer's failed messages go, by consumer name (SQS dead-letter queue / the subscription's $DeadLetterQueue).",
      "{ for name, q in aws_sqs_queue.dead_letter : name => q.name }",
      "{ for name, s in azurerm_servicebus_subscription.consumer : name => \"${azurerm_servicebus_topic.events.name}/Subscriptions/${s.name}/$DeadLetterQueue\" }" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

char *cg_emit_header_text(const cg_gen_opts *o, bool module)
{
    if (module)
        return cg_xstrdup("Generated by cellgen; the same for every spec.\n"
                          "Do not edit: change the generator (gen/) and run cellgen.");
    /* The spec's file name, printable: a newline would end the comment, and
     * "-->" would end a Markdown one. */
    char *name = cg_xstrdup(o->spec_name);
    for (char *p = name; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        if (*p == '>' && p - name >= 2 && p[-1] == '-' && p[-2] == '-') *p = '?';
    }
    char *text = cg_xasprintf("Generated by cellgen from %s.\n"
                              "Do not edit: change the spec and run cellgen.", name);
    free(name);
    return text;
}

void cg_emit_header(cg_hcl *h, const cg_gen_opts *o, bool module)
{
    char *text = cg_emit_header_text(o, module);
    cg_hcl_comment(h, text);
    free(text);
    cg_hcl_blank(h);
}

void cg_emit_md_header(cg_buf *b, const cg_gen_opts *o, bool module)
{
    char *text = cg_emit_header_text(o, module);
    char *nl = strchr(text, '\n');
    cg_buf_printf(b, "<!-- %.*s\n     %s -->\n\n", (int)(nl - text), text, nl + 1);
    free(text);
}

char *cg_emit_variables(const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, true);
    for (size_t i = 0; i < COUNT(variables); i++) {
        const variable *v = &variables[i];
        if (i) cg_hcl_blank(&h);
        cg_hcl_open(&h, "variable \"%s\"", v->name);
        cg_hcl_attr_str(&h, "description", v->description);
        if (v->type) {
            cg_hcl_attr(&h, "type", "%s", v->type);
        } else {
            cg_hcl_open_line(&h, "type = %s", v->type_open);
            for (const char *const *f = v->fields; *f; f++) {
                const char *eq = strchr(*f, '=');
                char *name = cg_xstrndup(*f, (size_t)(eq - *f));
                cg_hcl_attr(&h, name, "%s", eq + 1);
                free(name);
            }
            cg_hcl_close(&h, v->type_close);
        }
        if (v->default_) cg_hcl_attr(&h, "default", "%s", v->default_);
        for (size_t c = 0; c < COUNT(v->checks) && v->checks[c].condition; c++) {
            cg_hcl_blank(&h);
            cg_hcl_open(&h, "validation");
            cg_hcl_attr(&h, "condition", "%s", v->checks[c].condition);
            cg_hcl_attr_str(&h, "error_message", v->checks[c].message);
            cg_hcl_close(&h, "}");
        }
        cg_hcl_close(&h, "}");
    }
    return cg_hcl_finish(&h);
}

char *cg_emit_outputs(const cg_gen_opts *o, cg_cloud cloud)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, true);
    for (size_t i = 0; i < COUNT(outputs); i++) {
        if (i) cg_hcl_blank(&h);
        cg_hcl_open(&h, "output \"%s\"", outputs[i].name);
        cg_hcl_attr_str(&h, "description", outputs[i].description);
        cg_hcl_attr(&h, "value", "%s", cloud == CG_AWS ? outputs[i].aws : outputs[i].azure);
        cg_hcl_close(&h, "}");
    }
    return cg_hcl_finish(&h);
}

void cg_emit_provider_requirement(cg_hcl *h, const char *name, const char *source,
                                  const char *version)
{
    cg_hcl_open(h, "%s =", name);
    cg_hcl_attr_str(h, "source", source);
    if (version)
        cg_hcl_attr_str(h, "version", version);
    cg_hcl_close(h, "}");
}

void cg_emit_required_provider(cg_hcl *h, cg_cloud cloud)
{
    if (cloud == CG_AWS)
        cg_emit_provider_requirement(h, "aws", "hashicorp/aws", "~> 5.0");
    else
        cg_emit_provider_requirement(h, "azurerm", "hashicorp/azurerm", "~> 3.0");
}

void cg_emit_requirements_open(cg_hcl *h)
{
    cg_hcl_open(h, "terraform");
    cg_hcl_attr_str(h, "required_version", ">= 1.3.0");
    cg_hcl_blank(h);
    cg_hcl_open(h, "required_providers");
}

char *cg_emit_versions(const cg_gen_opts *o, cg_cloud cloud)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, true);
    cg_emit_requirements_open(&h);
    cg_emit_required_provider(&h, cloud);
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    return cg_hcl_finish(&h);
}

void cg_emit_cell_locals_open(cg_hcl *h)
{
    cg_hcl_open(h, "locals");
    cg_hcl_attr(h, "prefix", "\"${var.system}-${var.cell_id}\"");
    cg_hcl_open_line(h, "tags = merge(var.tags, {");
    cg_hcl_attr(h, "\"cellrouter:system\"", "var.system");
    cg_hcl_attr(h, "\"cellrouter:cell\"", "var.cell_id");
    cg_hcl_attr(h, "\"cellrouter:location\"", "var.location");
    cg_hcl_close(h, "})");
}

void cg_emit_for_each_consumer(cg_hcl *h)
{
    cg_hcl_attr(h, "for_each", "var.consumers");
    cg_hcl_blank(h);
}

/* Markdown table cells may not contain '|' or newlines. */
static void md_cell(cg_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') cg_buf_puts(b, "\\|");
        else if (*s == '\n') cg_buf_putc(b, ' ');
        else cg_buf_putc(b, *s);
    }
}

static const char *readme_aws_intro =
    "An event cell on AWS: an API Gateway HTTP API and an ingest Lambda write events to a\n"
    "DynamoDB table; its stream (NEW_AND_OLD_IMAGES) drives a forwarder Lambda that publishes\n"
    "to an SNS topic; each consumer has its own SQS queue (subscribed to the topic, with a\n"
    "dead-letter queue and a queue policy that admits only this topic) and a Lambda reading\n"
    "it through an event source mapping. Every function has its own IAM role that may do\n"
    "exactly its job (put items; read the stream and publish; receive from its queue) and\n"
    "write to its own log group.\n";

static const char *readme_azure_intro =
    "An event cell on Azure: an HTTP-triggered Function writes events to a Cosmos DB (SQL\n"
    "API, serverless) container partitioned by the same key as on AWS, with a leases\n"
    "container for the change feed; a change-feed Function forwards new events to a Service\n"
    "Bus topic; each consumer has its own subscription (max delivery count, lock duration\n"
    "and message TTL derived from the same inputs as on AWS, dead-lettering after the last\n"
    "delivery) and a Function reading it. The Function App uses its managed identity only:\n"
    "Cosmos DB data contributor on this cell's database, Service Bus sender on the topic and\n"
    "receiver on each subscription; Cosmos DB and Service Bus key authentication is off.\n";

static const char *readme_mapping =
    "## How the inputs map on each cloud\n\n"
    "| Input | AWS | Azure |\n"
    "|-------|-----|-------|\n"
    "| `consumers[*].max_retries` | SQS redrive `maxReceiveCount = max_retries + 1` | subscription `max_delivery_count = max_retries + 1` |\n"
    "| `consumers[*].timeout_seconds` | Lambda timeout and SQS visibility timeout | subscription `lock_duration` (compact ISO 8601, e.g. `PT1M`); the app-wide `functionTimeout` is the largest consumer timeout |\n"
    "| `consumers[*].retention_seconds` | SQS `message_retention_seconds` | subscription `default_message_ttl` (e.g. `P4D`) |\n"
    "| `consumers[*].batch_size` | event source mapping `batch_size` | app setting `CONSUMER_<NAME>_BATCH_SIZE`; the host-wide `maxMessageBatchSize` is the largest |\n"
    "| `consumers[*].handler` | Lambda `handler` | app setting `CONSUMER_<NAME>_HANDLER` (triggers are declared in code on Azure) |\n"
    "| `runtime.memory_mb` | Lambda `memory_size` | not settable per function on the Consumption plan (fixed 1.5 GB) |\n"
    "| `package_uri` | `s3://bucket/key` | `https://` URL in `WEBSITE_RUN_FROM_PACKAGE` |\n"
    "| `location` | must equal the region of the provider passed in (a precondition stops the plan otherwise); tags | resource group location |\n\n"
    "## Where the clouds differ\n\n"
    "- **Dead-lettering on expiry.** SQS deletes a message whose retention ends; Service Bus can\n"
    "  dead-letter it instead. The Azure module turns that off (`dead_lettering_on_message_expiration\n"
    "  = false`) so both clouds behave alike: only messages that exhausted their deliveries reach\n"
    "  the dead-letter queue.\n"
    "- **Dead-letter retention.** An SQS dead-letter queue keeps messages for 14 days (the\n"
    "  maximum); a Service Bus dead-letter sub-queue keeps them until they are read.\n"
    "- **Timeouts and batch sizes.** Lambda takes both per function. Azure Functions take the\n"
    "  timeout and the Service Bus batch size per app (host.json settings, set here through\n"
    "  `AzureFunctionsJobHost__*` app settings), so the module uses the largest consumer value\n"
    "  and passes each consumer's own value to its code as an app setting.\n"
    "- **Triggers.** On AWS the triggers are infrastructure (event source mappings, an API route);\n"
    "  on Azure they are declared in the function code, which binds to the app settings this\n"
    "  module writes (`EVENTS_*`, `COSMOS__accountEndpoint`, `SERVICEBUS__fullyQualifiedNamespace`,\n"
    "  `CONSUMER_<NAME>_SUBSCRIPTION`).\n"
    "- **Least privilege.** Each Lambda has its own role; on Azure the functions of a cell share\n"
    "  one Function App and therefore one identity, whose grants are scoped to this cell's\n"
    "  database, topic and subscriptions.\n"
    "- **Partial batch failures.** On AWS the consumer event source mappings report batch item\n"
    "  failures (`ReportBatchItemFailures`): a handler returns the ids of the messages it could\n"
    "  not process and only those are retried. On Azure each message is settled on its own.\n"
    "- **Fixed timeouts.** The ingest function has 10 seconds and the forwarder 60 on AWS; on\n"
    "  Azure both run under the app-wide `functionTimeout` above.\n"
    "- **Ingest URL.** Both accept `POST /events`: `https://<api>.execute-api.<region>.amazonaws.com/events`\n"
    "  on AWS, `https://<app>.azurewebsites.net/api/events` on Azure.\n\n"
    "## Why the modules are generic\n\n"
    "The consumers, names and runtime are inputs rather than baked into the module. The spec\n"
    "(see `schemas/cellspec.schema.json`) decides what the root configuration passes, so adding\n"
    "a consumer is a spec change that regenerates the root configuration and leaves the modules\n"
    "untouched; the modules can be versioned and reviewed on their own, and the matched\n"
    "interface of the two clouds is a property of the generator, checked by the tests.\n";

char *cg_emit_module_readme(const cg_gen_opts *o, cg_cloud cloud)
{
    cg_buf b = {0};
    cg_emit_md_header(&b, o, true);
    cg_buf_printf(&b, "# %s\n\n", cloud == CG_AWS ? "aws_event_cell" : "azure_event_cell");
    cg_buf_puts(&b, cloud == CG_AWS ? readme_aws_intro : readme_azure_intro);
    cg_buf_printf(&b, "\nIts inputs and outputs are identical to those of `%s`, so a cell can move\n"
                      "between clouds without changing the caller.\n\n",
                  cloud == CG_AWS ? "azure_event_cell" : "aws_event_cell");
    cg_buf_puts(&b, "## Usage\n\n```hcl\n");
    cg_buf_printf(&b, "module \"cell\" {\n  source = \"../../modules/%s\"\n\n",
                  cloud == CG_AWS ? "aws_event_cell" : "azure_event_cell");
    cg_buf_puts(&b,
        "  system        = \"orders\"\n");
    cg_buf_printf(&b,
        "  cell_id       = \"%s\"\n  location      = \"%s\"\n",
        cloud == CG_AWS ? "aws-alpha" : "azure-beta", cloud == CG_AWS ? "us-east-1" : "eastus");
    cg_buf_printf(&b,
        "  table_name    = \"events\"\n"
        "  partition_key = \"tenant_id\"\n"
        "  topic_name    = \"order-events\"\n"
        "  package_uri   = \"%s\"\n"
        "  consumers = {\n"
        "    billing = {\n"
        "      handler           = \"billing.handle\"\n"
        "      batch_size        = 10\n"
        "      timeout_seconds   = 30\n"
        "      max_retries       = 4\n"
        "      retention_seconds = 345600\n"
        "    }\n"
        "  }\n"
        "  runtime = {\n"
        "    language  = \"python\"\n"
        "    version   = \"3.12\"\n"
        "    memory_mb = 256\n"
        "  }\n"
        "  ingest_handler    = \"ingest.handle\"\n"
        "  forwarder_handler = \"forwarder.handle\"\n"
        "}\n```\n\n",
        cloud == CG_AWS ? "s3://orders-artifacts/orders-1.4.0.zip"
                        : "https://ordersartifacts.blob.core.windows.net/releases/orders-1.4.0.zip");

    cg_buf_puts(&b, "## Inputs\n\n| Name | Description | Type | Default | Required |\n"
                    "|------|-------------|------|---------|:--------:|\n");
    for (size_t i = 0; i < COUNT(variables); i++) {
        const variable *v = &variables[i];
        cg_buf_printf(&b, "| <a name=\"input_%s\"></a> [%s](#input_%s) | ", v->name, v->name, v->name);
        md_cell(&b, v->description);
        cg_buf_puts(&b, " | ");
        md_cell(&b, v->readme_type);
        cg_buf_printf(&b, " | %s%s%s | %s |\n", v->default_ ? "`" : "n/a", v->default_ ? v->default_ : "",
                      v->default_ ? "`" : "", v->default_ ? "no" : "yes");
    }
    cg_buf_puts(&b, "\n## Outputs\n\n| Name | Description |\n|------|-------------|\n");
    for (size_t i = 0; i < COUNT(outputs); i++) {
        cg_buf_printf(&b, "| <a name=\"output_%s\"></a> [%s](#output_%s) | ", outputs[i].name,
                      outputs[i].name, outputs[i].name);
        md_cell(&b, outputs[i].description);
        cg_buf_puts(&b, " |\n");
    }
    cg_buf_puts(&b, "\n");
    cg_buf_puts(&b, readme_mapping);
    return cg_buf_steal(&b);
}
