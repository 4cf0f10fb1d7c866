"""Write a tiny random-weight Qwen2-architecture GGUF.

Why: tests must exercise the *real* embedded engine without downloading a
model. A 2-layer, 64-wide Qwen2 with a byte-level BPE vocabulary loads in
milliseconds and produces (random) tokens through the same code paths as a
real Qwen model, including the ChatML template.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHATML_TEMPLATE", "QWEN3_TEMPLATE", "write_tiny_qwen_gguf"]

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# The part of Qwen3's template that matters here: with enable_thinking false the
# generation prompt carries an empty think block, so the model answers directly.
QWEN3_TEMPLATE = CHATML_TEMPLATE.replace(
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}",
)

_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]


def _byte_tokens() -> list[str]:
    # GPT-2's reversible byte -> unicode map, as used by Qwen's tokenizer.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs, strict=True))
    return [chr(table[b]) for b in range(256)]


def write_tiny_qwen_gguf(
    path: str | Path,
    *,
    n_layer: int = 2,
    n_embd: int = 64,
    n_head: int = 4,
    n_head_kv: int = 2,
    n_ff: int = 128,
    n_ctx: int = 4096,
    seed: int = 0,
    chat_template: str = CHATML_TEMPLATE,
) -> Path:
    """Write the model to *path* and return it. Deterministic for a given seed."""
    import gguf
    import numpy as np

    path = Path(path)
    rng = np.random.default_rng(seed)
    tokens = _byte_tokens()
    # A handful of merges so the BPE merge table is non-empty and exercised.
    merges = ["Ġ t", "h e", "i n", "Ġ a", "e r"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
    tokens += _SPECIALS
    n_vocab = len(tokens)
    token_types = [gguf.TokenType.NORMAL] * (n_vocab - len(_SPECIALS))
    token_types += [gguf.TokenType.CONTROL] * len(_SPECIALS)
    special = {t: tokens.index(t) for t in _SPECIALS}

    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_name("tiny-random-qwen2")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(1_000_000.0)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(token_types)
    w.add_token_merges(merges)
    w.add_eos_token_id(special["<|im_end|>"])
    w.add_bos_token_id(special["<|endoftext|>"])
    w.add_pad_token_id(special["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(chat_template)

    def t(name: str, *shape: int, scale: float = 0.02) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    def ones(name: str, n: int) -> None:
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    head_dim = n_embd // n_head
    kv = head_dim * n_head_kv
    t("token_embd.weight", n_vocab, n_embd)
    for i in range(n_layer):
        p = f"blk.{i}."
        ones(p + "attn_norm.weight", n_embd)
        t(p + "attn_q.weight", n_embd, n_embd)
        t(p + "attn_q.bias", n_embd)
        t(p + "attn_k.weight", kv, n_embd)
        t(p + "attn_k.bias", kv)
        t(p + "attn_v.weight", kv, n_embd)
        t(p + "attn_v.bias", kv)
        t(p + "attn_output.weight", n_embd, n_embd)
        ones(p + "ffn_norm.weight", n_embd)
        t(p + "ffn_gate.weight", n_ff, n_embd)
        t(p + "ffn_up.weight", n_ff, n_embd)
        t(p + "ffn_down.weight", n_embd, n_ff)
    ones("output_norm.weight", n_embd)
    t("output.weight", n_vocab, n_embd, scale=1.0)

    path.parent.mkdir(parents=True, exist_ok=True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
