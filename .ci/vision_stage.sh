#!/usr/bin/env bash
# Stage called by .ci/run: the VLM family tests in a venv that has torchvision, which the processors of
# Qwen2-VL, Qwen2.5-VL, Qwen3-VL, LLaVA-OneVision, SmolVLM and InternVL need (their video processors) and
# which the main install leaves out: PyPI's torchvision does not import beside the torch 2.13.0 CPU wheel the
# README pins, while torch 2.14.1 + torchvision 0.29.1 install together (a CUDA build, ~5.5 GB; runs on CPU).
# Here no family test may skip for torchvision. The venv stays in the working dir (.ci-vision-venv/).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.ci-vision-venv
t0=$(date +%s)

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torchvision, num2words, edtune" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q torch==2.14.1 torchvision==0.29.1
  "$VENV/bin/pip" install -q -e ".[dev]" -c constraints.txt num2words
fi
echo "[vision] venv ready in $(( $(date +%s) - t0 )) s"

report=$(mktemp)
trap 'rm -f "$report"' EXIT
"$VENV/bin/python" -m pytest -q -rs -p no:cacheprovider tests/student/test_families.py tests/student/test_family_errors.py \
  tests/student/test_bundled_identity.py | tee "$report"
if grep -q "SKIPPED.*needs torchvision" "$report"; then
  echo "[vision] a family test skipped for torchvision in the vision venv"; exit 1
fi
echo "[vision] stage done in $(( $(date +%s) - t0 )) s"
