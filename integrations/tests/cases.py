"""Rows graded by both framework checks: verl-style ground truth (call-based, one JSON argument
per line; stdin), with right and wrong answers, and malformed rows."""
import json

F = "```"
CHOCO = {"fn_name": "buyChoco", "inputs": ["[1, 2, 2]\n3", "[3, 2, 3]\n3"], "outputs": ["0", "3"]}
WORDS = {"fn_name": "reverseWords", "inputs": ["\"hello world\"\n\" \""], "outputs": ["\"world hello\""]}
ECHO = {"inputs": ["5\n", "abc\n"], "outputs": ["5\n", "abc\n"]}

CHOCO_RIGHT = (f"Sort, take the two cheapest.\n{F}python\nclass Solution:\n    def buyChoco(self, prices: List[int], money: int) -> int:\n"
               f"        a, b = sorted(prices)[:2]\n        return money - a - b if a + b <= money else money\n{F}")
CHOCO_WRONG = f"{F}python\nclass Solution:\n    def buyChoco(self, prices, money):\n        return money - min(prices)\n{F}"
WORDS_RIGHT = f"{F}python\ndef reverseWords(s, sep):\n    return sep.join(reversed(s.split(sep)))\n{F}"
ECHO_RIGHT = f"{F}python\nprint(input())\n{F}"
ECHO_WRONG = f"{F}python\nprint('no')\n{F}"

# (ground truth as verl stores it: JSON text, completion, expected reward); None: not gradable.
GRADED = [
    (json.dumps(CHOCO), CHOCO_RIGHT, 1.0),
    (json.dumps(CHOCO), CHOCO_WRONG, 0.0),
    (json.dumps(WORDS), WORDS_RIGHT, 1.0),
    (json.dumps(ECHO), ECHO_RIGHT, 1.0),
    (json.dumps(ECHO), ECHO_WRONG, 0.0),
    (json.dumps(ECHO), "no code block", 0.0),
]
MALFORMED = [
    (json.dumps({"inputs": ["1\n", "2\n"], "outputs": ["1\n"]}), ECHO_RIGHT, None),  # lengths differ
    ("not json", ECHO_RIGHT, None),
    (json.dumps({"fn_name": "f", "inputs": ["[1,"], "outputs": ["1"]}), ECHO_RIGHT, None),  # not one JSON value per line
]
