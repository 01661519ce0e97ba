#!/usr/bin/env python3
"""Builds testdata/corpus/python-code-extra.txt, more training text for `assay bench engine --train-demo`.

On python-code.txt alone (109k tokens) the 3M-parameter demo model overfits after about 600 steps. This adds
two more sets of real Python from ../shared/code-data, one document each, separated by <|endoftext|> as in
python-code.txt:
  - the 800 CRUXEval functions (`code`, MIT, facebookresearch/cruxeval), plain `def f(...)` functions;
  - the rllm LeetCode train reference solutions (`solutions`, Apache-2.0, rllm-org/rllm; the problem statements,
    which belong to LeetCode, are not copied), `class Solution` methods.
The tokenizer is not retrained: it stays the one trained on python-code.txt.

Usage: /usr/bin/python3 scripts/make_demo_corpus.py ../shared/code-data testdata
"""
import gzip
import json
import os
import sys


def main(code_data, out):
    with open(os.path.join(code_data, "cruxeval/cruxeval.jsonl"), encoding="utf-8") as f:
        docs = [json.loads(line)["code"] for line in f if line.strip()]
    with gzip.open(os.path.join(code_data, "deepcoder-rllm/train_leetcode.json.gz"), "rt", encoding="utf-8") as f:
        docs += [p["solutions"] for p in json.load(f)]
    with open(os.path.join(out, "corpus/python-code-extra.txt"), "w", encoding="utf-8") as f:
        f.write("\n<|endoftext|>\n".join(d.replace("\r\n", "\n").strip("\n") for d in docs) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
