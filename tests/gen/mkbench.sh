#!/usr/bin/env bash
# tests/gen/mkbench.sh CELLS TENANTS — prints a valid cell spec with that
# many cells (alternating AWS regions and Azure locations) and tenants (each
# with a standby on the next cell and a label), for `make bench-gen`.
set -euo pipefail
cells=${1:?cells} tenants=${2:?tenants}
awk -v cells="$cells" -v tenants="$tenants" 'BEGIN {
  split("us-east-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-2", aws, " ")
  split("eastus westeurope northeurope japaneast australiaeast", az, " ")
  print "version: 1"
  print "system: bench"
  print "tags:\n  purpose: benchmark"
  print "pipeline:\n  table: events\n  partition_key: tenant_id\n  topic: events"
  print "  consumers:"
  for (i = 1; i <= 3; i++)
    printf "    - name: consumer-%d\n      handler: consumer%d.handle\n      batch_size: %d\n", i, i, i * 3
  print "runtime:\n  language: python\n  version: \"3.12\"\n  ingest_handler: ingest.handle"
  print "  forwarder_handler: forwarder.handle\n  packages:"
  print "    aws: s3://bench-artifacts/bench.zip"
  print "    azure: https://benchartifacts.blob.core.windows.net/p/bench.zip"
  print "cells:"
  for (c = 0; c < cells; c++) {
    if (c % 2 == 0) printf "  - id: c%04d\n    cloud: aws\n    region: %s\n", c, aws[(c / 2) % 5 + 1]
    else printf "  - id: c%04d\n    cloud: azure\n    location: %s\n", c, az[int(c / 2) % 5 + 1]
  }
  print "tenants:"
  for (t = 0; t < tenants; t++) {
    c = t % cells
    printf "  - id: tenant-%06d\n    cell: c%04d\n    standby: c%04d\n    labels:\n      tier: t%d\n",
           t, c, (c + 1) % cells, t % 3
  }
}'
