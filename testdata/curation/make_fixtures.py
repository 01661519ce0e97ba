"""Builds the curation fixtures from ../shared/code-data (run from the repo root with /usr/bin/python3).

Dev-only: the fixtures are committed; this script documents how they were made.
"""
import gzip, json, os

D = "../shared/code-data"
OUT = "testdata/curation"

he = {json.loads(l)["task_id"]: json.loads(l) for l in gzip.open(f"{D}/humaneval/HumanEval.jsonl.gz", "rt")}
with open(f"{OUT}/humaneval-4.jsonl", "w") as f:
    for tid in ["HumanEval/0", "HumanEval/7", "HumanEval/3", "HumanEval/25"]:
        f.write(json.dumps(he[tid]) + "\n")

lcb = json.load(gzip.open(f"{D}/deepcoder-rllm/test_livecodebench_879_public.json.gz", "rt"))
with open(f"{OUT}/eval-lcb-3.json", "w") as f:
    json.dump([lcb[0], lcb[1], lcb[5]], f)

def stdio(pairs):
    return [{"stdin": i, "stdout": o} for i, o in pairs]

h0 = he["HumanEval/0"]
# One word changed in the docstring, and one assert fewer than the original (so the rule
# "most tests" keeps HumanEval/0).
reworded = h0["prompt"].replace("closer to each other than", "nearer to each other than")
asserts = [l for l in h0["test"].splitlines() if l.strip().startswith("assert")]
variants = [
    {"id": "reworded-he0", "statement": reworded, "entry_point": "has_close_elements",
     "tests": [{"script": "from typing import List\n" + a.strip() + "\n"} for a in asserts[:-1]],
     "solutions": [h0["prompt"] + h0["canonical_solution"]]},
    {"id": "wrong-reference", "statement": "Read two integers a and b from one line and print their sum.",
     "tests": stdio([("1 2\n", "3\n"), ("5 5\n", "10\n"), ("0 0\n", "0\n"), ("-3 4\n", "1\n"), ("100 23\n", "123\n")]),
     "solutions": ["a, b = map(int, input().split())\nprint(-(a + b) - 1)\n"]},  # wrong on every test
    {"id": "one-bad-test", "statement": "Read integers from one line and print the largest of them.",
     "tests": stdio([("1 2 3\n", "3\n"), ("5\n", "5\n"), ("-1 -7\n", "-1\n"), ("4 4 2\n", "4\n"), ("9 8 7 6\n", "9\n"),
                     ("10 20\n", "30\n")]),  # the last expected output is wrong
     "solutions": ["print(max(map(int, input().split())))\n"]},
    {"id": "dup-tests", "statement": "Read one line of text and print it reversed, character by character.",
     "tests": stdio([("abc\n", "cba\n"), ("x\n", "x\n"), ("hello\n", "olleh\n"), ("abc\n", "cba\n"), ("ab ba\n", "ab ba\n"),
                     ("123\n", "321\n")]),
     "solutions": ["print(input()[::-1])\n"]},
    {"id": "no-reference", "statement": "Read an integer n and print n squared, followed by a newline.",
     "tests": stdio([("2\n", "4\n"), ("3\n", "9\n"), ("0\n", "0\n"), ("-4\n", "16\n"), ("10\n", "100\n")])},
    # An exact copy of an eval statement (LiveCodeBench, Vanya and Vova) with tests of its own.
    {"id": "planted-eval-copy", "statement": lcb[5]["problem"],
     "tests": stdio([(f"1\n{n}\n", ("Second" if n % 3 == 0 else "First") + "\n") for n in [1, 3, 5, 100, 999, 1000]]),
     "solutions": ["for _ in range(int(input())):\n    print('Second' if int(input()) % 3 == 0 else 'First')\n"]},
    # A new statement that quotes 20 words of another eval statement (shares 13-grams, Jaccard far below 0.8).
    {"id": "planted-ngram", "statement": "Given a list of numbers, print how many of them are even. Background: " +
        " ".join(lcb[1]["problem"].split()[:20]) + " That story does not matter here.",
     "tests": stdio([("1 2 3\n", "1\n"), ("2 4\n", "2\n"), ("1\n", "0\n"), ("0 0 0\n", "3\n"), ("7 8 9 10\n", "2\n")]),
     "solutions": ["print(sum(1 for x in input().split() if int(x) % 2 == 0))\n"]},
]
with open(f"{OUT}/variants.jsonl", "w") as f:
    for v in variants:
        f.write(json.dumps(v) + "\n")
