#!/usr/bin/env bash
# torchrun for an echoseg tool: bash tools/dist_run.sh NUM_PROCS TOOL [tool args]
# (tools/dist_train.sh and tools/dist_test.sh call it). Multi-node: set NNODES, NODE_RANK,
# MASTER_ADDR and PORT on every node (docs/distributed.md). The tool gets --launcher pytorch;
# on CPU echoseg starts the gloo process group itself.
set -euo pipefail
NPROC=$1
TOOL=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON=${PYTHON:-python}
[[ -x "$ROOT/.venv/bin/python" && -z "${VIRTUAL_ENV:-}" ]] && PYTHON="$ROOT/.venv/bin/python"
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$ROOT/$TOOL" "$@" --launcher pytorch
