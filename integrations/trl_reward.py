"""A TRL GRPOTrainer reward function backed by the assay grading server.

    # pip install ./integrations (from an assay checkout), then:
    from assay_integrations.trl_reward import assay_code_reward
    # or, without installing, from the checkout's root: from integrations.trl_reward import ...
    trainer = GRPOTrainer(..., reward_funcs=[assay_code_reward])

Each call grades the process's local slice (prompts x num_generations) in one POST /v1/grade.
The dataset needs one of these columns: `problem_id` (a problem loaded with `assay serve --data`),
`verification_info` (open-r1: {"test_cases": [{"input", "output"}]}), or `ground_truth`
(verl/TACO {"inputs", "outputs", "fn_name"?}, or an assay-native problem).
Returns 1.0 / 0.0 per completion, and None (NaN: "not applicable") for a completion the server
could not grade or whose row is malformed (an unknown problem id, outputs and inputs of
different lengths), so a sandbox fault or a bad row never looks like a wrong answer and never
stops the training step.
"""
import asyncio

try:
    from .assay_client import grade_rows, problem_from_ground_truth
except ImportError:  # integrations/ itself is on sys.path
    from assay_client import grade_rows, problem_from_ground_truth


def _text(completion):
    # Conversational format: a list of {"role", "content"} messages; the answer is the last one.
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


COLUMNS = ("problem_id", "verification_info", "ground_truth")


def _row(completion, column, value):
    def item():
        if column == "problem_id":
            return {"response": _text(completion), "problem_id": value}
        return {"response": _text(completion), **problem_from_ground_truth(value)}
    return item


async def assay_code_reward(prompts, completions, **kwargs):
    """TRL runs async reward functions together with asyncio.gather."""
    column = next((c for c in COLUMNS if kwargs.get(c) is not None), None)
    if column is None:  # the dataset, not a row, is wrong: say so instead of scoring None
        raise ValueError(f"assay_code_reward needs one of the dataset columns {', '.join(COLUMNS)}")
    rows = [_row(c, column, kwargs[column][i]) for i, c in enumerate(completions)]
    if not rows:
        return []
    results = await asyncio.to_thread(grade_rows, rows, {"max_tests": 15})
    return [None if r.get("error") is not None else float(r["reward"]) for r in results]
