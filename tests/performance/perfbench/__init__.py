"""The promoter's benchmark (issue 5): figures measured against baselines from the same run.

Heavy work runs in fresh subprocesses (see ``child``) so that every figure starts from a clean
interpreter, as a Lambda execution environment does, and so that module-level caches of one
configuration never leak into another.
"""
