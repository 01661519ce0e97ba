#!/usr/bin/env python3
"""Writes testdata/golden/grpo.json: GRPO goldens computed by verl's OWN code (dev-only; never run in CI).

Nothing here re-implements verl's math. Every number under "outputs" comes from one of these functions of
`verl.trainer.ppo.core_algos` (verl 0.9.1 from PyPI), called on fixed float64 inputs:

  compute_grpo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6,
                                 norm_adv_by_std_in_grpo=True, config=None) -> (advantages, returns)
  compute_policy_loss_vanilla(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode="token-mean",
                              config: ActorConfig, rollout_is_weights=None) -> (pg_loss, metrics)
  agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, batch_num_tokens=None, global_batch_size=None,
           loss_scale_factor=None)

plus, for policy-loss cases, torch autograd through compute_policy_loss_vanilla (d pg_loss / d log_prob).

Two things are NOT verl functions and are done here, in the open, on verl's outputs:
  * overlong filtering (DeepCoder): after verl's advantages, the advantage row of every sample that is truncated
    (no EOS within the response budget) AND has reward 0 is set to 0; its tokens stay in the response mask, so
    they still count in the token-mean denominator. A truncated sample with reward 1 keeps its advantage.
  * "no dual clip" (DeepCoder): verl 0.9.1 has no off switch for dual-clip (compute_policy_loss_vanilla asserts
    clip_ratio_c > 1.0), so it is emulated with clip_ratio_c = 1e9 (the script also checks that inf gives the same
    result). With |A| * 1e9 larger than any clamped |A| * ratio (ratio <= exp(20) ~ 4.85e8), the min never bites.

Usage:
  /usr/bin/python3 -m venv /tmp/verl-venv && /tmp/verl-venv/bin/pip install -r scripts/golden/requirements.txt
  /tmp/verl-venv/bin/python scripts/golden/verl_grpo.py testdata/golden/grpo.json

It also checks the worked example of trainer-anchors.md section 1 against that file's table and exits 1 on a
mismatch (the table is rounded to 8 decimals).
"""
import importlib.metadata
import inspect
import json
import math
import sys

import numpy as np
import torch

import verl
from verl.trainer.ppo import core_algos
from verl.trainer.ppo.core_algos import agg_loss, compute_grpo_outcome_advantage, compute_policy_loss_vanilla
from verl.workers.config import ActorConfig

