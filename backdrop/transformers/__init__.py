"""Transforms: derive data sets from data sets after writes (SPEC 7)."""
