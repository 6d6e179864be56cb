# C types for score.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

# compare()'s per-token buffers: C arrays on its stack for names of up to 24 tokens (the
# size is the literal in compare()), lists beyond; _compare() and its steps take either.
ctypedef double[24] TokenArray
ctypedef fused TokenBuffer:
    TokenArray
    list

cdef dict _SIM_CACHE
cdef double _A_ORG, _A_PERSON, _A_DISTINCT, _DISTINCT_FROM, _DISTINCT_FULL, _INFO_NONE, _INFO_FULL, _LETTER_INFO, _INITIAL_SIM
cdef unsigned int _NOT_LETTERS

cpdef int allowed_edits(Py_ssize_t length)

cdef double _HALF_MARGIN, _ROUND_RANGE

@cython.locals(scale=double, y=double, below="long long", frac=double, n="long long")
cpdef double decimal_round(double x, int digits)

@cython.locals(la=Py_ssize_t, lb=Py_ssize_t, found=object)
cpdef double token_sim(str a, str b)

@cython.locals(longest=Py_ssize_t, allowed=int, distance=Py_ssize_t)
cdef double _token_sim(str a, str b, Py_ssize_t la, Py_ssize_t lb)

@cython.locals(allowed=int)
cdef int _typo_edits(Py_ssize_t la, Py_ssize_t lb) noexcept

@cython.locals(bits=cython.uint, ch=Py_UCS4)
cdef unsigned int _letters(str token)

cdef bint _too_far(unsigned int a_letters, unsigned int b_letters, int allowed) noexcept

@cython.locals(count=int)
cdef int _bit_count(unsigned int bits) noexcept

@cython.locals(nq=Py_ssize_t, nl=Py_ssize_t, q_sim=TokenArray, l_sim=TokenArray, q_w=TokenArray)
cpdef compare(tuple q_tokens, q_weights, tuple l_tokens, l_weights, l_weak, bint person=*, bint explain=*)

@cython.locals(nq=Py_ssize_t, nl=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, open_q=Py_ssize_t, open_l=Py_ssize_t, paired=Py_ssize_t, size=Py_ssize_t, token=str, a=str, b=str, q_total=double, q_got=double, l_total=double, l_got=double, info=double, q_cover=double, l_cover=double, a_weight=double, rarest=double, seen=int, damp=double, score=double, w=double, sim=double, pairs=list, unmatched_query=list, unmatched_list=list)
cdef object _compare(tuple q_tokens, q_weights, tuple l_tokens, l_weights, l_weak, bint person, bint explain, TokenBuffer q_sim, TokenBuffer l_sim, TokenBuffer q_w)

@cython.locals(nq=Py_ssize_t, nl=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, la=Py_ssize_t, sim=double, found=list, a=str, b=str, a_letters=cython.uint, allowed=int, paired=Py_ssize_t)
cdef Py_ssize_t _typos(tuple q_tokens, tuple l_tokens, l_weights, TokenBuffer q_sim, TokenBuffer l_sim, TokenBuffer q_w, list pairs) except -1

@cython.locals(n_one=Py_ssize_t, n_other=Py_ssize_t, i=Py_ssize_t, j=Py_ssize_t, size=Py_ssize_t, joined_size=Py_ssize_t, s=double, target=str, first=str, second=str, target_letters=cython.uint, allowed=int, text=str, paired=Py_ssize_t)
cdef Py_ssize_t _compounds(tuple one, TokenBuffer one_sim, tuple other, TokenBuffer other_sim, list pairs, bint flipped) except -1
