"""The answer/abstain rule: named decision features, the model, its fitting and calibration files."""
