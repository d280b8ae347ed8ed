"""Analyses that read a store and answer one question each.

``experiments`` — A/B tests judged on relationship outcomes (return, active weeks, repeat
purchase, revenue, NPS, CSAT) beside the vanity metrics (clicks, CTR).
"""
