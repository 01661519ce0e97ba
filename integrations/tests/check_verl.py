"""Runs verl's own reward loop on the integrations against a live `assay serve`: verl 0.9.1 from
PyPI composes its Hydra config (`ppo_trainer`, `reward.*` keys), loads the reward function with
its own `load_extern_object` (by file path as the README says, and `pkg://` after
`pip install ./integrations`), and its RewardLoopWorker and naive reward manager score a
DataProto of tokenized completions. Also verl's built-in SandboxFusion path, configured by
merging integrations/verl_sandbox_fusion.yaml. Run from the repository root:
check_verl.py URL. Prints OK."""
import os
import sys
import tempfile

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import verl
from verl import DataProto
from verl.experimental.reward_loop import RewardLoopWorker

import cases
import tiny_model

URL = sys.argv[1]
os.environ["ASSAY_URL"] = URL
TOKENIZER_DIR = tempfile.mkdtemp(prefix="assay-verl-tok-")
tok = tiny_model.tokenizer(TOKENIZER_DIR)


def config(*overrides, merge=None):
    with initialize_config_dir(config_dir=os.path.join(os.path.dirname(verl.__file__), "trainer", "config"), version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=[f"actor_rollout_ref.model.path={TOKENIZER_DIR}", *overrides])
    if merge is not None:
        cfg = OmegaConf.merge(cfg, merge)  # struct mode: a key current verl does not know raises
    return cfg


def data(rows, data_source="taco"):
    prompt = tok("Solve the problem.")["input_ids"]
    responses = [tok(completion)["input_ids"] for _, completion, _ in rows]
    width = max(len(r) for r in responses)
    pad = tok.pad_token_id
    response_ids = torch.tensor([r + [pad] * (width - len(r)) for r in responses])
    prompt_ids = torch.tensor([prompt] * len(rows))
    mask = torch.cat([torch.ones_like(prompt_ids), torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in responses])], dim=1)
    return DataProto.from_dict(
        tensors={"prompts": prompt_ids, "responses": response_ids, "attention_mask": mask,
                 "input_ids": torch.cat([prompt_ids, response_ids], dim=1)},
        non_tensors={"data_source": np.array([data_source] * len(rows), dtype=object),
                     "reward_model": np.array([{"style": "rule", "ground_truth": gt} for gt, _, _ in rows], dtype=object),
                     "extra_info": np.array([{"index": i} for i in range(len(rows))], dtype=object)})


def score(cfg, rows):
    """What verl's RewardLoopManager does per worker, without Ray: score each sample, then put
    the score on the last response token."""
    worker = RewardLoopWorker(cfg)
    batch = data(rows)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(batch))
    scores = [o["reward_score"] for o in outputs]
    rm = type(worker.reward_manager).assemble_rm_scores(batch, scores)
    assert [round(float(x), 6) for x in rm.sum(dim=1)] == [round(float(s), 6) for s in scores], (rm, scores)
    return scores, [o["reward_extra_info"] for o in outputs]


# 1. The custom function by file path (nothing on PYTHONPATH), async, with malformed rows: each
#    malformed row is a flagged 0, the rest are graded.
rows = cases.GRADED + cases.MALFORMED
scores, extra = score(config("reward.custom_reward_function.path=integrations/verl_compute_score.py",
                             "reward.custom_reward_function.name=compute_score_async"), rows)
assert scores == [0.0 if want is None else want for _, _, want in rows], scores
assert [e["error"] for e in extra] == [1.0 if want is None else 0.0 for _, _, want in rows], extra

# 2. The installed package through verl's pkg:// loader, the synchronous function.
scores, _ = score(config("reward.custom_reward_function.path=pkg://assay_integrations.verl_compute_score",
                         "reward.custom_reward_function.name=compute_score"), cases.GRADED)
assert scores == [want for _, _, want in cases.GRADED], scores

# 3. verl's built-in SandboxFusion path (its own harness, one /run_code per test case), set up
#    by merging verl_sandbox_fusion.yaml. verl's harness prints a returned string with str() and
#    compares text with the JSON expected value, so the string-returning WORDS_RIGHT scores 0 there.
yaml = OmegaConf.load("integrations/verl_sandbox_fusion.yaml")
yaml.reward.sandbox_fusion.url = URL + "/run_code"
scores, _ = score(config(merge=yaml), cases.GRADED)
assert scores == [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], scores
# 4. The older top-level keys still compose, but verl 0.9's reward loop does not read them: its
#    default scorer would run (the README's older-verl settings are for older verl only).
legacy = RewardLoopWorker(config("custom_reward_function.path=integrations/verl_compute_score.py",
                                 "custom_reward_function.name=compute_score"))
assert legacy.config.reward.custom_reward_function.path is None
assert legacy.reward_manager.compute_score.__module__ == "verl.utils.reward_score", legacy.reward_manager.compute_score
print("OK")
