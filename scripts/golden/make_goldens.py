#!/usr/bin/env python3
"""Writes the TensorEngine golden files with PyTorch + transformers (dev-only; never run in CI).

For each tiny random model of the Qwen2/Llama family it writes, under testdata/golden/<name>/:
  config.json, model.safetensors   the model, exactly as transformers saves it (the engine must load it unchanged)
  state.safetensors                inputs and reference outputs (float32):
      tokens (B, T), targets (B, T), mask (B, T)   the batch; ids stored as floats
      logits (B, T, V)                             model(tokens).logits
      logprobs (B, T)                              log_softmax(logits)[targets], 0 where mask == 0
      loss ()                                      mean cross-entropy over mask == 1
      grad.<hf name>                               d loss / d parameter, for every parameter

Usage (CPU wheels from plain PyPI are fine):
  python3 -m venv /tmp/gvenv && /tmp/gvenv/bin/pip install torch transformers safetensors numpy
  /tmp/gvenv/bin/python scripts/golden/make_goldens.py testdata/golden
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

B, T = 2, 7

MODELS = {
    # Qwen2: q/k/v bias, separate lm_head, grouped-query attention (4 query heads, 2 kv heads).
    "qwen2-tiny": (Qwen2Config, Qwen2ForCausalLM, dict(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, rope_theta=10000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
        max_position_embeddings=64)),
    # Llama: no bias, tied embeddings, so both switches of the engine are exercised.
    "llama-tied-tiny": (LlamaConfig, LlamaForCausalLM, dict(
        vocab_size=80, hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=6,
        num_key_value_heads=3, rope_theta=500.0, rms_norm_eps=1e-5, tie_word_embeddings=True,
        attention_bias=False, mlp_bias=False, max_position_embeddings=64)),
}


def main(out_root):
    torch.manual_seed(1234)
    for name, (config_cls, model_cls, kwargs) in MODELS.items():
        config = config_cls(**kwargs)
        config._attn_implementation = "eager"
        model = model_cls(config).float()
        # HF initialises norms to 1 and biases to 0; perturb everything so each gradient path is non-trivial.
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "norm" in pname:
                    p.copy_(1 + 0.1 * torch.randn_like(p))
                else:
                    p.copy_(0.15 * torch.randn_like(p))
        out_dir = os.path.join(out_root, name)
        model.save_pretrained(out_dir, safe_serialization=True)

        V = config.vocab_size
        tokens = torch.randint(0, V, (B, T))
        targets = torch.randint(0, V, (B, T))
        mask = torch.ones(B, T)
        mask[1, T - 2:] = 0  # the second row is right-padded by two tokens

        logits = model(input_ids=tokens).logits  # (B, T, V)
        logp = torch.log_softmax(logits.float(), dim=-1)
        logprobs = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask  # (B, T)
        loss = -(logprobs * mask).sum() / mask.sum()
        model.zero_grad()
        loss.backward()

        state = {
            "tokens": tokens.float(), "targets": targets.float(), "mask": mask,
            "logits": logits.detach().contiguous(), "logprobs": logprobs.detach().contiguous(),
            "loss": loss.detach().reshape(()),
        }
        seen = set()
        for pname, p in model.named_parameters():
            if id(p) in seen:  # tied lm_head is the same tensor as the embedding
                continue
            seen.add(id(p))
            state["grad." + pname] = p.grad.detach().contiguous()
        save_file(state, os.path.join(out_dir, "state.safetensors"))
        print(name, "loss", float(loss), "params", sum(p.numel() for p in model.parameters()))
    adamw_golden(out_root)
    with open(os.path.join(out_root, "versions.json"), "w") as f:
        import transformers
        json.dump({"torch": torch.__version__, "transformers": transformers.__version__}, f, indent=2)
        f.write("\n")



def adamw_golden(out_root):
    """Three AdamW steps with global-norm clipping on two tensors (a matrix that decays and a vector that does not),
    written to adamw.safetensors: p0.*, grad{k}.* (the raw gradient of step k) and p3.* (parameters after 3 steps)."""
    torch.manual_seed(99)
    w = torch.nn.Parameter(torch.randn(3, 4))
    b = torch.nn.Parameter(torch.randn(4))
    state = {"p0.w": w.detach().clone(), "p0.b": b.detach().clone()}
    opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.1}, {"params": [b], "weight_decay": 0.0}],
                            lr=0.01, betas=(0.9, 0.95), eps=1e-8)
    for k in range(3):
        gw, gb = torch.randn(3, 4) * (k + 1), torch.randn(4) * (k + 1)
        state[f"grad{k}.w"], state[f"grad{k}.b"] = gw.clone(), gb.clone()
        w.grad, b.grad = gw.clone(), gb.clone()
        torch.nn.utils.clip_grad_norm_([w, b], max_norm=2.0)
        opt.step()
    state["p3.w"], state["p3.b"] = w.detach().clone(), b.detach().clone()
    save_file(state, os.path.join(out_root, "adamw.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/golden")
