"""DSP 2025-1 transfer process: HTTP PULL and PUSH, usage enforcement."""
