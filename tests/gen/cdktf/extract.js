#!/usr/bin/env node
// tests/gen/cdktf/extract.js — owns the schema fixtures tests/gen/schemas/
// {aws,azurerm,cloudflare}.json that gencheck validates cellgen's Terraform
// against.
//
// The CDK for Terraform provider packages (@cdktf/provider-aws 19.65.1 is
// generated from hashicorp/aws 5.99.1, @cdktf/provider-azurerm 12.27.0 from
// hashicorp/azurerm 3.116.0, @cdktf/provider-cloudflare 11.30.0 from
// cloudflare/cloudflare 4.52.0, the last 4.x the root configuration's
// `~> 4.0` allows) carry the provider schema in their .jsii metadata, in
// camelCase TypeScript form:
//
//   - one class per resource / data source; its docs.summary links the
//     registry page and names the Terraform type ("Represents a {@link
//     https://.../docs/resources/lambda_function aws_lambda_function}");
//   - the class initializer takes a <Class>Config datatype interface: one
//     property per argument and block, `optional` unless Terraform requires
//     it; each property's docs link "#snake_name Class#snake_name", which is
//     the exact Terraform name (camelCase does not round-trip: use32BitWorker
//     is use_32_bit_worker, a `system` argument becomes systemAttribute);
//   - a property whose type is another datatype interface (or an array of
//     one) is a nested block when its summary says "<name> block.", and an
//     object-typed attribute otherwise; a single struct means max one block;
//   - the class getters are what an expression can read (arguments and
//     computed attributes); `fooInput` getters are cdktf plumbing. Computed
//     getters have no docs link, so their Terraform name is read from the
//     compiled getter in lib/<module>/index.js (getStringAttribute('name'),
//     or the OutputReference/List constructed with (this, "name")).
//
// Only the types the modules use are written: every `resource "T"` and
// `data "T"` found under modules/ and examples/, plus a fixed list of types a
// cell is likely to need, so the fixtures exist before the modules do.
//
// Usage: node extract.js [repo-root [out-dir]]   (run by `make gen-schemas`)
'use strict';

const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const ROOT = path.resolve(process.argv[2] || path.join(HERE, '..', '..', '..'));
// The fixtures' folder; another one (second argument) lets the tests
// regenerate into a scratch folder and compare with what is checked in.
const OUT = path.resolve(process.argv[3] || path.join(ROOT, 'tests', 'gen', 'schemas'));

