"""Programs with which the fuzzers once found bugs, kept verbatim (source, point, options).

The fuzzers' known seeds used to be re-generated on every run, pinned by a digest; since the
generators changed (integer literals, outputs that depend on the inputs), those seeds write other
programs, so the programs themselves live here.  tests/test_fuzz.py, test_fuzz_arrays.py and
test_fuzz_language.py check each one as they check a fuzzed program, on every run.  Written by the
generators of commit 9aa21bb (python tests/fuzzgen*.py SEED there prints the same programs).
"""

import numpy as np

import fuzzgen
import fuzzgen_arrays
import fuzzgen_language
from fuzzgen_language import Config  # noqa: F401 - the language programs' configs

# seed -> (what it found, the program)
SCALAR = {
    735: (
        'x ** 0 at x == 0: nan gradient (np.float64), true gradient -0.08',
        fuzzgen.Program(
            seed=735,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(p0, w):\n'
                '    return math.sqrt(1 ** 2 + 1.0) * ((math.exp(np.tanh((-1))) ** 2 + 0.5) ** 1.5)\n'
                '\n'
                '\n'
                'def f(p0, p1, p2, p3):\n'
                '    p3 = p3 - p1\n'
                '    return ((p3 + p3) - ((p3 ** 2.0) + math.log(p3 * p3 + 1.0))) * ((((2 + p3) ** 2 + 1.0) ** (-2.0)) * (np.maximum(p3, p3) + (p3 ** 0)))\n'
            ),
            args=(np.float64(-0.02503010630956015), np.float64(2.0), np.float64(2.0), np.float64(2.0)),
            wrt=None,
            attempts=1,
            style='lecture',
            math=False,
        ),
    ),
    825: (
        'x ** 0 at x == 0: ZeroDivisionError in f_value_and_grad (Python floats)',
        fuzzgen.Program(
            seed=825,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'C0 = math.e / 2\n'
                '\n'
                '\n'
                'def h0(a, b):\n'
                '    e = math.log(((b ** 2) + (a * 0.75)) ** 2 + 1.0)\n'
                '    z = np.exp(np.tanh((np.exp(np.tanh(b)) - (2 / ((b - e) ** 2 + 0.5)))))\n'
                '    return np.power((((4 * (z - z)) ** 0) ** 2 + 1.0), (-(np.sin(z) - np.absolute(-0.75))))\n'
                '\n'
                '\n'
                'def f(p0, p1, p2):\n'
                '    y = math.cos(0.5)\n'
                '    p2 *= (p1 ** 2)\n'
                '    p1 = p2 - C0\n'
                '    p2 -= ((p2 + p2) / 2.0)\n'
                '    p2 *= (np.maximum(p2 ** 0, (-0.75) - C0) + (((p0 + 1.25) ** 2 + 1.0) ** np.tanh((p2 * p2))))\n'
                '    y = y * 0.1\n'
                '    p1 = p1 * np.cos(p2)\n'
                '    e = p2 - (-p2)\n'
                '    p0 -= max(p2, e)\n'
                '    return e - e\n'
            ),
            args=(1.575104597604608, 0.5363036057755406, 0.9651906552428442),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    1761: (
        'x ** 0 at x == 0 (x = p0 - p0): nan gradient, true gradient 0',
        fuzzgen.Program(
            seed=1761,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'C0 = math.e / 2\n'
                '\n'
                '\n'
                'def h0(u, v):\n'
                '    b = (2 / (np.tanh(u) ** 2 + 0.5)) / 2.0\n'
                '    u /= (1.5 ** 2 + 1.0)\n'
                '    u = u + np.maximum((np.cos(-2.0) ** 2 + 1.0) ** (-0.5), math.log((-u) ** 2 + 1.0))\n'
                '    return b\n'
                '\n'
                '\n'
                'def h1(t1, u):\n'
                '    r = np.exp(-(4 ** 2))\n'
                '    t1 *= u\n'
                '    u += np.maximum(2 / (t1 * t1 + 0.5), math.log(t1 * t1 + 1.0))\n'
                '    return h0(r, math.cos(sigmoid(0.75))) ** 3\n'
                '\n'
                '\n'
                'def f(p0):\n'
                '    p0 -= p0\n'
                '    w = (min(np.minimum(0.5, p0), (p0 * p0 + 0.5) ** 1.5) ** 0) * math.exp(np.tanh(1))\n'
                '    w += math.sqrt((p0 - np.cos(w)) ** 2 + 1.0)\n'
                '    y = np.abs(math.pi + p0)\n'
                '    p0 **= 3\n'
                '    return np.maximum(w, np.absolute(sigmoid(-0.75)) / 1.5)\n'
            ),
            args=(1.9987855270639976,),
            wrt=None,
            attempts=1,
            style='lecture',
            math=None,
        ),
    ),
    16: (
        'math mode from annotations, np.float64 arguments: abs gradient raises TypeError',
        fuzzgen.Program(
            seed=16,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'C0 = 0.1 + 0.2\n'
                '\n'
                '\n'
                'def h0(t1, u):\n'
                '    """A fuzzed function."""\n'
                '    t2 = np.exp(-(u ** 2))\n'
                '    return math.sin(C0 + (t2 + u))\n'
                '\n'
                '\n'
                'def f(p0: int, p1: float, p2: float):\n'
                '    v = h0(np.maximum(np.abs(((np.pi) ** 2 + 0.5) ** (-0.5)), np.negative(p0)), (2 / ((-p1) ** 2 + 0.5)) - (math.fabs(p1) - min(p1, p1)))\n'
                '    return v ** 2.0\n'
            ),
            args=(np.float64(-0.4982842403660115), np.float64(-0.31944447729646086), np.float64(-0.5429056203006231)),
            wrt=None,
            attempts=1,
            style='lecture',
            math=None,
        ),
    ),
    22: (
        'math=True, np.float64 arguments: abs gradient raises TypeError',
        fuzzgen.Program(
            seed=22,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(t1, u):\n'
                '    z = t1 * ((1.0 / (t1 * t1 + 0.5)) - ((-1) * (-0.75)))\n'
                '    w = ((sigmoid(t1 + (-2.0)) ** 2 + 0.5) ** (-2.0)) - ((z * math.exp(-(t1 * t1))) + ((min(t1, np.pi) ** 2 + 1.0) ** np.tanh(u)))\n'
                '    t1 = t1 + (t1 + w)\n'
                '    return math.exp(np.tanh(np.abs(w))) + (-2.0)\n'
                '\n'
                '\n'
                'def h1(u, v):\n'
                '    """A fuzzed function."""\n'
                '    w = np.sin(0.5)\n'
                '    v = w\n'
                '    return 2 / ((sigmoid(np.power((w * w + 1.0), np.tanh(1))) * ((u * w) + w)) ** 2 + 0.5)\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    """A fuzzed function."""\n'
                '    v = h1(((0.5 / 3) ** 2 + 1.0) ** np.tanh(p0), p0)\n'
                '    q = (math.cos(p0 ** 1) + (-(p1 + p0))) + min(-min(p0, np.pi), ((p0 ** 2 + 1.0) ** (-0.5)) ** 3)\n'
                '    acc = math.fabs(np.sin(3.0)) ** 2\n'
                '    acc = acc - p0\n'
                '    p0 *= h0(p0, p1)\n'
                '    z = v\n'
                '    p0 = p0 - (np.sin(v) ** 2)\n'
                '    p0 *= q\n'
                '    x = abs(acc)\n'
                '    acc += p1\n'
                '    x /= (x * x + 1.0)\n'
                '    return h0(p0, x)\n'
            ),
            args=(np.float64(0.997261307345829), np.float64(0.0)),
            wrt=None,
            attempts=1,
            style='lecture',
            math=True,
        ),
    ),
    149: (
        "compact: KeyError Var('h0_w') rendering the copy gate of a simplified-away value",
        fuzzgen.Program(
            seed=149,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u):\n'
                '    w = u ** 1\n'
                '    return ((w * w + 0.1) ** (-2.0)) + w\n'
                '\n'
                '\n'
                'def f(p0):\n'
                '    p0 **= 2\n'
                '    p0 += p0\n'
                '    p0 += math.exp(-((1 * p0) ** 2))\n'
                '    q = h0(math.exp(np.tanh((p0 + np.pi))))\n'
                '    z = q\n'
                '    q **= 3\n'
                '    p0 = p0 * ((p0 * q) * np.absolute(z))\n'
                '    q += (0.25 * q)\n'
                '    q = q + math.fabs(q)\n'
                '    x = np.minimum((np.maximum(math.cos(q), math.sin(q)) ** 2 + 1.0) ** np.tanh(q), (((q + 0.3) * math.exp(-(1 ** 2))) ** 2 + 0.5) ** ((p0 - p0) + np.e))\n'
                '    p0 += (0.5 * p0)\n'
                '    return z\n'
            ),
            args=(np.float64(-0.7225450853198556),),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    2759: (
        'compact: KeyError Var(None, temp) rendering the copy gate',
        fuzzgen.Program(
            seed=2759,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'C0 = 1.5\n'
                '\n'
                '\n'
                'def h0(a, b):\n'
                '    return np.absolute(b) + np.minimum(b, b)\n'
                '\n'
                '\n'
                'def h1(x, y, z):\n'
                '    m = np.minimum((x * x + 0.5) ** 0.5, y + y)\n'
                '    return math.fabs((+m) - (y ** 1))\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    p0 = p0 * np.minimum(min((p1 ** 2 + 1.0) ** p1, p0), (p0 * p1) * C0)\n'
                '    m = p1\n'
                '    p0 /= (abs(np.sqrt(C0 * C0 + 0.1)) ** 2 + 1.0)\n'
                '    p1 *= np.exp(-(math.cos(0.5) ** 2))\n'
                '    p0 *= (-(((p1 + 0.1) ** 2 + 1.0) ** (0.5 * p1)))\n'
                '    q = p0\n'
                '    m = m - math.tanh(p1)\n'
                '    w = m * p1\n'
                '    tmp = -w\n'
                '    p1 /= (tmp * tmp + 1.0)\n'
                '    tmp = tmp - h1(-w, p0, np.power((p1 * p1 + 1.0), np.tanh(m)))\n'
                '    p1 /= ((2.0 ** tmp) ** 2 + 1.0)\n'
                '    return tmp / (0.3 ** 2 + 1.0)\n'
            ),
            args=(np.float64(-0.5035461942046258), np.float64(0.11130398963087318)),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    154: (
        'compact: TypeError, numpy boolean negative in the backward pass',
        fuzzgen.Program(
            seed=154,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(p0, w):\n'
                '    return -math.cos(w + 0.5)\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    acc = p0 / (p0 * p0 + 1.0)\n'
                '    p0 **= 2\n'
                '    p0 *= ((p1 ** 1) * math.sqrt((-p1) ** 2 + 1.0))\n'
                '    p1 -= p1\n'
                '    c = (-p0) + (h0(p0, p1) + (p0 * p0))\n'
                '    z = math.sqrt(acc * acc + 0.1)\n'
                '    x = abs((math.tanh(3.0) / ((p1 * (-2.0)) ** 2 + 1.0)) + p1)\n'
                '    p1 += sigmoid(z)\n'
                '    r = np.pi * p0\n'
                '    u = np.minimum(max((math.log(z ** 2 + 0.5) ** 2 + 0.5) ** (-2.0), np.log((p1 - p0) ** 2 + 1.0)), ((-2.0) - ((-0.5) + 2.0)) - (((-0.5) - x) + max(c, 2)))\n'
                '    return u\n'
            ),
            args=(np.float64(-1.75336358947794), np.float64(0.05127212428788663)),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    803: (
        'compact: gradient np.True_ where the interpreter says 1.0',
        fuzzgen.Program(
            seed=803,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u):\n'
                '    return 0.3\n'
                '\n'
                '\n'
                'def h1(p0, w):\n'
                '    w = w * (h0(math.fabs(w)) ** 2)\n'
                '    return (+w) - max(w / (w * w + 1.0), np.log((math.pi) ** 2 + 0.25))\n'
                '\n'
                '\n'
                'def f(p0):\n'
                '    tmp = min(p0, p0)\n'
                '    p0 = p0 - p0\n'
                '    p0 *= (((-0.5) ** 2 + 0.5) ** np.tanh(p0))\n'
                '    return tmp\n'
            ),
            args=(np.float64(-0.1863689853217092),),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    937: (
        'compact, Python floats: gradient 2 (int) where the interpreter says 2.0',
        fuzzgen.Program(
            seed=937,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u):\n'
                '    return 4 * np.pi\n'
                '\n'
                '\n'
                'def h1(u):\n'
                '    return 0.3\n'
                '\n'
                '\n'
                'def f(p0, p1, p2, p3, p4):\n'
                '    p4 = p4 * 1.25\n'
                '    p1 = p1 - h0(p3)\n'
                '    p1 += p1\n'
                '    v = -p3\n'
                '    r = p1\n'
                '    p3 = p3 + (-(0.75 ** 2.0))\n'
                '    p1 **= 2\n'
                '    return min(r, math.tau)\n'
            ),
            args=(0.21930395687313609, 0.1522744630358186, 0.06860533974067917, 0.023478837799432384, -0.7087376371610483),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    302958: (
        'compact: gradient True where the interpreter (and the maths) say 3.0',
        fuzzgen.Program(
            seed=302958,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'C0 = 3\n'
                'C1 = C0 * 1.5\n'
                '\n'
                '\n'
                'def h0(u):\n'
                '    grad_p0 = max(math.tanh(0.75), math.tanh(0.25))\n'
                '    m = grad_p0\n'
                '    return (((grad_p0 - 1.25) - (-m)) * m) * math.log((np.abs(m) - (C1 - m)) ** 2 + 0.25)\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    p1 = p0\n'
                '    h0_u = max(min(math.sqrt((math.e) ** 2 + 0.1) + max(p0, p0), (p0 ** 0) + (p0 / (p0 * p0 + 1.0))), ((((-0.5) ** 2 + 1.0) ** p1) - np.maximum(p1, 0.75)) + np.log(h0(p0) ** 2 + 0.5))\n'
                '    p0 = p0 + p0\n'
                '    a = p1 + p0\n'
                '    tmp: float = +(a * ((p0 ** 2 + 1.0) ** (-2.0)))\n'
                '    p1 = p1 * p0\n'
                '    p0 = p0 + ((math.log(p1 * p1 + 0.25) - abs(4)) / ((math.fabs(tmp) + math.log(C0 * C0 + 1.0)) ** 2 + 1.0))\n'
                '    e = h0(-0.5)\n'
                '    e = np.cos(0.1 + e)\n'
                '    grad_a = np.minimum(C1, a)\n'
                '    tmp = tmp * p0\n'
                '    p0 = p0 * p0\n'
                '    return grad_a\n'
            ),
            args=(np.float64(-0.020510713711328066), np.float64(-0.868284883362415)),
            wrt=None,
            attempts=1,
            style='compact',
            math=False,
        ),
    ),
    1906: (
        'steep point: finite differences must be skipped, not compared',
        fuzzgen.Program(
            seed=1906,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    p0 = p0 + p0\n'
                '    p0 += p0\n'
                '    t3 = min(p0, 1.5)\n'
                '    p0 /= (0.1 ** 2 + 1.0)\n'
                '    t3 *= 1.25\n'
                '    t1: float = -(np.sin(math.tau - t3) + 4)\n'
                '    t1 = t1 * p0\n'
                '    t3 **= 2\n'
                '    grad_a = -(math.sin(1.25) * (t3 / 1.5))\n'
                '    t1 -= (p0 + t1)\n'
                '    p0 = p0 + sigmoid(p0)\n'
                '    t3 += (((math.tau) ** 2 + 0.5) ** (-1))\n'
                '    return np.cos(np.power(((grad_a * p0) ** 2 + 1.0), ((p0 ** 2 + 0.5) ** 0.5)) + math.exp(np.tanh((t1 / ((-1) ** 2 + 1.0)))))\n'
            ),
            args=(-1.0466275011195796, 1.9920760672861073),
            wrt=None,
            attempts=1,
            style='lecture',
            math=None,
        ),
    ),
}

