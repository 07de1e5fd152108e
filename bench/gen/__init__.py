"""The benchmark data generator behind `bench/generate.py` (issue 13): a realistic network filled by COPY."""
