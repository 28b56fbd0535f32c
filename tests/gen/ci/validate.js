#!/usr/bin/env node
// tests/gen/ci/validate.js — owns the check that every CI pipeline cellgen
// writes is valid for its CI system, by the schema that system publishes:
//
//   - .github/workflows/*.yml against SchemaStore's github-workflow schema,
//     which @action-validator/core compiles in with its validator
//     (validateWorkflow);
//   - .gitlab-ci.yml against GitLab's own ci.json (the schema GitLab's
//     pipeline editor uses, which SchemaStore's gitlab-ci entry points to),
//     shipped as src/schema/schema.json by gitlab-ci-local, checked with
//     ajv under the options gitlab-ci-local itself uses.
//
// It also proves it can fail: a copy of each pipeline with a misspelt key
// must be refused.
//
// Usage: node validate.js DIR...   (each DIR is searched for pipelines)
'use strict';

const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const Ajv = require('ajv');
const actions = require('@action-validator/core');

const gitlabSchema = JSON.parse(fs.readFileSync(
  path.join(__dirname, 'node_modules', 'gitlab-ci-local', 'src', 'schema', 'schema.json'), 'utf8'));
const ajv = new Ajv({
  allErrors: true, allowUnionTypes: true, validateFormats: false, strictTypes: false,
  keywords: ['markdownDescription'],
});
const gitlabValidate = ajv.compile(gitlabSchema);

function githubErrors(text) {
  const state = actions.validateWorkflow(text);
  return state.errors.map((e) => `${e.path || ''} ${e.title}${e.detail ? ': ' + e.detail : ''}`);
}

function gitlabErrors(text) {
  let doc;
  try {
    doc = yaml.load(text);
  } catch (e) {
    return [`YAML: ${e.message}`];
  }
  if (gitlabValidate(doc)) return [];
  return gitlabValidate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
}

function find(dir) {
  const out = [];
  const gl = path.join(dir, '.gitlab-ci.yml');
  if (fs.existsSync(gl)) out.push({ file: gl, check: gitlabErrors, broken: (t) => t.replace(/\n {2}script:/, '\n  scripts:') });
  const wf = path.join(dir, '.github', 'workflows');
  if (fs.existsSync(wf)) {
    for (const f of fs.readdirSync(wf).sort()) {
      if (f.endsWith('.yml') || f.endsWith('.yaml')) {
        out.push({ file: path.join(wf, f), check: githubErrors, broken: (t) => t.replace(/\n {4}runs-on:/, '\n    run-on:') });
      }
    }
  }
  return out;
}

let passed = 0;
let failed = 0;
for (const dir of process.argv.slice(2)) {
  for (const p of find(dir)) {
    const text = fs.readFileSync(p.file, 'utf8');
    const errors = p.check(text);
    if (errors.length) {
      failed++;
      console.log(`FAIL ${p.file}: not valid by its CI system's schema`);
      for (const e of errors.slice(0, 20)) console.log(`  ${e}`);
    } else {
      passed++;
      console.log(`ok   ${p.file}`);
    }
    const broken = p.broken(text);
    if (broken === text || p.check(broken).length === 0) {
      failed++;
      console.log(`FAIL ${p.file}: a misspelt key is not refused, so the check proves nothing`);
    } else {
      passed++;
    }
  }
}
console.log(`ci pipelines: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
