"""Reach without tracking: figures the instance knows without watching readers."""
