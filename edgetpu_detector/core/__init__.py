"""Basics every other package may use: the process environment for TensorFlow, atomic file writes, file and
folder hashing, and the parsing of parameter values (booleans, whole numbers).

May import: the standard library only (no other package of this project, no TensorFlow).
"""
