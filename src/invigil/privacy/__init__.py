"""What a candidate is told, and what a data-protection authority is shown: the per-exam privacy
notice (four languages) and the DPIA draft, both generated from the exam's policy."""
