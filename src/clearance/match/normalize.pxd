# C types for normalize.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

cpdef str stem(str token)

cpdef list ascii_tokens(str text)

@cython.locals(segments=list, readings=list, new=list, words=list, han=bint)
cpdef list _raw_readings(str text)

@cython.locals(forms=dict, starts=dict, stops=dict, out=list, weak=list, i=Py_ssize_t, j=Py_ssize_t, n=Py_ssize_t, token=str)
cpdef tuple canonicalise(list tokens)
