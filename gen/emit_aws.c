/*
 * gen/emit_aws.c — main.tf of modules/aws_event_cell.
 *
 * HTTP API -> ingest Lambda -> DynamoDB (stream NEW_AND_OLD_IMAGES) ->
 * forwarder Lambda -> SNS topic -> per consumer: SQS queue (+ dead-letter
 * queue, redrive, topic-scoped queue policy) -> consumer Lambda.
 * Resource names follow the formulas checked in naming.c.
 */
#include "emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A log group, a role with a least-privilege inline policy, and the
 * function itself. `key` is the resource name ("ingest"); for the per
 * consumer resources it is "consumer" and each.key selects the instance. */
typedef struct fn {
    const char *key;
    bool per_consumer;
    const char *name_expr;      /* function name */
    const char *handler_expr;
    const char *timeout_expr;
    const char *const *env;     /* "NAME=expr" */
} fn;

static const char *ref(const char *type, const fn *f, const char *attr, char *buf, size_t n)
{
    snprintf(buf, n, "%s.%s%s.%s", type, f->key, f->per_consumer ? "[each.key]" : "", attr);
    return buf;
}

/* Opens one of f's resources: per consumer ones iterate over the consumers. */
static void open_fn_resource(cg_hcl *h, const char *type, const fn *f)
{
    cg_hcl_open(h, "resource \"%s\" \"%s\"", type, f->key);
    if (f->per_consumer)
        cg_emit_for_each_consumer(h);
}

/* The principals block of an AWS service's trust or resource policy. */
static void service_principal(cg_hcl *h, const char *service)
{
    cg_hcl_open(h, "principals");
    cg_hcl_attr(h, "type", "\"Service\"");
    cg_hcl_attr(h, "identifiers", "[\"%s\"]", service);
    cg_hcl_close(h, "}");
}

static void emit_function(cg_hcl *h, const fn *f)
{
    char a[256], b[256];

    open_fn_resource(h, "aws_cloudwatch_log_group", f);
    cg_hcl_attr(h, "name", "\"/aws/lambda/%s\"", f->name_expr);
    cg_hcl_attr(h, "retention_in_days", "30");
    cg_hcl_attr(h, "tags", "local.tags");
    cg_hcl_end(h);

    open_fn_resource(h, "aws_iam_role", f);
    cg_hcl_attr(h, "name", "\"%s\"", f->name_expr);
    cg_hcl_attr(h, "assume_role_policy", "data.aws_iam_policy_document.lambda_assume.json");
    cg_hcl_attr(h, "tags", "local.tags");
    cg_hcl_end(h);

    open_fn_resource(h, "aws_iam_role_policy", f);
    cg_hcl_attr(h, "name", "\"least-privilege\"");
    cg_hcl_attr(h, "role", "%s", ref("aws_iam_role", f, "id", a, sizeof a));
    cg_hcl_attr(h, "policy", "%s", ref("data.aws_iam_policy_document", f, "json", b, sizeof b));
    cg_hcl_end(h);

    open_fn_resource(h, "aws_lambda_function", f);
    cg_hcl_attr(h, "function_name", "\"%s\"", f->name_expr);
    cg_hcl_attr(h, "role", "%s", ref("aws_iam_role", f, "arn", a, sizeof a));
    cg_hcl_attr(h, "runtime", "local.lambda_runtime");
    cg_hcl_attr(h, "handler", "%s", f->handler_expr);
    cg_hcl_attr(h, "memory_size", "var.runtime.memory_mb");
    cg_hcl_attr(h, "timeout", "%s", f->timeout_expr);
    cg_hcl_attr(h, "s3_bucket", "local.package_bucket");
    cg_hcl_attr(h, "s3_key", "local.package_key");
    cg_hcl_attr(h, "tags", "local.tags");
    cg_hcl_blank(h);
    cg_hcl_open(h, "environment");
    cg_hcl_open(h, "variables =");
    for (const char *const *e = f->env; *e; e++) {
        const char *eq = strchr(*e, '=');
        char *k = cg_xstrndup(*e, (size_t)(eq - *e));
        cg_hcl_attr(h, k, "%s", eq + 1);
        free(k);
    }
    cg_hcl_close(h, "}");
    cg_hcl_end(h);
    /* The log group is created here, before the function runs, so the
     * role needs no logs:CreateLogGroup. */
    cg_hcl_open(h, "logging_config");
    cg_hcl_attr(h, "log_format", "\"Text\"");
    cg_hcl_attr(h, "log_group", "%s", ref("aws_cloudwatch_log_group", f, "name", a, sizeof a));
    cg_hcl_close(h, "}");
    cg_hcl_end(h);
}

