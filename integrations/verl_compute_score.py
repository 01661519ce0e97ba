"""verl reward functions backed by the assay grading server.

Batch reward manager (one HTTP request per batch; recommended):

    reward_model:                       # Aug-2026 layout: reward.reward_manager / reward.custom_reward_function
      reward_manager: batch
    custom_reward_function:
      path: integrations/verl_compute_score.py
      name: compute_score_batch

Per-sample managers (naive, prime, the reward loop's naive/rate_limited) use `compute_score`
(`async` in the reward loop: `compute_score_async`).

The ground truth is verl's `reward_model.ground_truth`: {"inputs": [...], "outputs": [...],
"fn_name"?: ...} (a dict or JSON text), open-r1's verification_info, or an assay-native problem.
A reward is 1.0 iff every sampled test passes (DeepCoder); an item the server could not grade
scores 0.0 with "error" set in the returned dict (logged by verl as reward_extra_info).
"""
import asyncio

from assay_client import grade, problem_from_ground_truth

# Options sent with every batch (see GET /openapi.json, GradeOptions).
OPTIONS = {"max_tests": 15}


def _score(result):
    return {
        "score": float(result.get("reward") or 0),
        "tests_passed": float(result.get("tests_passed") or 0),
        "tests_selected": float(result.get("tests_selected") or 0),
        "error": 0.0 if result.get("error") is None else 1.0,
    }


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    """verl's `batch` reward manager: one call per batch, one result dict per sample."""
    items = []
    for i, (solution, gt) in enumerate(zip(solution_strs, ground_truths)):
        item = {"id": i, "response": solution}
        item.update(problem_from_ground_truth(gt))
        items.append(item)
    if not items:
        return []
    results = grade(items, OPTIONS, url=kwargs.get("assay_url"), token=kwargs.get("assay_token"))
    return [_score(r) for r in results]


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The per-sample signature (naive/prime managers call it positionally)."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]


async def compute_score_async(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The reward loop awaits async functions: the HTTP call runs in a thread."""
    return await asyncio.to_thread(compute_score, data_source, solution_str, ground_truth, extra_info, **kwargs)
