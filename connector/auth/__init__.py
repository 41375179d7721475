"""Caller authentication for DSP endpoints (DCP 1.0 style self-issued ID tokens)."""
