"""Hostile captures (``make_bad_inputs``) and what the robustness tests read back from an output folder."""
