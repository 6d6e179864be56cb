# C types for candidates.py when compiled by Cython (see hatch_build.py); the .py stays plain Python.
import cython

cdef unsigned char _REACHED, _POOLED, _PLANNED
cdef unsigned long long _ODD_BITS, _BIT_PAIRS, _NIBBLES, _LOW_WORD
cdef bint _COMPILED

@cython.locals(longest=Py_ssize_t, allowed=Py_ssize_t, distance=Py_ssize_t, sim=double)
cpdef double _fetch_sim(str a, str b)

@cython.locals(i=Py_ssize_t, out=list)
cpdef list _deletions(str token)

@cython.locals(mask="unsigned long long", one="unsigned long long", c=Py_UCS4)
cpdef unsigned long long _letters(str text)

@cython.locals(k=Py_ssize_t, other="unsigned long long", out=list)
cpdef list _near(const unsigned long long[:] letters, unsigned long long mask)

cpdef Py_ssize_t _popcount(unsigned long long bits)

@cython.locals(code="unsigned int", i=Py_ssize_t)
cpdef unsigned int _start(str text)

@cython.locals(x="unsigned int", n=Py_ssize_t)
cpdef Py_ssize_t _common_start(unsigned int a, unsigned int b)

cpdef bint _at_most_two(unsigned long long bits)

cdef class _Scratch:
    cdef const float[:] totals
    cdef unsigned long long[:] signatures
    cdef double[:] shared
    cdef unsigned char[:] state
    cdef int[:] touched
    cdef int[:] pool
    cdef int[:] order
    cdef int[:] which
    cdef double[:] top_score
    cdef int[:] top_name
    cdef public Py_ssize_t ntouched
    cdef public Py_ssize_t npool

    cdef inline void _reach(self, Py_ssize_t nid, double shared)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, state="unsigned char[:]", shared="double[:]")
    cpdef add(self, const int[:] names, tuple gains)

    @cython.locals(nid=Py_ssize_t)
    cpdef put(self, ids, double shared)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, touched="int[:]")
    cpdef add_holding(self, frozenset members, double gain)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, added=Py_ssize_t, shared=double, g=double)
    cpdef reach(self, const int[:] ids, double gain, list others, Py_ssize_t most)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, npool=Py_ssize_t, state="unsigned char[:]", pool="int[:]")
    cpdef pool_add(self, const int[:] ids, Py_ssize_t a, Py_ssize_t b)

    @cython.locals(f=Py_ssize_t, k=Py_ssize_t, nid=Py_ssize_t, count=Py_ssize_t, nfetched=Py_ssize_t, nf=Py_ssize_t, sources=list, plist=tuple, gains=list, state="unsigned char[:]", order="int[:]", which="int[:]", view="int[:]")
    cpdef tuple gather(self, list fetched, list looked)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, kept=Py_ssize_t, out=list, state="unsigned char[:]", pool="int[:]", signatures="unsigned long long[:]", size=Py_ssize_t, shortest=Py_ssize_t, longest=Py_ssize_t, mask="unsigned long long", other="unsigned long long", repeats=Py_ssize_t, start="unsigned int", length=Py_ssize_t)
    cpdef list pool_keys(self, list keys, str qkey, double floor)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, g=double, count=Py_ssize_t, kept=Py_ssize_t, i=Py_ssize_t, out=list, top_score="double[:]", top_name="int[:]", touched="int[:]", shared="double[:]")
    cpdef tuple ranked(self, double iq, double floor, Py_ssize_t most)

    @cython.locals(k=Py_ssize_t, nid=Py_ssize_t, state="unsigned char[:]", touched="int[:]", pool="int[:]")
    cpdef clear(self)

@cython.locals(weights="const float[:]", postings=list, exact=bint, tid=Py_ssize_t, q_weight=double, q_part=double, top=double, weight=double, sim=double, common_gain=double, fetched=list, common=list, skipped=list, plist=tuple)
cpdef tuple _new_plan(index, str token, _Scratch scratch)

cpdef list candidates(index, form, Py_ssize_t limit=*, double minimum=*)

@cython.locals(q_total=double, iq=double, floor=double, q_part=double, big_gain=double, count=Py_ssize_t, most=Py_ssize_t, gain=double, gain2=double, i=Py_ssize_t, j=Py_ssize_t, size=Py_ssize_t, nid=Py_ssize_t, scored=list, common=list, unfetched=list, strong=list, looked=list, plans=dict, entries=list, others=list)
cdef list _candidates(index, form, Py_ssize_t limit, double minimum, _Scratch scratch)

@cython.locals(m=Py_ssize_t, jaro=double)
cpdef double _jw_ceiling(Py_ssize_t a, Py_ssize_t b, Py_ssize_t common, Py_ssize_t start)

@cython.locals(excess=double)
cpdef tuple _jw_lengths(Py_ssize_t size, double floor)

@cython.locals(i=Py_ssize_t)
cdef Py_ssize_t _insert(double[:] scores, int[:] names, Py_ssize_t kept, Py_ssize_t most, double score, Py_ssize_t nid)

@cython.locals(scores="double[:]", names="int[:]", view="int[:]", kept=Py_ssize_t, i=Py_ssize_t, nid=Py_ssize_t)
cpdef _lightest(ids, const float[:] totals, Py_ssize_t most)

cdef bint _above(double score, Py_ssize_t nid, double score2, Py_ssize_t nid2)

@cython.locals(longest=Py_ssize_t, k=Py_ssize_t, size=Py_ssize_t, total=Py_ssize_t, counts="int[:]", starts="int[:]", view="int[:]", lens=list)
cpdef tuple _by_size(tuple ids, list sizes)

cdef inline double _rough_score(double shared, double total, double iq)