# seed -> (what it found, the program)
ARRAYS = {
    297: (
        'compact: gradient np.True_ where the interpreter says 1.0 (y * (y < 1) at the output)',
        fuzzgen_arrays.Program(
            seed=297,
            source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(y, z, W):\n'
                '    d = (W * np.ones((1, 4, 3))).sum(axis=2).T\n'
                '    z *= z[::-1]\n'
                '    z -= np.maximum(z, 0.0) * np.maximum((np.zeros((3, 4)) + y) @ d.reshape(4), np.sqrt(z * z + 1.0))\n'
                '    z -= np.dot(z, np.maximum((z[:, None] * z), (z[:, None] * z)) @ ((z[:, None] * z) * W[1:]))\n'
                '    return np.minimum(np.maximum(y, 3.0), y) * (y < 1)\n'
            ),
            params=('y', 'z', 'W'),
            shapes=(('y', ()), ('z', (3,)), ('W', (4, 1))),
            args=(np.float64(-0.45398867441296065), np.array([0.005689726932888051, 0.38510877263405097, 0.17034151149588306], dtype=np.float64), np.array([[0.3058713805783636], [0.2866724619765637], [0.3848081737677932], [0.09383772080918362]], dtype=np.float64)),
            wrt=('W', 'y', 'z'),
            style='compact',
            free=False,
            decorator='call',
            cli='shapes',
            cli_style='compact',
            cli_free=False,
            attempts=1,
            annotated_source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(y: "()", z: "(3,)", W: "(4, 1)"):\n'
                '    d = (W * np.ones((1, 4, 3))).sum(axis=2).T\n'
                '    z *= z[::-1]\n'
                '    z -= np.maximum(z, 0.0) * np.maximum((np.zeros((3, 4)) + y) @ d.reshape(4), np.sqrt(z * z + 1.0))\n'
                '    z -= np.dot(z, np.maximum((z[:, None] * z), (z[:, None] * z)) @ ((z[:, None] * z) * W[1:]))\n'
                '    return np.minimum(np.maximum(y, 3.0), y) * (y < 1)\n'
            ),
        ),
    ),
    346: (
        'compact (command line): TypeError, numpy boolean negative in the backward pass',
        fuzzgen_arrays.Program(
            seed=346,
            source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(B, z, w):\n'
                '    B -= w.max(axis=0, keepdims=True) / (w.sum(axis=-1, keepdims=True) ** 2 + 0.5)\n'
                '    h = np.transpose((np.zeros((1, 2, 3)) + 1.5) - (0.1 * np.ones((4, 2, 3))), (1, 0, 2)).sum(axis=2)\n'
                '    r = (B[-4] * z[:, 0])\n'
                '    mid = r\n'
                '    return (-r).sum(axis=0, keepdims=False) * ((B[-1, -1] - np.max(r, axis=(0,), keepdims=False)) < 0.0)\n'
            ),
            params=('B', 'z', 'w'),
            shapes=(('B', (4, 1)), ('z', (4, 1)), ('w', (2,))),
            args=(np.array([[-0.9510729817510872], [-0.9163395043265499], [-0.23419160541003325], [-0.04294048859510391]], dtype=np.float64), np.array([[0.10228424373235478], [-0.5], [-0.8528476566033072], [-0.7967433116368505]], dtype=np.float64), np.array([0.5134743497476111, -0.17596081396797225], dtype=np.float64)),
            wrt=None,
            style='lecture',
            free=False,
            decorator='shapes',
            cli='annotations',
            cli_style='compact',
            cli_free=False,
            attempts=1,
            annotated_source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(B: "(4, 1)", z: "(4, 1)", w: "(2,)"):\n'
                '    B -= w.max(axis=0, keepdims=True) / (w.sum(axis=-1, keepdims=True) ** 2 + 0.5)\n'
                '    h = np.transpose((np.zeros((1, 2, 3)) + 1.5) - (0.1 * np.ones((4, 2, 3))), (1, 0, 2)).sum(axis=2)\n'
                '    r = (B[-4] * z[:, 0])\n'
                '    mid = r\n'
                '    return (-r).sum(axis=0, keepdims=False) * ((B[-1, -1] - np.max(r, axis=(0,), keepdims=False)) < 0.0)\n'
            ),
        ),
    ),
    2471: (
        'compact: forward value off in the 4th digit: np.cos of a bool computes in float16',
        fuzzgen_arrays.Program(
            seed=2471,
            source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(u, B, w, xs):\n'
                '    state = 0.0\n'
                '    for t in range(2):\n'
                '        state = np.maximum(t, state * state)\n'
                '        B += np.maximum(xs[0, 2], 0.0)\n'
                '    xs = xs + np.where(xs < 0.0, B, w[1:])\n'
                '    a_1 = ((u + u) / 3) + w.reshape(3)\n'
                '    state += np.tanh(np.cos(state * (np.sum(a_1) > state)))\n'
                '    return state - ((state * (state > 0.5)) * u[:, -3][-2])\n'
            ),
            params=('u', 'B', 'w', 'xs'),
            shapes=(('u', (4, 3)), ('B', (4,)), ('w', (3, 1)), ('xs', (2, 4))),
            args=(np.array([[-0.272929868109139, -0.5681351550447105, -0.702456693574746], [0.6497462277177539, 0.6461508801177898, 0.3796627240823722], [-0.7115552835595067, -0.9451300507699292, 0.2238602839634778], [-0.21764768862565398, -0.3986420685002292, 0.5996950701339738]], dtype=np.float64), np.array([0.7047743263256729, 0.5858929208312353, -0.08261802034552979, -0.5835048188104826], dtype=np.float64), np.array([[0.8737292680061601], [0.38294375042968243], [0.1755138096808635]], dtype=np.float64), np.array([[0.7569491879513639, 0.5143143114892885, -0.270156043709773, -0.1751975178082006], [0.6730541959818419, -0.39168253726206625, 0.5261907068354756, 0.059449298039850884]], dtype=np.float64)),
            wrt=None,
            style='compact',
            free=True,
            decorator='shapes',
            cli=None,
            cli_style='compact',
            cli_free=False,
            attempts=1,
            annotated_source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(u: "(4, 3)", B: "(4,)", w: "(3, 1)", xs: "(2, 4)"):\n'
                '    state = 0.0\n'
                '    for t in range(2):\n'
                '        state = np.maximum(t, state * state)\n'
                '        B += np.maximum(xs[0, 2], 0.0)\n'
                '    xs = xs + np.where(xs < 0.0, B, w[1:])\n'
                '    a_1 = ((u + u) / 3) + w.reshape(3)\n'
                '    state += np.tanh(np.cos(state * (np.sum(a_1) > state)))\n'
                '    return state - ((state * (state > 0.5)) * u[:, -3][-2])\n'
            ),
        ),
    ),
    555: (
        'silently wrong gradient: += into a 0-d np.where gradient that the add gate shared',
        fuzzgen_arrays.Program(
            seed=555,
            source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u):\n'
                '    w2 = u - u\n'
                '    w1 = u\n'
                '    return np.mean(np.absolute((((w1 * w1 + 1.0) ** np.tanh(w1)) ** 2 + 0.5) ** 0.5))\n'
                '\n'
                '\n'
                'def f(b, B, X, A):\n'
                '    m = np.tanh(B) * B\n'
                '    A /= (np.where(2 <= A, A, A) ** 2 + 1.0)\n'
                '    A = (m @ m) * A\n'
                '    f = ((X[-2] @ m[None, :]) @ m) / (np.max((X * np.ones((len(B), 1))), axis=(0, 1)) ** 2 + 0.5)\n'
                '    X /= (np.where(X > X, X, np.max(X, axis=0)) ** 2 + 1.0)\n'
                '    A = np.where(np.where(A <= A, A, b) >= (B @ B), np.min(m.sum(axis=(0,), keepdims=True)) ** 2, A + (A * np.sum(m)))\n'
                '    return np.where(b <= 0.0, A, A)\n'
            ),
            params=('b', 'B', 'X', 'A'),
            shapes=(('b', ()), ('B', (3,)), ('X', (3, 1)), ('A', ())),
            args=(0.3069134854886669, np.array([-0.005488739642535823, -0.005488739642535823, 0.04637930774805832], dtype=np.float64), np.array([[0.4928041442898843], [0.4928041442898843], [-0.32719238586008603]], dtype=np.float64), np.float64(0.045832106636435554)),
            wrt=None,
            style='compact',
            free=True,
            decorator='shapes',
            cli='shapes',
            cli_style='compact',
            cli_free=False,
            attempts=1,
            annotated_source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u):\n'
                '    w2 = u - u\n'
                '    w1 = u\n'
                '    return np.mean(np.absolute((((w1 * w1 + 1.0) ** np.tanh(w1)) ** 2 + 0.5) ** 0.5))\n'
                '\n'
                '\n'
                'def f(b: "()", B: "(3,)", X: "(3, 1)", A: "()"):\n'
                '    m = np.tanh(B) * B\n'
                '    A /= (np.where(2 <= A, A, A) ** 2 + 1.0)\n'
                '    A = (m @ m) * A\n'
                '    f = ((X[-2] @ m[None, :]) @ m) / (np.max((X * np.ones((len(B), 1))), axis=(0, 1)) ** 2 + 0.5)\n'
                '    X /= (np.where(X > X, X, np.max(X, axis=0)) ** 2 + 1.0)\n'
                '    A = np.where(np.where(A <= A, A, b) >= (B @ B), np.min(m.sum(axis=(0,), keepdims=True)) ** 2, A + (A * np.sum(m)))\n'
                '    return np.where(b <= 0.0, A, A)\n'
            ),
        ),
    ),
    101901: (
        'lecture: 2% off, silently: np.where(hs == 0.0, hs, ...) after hs = hs + hs * hs',
        fuzzgen_arrays.Program(
            seed=101901,
            source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(W, B, xs):\n'
                '    W = W * (B[-1, ...] - W.shape[1])[::2]\n'
                '    hs = 0.0\n'
                '    for t in range(len(xs)):\n'
                '        hs = hs + np.sum(np.exp(-(xs.sum(axis=(-3, 2)) ** 2)), -1)\n'
                '        h = np.sum(xs[t], axis=(0,), keepdims=True) / 2.0\n'
                '        B *= np.where((W.sum(axis=(-2, 1), keepdims=True) - np.sum(h, axis=(-2, 1), keepdims=True)) >= (-0.25), np.min(B, axis=1, keepdims=False) @ np.maximum(np.reshape(B, (4, 4)), np.reshape(B, (4, 4))), np.maximum(xs[t], B[0]) / (((xs[t] ** 2 + 1.0) ** np.tanh(xs[t].sum(axis=0))) ** 2 + 1.0))\n'
                '    hs = hs ** 2\n'
                '    W /= (np.mean(B.reshape(1, 4, 4), -1) ** 2 + 1.0)\n'
                '    hs = hs + (hs * hs)\n'
                '    tmp = np.where(hs == 0.0, hs, np.minimum(np.maximum(hs, 0.0), np.sin(hs)))\n'
                '    return tmp\n'
            ),
            params=('W', 'B', 'xs'),
            shapes=(('W', (1, 4)), ('B', (2, 2, 4)), ('xs', (2, 2, 4))),
            args=(np.array([[-0.48473420253604615, 0.7993461262438082, -0.8247680934673361, 1.0434036272108766]], dtype=np.float64), np.array([[[-1.196984140701578, -1.1134695221733288, -0.6764283167788585, 1.151533150134863], [-1.487057238469189, -0.7905550035559414, 0.321227476456009, 1.132524934143707]], [[1.352797254938909, 0.7966989853259125, -0.9821289316776567, 0.0393169241948601], [-1.119160875973364, -0.056104211635161105, -0.1269154944031321, -0.8923238110438473]]], dtype=np.float64), np.array([[[-1.1445105269782725, 0.6389911012506224, -0.5068342635179374, 1.2194890600849329], [-1.100216152960474, -0.0901797415001091, -0.7062473274166459, -0.9952307737458276]], [[-0.9854186368738203, 0.4390877998711695, 0.4514468966737666, 1.162263443068074], [-1.0953965067019769, 0.14851446687524517, -0.6561354970322543, 1.1590020568861603]]], dtype=np.float64)),
            wrt=('xs',),
            style='lecture',
            free=False,
            decorator='example',
            cli='shapes',
            cli_style='lecture',
            cli_free=False,
            attempts=1,
            annotated_source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def f(W: "(1, 4)", B: "(2, 2, 4)", xs: "(2, 2, 4)"):\n'
                '    W = W * (B[-1, ...] - W.shape[1])[::2]\n'
                '    hs = 0.0\n'
                '    for t in range(len(xs)):\n'
                '        hs = hs + np.sum(np.exp(-(xs.sum(axis=(-3, 2)) ** 2)), -1)\n'
                '        h = np.sum(xs[t], axis=(0,), keepdims=True) / 2.0\n'
                '        B *= np.where((W.sum(axis=(-2, 1), keepdims=True) - np.sum(h, axis=(-2, 1), keepdims=True)) >= (-0.25), np.min(B, axis=1, keepdims=False) @ np.maximum(np.reshape(B, (4, 4)), np.reshape(B, (4, 4))), np.maximum(xs[t], B[0]) / (((xs[t] ** 2 + 1.0) ** np.tanh(xs[t].sum(axis=0))) ** 2 + 1.0))\n'
                '    hs = hs ** 2\n'
                '    W /= (np.mean(B.reshape(1, 4, 4), -1) ** 2 + 1.0)\n'
                '    hs = hs + (hs * hs)\n'
                '    tmp = np.where(hs == 0.0, hs, np.minimum(np.maximum(hs, 0.0), np.sin(hs)))\n'
                '    return tmp\n'
            ),
        ),
    ),
    2048: (
        'ValueError: output array is read-only, += into a 0-d np.broadcast_to gradient',
        fuzzgen_arrays.Program(
            seed=2048,
            source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u, v):\n'
                '    return (np.sin(u) + (u + u)) + v\n'
                '\n'
                '\n'
                'def f(z, b, v):\n'
                '    z = z * h0(z, np.max((np.mean(v, axis=-1, keepdims=True) - b.reshape(1, 3)), axis=(0, 1)))\n'
                '    z = np.sin(z)\n'
                '    b += v @ b\n'
                '    z *= (z ** 2) - z\n'
                '    z /= ((z - z) ** 2 + 1.0)\n'
                '    z = z + np.matmul(np.sqrt(b * b + 0.1) @ (z + v), z + b)\n'
                '    return (-0.5) + np.sum(z)\n'
            ),
            params=('z', 'b', 'v'),
            shapes=(('z', ()), ('b', (3,)), ('v', (3, 3))),
            args=(np.float64(-1.4136028465329555), np.array([-0.5580558559894465, -1.407459748495454, 0.6147682620618156], dtype=np.float64), np.array([[0.1079693053094144, 0.4235490482576867, 0.51901655451341], [0.3338038190177599, -0.05114323209656213, 0.4912825582100191], [0.27844256950172985, -0.5333833840701259, -1.004715985051846]], dtype=np.float64)),
            wrt=('b', 'v'),
            style='lecture',
            free=True,
            decorator='shapes',
            cli=None,
            cli_style='compact',
            cli_free=False,
            attempts=1,
            annotated_source=(
                'import numpy as np\n'
                '\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(u, v):\n'
                '    return (np.sin(u) + (u + u)) + v\n'
                '\n'
                '\n'
                'def f(z: "()", b: "(3,)", v: "(3, 3)"):\n'
                '    z = z * h0(z, np.max((np.mean(v, axis=-1, keepdims=True) - b.reshape(1, 3)), axis=(0, 1)))\n'
                '    z = np.sin(z)\n'
                '    b += v @ b\n'
                '    z *= (z ** 2) - z\n'
                '    z /= ((z - z) ** 2 + 1.0)\n'
                '    z = z + np.matmul(np.sqrt(b * b + 0.1) @ (z + v), z + b)\n'
                '    return (-0.5) + np.sum(z)\n'
            ),
        ),
    ),
}

