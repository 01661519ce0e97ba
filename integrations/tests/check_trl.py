"""Runs TRL's own GRPOTrainer with the assay reward function against a live `assay serve`: its
`_calculate_rewards` (how TRL calls reward functions, with the dataset's columns) on right,
wrong and malformed rows, then `train()` for two steps of a tiny random model made on the spot.
Imports the function as the README says: the installed package (`pip install ./integrations`)
and, from the checkout's root, `integrations.trl_reward`. Run from the repository root:
check_trl.py URL. Prints OK."""
import math
import os
import subprocess
import sys
import tempfile

URL = sys.argv[1]
os.environ["ASSAY_URL"] = URL

from datasets import Dataset  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from assay_integrations.trl_reward import assay_code_reward  # noqa: E402
import cases  # noqa: E402
import tiny_model  # noqa: E402

# From a checkout's root, without installing anything.
subprocess.run([sys.executable, "-c", "from integrations.trl_reward import assay_code_reward"], check=True)

tok = tiny_model.tokenizer()
rows = cases.GRADED + cases.MALFORMED
dataset = Dataset.from_list([{"prompt": "Solve the problem.", "ground_truth": gt} for gt, _, _ in rows])
args = GRPOConfig(output_dir=tempfile.mkdtemp(prefix="assay-trl-"), per_device_train_batch_size=3, num_generations=3,
                  max_completion_length=8, max_steps=2, logging_steps=1, report_to=[], save_strategy="no",
                  use_cpu=True, bf16=False, seed=0)
trainer = GRPOTrainer(model=tiny_model.model(tok), reward_funcs=[assay_code_reward], args=args,
                      train_dataset=dataset, processing_class=tok)

# TRL's reward call, standard and conversational completions: right 1, wrong 0, malformed NaN.
want = [math.nan if w is None else w for _, _, w in rows]
inputs = [{"prompt": "Solve the problem.", "ground_truth": gt} for gt, _, _ in rows]
for completions in ([c for _, c, _ in rows], [[{"role": "assistant", "content": c}] for _, c, _ in rows]):
    text = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    rewards = trainer._calculate_rewards(inputs, ["Solve the problem."] * len(rows), completions,
                                         [tok(t)["input_ids"] for t in text])
    got = rewards[:, 0].tolist()
    assert all((math.isnan(g) and math.isnan(w)) or g == w for g, w in zip(got, want)), (got, want)

# Two training steps: every reward TRL logged came from the server, malformed rows included.
trainer.train()
logged = [h for h in trainer.state.log_history if "reward" in h]
assert len(logged) == 2, trainer.state.log_history
print("OK")
