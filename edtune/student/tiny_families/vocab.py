"""Word-level tokenizers for the tiny family models: every word of the given texts, plus the family's
special tokens (registered as special so chat-template markers are matched whole)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from edtune.student.tiny import word_pieces

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

_SPACE = "▁"
TEMPLATE_WORDS = ("user", "assistant", "model", "system", "User", "Assistant", "USER", "ASSISTANT", "[INST]",
                  "[/INST]", "Answer", "Step", "\n", ":", *(str(d) for d in range(10)))
"""Words the tiny families' chat templates write (besides special tokens)."""


def word_tokenizer(texts: Iterable[str], *, pad: str, eos: str, bos: str | None, named: dict[str, str],
                   specials: Iterable[str] = ()) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer (SentencePiece-style spaces) over `texts` and `TEMPLATE_WORDS`.

    `named` are special tokens a processor reads by attribute (`image_token`, `boi_token`, ...); `specials`
    are further special tokens (turn markers). Ids are deterministic: specials first, then sorted words."""
    from tokenizers import AddedToken, Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    pre, words = word_pieces([*texts, *TEMPLATE_WORDS])
    special = list(dict.fromkeys([pad, "<unk>", *([bos] if bos else []), eos, *named.values(), *specials]))
    vocab = {token: i for i, token in enumerate([*special, *sorted(words - set(special))])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre
    core.decoder = decoders.Metaspace(replacement=_SPACE, prepend_scheme="never", split=True)
    core.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in special])
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token=pad, unk_token="<unk>", bos_token=bos,
                                   eos_token=eos, extra_special_tokens=dict(named))


def token_id(tokenizer: PreTrainedTokenizerFast, token: str) -> int:
    """The id of one token string (which `convert_tokens_to_ids` types as possibly a list)."""
    found = tokenizer.convert_tokens_to_ids(token)
    if not isinstance(found, int):
        raise ValueError(f"{token!r} is not one token of this tokenizer")
    return found