/* A DynamoDB key attribute of type string, and a blank line. */
static void string_key_attribute(cg_hcl *h, const char *name_expr)
{
    cg_hcl_open(h, "attribute");
    cg_hcl_attr(h, "name", "%s", name_expr);
    cg_hcl_attr(h, "type", "\"S\"");
    cg_hcl_end(h);
}

static void statement(cg_hcl *h, const char *sid, const char *actions, const char *resources)
{
    cg_hcl_open(h, "statement");
    cg_hcl_attr(h, "sid", "\"%s\"", sid);
    cg_hcl_attr(h, "actions", "%s", actions);
    cg_hcl_attr(h, "resources", "%s", resources);
    cg_hcl_close(h, "}");
}

static void logs_statement(cg_hcl *h, const fn *f)
{
    char a[256], r[300];
    snprintf(r, sizeof r, "[\"${%s}:*\"]", ref("aws_cloudwatch_log_group", f, "arn", a, sizeof a));
    statement(h, "WriteOwnLogs", "[\"logs:CreateLogStream\", \"logs:PutLogEvents\"]", r);
}

char *cg_emit_aws_main(const cg_gen_opts *o)
{
    cg_hcl h = {0};
    cg_emit_header(&h, o, true);

    cg_emit_cell_locals_open(&h);
    cg_hcl_attr(&h, "lambda_runtime",
                "var.runtime.language == \"python\" ? \"python${var.runtime.version}\" : \"nodejs${var.runtime.version}.x\"");
    cg_hcl_attr(&h, "package_bucket", "regex(\"^s3://([^/]+)/(.+)$\", var.package_uri)[0]");
    cg_hcl_attr(&h, "package_key", "regex(\"^s3://([^/]+)/(.+)$\", var.package_uri)[1]");
    cg_hcl_end(&h);

    /* The region comes from the provider the caller passes; `location` says
     * which one the caller meant, and a mismatch stops the plan. */
    cg_hcl_empty_block(&h, "data \"aws_region\" \"current\"");
    cg_hcl_blank(&h);

    /* ---- storage: the event table and its stream */
    cg_hcl_comment(&h, "Events land in a DynamoDB table; its stream feeds the forwarder.");
    cg_hcl_open(&h, "resource \"aws_dynamodb_table\" \"events\"");
    cg_hcl_attr(&h, "name", "\"${local.prefix}-${var.table_name}\"");
    cg_hcl_attr(&h, "billing_mode", "\"PAY_PER_REQUEST\"");
    cg_hcl_attr(&h, "hash_key", "var.partition_key");
    cg_hcl_attr(&h, "range_key", "\"id\"");
    cg_hcl_attr(&h, "stream_enabled", "true");
    cg_hcl_attr(&h, "stream_view_type", "\"NEW_AND_OLD_IMAGES\"");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_blank(&h);
    string_key_attribute(&h, "var.partition_key");
    string_key_attribute(&h, "\"id\"");
    cg_hcl_block1(&h, "point_in_time_recovery", "enabled", "true");
    cg_hcl_blank(&h);
    cg_hcl_block1(&h, "server_side_encryption", "enabled", "true");
    cg_hcl_blank(&h);
    cg_hcl_open(&h, "lifecycle");
    cg_hcl_open(&h, "precondition");
    cg_hcl_attr(&h, "condition", "data.aws_region.current.name == var.location");
    cg_hcl_attr(&h, "error_message", "\"The AWS provider passed to this cell is configured for another region than var.location.\"");
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"aws_sns_topic\" \"events\"");
    cg_hcl_attr(&h, "name", "\"${local.prefix}-${var.topic_name}\"");
    cg_hcl_attr(&h, "kms_master_key_id", "\"alias/aws/sns\"");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);

    /* ---- functions */
    cg_hcl_comment(&h, "Every function assumes its own role.");
    cg_hcl_open(&h, "data \"aws_iam_policy_document\" \"lambda_assume\"");
    cg_hcl_open(&h, "statement");
    cg_hcl_attr(&h, "actions", "[\"sts:AssumeRole\"]");
    cg_hcl_blank(&h);
    service_principal(&h, "lambda.amazonaws.com");
    cg_hcl_close(&h, "}");
    cg_hcl_end(&h);

    static const char *const ingest_env[] = {
        "CELL_ID=var.cell_id", "EVENTS_TABLE=aws_dynamodb_table.events.name",
        "PARTITION_KEY=var.partition_key", NULL };
    static const char *const forwarder_env[] = {
        "CELL_ID=var.cell_id", "TOPIC_ARN=aws_sns_topic.events.arn", NULL };
    static const char *const consumer_env[] = {
        "CELL_ID=var.cell_id", "CONSUMER=each.key", NULL };
    const fn ingest = { "ingest", false, "${local.prefix}-ingest", "var.ingest_handler", "10", ingest_env };
    const fn forwarder = { "forwarder", false, "${local.prefix}-forwarder", "var.forwarder_handler", "60",
                           forwarder_env };
    const fn consumer = { "consumer", true, "${local.prefix}-${each.key}", "each.value.handler",
                          "each.value.timeout_seconds", consumer_env };

    cg_hcl_comment(&h, "Ingest: the HTTP API's function may only put items into the table.");
    cg_hcl_open(&h, "data \"aws_iam_policy_document\" \"ingest\"");
    statement(&h, "PutEvents", "[\"dynamodb:PutItem\"]", "[aws_dynamodb_table.events.arn]");
    cg_hcl_blank(&h);
    logs_statement(&h, &ingest);
    cg_hcl_end(&h);
    emit_function(&h, &ingest);

    cg_hcl_open(&h, "resource \"aws_apigatewayv2_api\" \"ingest\"");
    cg_hcl_attr(&h, "name", "\"${local.prefix}-ingest\"");
    cg_hcl_attr(&h, "protocol_type", "\"HTTP\"");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"aws_apigatewayv2_integration\" \"ingest\"");
    cg_hcl_attr(&h, "api_id", "aws_apigatewayv2_api.ingest.id");
    cg_hcl_attr(&h, "integration_type", "\"AWS_PROXY\"");
    cg_hcl_attr(&h, "integration_uri", "aws_lambda_function.ingest.invoke_arn");
    cg_hcl_attr(&h, "payload_format_version", "\"2.0\"");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"aws_apigatewayv2_route\" \"ingest\"");
    cg_hcl_attr(&h, "api_id", "aws_apigatewayv2_api.ingest.id");
    cg_hcl_attr(&h, "route_key", "\"POST /events\"");
    cg_hcl_attr(&h, "target", "\"integrations/${aws_apigatewayv2_integration.ingest.id}\"");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"aws_apigatewayv2_stage\" \"default\"");
    cg_hcl_attr(&h, "api_id", "aws_apigatewayv2_api.ingest.id");
    cg_hcl_attr(&h, "name", "\"$default\"");
    cg_hcl_attr(&h, "auto_deploy", "true");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);
    cg_hcl_open(&h, "resource \"aws_lambda_permission\" \"ingest_api\"");
    cg_hcl_attr(&h, "statement_id", "\"AllowHttpApi\"");
    cg_hcl_attr(&h, "action", "\"lambda:InvokeFunction\"");
    cg_hcl_attr(&h, "function_name", "aws_lambda_function.ingest.function_name");
    cg_hcl_attr(&h, "principal", "\"apigateway.amazonaws.com\"");
    cg_hcl_attr(&h, "source_arn", "\"${aws_apigatewayv2_api.ingest.execution_arn}/*/*/events\"");
    cg_hcl_end(&h);

    cg_hcl_comment(&h, "Forwarder: reads the table's stream, publishes to the topic.");
    cg_hcl_open(&h, "data \"aws_iam_policy_document\" \"forwarder\"");
    statement(&h, "ReadStream",
              "[\"dynamodb:DescribeStream\", \"dynamodb:GetRecords\", \"dynamodb:GetShardIterator\"]",
              "[aws_dynamodb_table.events.stream_arn]");
    cg_hcl_blank(&h);
    /* ListStreams is an account-level action: IAM accepts no narrower
     * resource for it, and it reveals only stream ARNs. */
    cg_hcl_comment(&h, "ListStreams takes no resource narrower than \"*\" (it only lists stream ARNs).");
    statement(&h, "ListStreams", "[\"dynamodb:ListStreams\"]", "[\"*\"]");
    cg_hcl_blank(&h);
    statement(&h, "Publish", "[\"sns:Publish\"]", "[aws_sns_topic.events.arn]");
    cg_hcl_blank(&h);
    logs_statement(&h, &forwarder);
    cg_hcl_end(&h);
    emit_function(&h, &forwarder);

    cg_hcl_open(&h, "resource \"aws_lambda_event_source_mapping\" \"forwarder\"");
    cg_hcl_attr(&h, "event_source_arn", "aws_dynamodb_table.events.stream_arn");
    cg_hcl_attr(&h, "function_name", "aws_lambda_function.forwarder.arn");
    cg_hcl_attr(&h, "starting_position", "\"TRIM_HORIZON\"");
    cg_hcl_attr(&h, "batch_size", "100");
    cg_hcl_attr(&h, "maximum_retry_attempts", "10");
    cg_hcl_attr(&h, "bisect_batch_on_function_error", "true");
    cg_hcl_end(&h);

    /* ---- consumers */
    cg_hcl_comment(&h, "Consumers: one queue (with its dead-letter queue) and one function each.");
    cg_hcl_open(&h, "resource \"aws_sqs_queue\" \"dead_letter\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "name", "\"${local.prefix}-${each.key}-dlq\"");
    cg_hcl_attr(&h, "message_retention_seconds", "1209600");
    cg_hcl_attr(&h, "sqs_managed_sse_enabled", "true");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"aws_sqs_queue\" \"consumer\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "name", "\"${local.prefix}-${each.key}\"");
    cg_hcl_attr(&h, "visibility_timeout_seconds", "each.value.timeout_seconds");
    cg_hcl_attr(&h, "message_retention_seconds", "each.value.retention_seconds");
    cg_hcl_attr(&h, "sqs_managed_sse_enabled", "true");
    cg_hcl_attr(&h, "tags", "local.tags");
    cg_hcl_open_line(&h, "redrive_policy = jsonencode({");
    cg_hcl_attr(&h, "deadLetterTargetArn", "aws_sqs_queue.dead_letter[each.key].arn");
    cg_hcl_attr(&h, "maxReceiveCount", "each.value.max_retries + 1");
    cg_hcl_close(&h, "})");
    cg_hcl_end(&h);

    cg_hcl_comment(&h, "Only this cell's topic may send to a consumer queue.");
    cg_hcl_open(&h, "data \"aws_iam_policy_document\" \"queue\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_open(&h, "statement");
    cg_hcl_attr(&h, "sid", "\"FromTopic\"");
    cg_hcl_attr(&h, "actions", "[\"sqs:SendMessage\"]");
    cg_hcl_attr(&h, "resources", "[aws_sqs_queue.consumer[each.key].arn]");
    cg_hcl_blank(&h);
    service_principal(&h, "sns.amazonaws.com");
    cg_hcl_blank(&h);
    cg_hcl_open(&h, "condition");
    cg_hcl_attr(&h, "test", "\"ArnEquals\"");
    cg_hcl_attr(&h, "variable", "\"aws:SourceArn\"");
    cg_hcl_attr(&h, "values", "[aws_sns_topic.events.arn]");
    cg_hcl_close(&h, "}");
    cg_hcl_close(&h, "}");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"aws_sqs_queue_policy\" \"consumer\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "queue_url", "aws_sqs_queue.consumer[each.key].id");
    cg_hcl_attr(&h, "policy", "data.aws_iam_policy_document.queue[each.key].json");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "resource \"aws_sns_topic_subscription\" \"consumer\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "topic_arn", "aws_sns_topic.events.arn");
    cg_hcl_attr(&h, "protocol", "\"sqs\"");
    cg_hcl_attr(&h, "endpoint", "aws_sqs_queue.consumer[each.key].arn");
    cg_hcl_attr(&h, "raw_message_delivery", "true");
    cg_hcl_end(&h);

    cg_hcl_open(&h, "data \"aws_iam_policy_document\" \"consumer\"");
    cg_emit_for_each_consumer(&h);
    statement(&h, "ReadOwnQueue",
              "[\"sqs:ReceiveMessage\", \"sqs:DeleteMessage\", \"sqs:ChangeMessageVisibility\", \"sqs:GetQueueAttributes\"]",
              "[aws_sqs_queue.consumer[each.key].arn]");
    cg_hcl_blank(&h);
    logs_statement(&h, &consumer);
    cg_hcl_end(&h);
    emit_function(&h, &consumer);

    cg_hcl_open(&h, "resource \"aws_lambda_event_source_mapping\" \"consumer\"");
    cg_emit_for_each_consumer(&h);
    cg_hcl_attr(&h, "event_source_arn", "aws_sqs_queue.consumer[each.key].arn");
    cg_hcl_attr(&h, "function_name", "aws_lambda_function.consumer[each.key].arn");
    cg_hcl_attr(&h, "batch_size", "each.value.batch_size");
    cg_hcl_attr(&h, "function_response_types", "[\"ReportBatchItemFailures\"]");
    cg_hcl_close(&h, "}");

    return cg_hcl_finish(&h);
}
