#!/usr/bin/env python3
"""Builds the code corpus, trains a byte-level BPE tokenizer with HF `tokenizers`, and writes parity goldens.

Outputs (dev-only script; its products are committed, the library is not):
  testdata/corpus/python-code.txt       HumanEval prompts + canonical solutions (MIT, OpenAI) and MBPP reference
                                        code (CC BY 4.0), from ../shared/code-data, separated by <|endoftext|>
  testdata/tokenizer/code-bpe-1k.json   a Qwen2-style tokenizer.json trained on that corpus: NFC normalizer, the
                                        Qwen2 split regex, ByteLevel, 1024 tokens incl. 3 special ChatML tokens
  testdata/tokenizer/parity.json        [{"text", "ids"}] from tokenizers' encode on held-out texts (HumanEval-X
                                        C++/JS/Go, non-ASCII strings, special tokens), for the Swift parity test

Usage: /tmp/gvenv/bin/python scripts/golden/make_tokenizer.py ../shared/code-data testdata
"""
import gzip
import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(code_data, out):
    docs = [r["prompt"] + r["canonical_solution"] for r in jsonl(os.path.join(code_data, "humaneval/HumanEval.jsonl.gz"))]
    docs += [r["code"].replace("\r\n", "\n") for r in jsonl(os.path.join(code_data, "mbpp/mbpp.jsonl"))]
    os.makedirs(os.path.join(out, "corpus"), exist_ok=True)
    with open(os.path.join(out, "corpus/python-code.txt"), "w", encoding="utf-8") as f:
        f.write("\n<|endoftext|>\n".join(d.strip("\n") for d in docs) + "\n")

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1024, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(docs, trainer=trainer)
    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    tok.save(os.path.join(out, "tokenizer/code-bpe-1k.json"))

    held_out = []
    for lang in ["cpp", "js", "go"]:
        rows = jsonl(os.path.join(code_data, f"humaneval-x/humaneval_{lang}.jsonl.gz"))
        held_out += [rows[i]["prompt"] + rows[i]["canonical_solution"] for i in range(0, len(rows), 41)]
    held_out += [
        "<|im_start|>user\nWrite fizzbuzz.<|im_end|>\n<|im_start|>assistant\n",
        "def naïve_façade(ü):\n    return 'Grüße, 世界! ' * 3  # émoji 🚀\n",
        "x = 12345678901234567890\r\n\ty  =  'It''s' + \"we'll\"\n\n\n   \n",
        "  leading spaces and trailing   ",
        "",
        "<|endoftext|><|endoftext|>a<|im_end|>",
        "Ａｂｃ　full-width and café (e + combining acute: cafe\u0301)",
    ]
    with open(os.path.join(out, "tokenizer/parity.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": tok.encode(t).ids} for t in held_out], f, ensure_ascii=False, indent=0)
    print("vocab", tok.get_vocab_size(), "held-out texts", len(held_out))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/code-data", sys.argv[2] if len(sys.argv) > 2 else "testdata")
