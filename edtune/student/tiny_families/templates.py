"""Chat templates of the tiny family models: each writes its family's turn format (markers, image
placement, end-of-turn token), reduced to user and assistant turns with image and text parts."""

from __future__ import annotations


def _template(turn_open: str, image: str, turn_close: str, generation: str, *, start: str = "",
              assistant: str = "") -> str:
    """`start`, then per message: `turn_open` (may use `role`), its images, its text, `turn_close`;
    `generation` opens the assistant's turn. `assistant` replaces `turn_open` for assistant messages."""
    turn_open, image, turn_close, generation, start = map(_literal, (turn_open, image, turn_close, generation, start))
    open_assistant = _literal(assistant) if assistant else turn_open
    return (
        start
        + "{%- for m in messages -%}"
        + "{%- if m['role'] == 'assistant' -%}" + open_assistant + "{%- else -%}" + turn_open + "{%- endif -%}"
        + "{%- if m['content'] is string -%}{{- m['content'] -}}{%- else -%}"
        + "{%- for c in m['content'] if c['type'] == 'image' -%}" + image + "{%- endfor -%}"
        + "{%- for c in m['content'] if c['type'] == 'text' -%}{{- c['text'] -}}{%- endfor -%}"
        + "{%- endif -%}" + turn_close
        + "{%- endfor -%}"
        + "{%- if add_generation_prompt -%}" + generation + "{%- endif -%}"
    )


def _literal(text: str) -> str:
    """A jinja expression writing `text` (kept as is when it already is one); whitespace-control tags
    around it would otherwise eat the newlines a family writes."""
    if not text or text.startswith("{{"):
        return text
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n").replace("'", "\\'")
    return "{{- '" + escaped + "' -}}"


_CHATML_OPEN = "{{- '<|im_start|>' + m['role'] + '\\n' -}}"
QWEN = _template(_CHATML_OPEN, "<|vision_start|><|image_pad|><|vision_end|>", "<|im_end|>\n",
                 "<|im_start|>assistant\n")
"""ChatML with Qwen's vision markers."""
ONEVISION = _template(_CHATML_OPEN, "<image>\n", "<|im_end|>\n", "<|im_start|>assistant\n")
"""ChatML with `<image>` placeholders (LLaVA-OneVision)."""
INTERNVL = _template(_CHATML_OPEN, "<IMG_CONTEXT>\n", "<|im_end|>\n", "<|im_start|>assistant\n")
"""ChatML with InternVL's image placeholder."""
LLAVA = _template("USER:", "<image>", "{{- (eos_token if m['role'] == 'assistant' else '') + '\\n' -}}",
                  "ASSISTANT:", start="{{- bos_token -}}", assistant="ASSISTANT:")
"""LLaVA-1.5 style: USER: <image> question, ASSISTANT: answer and EOS."""
IDEFICS = _template("{{- m['role'] | capitalize -}}:", "<image>", "<end_of_utterance>\n", "Assistant:",
                    start="{{- bos_token -}}")
"""Idefics3 / SmolVLM: User:<image>question<end_of_utterance>, Assistant:."""
GEMMA = _template("{{- '<start_of_turn>' + ('model' if m['role'] == 'assistant' else m['role']) + '\\n' -}}",
                  "<start_of_image>", "<end_of_turn>\n", "<start_of_turn>model\n", start="{{- bos_token -}}")
"""Gemma3: <start_of_turn>user ... <end_of_turn>, the assistant's role written `model`."""
MLLAMA = _template("{{- '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' -}}", "<|image|>",
                   "<|eot_id|>", "<|start_header_id|>assistant<|end_header_id|>\n\n", start="{{- bos_token -}}")
"""Llama 3.2 Vision: header-delimited turns closed by <|eot_id|>."""