# seed -> (what it found, the program)
LANGUAGE = {
    1: (
        'one-branch name bound again in a later branch: refused',
        fuzzgen_language.Program(
            seed=1,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'FLAG = 1\n'
                'C0 = 1.5\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    """A fuzzed function."""\n'
                '    def g0(w, b2):\n'
                '        r = np.sqrt(C0 * C0 + 0.5) * (b2 * 0.25)\n'
                '        r = ((w * C0) if w * (w + p1) <= math.tanh(r) else (w if p0 - (w if 0.25 > p1 + ((w ** 2) - (w / (w * w + 1.0))) else (2 + p1)) > (w - r) / ((b2 if w < 0 else w) ** 2 + 1.0) else 0.25))\n'
                '        d = 0.25 * p1\n'
                '        if C0 > 0 and C0 > 0:\n'
                '            b = np.minimum(b2, w)\n'
                '            if FLAG == 1:\n'
                '                b = (math.sqrt((b * 0.75) ** 2 + 0.5) if p1 >= b else ((b - r) / (r * r + 1.0)))\n'
                '                if math.cos(w * r) <= 0:\n'
                '                    acc = 1 * 0.25\n'
                '                    a = w + ((-0.75) / (acc * acc + 1.0))\n'
                '                    r *= 0.1\n'
                '                    b = w\n'
                '            b = b - w\n'
                '        else:\n'
                '            y = math.tanh(p0)\n'
                '            if abs(3.0) > w * w:\n'
                '                w *= r\n'
                '                if 2.0 >= p1:\n'
                '                    m = (w if FLAG == 1 or p0 > 0.1 else r)\n'
                '                    lst1 = [r, -max(C0, 2.0)]\n'
                '                    (m, y), b2 = (m * w, -(p0 - lst1[1])), (m + C0) ** 2\n'
                '                    w = w - d\n'
                '            elif p0 >= 0.25:\n'
                '                w += (np.maximum(d, y) * ((0.3 ** 2 + 0.5) ** (-1)))\n'
                '                m = math.tanh(0.75) ** 2\n'
                '                m = d / 0.5\n'
                '            else:\n'
                '                y /= (math.cos(-0.5) ** 2 + 1.0)\n'
                '                (y, d), r = ((0.25 + (-0.5)) - np.tanh(1.5), (w ** 2 + 0.5) ** 0.5), w\n'
                '            if p1 - (abs(y) + (d / (d * d + 1.0))) >= ((0.25 / 3) if FLAG == 1 else (w - 3.0)):\n'
                '                s = (min(p0, w) if FLAG == 1 else (((-2.0) ** 2 + 0.5) ** 0.5))\n'
                '                (s, a), m = ([s, y][0] ** 2, np.maximum(np.maximum(w, p0), p0)), y / ((-0.75) ** 2 + 1.0)\n'
                '                acc = (math.cos(C0) / 2.0) + w\n'
                '                h = w - w\n'
                '            elif sigmoid(p0 * 0.25) >= p0:\n'
                '                (r, b2), k = (3.0, (C0 * C0 + 0.5) ** 0.5), -0.75\n'
                '                w = w - ((0.75 + b2) - (b2 / ((-0.5) ** 2 + 1.0)))\n'
                '                e = (math.sqrt((np.e) ** 2 + 1.0), math.sqrt(r * r + 1.0))[0]\n'
                '            else:\n'
                '                z2 = np.zeros(4)\n'
                '                z2[-3] += z2[-2]\n'
                '        return r\n'
                '    for t in range(1, 3):\n'
                '        if p0 * (1.25 if t > 0 else 1.25) <= -1:\n'
                '            m = np.sin(0.75)\n'
                '            m = t\n'
                '            z3 = np.ones(2)\n'
                '            z3[-1] = [p0, -0.5][1]\n'
                '            z3[0:2] += z3 * t\n'
                '            acc = p1 + (-z3[1])\n'
                '    return p1, p1\n'
            ),
            args=(-0.009129825816118098, 0.3031859454455259),
            shapes=(('p0', ()), ('p1', ())),
            wrt=('p1',),
            n_outputs=2,
            seeds=(None, (0.0, 1.0), (-0.3, 0.0)),
            data_ifs=1,
            features=('2 outputs', 'Python floats', 'alias', 'array element', 'assigned before and in one branch', 'assigned in every branch', 'augmented assignment', 'branch assigns alias', 'branch assigns computed', 'elif', 'else', 'if on data', 'if on data in a loop', 'if on data in a nested helper', 'list literal', 'literal indexed', 'local array', 'local to one branch', 'loop', 'loop index as a value', 'nested helper', 'nested helper reads enclosing names', 'nested if on data', 'nested unpack', 'rebinding', 'return a name twice', 'select on a loop index', 'select on constants', 'select on data', 'setitem', 'setitem +=', 'setitem in a branch', 'setitem slice', 'static and/or', 'static and/or decided with data', 'static if', 'static if on a loop index', 'tuple index', 'wrt'),
            numpy_user=False,
            configs=(Config(style='lecture', math=True, free=True, paths=('decorator',), shapes_by='shapes'), Config(style='compact', math=None, free=False, paths=('decorator',), shapes_by='shapes')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    278: (
        'a tuple local to one branch, in a loop: refused as a tuple assigned in a branch',
        fuzzgen_language.Program(
            seed=278,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'N = 4\n'
                'C0 = 0.75\n'
                '\n'
                '\n'
                'def h0(b, *, u=C0):\n'
                '    b = b * (-(-2.0))\n'
                '    u = -1\n'
                '    return u + b\n'
                '\n'
                '\n'
                'def h1(s, k=C0 * 0.5, u=C0):\n'
                '    if s + ((-0.5) * s) < 0.1:\n'
                '        r = abs(s)\n'
                '        s = s * (u - (-0.75))\n'
                '        z0 = np.zeros(4)\n'
                '        z0[-1] = h0(0.75, u=z0[0])\n'
                '        m = np.log(3.0 ** 2 + 0.5) - (u * u)\n'
                '    else:\n'
                '        acc = (-2.0) * u\n'
                '        t3 = 1.25\n'
                '        if s + np.exp(np.tanh(0.3 + 2)) >= 2.0:\n'
                '            s = s - np.abs(k)\n'
                '            tmp = (acc if s + np.log((s if C0 < 0 else 2) ** 2 + 1.0) >= acc else 1) * k\n'
                '        elif s * (0.75 - k) > 2 + (-0.75):\n'
                '            y = ((acc + 1.25) if N > 3 else np.abs(acc))\n'
                '            y = y\n'
                '            f = s + (np.cos(y) - h0(y, u=0.1))\n'
                '            acc = k\n'
                '        if not N >= 4:\n'
                '            tmp = h0(max(C0, 0.75))\n'
                '            f_value_and_grad = max(abs(-0.5), h0(t3))\n'
                '        else:\n'
                '            g0_s = u - u\n'
                '            if s > acc:\n'
                '                g0_s = acc\n'
                '                g0_s = g0_s - g0_s\n'
                '                h0_u = s + (-(1.5 * s))\n'
                '            else:\n'
                '                acc, t3 = t3, acc\n'
                '            if math.cos(s * 1.25) < g0_s:\n'
                '                s = s * (np.exp(np.tanh(0.5)) * (k - 1.5))\n'
                '                g0_s = 3.0 * k\n'
                '                k *= h0(s - (-1))\n'
                '            else:\n'
                '                t3 = ((C0 if C0 < 0 and s > 1.0 else k) if C0 < 0 else np.minimum(u, k))\n'
                '                acc = k\n'
                '    k, u = u, k\n'
                '    if sigmoid(s * h0(u, u=k)) < -np.exp(np.tanh(k)):\n'
                '        f = math.tanh(s - 0.1)\n'
                '        c = s + (k * 0.75)\n'
                '    else:\n'
                '        t3 = (2 + C0) / (0.3 ** 2 + 1.0)\n'
                '        (t3, c), u = (t3, (u if s > 1.0 else s) + np.e), np.sin(-0.5)\n'
                '    return h0(h0(k, u=c)) + s\n'
                '\n'
                '\n'
                'def f(p0, p1, p2):\n'
                '    """A fuzzed function."""\n'
                '    for t in range(2):\n'
                '        for i in range(2):\n'
                '            lst1 = [-C0, (2.0, 0.3, p0)[1], h0(p0 / (p2 ** 2 + 1.0), u=p0), i]\n'
                '    for t in range(1, 3):\n'
                '        if p0 > lst1[3]:\n'
                '            pair2 = p1, p0, np.maximum(p2, p0) - [p0, lst1[t], p0][0]\n'
                '            p1 = p1 - pair2[t]\n'
                '        else:\n'
                '            t3 = p2\n'
                '            p0 /= (p0 * p0 + 1.0)\n'
                '    z3 = np.zeros(3)\n'
                '    z3[0:2] += np.tanh(z3[0:2])\n'
                '    z3[1:3] = z3[1:3] * 2.0\n'
                '    (f_value_and_grad, a_1), m = (math.sqrt(p0 * p0 + 0.5), np.minimum(p0, p0)), p0 - 1\n'
                '    h0_u = abs((h0(p0) ** 2 + 0.5) ** 0.5)\n'
                '    h0_u = 0.3\n'
                '    return (((C0 ** 2 + 0.5) ** 0.5) * m) - a_1, 0.25\n'
            ),
            args=(0.9746484559942741, -0.5531154057700471, -0.44981668353823534),
            shapes=(('p0', ()), ('p1', ()), ('p2', ())),
            wrt=('p0', 'p1', 'p2'),
            n_outputs=2,
            seeds=(None, (0.0, 1.0), (0.0, 0.5)),
            data_ifs=1,
            features=('2 outputs', 'Python floats', 'alias', 'array element', 'assigned before and in one branch', 'assigned in every branch', 'augmented assignment', 'branch assigns alias', 'branch assigns computed', 'constant', 'default from a module constant', 'default used', 'elif', 'else', 'helper call', 'helper calls helper', 'helper default', 'helper keyword-only parameter', 'if on data', 'if on data in a helper', 'if on data in a loop', 'keyword argument', 'keyword-only argument', 'list literal', 'literal indexed', 'local array', 'local to one branch', 'loop', 'loop index as a value', 'nested if on data', 'nested unpack', 'rebinding', 'return a constant', 'select on constants', 'select on data', 'setitem', 'setitem +=', 'setitem in a branch', 'setitem slice', 'static and/or decided with data', 'static if', 'static not', 'swap', 'tuple build', 'tuple index', 'tuple indexed by a loop index', 'wrt'),
            numpy_user=False,
            configs=(Config(style='lecture', math=True, free=False, paths=('cli', 'decorator'), shapes_by='shapes'), Config(style='compact', math=None, free=True, paths=('decorator',), shapes_by='shapes')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    57: (
        'math mode with a local array: TypeError in the generated module',
        fuzzgen_language.Program(
            seed=57,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'FLAG = 0\n'
                'C0 = 0.25\n'
                'C1 = C0 * 2\n'
                '\n'
                '\n'
                'def f(p0):\n'
                '    if p0 + ((p0 - 0.5) ** 3) > p0:\n'
                '        p0 = p0 + ((p0 * p0) + math.cos(p0))\n'
                '        p0 **= 2\n'
                '        w = -2.0\n'
                '        lst0 = [np.tanh(p0) + (0.1 + w), (w / (0.3 ** 2 + 1.0)) * 1, w, p0]\n'
                '    else:\n'
                '        w = (math.cos(0.5), 1.25 * (-0.75), ((-1) if FLAG == 1 and FLAG == 1 else p0))[1] - np.maximum((3.0 if p0 + p0 < 0.25 else 3.0), abs(p0))\n'
                '        w = C1\n'
                '        p0 = p0 - (w / 3)\n'
                '    if FLAG == 1:\n'
                '        if p0 + ((p0 * 0.25) if p0 < (p0 + w) / ((C1 + p0) ** 2 + 1.0) else np.sqrt((-1) ** 2 + 1.0)) >= 0.1:\n'
                '            h = p0 - max(w, np.pi)\n'
                '            if np.sin(p0 * p0) < 2.0:\n'
                '                p0 -= w\n'
                '                h = (1 + p0) / 2.0\n'
                '            c = (np.sqrt((-0.75) ** 2 + 1.0), -p0)[1] - ((C0 * C0 + 0.5) ** 0.5)\n'
                '        else:\n'
                '            w = p0\n'
                '            (u, w), q = (1.5, (0.1 if p0 - np.tanh(1.5) >= w else 2)), p0 + 0.25\n'
                '    else:\n'
                '        for t in range(1, 3):\n'
                '            z1 = np.zeros((2, 2))\n'
                '            z1[0, -2] = 0.3 * p0\n'
                '            z1[1, 1] = p0\n'
                '        z1[:, 0] = z1[1] * 0.75\n'
                '        w **= 2\n'
                '    p0 = p0 * p0\n'
                '    e = (p0 if math.cos(p0 * p0) > 0.25 else abs(-p0))\n'
                '    return (np.log(np.sum(np.sin(z1)) ** 2 + 1.0) + p0) + w\n'
            ),
            args=(-0.3575601134203952,),
            shapes=(('p0', ()),),
            wrt=None,
            n_outputs=1,
            seeds=(None,),
            data_ifs=1,
            features=('2-D local array', 'Python floats', 'alias', 'assigned before and in one branch', 'assigned in every branch', 'augmented assignment', 'branch assigns alias', 'branch assigns computed', 'branch assigns constant', 'constant', 'else', 'if on data', 'list literal', 'literal indexed', 'local array', 'local to one branch', 'loop', 'nested if on data', 'nested unpack', 'rebinding', 'reduce an array', 'select on constants', 'select on data', 'setitem', 'setitem slice', 'static and/or', 'static if'),
            numpy_user=False,
            configs=(Config(style='lecture', math=True, free=True, paths=('cli',), shapes_by='shapes'), Config(style='compact', math=True, free=True, paths=('cli', 'decorator'), shapes_by='call')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    40: (
        'return of constants: f_value_and_grad takes no seed=',
        fuzzgen_language.Program(
            seed=40,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'N = 4\n'
                'FLAG = 0\n'
                'C0 = 0.25\n'
                'C1 = C0 * 2\n'
                '\n'
                '\n'
                'def h0(s):\n'
                '    if s >= -0.5:\n'
                '        s += ((s + s) * (s + math.tau))\n'
                '        h = 1.25\n'
                '    else:\n'
                '        lst0 = [s, 3.0]\n'
                '    k = s / (C0 * C0 + 1.0)\n'
                '    return (k / 0.5) + s, (-s) * k, (k * k) + s\n'
                '\n'
                '\n'
                'def f(p0, p1, p2, p3):\n'
                '    f_0 = (p1 * 3.0) - np.log(C0 * C0 + 0.5)\n'
                '    if FLAG == 1:\n'
                '        grad_p0 = p0 + p1\n'
                '        r = p1\n'
                '    else:\n'
                '        q, f_0, y = h0(p3 + (p1 * p1))\n'
                '        if C0 > 0.5:\n'
                '            y = 0.25\n'
                '    a_1 = C0\n'
                '    z0_1 = math.tanh(h0(math.cos(p3 * p2))[-3])\n'
                '    z0_1 = np.log(np.exp(np.tanh(h0(p1)[0])) ** 2 + 0.5)\n'
                '    e = C1\n'
                '    if np.sin(p2 * C0) <= (f_0 + a_1) - h0(p3)[-2]:\n'
                '        z1 = np.ones(4)\n'
                '        z1[-4] = y\n'
                '        z1[-3] = z1[-4]\n'
                '        p1 = p1 + np.tanh(p1 - y)\n'
                '        z1[-3] = p0\n'
                '    else:\n'
                '        t3 = 0.3\n'
                '        if p3 >= 2.0:\n'
                '            s = h0(sigmoid(p2 * q))[0]\n'
                '            z0_1 = z0_1 - (-((-2.0) * y))\n'
                '            seed = p1 - (t3 - 0.3)\n'
                '            h0_u = t3\n'
                '        t1 = math.cos(1.25 / (a_1 ** 2 + 1.0))\n'
                '    e = p1\n'
                '    np_ = -0.75\n'
                '    return (0.75 + p1) - e, 0.5\n'
            ),
            args=(0.3291159862546795, -0.5873322318736858, -0.4457624572552843, 0.637748718688369),
            shapes=(('p0', ()), ('p1', ()), ('p2', ()), ('p3', ())),
            wrt=None,
            n_outputs=2,
            seeds=(None, (0.0, 1.0), (2.0, -1.25)),
            data_ifs=7,
            features=('2 outputs', 'Python floats', 'array element', 'assigned before and in one branch', 'branch assigns computed', 'constant', 'else', 'helper call', 'helper returns a tuple', 'if on data', 'if on data in a helper', "index a helper's tuple", 'list literal', 'local array', 'local to one branch', 'nested if on data', 'rebinding', 'return a constant', 'setitem', 'setitem in a branch', 'static if', "unpack a helper's tuple"),
            numpy_user=False,
            configs=(Config(style='lecture', math=True, free=False, paths=('cli', 'decorator'), shapes_by='call'), Config(style='compact', math=True, free=True, paths=('decorator',), shapes_by='shapes')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    215: (
        'return of constants: the decorator says f() has 1 output',
        fuzzgen_language.Program(
            seed=215,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'def h0(s, b=0.25, u=0.5):\n'
                '    return ((u / (3.0 ** 2 + 1.0)) + b) - s, [u * 0.5, np.exp(np.tanh(s)), (s if s * math.log((b - 0.3) ** 2 + 1.0) < 1.0 else (-0.5))][2]\n'
                '\n'
                '\n'
                'def h1(w, k=2.0, *, u=0.5):\n'
                '    if 2.0 <= w:\n'
                '        h = k / 2.0\n'
                '        w = w + ((u if w >= h * 2.0 else 0.75) + math.sin(k))\n'
                '        if 1.0 > w - 0.1:\n'
                '            w = w - (k / 2.0)\n'
                '            h = math.cos(0.5)\n'
                '        elif sigmoid(w * ((-0.75) + u)) <= abs(0.1):\n'
                '            d = np.sin(w)\n'
                '            h = w * (np.minimum(1, w) * (h + 1))\n'
                '            pair0 = (math.log(0.3 ** 2 + 1.0) * (k ** 2), d, -0.75, sigmoid(np.sqrt(d * d + 1.0)))\n'
                '        else:\n'
                '            r = 1.25 * w\n'
                '            h = h - math.tanh(-0.75)\n'
                '    return ((((u ** 3) ** 3) / 2.0) + k) + w\n'
                '\n'
                '\n'
                'def f(p0):\n'
                '    p0 *= 2\n'
                '    m = np.sin(p0)\n'
                '    m = h0(m, u=p0)[-2]\n'
                '    e = abs(m) / ((p0 + p0) ** 2 + 1.0)\n'
                '    d = (3.0 if p0 + e > (p0 * p0 + 0.5) ** (-1) else 1.25)\n'
                '    if p0 - (h0(3.0)[0] / 0.5) >= 0.5:\n'
                '        h = h0(p0, -0.5, m)[-2] + h0(math.tau, u=np.pi, b=m)[-2]\n'
                '        for t in range(1, 3):\n'
                '            d -= (p0 - t)\n'
                '            y = t - (p0 * m)\n'
                '        h = p0 + ((np.e * 0.75) * (-h))\n'
                '    else:\n'
                '        h = h0(0.25 - (-0.5))[1]\n'
                '        z1 = np.zeros(2)\n'
                '        z1[0] = m - 3.0\n'
                '        z1[:2] = z1 * h\n'
                '        h, e = e, h\n'
                '        z1[-2] += np.sum(z1 * z1)\n'
                '    return h0(np.sin(1), 1.25)\n'
            ),
            args=(np.float64(-0.6401437765914852),),
            shapes=(('p0', ()),),
            wrt=None,
            n_outputs=2,
            seeds=(None, (0.0, 1.0), (-1.25, 2.0)),
            data_ifs=1,
            features=('2 outputs', 'assigned before and in one branch', 'assigned in every branch', 'augmented assignment', 'branch assigns alias', 'branch assigns computed', 'default used', 'elif', 'else', 'helper call', 'helper default', 'helper keyword-only parameter', 'helper returns a tuple', 'if on data', 'if on data in a helper', "index a helper's tuple", 'keyword argument', 'literal indexed', 'local array', 'local to one branch', 'loop', 'loop index as a value', 'nested if on data', 'numpy scalars', 'rebinding', 'reduce an array', "return a helper's tuple", 'select on data', 'setitem', 'setitem +=', 'setitem in a branch', 'setitem slice', 'swap', 'tuple build'),
            numpy_user=True,
            configs=(Config(style='lecture', math=None, free=False, paths=('decorator',), shapes_by='example'), Config(style='compact', math=None, free=False, paths=('cli', 'decorator'), shapes_by='call')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    12159: (
        'decorator, shapes from the first call: `v.ndim == 1 or ...` refused',
        fuzzgen_language.Program(
            seed=12159,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'N = 4\n'
                'FLAG = 0\n'
                'C0 = -0.5\n'
                '\n'
                '\n'
                'def h0(s):\n'
                '    if C0 < 0:\n'
                '        w = ((-0.5) ** 2 + 0.5) ** 0.5\n'
                '        y = 2.0\n'
                '        if FLAG:\n'
                '            w **= 2\n'
                '        else:\n'
                '            tmp = np.sin(s)\n'
                '            w -= (s / (tmp * tmp + 1.0))\n'
                '    else:\n'
                '        w: float = s\n'
                '        tmp = 1.25\n'
                '    c = abs(tmp) + (0.3 - s)\n'
                '    if s + math.tanh(1) < y:\n'
                '        m = (w * s) - (w + s)\n'
                '        m = s + (2.0 ** 2)\n'
                '        y **= 2\n'
                '        z0 = np.zeros(4)\n'
                '        z0[1] = (z0[-2] * s) * (y * w)\n'
                '        z0[2:4] = z0[1:3] * m\n'
                '    else:\n'
                '        c = (c if s >= 2.0 else (math.pi))\n'
                '    return (((c * w) - ((2 ** 2 + 0.5) ** 0.5)) * (np.sin(y) ** 3)) - tmp, (0.75 - c) * y, math.cos(c) - y\n'
                '\n'
                '\n'
                'def f(p0, v, p1):\n'
                '    if v.ndim == 1 or p1 > 2.0:\n'
                '        (w, m), c = (p0 * p0, 1.5), p0\n'
                '        if v[0] - (c ** 2) > p0 / (c * c + 1.0):\n'
                '            acc = np.cos(p1)\n'
                '            b: float = np.sum(np.tanh(v))\n'
                '            w = p1 * c\n'
                '    else:\n'
                '        y = -p1\n'
                '        if p0 + (v[0] * p0) > 1.0:\n'
                '            y = p1 + y\n'
                '            y = (np.log(np.maximum(v[0], p0) ** 2 + 1.0) if p0 * (np.cos(p1) ** 2) > 0 else (-(p1 - p1)))\n'
                '            r = math.cos(v[2])\n'
                '        else:\n'
                '            acc = (((y ** 2) + sigmoid(C0)) ** 2 + 0.5) ** 1.5\n'
                '        d = math.sin(3.0)\n'
                '        y = (((p0 + math.tau) / (v[1] ** 2 + 1.0)) if p0 >= -0.5 else (y / ((1.25 * p1) ** 2 + 1.0)))\n'
                '    p1 = p1 + (math.pi)\n'
                '    return p1 + w\n'
            ),
            args=(-1.3189111304904104, np.array([-0.9099677848204217, 0.029296140078435062, 0.281612148744367], dtype=np.float64), -0.2725375607108649),
            shapes=(('p0', ()), ('v', (3,)), ('p1', ())),
            wrt=None,
            n_outputs=1,
            seeds=(None,),
            data_ifs=1,
            features=('annotated assignment', 'array element', 'array parameter', 'assigned before and in one branch', 'augmented assignment', 'branch assigns computed', 'condition on an array element', 'else', 'helper returns a tuple', 'if on data', 'if on data in a helper', 'local array', 'local to one branch', 'nested unpack', 'rebinding', 'reduce an array', 'select on data', 'setitem', 'setitem in a branch', 'setitem slice', 'static and/or decided with data', 'static if', 'static if on shapes'),
            numpy_user=False,
            configs=(Config(style='lecture', math=None, free=False, paths=('cli', 'decorator'), shapes_by='call'), Config(style='compact', math=None, free=False, paths=('cli',), shapes_by='example')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    1741: (
        'local `seed`, outputs independent of the parameters: no seed= keyword',
        fuzzgen_language.Program(
            seed=1741,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'FLAG = 1\n'
                'C0 = -0.5\n'
                '\n'
                '\n'
                'def h0(b, *, u=2.0):\n'
                '    b /= (min(b ** 3, np.tanh(0.75)) ** 2 + 1.0)\n'
                '    if b >= b:\n'
                '        b = b * np.exp(np.tanh(b))\n'
                '        r = (2 * b) - (C0 * 1)\n'
                '        (u, r), t5 = (np.pi, u), b\n'
                '        d = (-math.cos(0.1)) + (t5 + np.sin(1))\n'
                '    else:\n'
                '        tmp = (b * C0) * u\n'
                '        lst0 = [1, -tmp]\n'
                '        for t in range(1, 3):\n'
                '            tmp /= (np.log(b * b + 0.5) ** 2 + 1.0)\n'
                '        m = np.maximum(b + tmp, math.exp(np.tanh(2.0)))\n'
                '    return math.tanh(u) + b\n'
                '\n'
                '\n'
                'def h1(s, *, u=C0 * 0.5):\n'
                '    lst1 = [s + 0.1, (-u) + np.log(C0 ** 2 + 0.5)]\n'
                '    z2 = np.zeros(4)\n'
                '    z2[-2] += 0.5\n'
                '    return np.sum(z2 * z2), -np.sum(np.sin(z2))\n'
                '\n'
                '\n'
                'def f(p0, p1):\n'
                '    p1 **= 2\n'
                '    p0_1 = h1(math.cos(p0))[1] - np.cos(h1(p0, u=p0)[1])\n'
                '    if C0 < 0 or C0 < 0:\n'
                '        y = (p0, 0.3, p0)[2] * abs(p0)\n'
                '        grad_p0 = p0\n'
                '        for t in range(2):\n'
                '            r: float = y\n'
                '            t5 = math.log((r / 3) ** 2 + 0.5)\n'
                '        grad_a = (-1) - 0.5\n'
                '    else:\n'
                '        p0_1 += p0\n'
                '    if p0 - (2, max(grad_a, 0.1), -0.25)[0] < (np.sin(2.0) ** 2 + 0.5) ** (-1):\n'
                '        h0_u = p0 - (0.3 / (p0_1 * p0_1 + 1.0))\n'
                '        seed = (np.log(h1(p0)[0] ** 2 + 1.0) if p1 - (grad_a + r) <= 2 else ((grad_p0 + grad_a) * (grad_a * C0)))\n'
                '        pair3 = h1(y ** 3)[1], min(r, np.abs(seed)), y\n'
                '    pair4 = p0, t5\n'
                '    p0 = p0 - p1\n'
                '    return h1(max(1.5, pair4[-2]), u=-1)\n'
            ),
            args=(-0.022174415771979428, 0.9127762627104974),
            shapes=(('p0', ()), ('p1', ())),
            wrt=('p1', 'p0'),
            n_outputs=2,
            seeds=(None, (0.0, 1.0), (0.5, 0.5)),
            data_ifs=1,
            features=('2 outputs', 'Python floats', 'alias', 'annotated assignment', 'assigned before and in one branch', 'augmented assignment', 'branch assigns computed', 'default from a module constant', 'default used', 'else', 'helper call', 'helper default', 'helper keyword-only parameter', 'helper returns a tuple', 'if on data', 'if on data in a helper', "index a helper's tuple", 'keyword argument', 'keyword-only argument', 'list literal', 'literal indexed', 'local array', 'local to one branch', 'loop', 'nested unpack', 'rebinding', 'reduce an array', "return a helper's tuple", 'select on data', 'setitem', 'setitem +=', 'static and/or', 'static if', 'tuple build', 'tuple index', 'tuple index negative', 'wrt'),
            numpy_user=False,
            configs=(Config(style='lecture', math=None, free=True, paths=('cli', 'decorator'), shapes_by='example'), Config(style='compact', math=True, free=False, paths=('cli', 'decorator'), shapes_by='call')),
            attempts=1,
            ints=(),
            unroll=None,
        ),
    ),
    3161: (
        'local `seed`, outputs independent of the parameters: no seed= keyword',
        fuzzgen_language.Program(
            seed=3161,
            source=(
                'import numpy as np\n'
                'import math\n'
                'from flatgen import sigmoid\n'
                '\n'
                '\n'
                'FLAG = 1\n'
                '\n'
                '\n'
                'def h0(k, b=2.0, *, u=-1.0):\n'
                '    return np.minimum(abs(3.0), np.tanh(k))\n'
                '\n'
                '\n'
                'def h1(s):\n'
                '    z0_1 = (s if FLAG == 1 else 0.1)\n'
                '    b = h0((-s) / (((-0.75) - z0_1) ** 2 + 1.0), (-1) * z0_1, u=(s * s + 0.5) ** (-1))\n'
                '    for t in range(1, 3):\n'
                '        b, z0_1 = z0_1, b\n'
                '        if s < -0.5:\n'
                '            g0_s = h0(np.e + s)\n'
                '            c = s - (np.e + g0_s)\n'
                '            s /= (((b ** 2) + (s - s)) ** 2 + 1.0)\n'
                '            if c - g0_s > s:\n'
                '                y = t\n'
                '                q = h0(h0(t, b=g0_s, u=g0_s), u=g0_s)\n'
                '                f = s - b\n'
                '                g0_s *= ((g0_s * s) / (q * q + 1.0))\n'
                '    return math.sin(h0(1 ** 3, u=s)) + b\n'
                '\n'
                '\n'
                'def h2(u):\n'
                '    t1 = math.cos(u)\n'
                '    (t1, k), y = (np.sin(u / (1.25 ** 2 + 1.0)), [-2.0, t1, u][0]), math.log((math.tau) ** 2 + 0.5)\n'
                '    pair0 = math.sqrt(np.log(t1 ** 2 + 1.0) ** 2 + 1.0), 0.1\n'
                '    return math.tanh(y ** 2) * u, (u / 2.0) + y\n'
                '\n'
                '\n'
                'def f(p0, p1, p2):\n'
                '    t1, k = h2(0.3 + 0.5)\n'
                '    if FLAG == 1:\n'
                '        a = p2 * p0\n'
                '        a = ((math.tau * a) * (a ** 2)) + np.cos(h2(1.25)[1])\n'
                '        if np.tanh(p1 * math.sin(p0)) <= -2.0:\n'
                '            g0_s = (p0 / (a ** 2 + 1.0)) * h0(a, u=a)\n'
                '            p2 = p2 + math.sqrt((a - 2) ** 2 + 0.5)\n'
                '            (g0_s, h0_u), p0_1 = (((np.pi * 0.5) ** 2 + 0.5) ** 1.5, 2.0), 0.3\n'
                '        for t in range(1, 3):\n'
                '            seed = (t if p1 - p1 > 0.1 else (k + t))\n'
                '            p0 *= (t ** 2)\n'
                '    else:\n'
                '        s: float = p1 - p0\n'
                '    if FLAG:\n'
                '        pair1 = math.sqrt(a * a + 1.0), math.tanh(p1), seed, math.cos(math.exp(np.tanh(seed)))\n'
                '        z2 = np.ones(3)\n'
                '        z2[2] += z2[0]\n'
                '        z2[1] = np.sum(z2 * z2)\n'
                '        for t in range(1, 3):\n'
                '            a = (a if p0.ndim > 0 else max(z2[-3], pair1[t] - z2[-3]))\n'
                '    else:\n'
                '        seed -= seed\n'
                '        seed = t1\n'
                '    k = t1\n'
                '    return t1, t1\n'
            ),
            args=(np.float64(0.37648137086455025), np.float64(-0.021518158919978436), np.float64(-0.953530613851882)),
            shapes=(('p0', ()), ('p1', ()), ('p2', ())),
            wrt=None,
            n_outputs=2,
            seeds=(None, (0.0, 1.0), (0.5, 1.0)),
            data_ifs=1,
            features=('2 outputs', 'alias', 'annotated assignment', 'array element', 'assigned before and in one branch', 'augmented assignment', 'branch assigns computed', 'default used', 'helper call', 'helper calls helper', 'helper default', 'helper keyword-only parameter', 'helper returns a tuple', 'if on data', 'if on data in a helper', 'if on data in a loop', "index a helper's tuple", 'keyword argument', 'keyword-only argument', 'literal indexed', 'local array', 'local to one branch', 'loop', 'loop index as a value', 'nested if on data', 'nested unpack', 'numpy scalars', 'rebinding', 'reduce an array', 'return a name twice', 'select on constants', 'select on data', 'setitem', 'setitem +=', 'static if', 'static if on shapes', 'swap', 'tuple build', 'tuple index', 'tuple indexed by a loop index', "unpack a helper's tuple"),
            numpy_user=True,
            configs=(Config(style='lecture', math=None, free=False, paths=('cli', 'decorator'), shapes_by='call'), Config(style='compact', math=None, free=True, paths=('decorator',), shapes_by='shapes')),
            attempts=3,
            ints=(),
            unroll=None,
        ),
    ),
}
