/* The config fuzz_restore sets each trainable up with, and that
 * tests/fuzz/make_corpus passes to `lux train --config` to write the seed
 * checkpoints (so their shapes match): LUX_FUZZ_RESTORE_CONFIG(name, json).
 * Small policies, short episodes, rollouts in-process. make_corpus reads
 * this file, one entry per line. */
/* clang-format off */
LUX_FUZZ_RESTORE_CONFIG("cmaes", "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [4], \"popsize\": 6, \"episodes_per_eval\": 1, \"eval_episodes\": 1, \"num_workers\": 0, \"env_config\": {\"max_episode_steps\": 20}}")
LUX_FUZZ_RESTORE_CONFIG("sepcmaes", "{\"env\": \"Pendulum-v1\", \"fcnet_hiddens\": [4], \"popsize\": 6, \"episodes_per_eval\": 1, \"eval_episodes\": 1, \"num_workers\": 0, \"env_config\": {\"max_episode_steps\": 20}}")
LUX_FUZZ_RESTORE_CONFIG("es", "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [4], \"episodes_per_batch\": 4, \"train_batch_size\": 0, \"noise_size\": 20000, \"eval_episodes\": 1, \"num_workers\": 0, \"env_config\": {\"max_episode_steps\": 20}}")
LUX_FUZZ_RESTORE_CONFIG("a3c", "{\"env\": \"CartPole-v1\", \"fcnet_hiddens\": [8], \"num_workers\": 0, \"gradients_per_iteration\": 2, \"rollout_fragment_length\": 8}")
/* clang-format on */
