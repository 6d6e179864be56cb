# C types for candidates.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

@cython.locals(longest=Py_ssize_t, allowed=Py_ssize_t, distance=Py_ssize_t, sim=double)
cpdef double _fetch_sim(str a, str b)

@cython.locals(acc=dict, q_total=double, iq=double, floor=double, half=double, q_part=double, big_gain=double, gain=double, gain2=double, shared=double, g=double, added=Py_ssize_t, ranked=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, size=Py_ssize_t, nid=Py_ssize_t, pool_ids=list, pool_keys=list, scored=list, common=list, unfetched=list, skipped=list, strong=list, looked=list, plans=dict, gains=dict, entries=list, others=list)
cpdef list candidates(index, form, Py_ssize_t limit=*, double minimum=*)

@cython.locals(out=list, g=double, nid=Py_ssize_t)
cdef list _rough(dict acc, const float[:] totals, double iq, double floor)

cdef inline double _rough_score(double shared, double total, double iq)
