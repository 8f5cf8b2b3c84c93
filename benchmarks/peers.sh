#!/usr/bin/env bash
# Benchmarks against peers in ONE run (issue 18's targets), on whatever else the machine is doing:
# Keras on TensorFlow CPU (../shared/tools/peer_tf_bench.py in .venv/), this workspace on native
# TensorFlow (1 worker x 2 threads, and 2 workers x 1 thread as the study runs) and on wasm, PyTorch
# (PET_IQA_TORCH_PYTHON or python3, when torch imports), Keras once more at the end, then the partial-regime
# step (batch 10) on both backends. Inference: batch 32 of 80 x 80 x 3, 2 threads/cores.
# Output: results/bench-peers/<UTC time>/*.txt|json and summary printed at the end.
#
#   bash benchmarks/peers.sh [BACKBONES]     (default ResNet50 DenseNet121 MobileNetV2)
set -uo pipefail
cd "$(dirname "$0")/.."
backbones=(${1:-ResNet50 DenseNet121 MobileNetV2})
csv=$(IFS=,; echo "${backbones[*]}")
out="results/bench-peers/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
peers=../shared/tools
[ -d "$peers" ] || peers=/work/shared/tools
load() { echo "$(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"; }
{
  load
  echo "== Keras (TensorFlow CPU, .venv)"
  # oneDNN off as for tfjs-node: with it, TF 2.21 dies with SIGFPE on this CPU (lib/backend/select.ts).
  TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python "$peers/peer_tf_bench.py" "${backbones[@]}" 2>&1 | grep -E 'RESULT|^tensorflow'
  load
  echo "== native (tfjs-node on TensorFlow): compiled inference, 1 worker x 2 TF threads"
  PET_IQA_BACKEND=node npx tsx scripts/bench-inference.ts --backbones "$csv" --workers 1 --runs 5 --json >"$out/native-inference.json" 2>"$out/native-inference.err"
  load
  echo "== native: 2 workers x 1 TF thread (what the study runs)"
  PET_IQA_BACKEND=node npx tsx scripts/bench-inference.ts --backbones "$csv" --workers 2 --runs 5 --json >"$out/native-inference-2w.json" 2>"$out/native-inference-2w.err"
  load
  echo "== wasm: compiled inference, 2 workers"
  PET_IQA_BACKEND=wasm npx tsx scripts/bench-inference.ts --backbones "$csv" --workers 2 --runs 5 --json >"$out/wasm-inference.json" 2>"$out/wasm-inference.err"
  load
  torch_py=${PET_IQA_TORCH_PYTHON:-python3}
  if "$torch_py" -c 'import torch, torchvision' 2>/dev/null; then
    echo "== PyTorch ($torch_py)"
    lower=$(printf '%s\n' "${backbones[@]}" | sed 's/ResNet50/resnet50/; s/DenseNet121/densenet121/; s/MobileNetV2/mobilenet_v2/')
    "$torch_py" "$peers/peer_torch_bench.py" $lower 2>&1 | grep -vi warn
    load
  else
    echo "== PyTorch: not importable by $torch_py (PET_IQA_TORCH_PYTHON names a Python with torch and torchvision)"
  fi
  echo "== partial-regime step, batch 10 (MobileNetV2)"
  PET_IQA_BACKEND=node npx tsx scripts/bench.ts --backbones MobileNetV2 --workers 1 --reps 5 --no-paper --json >"$out/native-bench.json" 2>"$out/native-bench.err"
  PET_IQA_BACKEND=wasm npx tsx scripts/bench.ts --backbones MobileNetV2 --workers 1 --reps 5 --no-paper --json >"$out/wasm-bench.json" 2>"$out/wasm-bench.err"
  load
  echo "== Keras again (the machine's noise between the two Keras runs bounds the ratios' precision)"
  TF_ENABLE_ONEDNN_OPTS=0 .venv/bin/python "$peers/peer_tf_bench.py" "${backbones[@]}" 2>&1 | grep -E 'RESULT'
  load
} 2>&1 | tee "$out/peers.txt"
echo "results in $out"
