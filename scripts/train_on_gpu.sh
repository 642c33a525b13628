#!/usr/bin/env bash
# Train image detectors on a rented GPU machine that has a CUDA build of PyTorch (with NumPy,
# SciPy, OpenCV and tqdm) but neither this project's environment nor the face cache.
#
#   scripts/train_on_gpu.sh CARRY OUT CONFIG... [-- CONFIG...]...
#
# CARRY holds the face pack the configs read, CARRY/faces.npz (python -m
# engine.training.face_pack), and the run folders their init_from / trunk_from name (seeded
# from shipped weights with python -m engine.training.seed_run, or trained by an earlier group
# of this same call). The configs of one group train at the same time, sharing the GPU and the
# CPU cores (set their data_workers to split the cores); groups separated by `--` run one
# after the other, so a later group can take the trunk an earlier one trained. Each run folder
# is CARRY/<config name>/, trained with --no-release.
#
# OUT receives each run's train log and a finished copy of its checkpoint, without optimiser
# state (python -m engine.training.carry finished: a third of the size, for transfers with
# size caps). Back next to the face cache, put it at RUNS/<name>/checkpoint.pt and release it
# with the same training command without --no-release (docs/MODELS.md, "Training on a GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
carry="$1"; out="$2"; shift 2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c 'import torch; assert torch.cuda.is_available(), "no CUDA GPU"; print(torch.__version__, torch.cuda.get_device_name())'

run_group() {
  local pids=() names=() config name
  for config in "$@"; do
    name="$(basename "$config" .toml)"
    python3 -m engine.training --config "$config" --data-root "$carry/faces.npz" \
      --out "$carry/$name" --log "$out/$name.train.log" --no-release &
    pids+=("$!"); names+=("$name")
  done
  local i status=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "training ${names[$i]} failed; see $out/${names[$i]}.train.log" >&2
      status=1
    fi
    if [ -f "$carry/${names[$i]}/checkpoint.pt" ]; then
      python3 -m engine.training.carry finished --checkpoint "$carry/${names[$i]}/checkpoint.pt" \
        --out "$out/${names[$i]}.checkpoint.pt"
    fi
  done
  return "$status"
}

group=()
for arg in "$@"; do
  if [ "$arg" = "--" ]; then
    run_group "${group[@]}"; group=()
  else
    group+=("$arg")
  fi
done
[ "${#group[@]}" -eq 0 ] || run_group "${group[@]}"
ls -l "$out"
