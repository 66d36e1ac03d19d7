"""Developer and setup tools that run outside the library: the requirements check ``run.sh`` uses before any
dependency is installed, the README tables generated from the code, and copying a model's metadata after
compiling it by hand."""
