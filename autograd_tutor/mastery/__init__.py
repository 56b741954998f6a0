"""Mastery: the learner model (Bayesian Knowledge Tracing per skill) and practice.

`bkt` the update, `model` the learner's skills and what counts as an observation,
`store` the table in the progress database, `practice` the scheduler. No UI here.
"""
