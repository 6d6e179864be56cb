# C types for score.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

cdef dict _SIM_CACHE

cpdef int allowed_edits(Py_ssize_t length)

@cython.locals(la=Py_ssize_t, lb=Py_ssize_t, found=object)
cpdef double token_sim(str a, str b)

@cython.locals(longest=Py_ssize_t, allowed=int, distance=Py_ssize_t)
cdef double _token_sim(str a, str b, Py_ssize_t la, Py_ssize_t lb)

@cython.locals(nq=Py_ssize_t, nl=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, q_total=double, q_got=double, l_total=double, l_got=double, info=double, q_cover=double, l_cover=double, rarest=double, seen=int, damp=double, score=double, w=double, sim=double, token=str, q_sim=list, l_sim=list, q_w=list, open_q=list, open_l=list, found=list)
cpdef compare(tuple q_tokens, q_weights, tuple l_tokens, l_weights, l_weak, bint person=*, bint explain=*)

@cython.locals(j=Py_ssize_t, size=Py_ssize_t, joined_size=Py_ssize_t, i1=Py_ssize_t, i2=Py_ssize_t, s=double, target=str)
cdef void _compounds(tuple one, list open_one, list one_sim, tuple other, list open_other, list other_sim, pairs, bint flipped)