DT = torch.float64
NO_DUAL_CLIP_C = 1e9  # verl has no off switch (asserts c > 1); see the module docstring
AGG_MODES = ["token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]

CASES = []


def t(x):
    return torch.tensor(x, dtype=DT)


def lst(x):
    """A tensor as nested lists of Python floats (float64; json prints them round-trip exact)."""
    return x.detach().to(DT).tolist()


def masks(lengths, T):
    return [[1.0] * n + [0.0] * (T - n) for n in lengths]


def pad(rows, T, fill=0.0):
    return [list(r) + [fill] * (T - len(r)) for r in rows]


# ----------------------------------------------------------------------------------------------- advantages


def advantage_case(name, rewards, lengths, index, T, truncated=None, epsilon=1e-6, norm=True, note=""):
    """Rewards sit on the last response token (as verl's reward managers place them); verl sums each row."""
    mask = masks(lengths, T)
    tlr = [[0.0] * T for _ in rewards]
    for i, (r, n) in enumerate(zip(rewards, lengths)):
        if n > 0:
            tlr[i][n - 1] = float(r)
    truncated = truncated or [False] * len(rewards)
    adv, ret = compute_grpo_outcome_advantage(
        token_level_rewards=t(tlr),
        response_mask=t(mask),
        index=np.array(index, dtype=object),
        epsilon=epsilon,
        norm_adv_by_std_in_grpo=norm,
    )
    assert torch.equal(adv, ret)
    # Sample-level advantages: verl's own function once more, on one token per sample with the reward on it and
    # mask 1 (the group statistics only see the row sums, so this is the per-sample value before the mask).
    sample_adv, _ = compute_grpo_outcome_advantage(
        token_level_rewards=t([[float(r)] for r in rewards]),
        response_mask=torch.ones(len(rewards), 1, dtype=DT),
        index=np.array(index, dtype=object),
        epsilon=epsilon,
        norm_adv_by_std_in_grpo=norm,
    )
    filtered = adv.clone()
    filtered_rows = []
    for i, (r, tr) in enumerate(zip(rewards, truncated)):
        if tr and r == 0:
            filtered[i] = 0.0
            filtered_rows.append(i)
    case = {
        "name": name,
        "kind": "advantage",
        "note": note,
        "inputs": {
            "rewards": [float(r) for r in rewards],
            "index": list(index),
            "response_lengths": list(lengths),
            "max_response_length": T,
            "truncated": list(truncated),
            "token_level_rewards": tlr,
            "response_mask": mask,
            "epsilon": epsilon,
            "norm_adv_by_std_in_grpo": norm,
        },
        "outputs": {
            "sample_advantages": lst(sample_adv[:, 0]),
            "advantages": lst(adv),
            "advantages_overlong_filtered": lst(filtered),
            "overlong_filtered_rows": filtered_rows,
        },
    }
    CASES.append(case)
    return case


# ---------------------------------------------------------------------------------------------- policy loss


def actor_config(eps_low, eps_high, c, mode, rollout_n, loss_scale_factor=None, global_batch_info=None):
    cfg = ActorConfig(
        strategy="fsdp",
        rollout_n=rollout_n,
        ppo_micro_batch_size_per_gpu=1,
        clip_ratio=eps_low,
        clip_ratio_low=eps_low,
        clip_ratio_high=eps_high,
        clip_ratio_c=c,
        loss_agg_mode=mode,
        loss_scale_factor=loss_scale_factor,
    )
    # What verl.workers.utils.losses.ppo_loss does before calling the policy loss. The engine always fills
    # batch_num_tokens / global_batch_size (mini-batch totals); None here means "this call's own batch", which
    # agg_loss then counts itself (the single-process, single-micro-batch case).
    info = {"dp_size": 1, "batch_num_tokens": None, "global_batch_size": None, "loss_scale_factor": loss_scale_factor}
    info.update(global_batch_info or {})
    cfg.global_batch_info.update(info)
    return cfg


def policy_case(name, old_log_prob, log_prob, advantages, mask, eps_low=0.2, eps_high=0.28, c=3.0,
                mode="token-mean", rollout_n=4, loss_scale_factor=None, global_batch_info=None, note="", extra=None):
    cfg = actor_config(eps_low, eps_high, c, mode, rollout_n, loss_scale_factor, global_batch_info)
    lp = t(log_prob).requires_grad_(True)
    loss, metrics = compute_policy_loss_vanilla(
        old_log_prob=t(old_log_prob),
        log_prob=lp,
        advantages=t(advantages),
        response_mask=t(mask),
        loss_agg_mode=mode,
        config=cfg,
    )
    loss.backward()
    inputs = {
        "old_log_prob": [list(map(float, r)) for r in old_log_prob],
        "log_prob": [list(map(float, r)) for r in log_prob],
        "advantages": [list(map(float, r)) for r in advantages],
        "response_mask": mask,
        "clip_ratio_low": eps_low,
        "clip_ratio_high": eps_high,
        "clip_ratio_c": c,
        "dual_clip": c < NO_DUAL_CLIP_C,
        "loss_agg_mode": mode,
        "global_batch_info": dict(cfg.global_batch_info),
    }
    inputs.update(extra or {})
    case = {
        "name": name,
        "kind": "policy_loss",
        "note": note,
        "inputs": inputs,
        "outputs": {
            "pg_loss": loss.item(),
            "pg_clipfrac": metrics["actor/pg_clipfrac"],
            "pg_clipfrac_lower": metrics["actor/pg_clipfrac_lower"],
            "ppo_kl": metrics["actor/ppo_kl"],
            "grad_log_prob": lst(lp.grad),
        },
    }
    CASES.append(case)
    return case


def agg_case(name, loss_mat, mask, mode, dp_size=1, batch_num_tokens=None, global_batch_size=None,
             loss_scale_factor=None, note=""):
    loss = agg_loss(
        loss_mat=t(loss_mat),
        loss_mask=t(mask),
        loss_agg_mode=mode,
        dp_size=dp_size,
        batch_num_tokens=batch_num_tokens,
        global_batch_size=global_batch_size,
        loss_scale_factor=loss_scale_factor,
    )
    case = {
        "name": name,
        "kind": "agg_loss",
        "note": note,
        "inputs": {
            "loss_mat": loss_mat,
            "loss_mask": mask,
            "loss_agg_mode": mode,
            "dp_size": dp_size,
            "batch_num_tokens": batch_num_tokens,
            "global_batch_size": global_batch_size,
            "loss_scale_factor": loss_scale_factor,
        },
        "outputs": {"loss": loss.item()},
    }
    CASES.append(case)
    return case


# ------------------------------------------------------------------------------------------------- the cases


def worked_example():
    """trainer-anchors.md section 1: one group, r = [1,0,0,0], lengths [3,2,3,4], T = 4, sample 4 truncated."""
    T = 4
    lengths = [3, 2, 3, 4]
    ratios = [[1.5, 1.1, 0.9], [0.5, 1.3], [4.0, 0.75, 1.0], [1.2, 1.2, 1.2, 1.2]]
    adv = advantage_case(
        "worked_example/advantages", [1, 0, 0, 0], lengths, ["q0"] * 4, T, truncated=[False, False, False, True],
        note="trainer-anchors.md s1. Sample 4 is truncated with reward 0: overlong filtering zeroes its row.")
    mask = masks(lengths, T)
    old = [[0.0] * T for _ in lengths]
    logp = pad([[math.log(x) for x in r] for r in ratios], T)  # padding: log_prob 0 (ratio 1), mask 0
    ex = {"ratio": pad(ratios, T, 1.0), "response_lengths": lengths}
    A = adv["outputs"]["advantages_overlong_filtered"]
    A_raw = adv["outputs"]["advantages"]
    out = {}
    for mode in AGG_MODES:
        out["verl_dual_clip/" + mode] = policy_case(
            f"worked_example/verl_dual_clip_c3/{mode}", old, logp, A, mask, c=3.0, mode=mode, extra=ex,
            note="verl vanilla: eps 0.2/0.28, dual-clip c=3, overlong-filtered advantages")
        out["no_dual_clip/" + mode] = policy_case(
            f"worked_example/no_dual_clip/{mode}", old, logp, A, mask, c=NO_DUAL_CLIP_C, mode=mode, extra=ex,
            note="DeepCoder GRPO+: dual clip off, emulated with clip_ratio_c = 1e9; overlong-filtered advantages")
        out["symmetric/" + mode] = policy_case(
            f"worked_example/symmetric_0.2_clip/{mode}", old, logp, A, mask, eps_high=0.2, c=3.0, mode=mode,
            extra=ex, note="eps 0.2/0.2, dual-clip c=3, overlong-filtered advantages")
        out["unfiltered/" + mode] = policy_case(
            f"worked_example/no_overlong_filtering/{mode}", old, logp, A_raw, mask, c=3.0, mode=mode, extra=ex,
            note="verl vanilla (c=3) with verl's raw advantages: sample 4 keeps A = -0.499999")
        out["unfiltered_no_dual_clip/" + mode] = policy_case(
            f"worked_example/no_overlong_filtering_no_dual_clip/{mode}", old, logp, A_raw, mask,
            c=NO_DUAL_CLIP_C, mode=mode, extra=ex, note="raw advantages, dual clip off (c = 1e9)")
    # Dual clip "off" with c = inf must agree with c = 1e9 (verl accepts inf: the NaN of 0 * inf is never selected).
    inf_cfg = actor_config(0.2, 0.28, math.inf, "token-mean", 4)
    inf_loss, _ = compute_policy_loss_vanilla(t(old), t(logp), t(A), t(mask), "token-mean", inf_cfg)
    assert inf_loss.item() == out["no_dual_clip/token-mean"]["outputs"]["pg_loss"], inf_loss.item()
    return adv, out


def check_table(adv, out):
    """The table of trainer-anchors.md section 1 (8 decimals)."""
    table = [
        ("A[0] (sample 1)", adv["outputs"]["sample_advantages"][0], 1.499997),
        ("A[1] (sample 2)", adv["outputs"]["sample_advantages"][1], -0.499999),
        ("A[3] after overlong filtering", adv["outputs"]["advantages_overlong_filtered"][3][0], 0.0),
        ("token-mean, no dual clip (DeepCoder)", out["no_dual_clip/token-mean"]["outputs"]["pg_loss"], -0.08083317),
        ("token-mean, verl vanilla c=3", out["verl_dual_clip/token-mean"]["outputs"]["pg_loss"], -0.12249976),
        ("token-mean, c=3, no overlong filtering", out["unfiltered/token-mean"]["outputs"]["pg_loss"], 0.07749985),
        ("token-mean, c=3, symmetric 0.2", out["symmetric/token-mean"]["outputs"]["pg_loss"], -0.11249978),
        ("seq-mean-token-sum, c=3", out["verl_dual_clip/seq-mean-token-sum"]["outputs"]["pg_loss"], -0.36749927),
        ("seq-mean-token-mean, c=3", out["verl_dual_clip/seq-mean-token-mean"]["outputs"]["pg_loss"], -0.07874984),
        ("clip fraction, c=3", out["verl_dual_clip/token-mean"]["outputs"]["pg_clipfrac"], 0.25),
        ("lower clip fraction, c=3", out["verl_dual_clip/token-mean"]["outputs"]["pg_clipfrac_lower"], 1 / 12),
    ]
    bad = 0
    print("worked example (trainer-anchors.md s1) vs verl:")
    for label, got, want in table:
        tol = 1e-6 if label.startswith("A[") else 5e-8 + 1e-7 * abs(want)
        ok = abs(got - want) <= tol
        bad += not ok
        print(f"  {'ok ' if ok else 'BAD'} {label:42s} verl {got:+.10f}   table {want:+.8f}")
    return bad


def simple_advantage_cases():
    advantage_case("all_equal_group", [1, 1, 1, 1], [3, 4, 2, 4], ["q0"] * 4, 4,
                   note="std 0: (r - mean) / (0 + 1e-6) = 0 for every sample")
    advantage_case("all_zero_group", [0, 0, 0, 0], [4, 1, 2, 3], ["q0"] * 4, 4, truncated=[True, False, False, False],
                   note="std 0: all advantages 0 (filtering a zero row changes nothing)")
    advantage_case("one_sample_group_reward_1", [1], [3], ["q0"], 4,
                   note="a group of one: verl uses mean 0, std 1, so A = r / (1 + 1e-6)")
    advantage_case("one_sample_group_reward_0", [0], [2], ["q0"], 4, note="a group of one with r = 0: A = 0")
    advantage_case(
        "truncated_reward_1_keeps_advantage", [1, 0, 1, 0], [5, 2, 3, 5], ["q0"] * 4, 5,
        truncated=[True, False, False, True],
        note="samples 1 and 4 are truncated (length = budget, no EOS); sample 1 has reward 1 and keeps its "
             "advantage, sample 4 has reward 0 and is zeroed by overlong filtering")
    advantage_case(
        "interleaved_groups", [1, 0, 0, 1, 1, 0, 1], [2, 3, 1, 3, 3, 2, 1], ["a", "b", "a", "c", "b", "a", "a"], 3,
        note="groups are by uid, not by position: a = rows 0,2,5,6 (r 1,0,0,1), b = rows 1,4 (r 0,1), "
             "c = row 3 alone (one-sample group: A = r)")
    advantage_case("dr_grpo_no_std", [1, 0, 0, 0], [3, 2, 3, 4], ["q0"] * 4, 4, norm=False,
                   note="norm_adv_by_std_in_grpo=False (Dr.GRPO): A = r - mean")
    advantage_case("fractional_rewards_two_groups", [0.2, 0.9, 0.5, 1.0, 0.0, 0.25], [1, 2, 3, 3, 2, 1],
                   ["g0", "g0", "g0", "g1", "g1", "g1"], 3,
                   note="non-binary rewards, unbiased (N-1) std per group")


def clamp_case():
    """The +-20 clamp on log_prob - old_log_prob, with realistic (negative) log-probs."""
    T = 3
    lengths = [3, 3, 2]
    mask = masks(lengths, T)
    old = [[-35.0, -1.0, -2.0], [-2.0, -35.0, -0.5], [-1.5, -32.0, 0.0]]
    new = [[-5.0, -31.0, -2.1], [-32.0, -5.0, -0.4], [-1.4, -2.0, 0.0]]  # diffs: +30, -30, ...; last row pad
    A = [[1.0] * 3, [-1.0] * 3, [0.5, 0.5, 0.0]]
    ex = {"log_ratio": [[n - o for n, o in zip(rn, ro)] for rn, ro in zip(new, old)]}
    note = ("log_prob - old_log_prob = +30 / -30 on some tokens: verl clamps to +-20 before exp (ratio exp(20) or "
            "exp(-20)), and ppo_kl uses the clamped value; the gradient through a clamped token is 0")
    for c, tag in [(3.0, "dual_clip_c3"), (NO_DUAL_CLIP_C, "no_dual_clip")]:
        policy_case(f"clamp_20/{tag}", old, new, A, mask, c=c, rollout_n=3, extra=ex, note=note)


def dual_clip_cases():
    """A batch where dual clip matters: A < 0 tokens with ratio > c, next to ones where it cannot."""
    T = 4
    lengths = [4, 4, 3]
    mask = masks(lengths, T)
    ratios = [[6.0, 3.5, 2.0, 1.0], [10.0, 0.5, 1.5, 3.0], [4.0, 0.9, 1.1]]
    A = [[-0.8] * 4, [1.2] * 4, [-0.3] * 3 + [0.0]]
    old = [[-1.0, -0.5, -2.0, -0.25], [-3.0, -1.0, -0.7, -1.2], [-2.5, -0.1, -0.6, 0.0]]
    new = pad([[o + math.log(r) for o, r in zip(ro, rr)] for ro, rr in zip(old, ratios)], T)
    new[2][3] = 0.0
    ex = {"ratio": pad(ratios, T, 1.0)}
    for c, tag in [(3.0, "c3"), (5.0, "c5"), (NO_DUAL_CLIP_C, "off")]:
        for mode in ["token-mean", "seq-mean-token-mean"]:
            policy_case(f"dual_clip/{tag}/{mode}", old, new, A, mask, c=c, mode=mode, rollout_n=3, extra=ex,
                        note="A<0 with ratio 6, 3.5, 4 > 3 hit the dual clip at c=3 (only 6 > 5 at c=5); A>0 "
                             "with ratio 10 is clipped at 1.28 either way; off = clip_ratio_c 1e9")


def aggregation_cases():
    """2 groups x 3 samples, varied masks, one fully masked sequence; the whole chain then every agg mode."""
    T = 5
    index = ["g0", "g0", "g0", "g1", "g1", "g1"]
    lengths = [5, 2, 0, 4, 1, 5]  # row 2: empty response (fully masked); row 5: truncated (length = budget)
    rewards = [1, 0, 0, 1, 1, 0]
    truncated = [True, False, False, False, False, True]
    adv = advantage_case(
        "agg_batch/advantages", rewards, lengths, index, T, truncated=truncated,
        note="row 2 is an empty (fully masked) response: verl still counts its score 0 in g0's statistics and "
             "its token advantages are 0 (x mask). Row 0 is truncated with reward 1 (kept); row 5 is truncated "
             "with reward 0 (zeroed by overlong filtering).")
    A = adv["outputs"]["advantages_overlong_filtered"]
    mask = masks(lengths, T)
    ratios = [[1.4, 0.7, 1.0, 1.25, 3.5], [0.6, 4.0], [], [0.85, 1.1, 0.79, 1.3], [2.0], [1.1, 0.9, 1.0, 1.2, 0.7]]
    old = [[-0.1 * (j + 1) - 0.05 * i for j in range(T)] for i in range(6)]
    new = [[o + (math.log(ratios[i][j]) if j < len(ratios[i]) else 0.0) for j, o in enumerate(old[i])]
           for i in range(6)]
    ex = {"ratio": pad(ratios, T, 1.0), "response_lengths": lengths}
    for mode in AGG_MODES:
        policy_case(f"agg_batch/policy_loss/{mode}", old, new, A, mask, c=3.0, mode=mode, rollout_n=3, extra=ex,
                    note="verl vanilla c=3 on the 2x3 batch; seq-mean-token-sum-norm divides by "
                         "loss_mask.shape[-1] = 5 (loss_scale_factor None)")
    policy_case("agg_batch/policy_loss/seq-mean-token-sum-norm/loss_scale_factor_8", old, new, A, mask, c=3.0,
                mode="seq-mean-token-sum-norm", rollout_n=3, loss_scale_factor=8, extra=ex,
                note="actor.loss_scale_factor = 8 (a constant, e.g. the max response length of a schedule) reaches "
                     "agg_loss through config.global_batch_info, as verl.workers.utils.losses.ppo_loss sets it")
    policy_case("agg_batch/policy_loss/no_dual_clip/token-mean", old, new, A, mask, c=NO_DUAL_CLIP_C,
                mode="token-mean", rollout_n=3, extra=ex, note="dual clip off (c = 1e9)")

    # Raw agg_loss on a fixed loss matrix. Masked positions hold 99 to prove they are ignored.
    vals = [[0.5, -1.25, 2.0, 0.75, -0.5], [1.5, -0.25], [], [-2.0, 0.125, 1.0, -0.375], [3.0],
            [0.25, 0.5, -0.75, 1.0, -1.5]]
    loss_mat = pad(vals, T, 99.0)
    for mode in AGG_MODES:
        agg_case(f"agg_loss/{mode}", loss_mat, mask, mode,
                 note="local (dp_size 1, counts from this batch); fully masked row 2 excluded from seq means")
    agg_case("agg_loss/seq-mean-token-sum-norm/loss_scale_factor_8", loss_mat, mask, "seq-mean-token-sum-norm",
             loss_scale_factor=8, note="explicit constant instead of loss_mask.shape[-1]")
    # Global normalisation as verl's engine does it: the mini-batch is cut into micro-batches; each call gets the
    # mini-batch's token count (batch_num_tokens) and sequence count (global_batch_size = ppo_mini_batch_size *
    # rollout.n, which COUNTS the fully masked row), and the micro-batch losses add up.
    n_tok = int(sum(lengths))
    for mode in ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]:
        for part, rows in [("rows0-2", slice(0, 3)), ("rows3-5", slice(3, 6))]:
            agg_case(f"agg_loss/global/{mode}/{part}", loss_mat[rows], mask[rows], mode, dp_size=1,
                     batch_num_tokens=n_tok, global_batch_size=6,
                     note=f"micro-batch {part} of the 6-row mini-batch; batch_num_tokens {n_tok} and "
                          "global_batch_size 6 are the mini-batch totals; the two parts sum to the mini-batch loss")
    agg_case("agg_loss/global/token-mean/dp_size_2/rank0", loss_mat[0:3], mask[0:3], "token-mean", dp_size=2,
             batch_num_tokens=n_tok, note="dp_size 2: this rank's masked sum / global tokens * dp_size (the DDP "
                                           "gradient average divides by dp_size again)")