const PROVIDERS = [
  {
    name: 'aws', source: 'hashicorp/aws', pkg: '@cdktf/provider-aws', prefix: 'aws_',
    likely: [
      'resource aws_apigatewayv2_api', 'resource aws_apigatewayv2_integration',
      'resource aws_apigatewayv2_route', 'resource aws_apigatewayv2_stage',
      'resource aws_lambda_function', 'resource aws_lambda_permission',
      'resource aws_lambda_event_source_mapping', 'resource aws_dynamodb_table',
      'resource aws_sns_topic', 'resource aws_sns_topic_subscription',
      'resource aws_sns_topic_policy', 'resource aws_sqs_queue',
      'resource aws_sqs_queue_policy', 'resource aws_sqs_queue_redrive_policy',
      'resource aws_sqs_queue_redrive_allow_policy', 'resource aws_iam_role',
      'resource aws_iam_role_policy', 'resource aws_iam_policy',
      'resource aws_iam_role_policy_attachment', 'resource aws_cloudwatch_log_group',
      'resource aws_pipes_pipe', 'resource aws_kms_key', 'resource aws_s3_bucket',
      'resource aws_s3_object', 'resource aws_lambda_function_url', 'data aws_iam_policy_document',
      'data aws_region', 'data aws_caller_identity', 'data aws_partition',
      // CI identities, container workers, the observability pipeline.
      'resource aws_iam_openid_connect_provider', 'resource aws_ecs_cluster',
      'resource aws_ecs_task_definition', 'resource aws_ecs_service',
      'resource aws_appautoscaling_target', 'resource aws_appautoscaling_policy',
      'resource aws_security_group', 'resource aws_vpc_security_group_egress_rule',
      'resource aws_kinesis_firehose_delivery_stream', 'resource aws_cloudwatch_log_subscription_filter',
      'resource aws_cloudwatch_metric_stream', 'resource aws_resourcegroups_group',
    ],
  },
  {
    name: 'azurerm', source: 'hashicorp/azurerm', pkg: '@cdktf/provider-azurerm', prefix: 'azurerm_',
    likely: [
      'resource azurerm_resource_group', 'resource azurerm_storage_account',
      'resource azurerm_storage_container', 'resource azurerm_service_plan',
      'resource azurerm_linux_function_app', 'resource azurerm_windows_function_app',
      'resource azurerm_function_app_function', 'resource azurerm_cosmosdb_account',
      'resource azurerm_cosmosdb_sql_database', 'resource azurerm_cosmosdb_sql_container',
      'resource azurerm_servicebus_namespace', 'resource azurerm_servicebus_topic',
      'resource azurerm_servicebus_subscription',
      'resource azurerm_servicebus_topic_authorization_rule',
      'resource azurerm_servicebus_namespace_authorization_rule',
      'resource azurerm_application_insights', 'resource azurerm_log_analytics_workspace',
      'resource azurerm_role_assignment', 'resource azurerm_cosmosdb_sql_role_assignment',
      'resource azurerm_user_assigned_identity', 'resource azurerm_key_vault',
      'resource azurerm_storage_blob',
      // CI identities, container workers, the observability pipeline.
      'resource azurerm_federated_identity_credential', 'resource azurerm_container_app_environment',
      'resource azurerm_container_app', 'resource azurerm_eventhub_namespace', 'resource azurerm_eventhub',
      'resource azurerm_eventhub_namespace_authorization_rule', 'resource azurerm_eventhub_authorization_rule',
      'resource azurerm_monitor_diagnostic_setting',
      'data azurerm_client_config', 'data azurerm_subscription', 'data azurerm_resource_group',
    ],
  },
  {
    // The edge (emit_edge.c): the routing map's Workers KV namespace and the
    // router Worker with its route. The workers_* spellings are the names
    // 4.x introduced for the worker_* ones, which it still accepts.
    name: 'cloudflare', source: 'cloudflare/cloudflare', pkg: '@cdktf/provider-cloudflare',
    prefix: 'cloudflare_',
    likely: [
      'resource cloudflare_workers_kv_namespace', 'resource cloudflare_workers_kv',
      'resource cloudflare_worker_script', 'resource cloudflare_worker_route',
      'resource cloudflare_workers_script', 'resource cloudflare_workers_route',
      'resource cloudflare_worker_cron_trigger',
      'data cloudflare_zone', 'data cloudflare_accounts',
    ],
  },
];

// Walk a folder for .tf files; a missing folder is simply empty.
function tfFiles(dir) {
  let out = [];
  let ents;
  try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch (e) { return out; }
  for (const e of ents) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(tfFiles(p));
    else if (e.name.endsWith('.tf')) out.push(p);
  }
  return out;
}

function usedTypes() {
  const used = new Set();
  for (const f of tfFiles(path.join(ROOT, 'modules')).concat(tfFiles(path.join(ROOT, 'examples')))) {
    const re = /^\s*(resource|data)\s+"([A-Za-z0-9_]+)"/gm;
    const text = fs.readFileSync(f, 'utf8');
    let m;
    while ((m = re.exec(text)) !== null) used.add(m[1] + ' ' + m[2]);
  }
  return used;
}

