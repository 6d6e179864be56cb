# C types for matcher.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

@cython.locals(vocab=dict, weights=list, token=str)
cpdef list _query_weights(index, tuple tokens)

@cython.locals(best=dict, tried=dict, q_tokens=tuple, q_weights=list, rough=double, nid=Py_ssize_t, ent_no=Py_ssize_t, times=Py_ssize_t, score=double, person=bint, entities=list, name_strs=list, name_wts=list, name_weak=list)
cpdef dict _best_names(index, tuple forms, sources, schema)