def to_json(x, ind=0):
    """json with one line per row: lists of scalars stay on one line (plain json.dumps for every leaf)."""
    pad_ = " " * ind
    if isinstance(x, dict):
        if not x:
            return "{}"
        items = [f'{pad_} {json.dumps(k)}: {to_json(v, ind + 1)}' for k, v in x.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad_ + "}"
    if isinstance(x, list) and any(isinstance(v, (dict, list)) for v in x):
        if all(isinstance(v, list) and not any(isinstance(w, (dict, list)) for w in v) for v in x):
            return "[" + ", ".join(json.dumps(v) for v in x) + "]"  # a matrix: one line
        return "[\n" + ",\n".join(pad_ + " " + to_json(v, ind + 1) for v in x) + "\n" + pad_ + "]"
    if isinstance(x, list) and len(json.dumps(x)) > 100 and all(isinstance(v, str) for v in x):
        return "[\n" + ",\n".join(pad_ + " " + json.dumps(v) for v in x) + "\n" + pad_ + "]"
    return json.dumps(x, allow_nan=False)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "testdata/golden/grpo.json"
    adv, out = worked_example()
    bad = check_table(adv, out)
    simple_advantage_cases()
    clamp_case()
    dual_clip_cases()
    aggregation_cases()
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    doc = {
        "verl_version": verl.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "generator": "scripts/golden/verl_grpo.py",
        "dtype": "float64",
        "signatures": {
            f: f + str(inspect.signature(getattr(core_algos, f)))
            for f in ["compute_grpo_outcome_advantage", "compute_policy_loss_vanilla", "agg_loss"]
        },
        "notes": [
            "overlong filtering is not a verl function: advantages_overlong_filtered = verl's advantages with the "
            "rows of truncated reward-0 samples set to 0 (their mask unchanged)",
            "dual clip off is not a verl switch (verl asserts clip_ratio_c > 1): emulated with clip_ratio_c = 1e9",
            "pg_clipfrac, pg_clipfrac_lower, ppo_kl are verl masked means: sum / (mask count + 1e-8)",
            "seq-mean-token-mean divides each sequence's token sum by (its token count + 1e-8)",
            "grad_log_prob = d pg_loss / d log_prob by torch autograd through compute_policy_loss_vanilla",
            "one-sample groups: verl divides by torch.tensor(1.0) + epsilon, a float32 sum (1.00000095367...), so "
            "A = r / 1.00000095367 = 0.99999904633 for r = 1 (float64 math would give 0.999999000001)",
            "rewards sit on each response's last unmasked token of token_level_rewards; verl sums the row",
        ],
        "cases": CASES,
    }
    with open(path, "w") as f:
        f.write(to_json(doc) + "\n")
    print(f"wrote {len(CASES)} cases to {path} (verl {verl.__version__}, torch {torch.__version__}, "
          f"verl dist {importlib.metadata.version('verl')})")
    if bad:
        print(f"{bad} mismatch(es) against trainer-anchors.md", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
