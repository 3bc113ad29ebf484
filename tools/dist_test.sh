#!/usr/bin/env bash
# Distributed testing with torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS
# [test.py args]. Every test clip is evaluated once and the metrics are gathered across
# processes (docs/distributed.md).
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
exec bash "$(dirname "$0")/dist_run.sh" "$NPROC" tools/test.py "$CONFIG" "$CHECKPOINT" "$@"