// The Terraform name a config property documents: its docs link the
// registry page as "{@link https://...#snake_name Class#snake_name}".
function docName(docs) {
  const text = (docs && ((docs.summary || '') + ' ' + (docs.remarks || ''))) || '';
  const m = /\{@link https:\/\/registry\.terraform\.io\/\S*#([A-Za-z0-9_]+) [A-Za-z0-9]+#([A-Za-z0-9_]+)\}/.exec(text);
  return m && m[1] === m[2] ? m[1] : null;
}

function camelToSnake(s) {
  return s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
}

class Package {
  constructor(prov) {
    this.prov = prov;
    this.dir = path.join(HERE, 'node_modules', ...prov.pkg.split('/'));
    if (!fs.existsSync(path.join(this.dir, '.jsii'))) {
      throw new Error(`${prov.pkg} is not installed: run npm ci in ${HERE} (make gen-schemas does)`);
    }
    const jsii = JSON.parse(fs.readFileSync(path.join(this.dir, '.jsii'), 'utf8'));
    this.version = jsii.version;
    this.types = jsii.types;
    this.jsCache = new Map();
    this.warnings = [];
    this.byTfName = new Map();
    this.tfVersion = null;
    this.tfSource = null;
    this.providerFqn = null;
    for (const [fqn, t] of Object.entries(this.types)) {
      if (t.kind !== 'class') continue;
      if (t.base === 'cdktf.TerraformProvider') this.providerFqn = fqn;
      if (t.base !== 'cdktf.TerraformResource' && t.base !== 'cdktf.TerraformDataSource') continue;
      // The registry link names the provider's source and version too:
      // .../providers/cloudflare/cloudflare/4.52.0/docs/resources/x cloudflare_x
      const m = /providers\/([a-z0-9-]+\/[a-z0-9-]+)\/([0-9.]+)\/docs\/(resources|data-sources)\/[A-Za-z0-9_]+ ([A-Za-z0-9_]+)\}/
        .exec((t.docs && t.docs.summary) || '');
      if (!m) continue;
      this.tfSource = m[1];
      this.tfVersion = m[2];
      const kind = m[3] === 'resources' ? 'resource' : 'data';
      this.byTfName.set(kind + ' ' + m[4], fqn);
    }
  }

  warn(msg) { this.warnings.push(msg); }

  // The compiled JS of one class, used to read computed getters' names.
  classSource(t) {
    const file = path.join(this.dir, t.locationInModule.filename
      .replace(/^src\//, 'lib/').replace(/\.ts$/, '.js'));
    if (!this.jsCache.has(file)) this.jsCache.set(file, fs.readFileSync(file, 'utf8'));
    const js = this.jsCache.get(file);
    const start = js.indexOf(`\nclass ${t.name} extends `);
    if (start < 0) return '';
    const end = js.indexOf(`\nexports.${t.name} = ${t.name};`, start);
    return js.slice(start, end < 0 ? undefined : end);
  }

  // The Terraform name behind a getter, read from its compiled body.
  getterTfName(t, getter) {
    const src = this.classSource(t);
    const at = src.indexOf(`\n    get ${getter}() {`);
    if (at >= 0) {
      const body = src.slice(at, src.indexOf('\n    }', at));
      let m = /\(\s*'([A-Za-z0-9_]+)'/.exec(body);
      if (m) return m[1];
      m = /return this\.(_[A-Za-z0-9]+);/.exec(body);
      if (m) {
        const ctor = new RegExp(`this\\.${m[1]} = new [A-Za-z0-9_.]+\\(this, "([A-Za-z0-9_]+)"`).exec(src);
        if (ctor) return ctor[1];
      }
    }
    const guess = camelToSnake(getter);
    this.warn(`${t.fqn}.${getter}: Terraform name not found in compiled source, guessed ${guess}`);
    return guess;
  }

  isStruct(fqn) {
    const t = fqn && this.types[fqn];
    return !!(t && t.kind === 'interface' && t.datatype);
  }

  // A config property's struct element, if it has one: {fqn, single}.
  structOf(type) {
    if (type.fqn && this.isStruct(type.fqn)) return { fqn: type.fqn, single: true };
    const alts = type.union ? type.union.types : [type];
    for (const u of alts) {
      if (u.collection && u.collection.elementtype.fqn && this.isStruct(u.collection.elementtype.fqn)) {
        return { fqn: u.collection.elementtype.fqn, single: false };
      }
    }
    return null;
  }

  valueKind(type) {
    const alts = type.union ? type.union.types.filter((u) => u.fqn !== 'cdktf.IResolvable') : [type];
    if (alts.length !== 1) return 'any';
    const t = alts[0];
    if (t.primitive) return t.primitive === 'boolean' ? 'bool' : (t.primitive === 'json' ? 'any' : t.primitive);
    if (t.collection) return t.collection.kind === 'map' ? 'map' : 'list';
    return 'any';
  }

  // Arguments and blocks of a Config/struct interface, recursively.
  configNode(fqn, depth) {
    const node = { arguments: {}, blocks: {} };
    const t = this.types[fqn];
    if (!t || depth > 12) return node;
    const props = (t.properties || []).slice();
    // Interfaces may extend other structs (never the cdktf meta arguments,
    // which are Terraform's own count/for_each/provider/lifecycle/depends_on).
    for (const base of t.interfaces || []) {
      if (!base.startsWith('cdktf.') && this.types[base]) props.push(...(this.types[base].properties || []));
    }
    for (const p of props) {
      let name = docName(p.docs);
      if (!name) {
        name = camelToSnake(p.name);
        this.warn(`${fqn}.${p.name}: no docs link, guessed ${name}`);
      }
      const st = this.structOf(p.type);
      const isBlock = st && / block\.$/.test((p.docs && p.docs.summary) || '');
      if (isBlock) {
        const b = this.configNode(st.fqn, depth + 1);
        b.min = p.optional ? 0 : 1;
        if (st.single) b.max = 1;
        node.blocks[name] = b;
      } else if (st) {
        // An object-typed attribute (set as `name = {...}` or, for the SDK's
        // attributes-as-blocks mode, as a block): keep its shape.
        const a = { required: !p.optional, type: st.single ? 'object' : 'list' };
        a.nested = this.configNode(st.fqn, depth + 1);
        node.arguments[name] = a;
      } else {
        node.arguments[name] = { required: !p.optional, type: this.valueKind(p.type) };
      }
    }
    return node;
  }

  // What an expression can read from a class (resource or OutputReference):
  // its getters, minus the *Input plumbing, with nested shapes.
  readable(fqn, configNames, depth) {
    const out = {};
    const t = this.types[fqn];
    if (!t || depth > 12) return out;
    const props = (t.properties || []).filter((p) => !p.static);
    const names = new Set(props.map((p) => p.name));
    for (const p of props) {
      // fooInput is plumbing when foo is a getter too; an attribute really
      // called foo_input has getters fooInput and fooInputInput.
      if (p.name.endsWith('Input') && names.has(p.name.slice(0, -5))) continue;
      // internalValue is cdktf's own accessor on every OutputReference.
      if (p.name === 'internalValue' && t.base === 'cdktf.ComplexObject') continue;
      const name = configNames.get(p.name) || this.getterTfName(t, p.name);
      out[name] = this.attrShape(p.type, depth);
    }
    return out;
  }

  attrShape(type, depth) {
    const fqn = type.fqn;
    const t = fqn && this.types[fqn];
    if (t && t.kind === 'class' && t.base === 'cdktf.ComplexObject') {
      return { type: 'object', attributes: this.readable(fqn, this.structNames(fqn), depth + 1) };
    }
    if (t && t.kind === 'class' && t.base === 'cdktf.ComplexList') {
      const get = (t.methods || []).find((m) => m.name === 'get');
      const el = get && get.returns && get.returns.type.fqn;
      return { type: 'list', attributes: el ? this.readable(el, this.structNames(el), depth + 1) : {} };
    }
    if (fqn && fqn.startsWith('cdktf.')) {
      // StringMap, BooleanMap, AnyMap, StringMapList...: keyed by the user.
      return { type: /List$/.test(fqn) ? 'list' : (/Map$/.test(fqn) ? 'map' : 'any') };
    }
    return { type: this.valueKind(type) };
  }

  // getter name -> Terraform name for the struct an OutputReference mirrors
  // (FooOutputReference reads the Foo struct).
  structNames(refFqn) {
    const structFqn = refFqn.replace(/OutputReference$/, '');
    return this.configNames(structFqn);
  }

  configNames(structFqn) {
    const map = new Map();
    const t = this.types[structFqn];
    if (!t || !t.properties) return map;
    for (const p of t.properties) {
      const n = docName(p.docs);
      if (n) map.set(p.name, n);
    }
    return map;
  }

  // The provider block's own arguments and blocks (aws: region, ...;
  // azurerm: the required features block).
  providerConfig() {
    if (!this.providerFqn) return null;
    const cls = this.types[this.providerFqn];
    const cfg = ((cls.initializer && cls.initializer.parameters) || []).find((p) => p.name === 'config');
    return cfg ? this.configNode(cfg.type.fqn, 0) : null;
  }

  schemaFor(kind, tfName) {
    const fqn = this.byTfName.get(kind + ' ' + tfName);
    if (!fqn) return null;
    const cls = this.types[fqn];
    const cfgParam = ((cls.initializer && cls.initializer.parameters) || []).find((p) => p.name === 'config');
    const cfgFqn = cfgParam ? cfgParam.type.fqn : null;
    const node = cfgFqn ? this.configNode(cfgFqn, 0) : { arguments: {}, blocks: {} };
    node.attributes = this.readable(fqn, cfgFqn ? this.configNames(cfgFqn) : new Map(), 0);
    return node;
  }
}

// Stable output: keys sorted at every level so regeneration diffs cleanly.
function sorted(v) {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sorted(v[k]);
    return o;
  }
  return v;
}

function main() {
  const used = usedTypes();
  fs.mkdirSync(OUT, { recursive: true });
  let failed = false;
  // Every package is opened before any fixture is written, so a missing
  // one leaves the fixtures as they were.
  let pkgs;
  try {
    pkgs = PROVIDERS.map((prov) => new Package(prov));
  } catch (e) {
    process.stderr.write(`extract: ${e.message}\n`);
    process.exit(1);
  }
  for (const pkg of pkgs) {
    const prov = pkg.prov;
    const wanted = new Set(prov.likely);
    for (const t of used) if (t.split(' ')[1].startsWith(prov.prefix)) wanted.add(t);
    const doc = {
      provider: prov.name,
      provider_version: pkg.tfVersion,
      provider_source: pkg.tfSource,
      source: `${prov.pkg}@${pkg.version} (.jsii metadata)`,
      generated_by: 'tests/gen/cdktf/extract.js; regenerate with `make gen-schemas`',
      provider_config: pkg.providerConfig(),
      resources: {},
      data_sources: {},
    };
    for (const want of [...wanted].sort()) {
      const [kind, name] = want.split(' ');
      const node = pkg.schemaFor(kind, name);
      if (node) {
        (kind === 'resource' ? doc.resources : doc.data_sources)[name] = node;
      } else {
        // Not fatal: gencheck reports the use of an unknown type itself.
        process.stderr.write(`extract: ${kind} ${name}: not in ${prov.pkg}@${pkg.version}\n`);
      }
    }
    // Only warnings raised while extracting the wanted types are printed;
    // the index of all classes is built silently.
    for (const w of pkg.warnings) process.stderr.write(`extract: warning: ${w}\n`);
    if (!pkg.tfVersion) { process.stderr.write(`extract: ${prov.pkg}: no provider version found\n`); failed = true; }
    // gencheck holds required_providers to this source: a package generated
    // from another namespace's fork must not pass for the real provider.
    if (pkg.tfSource !== prov.source) {
      process.stderr.write(`extract: ${prov.pkg}: provider source ${pkg.tfSource}, want ${prov.source}\n`);
      failed = true;
    }
    if (!doc.provider_config) { process.stderr.write(`extract: ${prov.pkg}: no provider class found\n`); failed = true; }
    const file = path.join(OUT, prov.name + '.json');
    fs.writeFileSync(file, JSON.stringify(sorted(doc), null, 1) + '\n');
    process.stdout.write(`extract: wrote ${file}: ${Object.keys(doc.resources).length} resources, ` +
      `${Object.keys(doc.data_sources).length} data sources (${prov.name} ${pkg.tfVersion})\n`);
  }
  process.exit(failed ? 1 : 0);
}

main();
