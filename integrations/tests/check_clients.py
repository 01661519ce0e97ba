"""Drives a live `assay serve` with the real clients: the `sandbox-fusion` PyPI client (as verl
and users call it) and this directory's verl/TRL integrations. Usage: check_clients.py URL [real]
("real": the server runs the real sandbox, so C++ and limits are checked too). Prints OK."""
import asyncio
import os
import sys

url = sys.argv[1]
real = len(sys.argv) > 2 and sys.argv[2] == "real"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ["ASSAY_URL"] = url

from sandbox_fusion import RunCodeRequest, RunStatus, run_code, set_endpoint  # noqa: E402
from sandbox_fusion.models import CommandRunStatus  # noqa: E402

set_endpoint(url)
r = run_code(RunCodeRequest(code="print(1)", language="python"), max_attempts=1)
assert r.status == RunStatus.Success, r
assert r.run_result.status == CommandRunStatus.Finished and r.run_result.stdout == "1\n" and r.run_result.return_code == 0, r

if real:
    r = run_code(RunCodeRequest(code="import sys\nprint(sys.stdin.read().upper(), end='')", stdin="abc", language="python",
                                run_timeout=5, memory_limit_MB=256), max_attempts=1)
    assert r.status == RunStatus.Success and r.run_result.stdout == "ABC", r
    cpp = "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}"
    r = run_code(RunCodeRequest(code=cpp, stdin="20 22", language="cpp"), max_attempts=1)
    assert r.status == RunStatus.Success and r.run_result.stdout == "42\n", r
    assert r.compile_result.status == CommandRunStatus.Finished and r.compile_result.return_code == 0, r
    r = run_code(RunCodeRequest(code="while True: pass", language="python", run_timeout=1), max_attempts=1)
    assert r.status == RunStatus.Failed and r.run_result.status == CommandRunStatus.TimeLimitExceeded, r
    assert r.run_result.return_code is None, r
    r = run_code(RunCodeRequest(code="int main( {", language="cpp"), max_attempts=1)
    assert r.status == RunStatus.Failed and r.compile_result.return_code != 0 and r.run_result is None, r
    solution, wrong = "```python\nprint(input())\n```", "```python\nprint('no')\n```"
else:
    solution, wrong = "```python\nECHO\n```", "```python\nWRONG\n```"

# verl batch reward manager
import verl_compute_score  # noqa: E402

gt = {"inputs": ["1\n", "2\n"], "outputs": ["1\n", "2\n"]}
scores = verl_compute_score.compute_score_batch(["taco", "taco", "taco"], [solution, wrong, "no code"], [gt, gt, gt], [None] * 3)
assert [s["score"] for s in scores] == [1.0, 0.0, 0.0], scores
assert verl_compute_score.compute_score("taco", solution, gt)["score"] == 1.0
assert verl_compute_score.compute_score_batch([], [], [], []) == []

# TRL reward function (conversational completions, open-r1 verification_info column)
import trl_reward  # noqa: E402

vi = {"language": "python", "test_cases": [{"input": "5\n", "output": "5\n"}]}
rewards = asyncio.run(trl_reward.assay_code_reward(
    prompts=["p", "p"], completions=[[{"role": "assistant", "content": solution}], [{"role": "assistant", "content": wrong}]],
    verification_info=[vi, vi]))
assert rewards == [1.0, 0.0], rewards
print("OK")
