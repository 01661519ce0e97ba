"""verl reward functions backed by the assay grading server.

Current verl (0.9, the reward loop; `reward.*` keys):

    reward.custom_reward_function.path=integrations/verl_compute_score.py     # a file path, or
    reward.custom_reward_function.path=pkg://assay_integrations.verl_compute_score   # after pip install ./integrations
    reward.custom_reward_function.name=compute_score_async                    # or compute_score

The reward loop calls the function once per sample (`async` ones are awaited); the reward
manager stays `naive` (or `rate_limited`, `dapo`). verl loads the file by its path with
`load_extern_object`: it needs nothing on PYTHONPATH.

Older verl (before the reward loop, with the `batch` reward manager; legacy top-level keys):

    reward_model.reward_manager=batch
    custom_reward_function.path=integrations/verl_compute_score.py
    custom_reward_function.name=compute_score_batch

The ground truth is verl's `reward_model.ground_truth`: {"inputs": [...], "outputs": [...],
"fn_name"?: ...} (a dict or JSON text; call-based inputs as verl writes them, one JSON argument
per line), open-r1's verification_info, or an assay-native problem. A reward is 1.0 iff every
sampled test passes (DeepCoder). A row that could not be graded (a sandbox fault, malformed
ground truth, an unknown problem id) scores 0.0 with "error" 1.0 in the returned dict (logged by
verl as reward_extra_info); the other rows of the batch are graded.
"""
import asyncio

if __package__:
    from .assay_client import grade_rows, problem_from_ground_truth
else:
    # Loaded by file path (verl's load_extern_object): the client is the file beside this one.
    import importlib.util as _util
    import os as _os

    _spec = _util.spec_from_file_location(
        "assay_client", _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "assay_client.py"))
    _client = _util.module_from_spec(_spec)
    _spec.loader.exec_module(_client)
    grade_rows, problem_from_ground_truth = _client.grade_rows, _client.problem_from_ground_truth

# Options sent with every batch (see GET /openapi.json, GradeOptions).
OPTIONS = {"max_tests": 15}


def _score(result):
    return {
        "score": float(result.get("reward") or 0),
        "tests_passed": float(result.get("tests_passed") or 0),
        "tests_selected": float(result.get("tests_selected") or 0),
        "error": 0.0 if result.get("error") is None else 1.0,
    }


def _row(solution, ground_truth):
    return lambda: {"response": solution, **problem_from_ground_truth(ground_truth)}


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None, **kwargs):
    """verl's `batch` reward manager (older verl): one call per batch, one result dict per sample."""
    rows = [_row(s, gt) for s, gt in zip(solution_strs, ground_truths)]
    if not rows:
        return []
    results = grade_rows(rows, OPTIONS, url=kwargs.get("assay_url"), token=kwargs.get("assay_token"))
    return [_score(r) for r in results]


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The per-sample signature (the reward loop's managers, and the older naive/prime managers)."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], **kwargs)[0]


async def compute_score_async(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """The reward loop awaits async functions: the HTTP call runs in a thread."""
    return await asyncio.to_thread(compute_score, data_source, solution_str, ground_truth, extra_info, **kwargs)
