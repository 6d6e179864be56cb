# C types for explain.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

@cython.locals(tails=tuple, tail=str)
cpdef str reason(double score, str status, tuple thresholds)

@cython.locals(out=dict)
cpdef dict explanation(query_name, name, dict features, list notes, double score, str status, tuple thresholds)
