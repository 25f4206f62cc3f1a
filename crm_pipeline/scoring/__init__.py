"""Learned lead scores and churn risk: each tenant's own model, trained on its history as of past
dates, validated on a later period, used only where it beats the rule, and explained in words.

Modules: `features` (what a contact looked like at a past cut-off, and the time plan), `model`
(training, time-split validation, the fallback decision), `leads` and `retention` (each model's
factors and baselines), `explain` (top factors in words), `store` (kept models and the model
tables), `refresh` (what a marts refresh calls).
"""
