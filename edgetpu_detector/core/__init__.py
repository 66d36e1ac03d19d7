"""Basics every other package may use: the process environment for TensorFlow, atomic file writes, file and
folder hashing, the parsing of parameter values (booleans, whole numbers), locks between processes, SIGINT /
SIGTERM as an exception, and a full disk as one clear error.

May import: the standard library only (no other package of this project, no TensorFlow).
"""
