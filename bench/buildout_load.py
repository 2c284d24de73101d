#!/usr/bin/env python3
"""Loads a buildout.cfg with zc.buildout's own loader and reads every option, so that extends,
+=, macros and substitutions all resolve; prints the seconds it took (interpreter start and imports excluded)."""
import sys
import time

from zc.buildout.buildout import Buildout

# The clock starts after the import, so buildout is not charged for Python's start-up.
start = time.perf_counter()

buildout = Buildout(sys.argv[1], [("buildout", "offline", "true")], use_user_defaults=False)
values = 0
for name in list(buildout.keys()):
    section = buildout[name]
    for key in list(section.keys()):
        section[key]
        values += 1
elapsed = time.perf_counter() - start
print(f"{elapsed:.6f} {values}")
