"""Python integrations of the assay grading server (`assay serve`): a TRL reward function
(`trl_reward`), verl reward functions (`verl_compute_score`) and the client they share
(`assay_client`). Standard library only. Installed with `pip install ./integrations`, the
package is `assay_integrations`; from a checkout's root it is importable as `integrations`."""
