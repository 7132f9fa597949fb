"""Convert a GGUF chat model to a safetensors checkpoint that vLLM can serve.

Usage: python scripts/gguf_to_hf.py MODEL.gguf OUT_DIR

transformers dequantises the GGUF on load; it then refuses to save a model it believes is quantised,
so the quantiser and its config entry are dropped first (the weights are already plain floats).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def convert(gguf: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.architectures = [type(model).__name__]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    start = time.time()
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"converted {sys.argv[1]} -> {sys.argv[2]} in {time.time() - start:.1f} s")
