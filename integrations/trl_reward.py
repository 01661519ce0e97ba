"""A TRL GRPOTrainer reward function backed by the assay grading server.

    from integrations.trl_reward import assay_code_reward
    trainer = GRPOTrainer(..., reward_funcs=[assay_code_reward])

Each call grades the process's local slice (prompts x num_generations) in one POST /v1/grade.
The dataset needs one of these columns: `problem_id` (a problem loaded with `assay serve --data`),
`verification_info` (open-r1: {"test_cases": [{"input", "output"}]}), or `ground_truth`
(verl/TACO {"inputs", "outputs", "fn_name"?}, or an assay-native problem).
Returns 1.0 / 0.0 per completion, and None (NaN: "not applicable") for a completion the server
could not grade, so a sandbox fault never looks like a wrong answer.
"""
import asyncio

from assay_client import grade, problem_from_ground_truth


def _text(completion):
    # Conversational format: a list of {"role", "content"} messages; the answer is the last one.
    if isinstance(completion, list):
        return completion[-1]["content"] if completion else ""
    return completion


def _items(completions, kwargs):
    items = []
    for i, completion in enumerate(completions):
        item = {"id": i, "response": _text(completion)}
        if kwargs.get("problem_id") is not None:
            item["problem_id"] = kwargs["problem_id"][i]
        elif kwargs.get("verification_info") is not None:
            item.update(problem_from_ground_truth(kwargs["verification_info"][i]))
        elif kwargs.get("ground_truth") is not None:
            item.update(problem_from_ground_truth(kwargs["ground_truth"][i]))
        else:
            raise ValueError("assay_code_reward needs a problem_id, verification_info or ground_truth column")
        items.append(item)
    return items


async def assay_code_reward(prompts, completions, **kwargs):
    """TRL runs async reward functions together with asyncio.gather."""
    items = _items(completions, kwargs)
    if not items:
        return []
    results = await asyncio.to_thread(grade, items, {"max_tests": 15})
    return [None if r.get("error") is not None else float(r["reward"]) for r in results]
