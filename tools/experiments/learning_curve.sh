#!/bin/bash
# The real-data learning curve of docs/real_data.md: for the per-frame baseline (fcn) or
# EchoForge (echoforge), three arms (scratch; synthetic-pretrained; synthetic-pretrained +
# semi-supervised) at 1 and 3 labelled videos (2 folds over the videos: each video is
# measured once per size) and with every video outside the fold (4 folds: 5-6 videos),
# each through tools/analysis/cross_validate.py, then one table.
#
#   bash tools/experiments/learning_curve.sh fcn|echoforge PRETRAINED_CKPT [DATA_ROOT] [OUT_DIR]
#
# PRETRAINED_CKPT: the synthetic pretraining of the same model (tools/train.py
# configs/baselines/fcn_r18_synthetic.py -> work_dirs/fcn_r18_synthetic/epoch_6.pth;
# configs/echoforge/r18_synthetic.py -> work_dirs/r18_synthetic/epoch_6.pth).
# Every size sees the same number of labelled clips (120: 20 epochs of 6 videos, 40 of 3,
# 120 of 1); FlameRise's e0/e1 scale with the epochs. The whole-video EF (every frame of
# every held-out AVI through VideoPredictor) is measured at every size; VIDEO_EF_FULL_ONLY=1
# skips it at N = 1 and 3 (the slow part on a busy CPU). A finished arm (its
# cross_validation.json exists) is skipped, so the script can be re-run after a stop.
# The ED/ES masks are scored after the LV post-processing of tools/infer.py (largest
# component, holes filled), and as predicted (cross_validate.py --postprocess).
# Learning rates (AdamW, batch 2): SCRATCH_LR (default 1e-3) for the arms trained from
# scratch, FINETUNE_LR (default 3e-4) for the arms that start from the synthetic
# checkpoint (at 1e-3 fine-tuning first undoes much of the pretraining; docs/real_data.md).
set -u
model=${1:?fcn or echoforge}
ckpt=${2:?the synthetic pretraining checkpoint}
data=${3:-../shared/echodata/echonet_sample}
out=${4:-work_dirs/learning_curve}
py=${PYTHON:-python}
opt="optim_wrapper.optimizer.type=AdamW train_dataloader.batch_size=2"
lr_scratch="optim_wrapper.optimizer.lr=${SCRATCH_LR:-1e-3}"
lr_finetune="optim_wrapper.optimizer.lr=${FINETUNE_LR:-3e-4}"
mkdir -p "$out"
run() {  # name config init folds size epochs [cfg options...]
  local name=$1 cfg=$2 init=$3 folds=$4 size=$5 epochs=$6; shift 6
  [ -f "$out/$name/cross_validation.json" ] && { echo "done before: $name"; return 0; }
  local args=(--folds "$folds" --epochs "$epochs" --seeds 0 --threads "${THREADS:-1}"
              --data-root "$data" --work-dir "$out/$name" --postprocess)
  [ "$init" != - ] && args+=(--load-from "$init")
  [ "$size" != all ] && args+=(--train-sizes "$size")
  [ "$size" != all ] && [ -n "${VIDEO_EF_FULL_ONLY:-}" ] && args+=(--no-video-ef)
  echo "$(date +%T) $name"
  "$py" tools/analysis/cross_validate.py "$cfg" "${args[@]}" ${KEEP:-} \
      --cfg-options $opt "$@" > "$out/$name.log" 2>&1 || { echo "failed: $out/$name.log"; return 1; }
}
if [ "$model" = fcn ]; then
  sup=configs/baselines/fcn_r18_echonet.py; semi=configs/baselines/selftrain_fcn_r18_echonet.py
  hooks() { :; }
else
  sup=configs/echoforge/r18_echonet_supervised.py; semi=configs/echoforge/r18_echonet.py
  # FlameRise over the run: r18_echonet.py's e0 = 5, e1 = 30 of 50 epochs, scaled
  hooks() { echo "custom_hooks.1.e0=$(( $1 / 10 )) custom_hooks.1.e1=$(( $1 * 3 / 5 ))"; }
fi
for spec in "all 4 20" "3 2 40" "1 2 120"; do
  set -- $spec; size=$1; folds=$2; epochs=$3
  run "${model}_scratch_$size" "$sup" - "$folds" "$size" "$epochs" "$lr_scratch" || exit 1
  run "${model}_pre_$size" "$sup" "$ckpt" "$folds" "$size" "$epochs" "$lr_finetune" || exit 1
  run "${model}_presemi_$size" "$semi" "$ckpt" "$folds" "$size" "$epochs" "$lr_finetune" \
      $(hooks "$epochs") || exit 1
done
"$py" tools/experiments/learning_curve.py "$out/${model}"_*_{all,3,1} --out "$out/${model}.md" \
    --json "$out/${model}.json"
