"""Exams, their policies, candidates, activation codes and access grants."""
