"""Developer and setup tools that run outside the library: the requirements check ``run.sh`` uses before any
dependency is installed, and the README layout table generated from the package tree."""
