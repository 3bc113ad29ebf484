#!/usr/bin/env bash
# Distributed training with torchrun: bash tools/dist_train.sh CONFIG NUM_PROCS [train.py args]
# gloo on CPU, NCCL on GPU; single node, multi-node and Slurm: docs/distributed.md.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
exec bash "$(dirname "$0")/dist_run.sh" "$NPROC" tools/train.py "$CONFIG" "$@"
