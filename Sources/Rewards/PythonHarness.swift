import Foundation

/// The Python program each sandboxed run executes: a driver that builds the solution's
/// namespace (the preamble, the problem's setup code), runs the solution, and for call and
/// script tests writes a result record out of band.
///
/// Anti-hacking design:
/// - Test data that decides pass/fail never enters the box: stdio outputs and call results are
///   compared on the host. What goes in (call arguments, the check script, a per-run random
///   nonce) arrives on stdin, which the driver reads and then replaces with /dev/null before any
///   solution code runs, so it is not on disk for the solution to read.
/// - The record (`/work/assay-result.json`) is written by the driver only after the calls (or
///   the check script) return, with the nonce, by functions captured before the solution ran
///   (a hand-written serializer: patching `json` cannot rewrite it), then the driver leaves with
///   `os._exit` (no atexit hook of the solution runs afterwards). `sys.exit(0)`/`os._exit(0)`
///   before the checks leave no record: a failure. Printing "all passed" is never read.
/// - Values returned to a check script pass a guard: every object in them must compare with a
///   built-in `__eq__`/`__ne__` (an "always equal" object fails), so asserts cannot be fooled.
/// - Residual risk, documented: the solution shares the interpreter with the driver, so code that
///   walks the stack frames can find the nonce and a check script's text. Call tests are still safe
///   (expected values never enter the box); a script test could then be forged. Adapters prefer
///   call tests where the data allows (HumanEval+, MBPP+, LiveCodeBench functional).
public enum PythonHarness {
    /// The record file the driver writes in /work (read back with `collect:`).
    public static let resultFile = "assay-result.json"

    /// The reference's BASE_IMPORTS (rllm `code_utils/utils.py`), one import per entry, each
    /// tried on its own (a missing module such as pandas is skipped). After the preamble and
    /// after the problem's setup code, any name that shadows a built-in (`from math import *`
    /// rebinds `pow`, breaking `pow(a, b, m)`) is removed again: the preamble must not change the
    /// meaning of correct programs.
    public static let preamble: [String] = [
        "from itertools import accumulate, chain, combinations, count, permutations, product, groupby, islice, repeat",
        "from itertools import zip_longest, cycle, starmap, compress, takewhile, dropwhile, tee, combinations_with_replacement, pairwise",
        "from copy import deepcopy",
        "from string import ascii_lowercase, ascii_uppercase, ascii_letters, digits",
        "from math import floor, log2, log10, sqrt, comb, gcd, ceil, inf, isqrt, factorial, atan2, pi, log, prod, perm, lcm, exp, hypot",
        "from collections import defaultdict, deque, Counter, OrderedDict, namedtuple",
        "from bisect import bisect, bisect_left, bisect_right, insort, insort_left, insort_right",
        "from heapq import heappush, heappop, heapify, merge, nlargest, nsmallest, heapreplace, heappushpop",
        "from functools import reduce, cache, lru_cache, cmp_to_key, partial",
        "from random import randrange, shuffle, randint",
        "from operator import itemgetter, sub, xor, or_, add, mul, attrgetter",
        "from re import search as re_search",
        "from os.path import commonprefix",
        "from typing import List, Tuple, Dict, Set, Optional, Union, Any, Callable, Iterable, Iterator, Generator, Deque",
        "import copy, string, math, collections, bisect, heapq, functools, random, itertools, operator, re, sys, time, fractions, decimal, statistics, datetime",
        "import numpy as np",
        "import pandas as pd",
    ]

    /// The LeetCode prelude of rllm (ListNode/TreeNode helpers and star imports); `pow` and
    /// `abs` keep their built-in meaning (see `preamble`).
    public static let leetCodePrelude = """
        from typing import *
        from collections import *
        from functools import *
        from itertools import *
        from heapq import *
        from bisect import *
        from string import *
        from operator import *
        from math import *
        import math, string, re, random, operator, collections, datetime
        inf = float('inf')
        class ListNode:
            def __init__(self, val=0, next=None):
                self.val = val
                self.next = next
        class TreeNode:
            def __init__(self, val=0, left=None, right=None):
                self.val = val
                self.left = left
                self.right = right
        def list_node(values):
            head = ListNode()
            p = head
            for v in values:
                p.next = ListNode(v)
                p = p.next
            return head.next
        def is_same_list(p1, p2):
            while p1 and p2:
                if p1.val != p2.val: return False
                p1, p2 = p1.next, p2.next
            return p1 is None and p2 is None
        def tree_node(values):
            if not values: return None
            root = TreeNode(values[0]); i = 1; q = deque([root])
            while q:
                node = q.popleft()
                if i < len(values) and values[i] is not None:
                    node.left = TreeNode(values[i]); q.append(node.left)
                i += 1
                if i < len(values) and values[i] is not None:
                    node.right = TreeNode(values[i]); q.append(node.right)
                i += 1
            return root
        def is_same_tree(p, q):
            if not p and not q: return True
            if not p or not q: return False
            return p.val == q.val and is_same_tree(p.left, q.left) and is_same_tree(p.right, q.right)

        """

    public enum Mode: String, Sendable {
        case stdio, call, script
    }

    /// The driver program for one solution, as one file (a cold run): `driverPrelude`, then
    /// `driverCall`. `setup` runs before the solution; `entry` is the default function for calls
    /// and, for scripts, what `check` is called with (when `callCheck`) or which name is guarded.
    public static func program(mode: Mode, solution: String, setup: String?, entry: String?, callCheck: Bool) -> String {
        driverPrelude + driverCall(mode: mode, solution: solution, setup: setup, entry: entry, callCheck: callCheck)
    }

    /// The one line that runs the driver for one solution, after `driverPrelude` has defined it
    /// (the warm path runs the prelude compiled once in its zygote, then this line).
    public static func driverCall(mode: Mode, solution: String, setup: String?, entry: String?, callCheck: Bool) -> String {
        var spec: [(String, JSONValue)] = [
            ("mode", .string(mode.rawValue)),
            ("solution", .string(solution)),
            ("preamble", .array(preamble.map { .string($0) })),
        ]
        if let setup { spec.append(("setup", .string(setup))) }
        if let entry { spec.append(("entry", .string(entry))) }
        spec.append(("call_check", .bool(callCheck)))
        let encoded = Data(JSONValue.object(spec).jsonText.utf8).base64EncodedString()
        return "_assay_driver(\"\(encoded)\")\n"
    }

    /// The stdin request of a call run.
    public static func callRequest(nonce: String, calls: [(function: String?, arguments: [JSONValue])], perCallSeconds: Double) -> [UInt8] {
        let list: [JSONValue] = calls.map { c in
            var o: [(String, JSONValue)] = [("a", .array(c.arguments))]
            if let f = c.function { o.append(("f", .string(f))) }
            return .object(o)
        }
        let req: JSONValue = .object([("nonce", .string(nonce)), ("calls", .array(list)), ("limit", .double(perCallSeconds))])
        return Array(req.jsonText.utf8)
    }

    /// The stdin request of a script run.
    public static func scriptRequest(nonce: String, script: String) -> [UInt8] {
        Array(JSONValue.object([("nonce", .string(nonce)), ("script", .string(script))]).jsonText.utf8)
    }

    /// The driver, the same for every solution: it defines `_assay_driver(spec)` and runs nothing.
    public static let driverPrelude = #"""
import sys
def _assay_driver(spec):
    import os, io, json, base64, builtins, time, signal, traceback
    from _json import encode_basestring_ascii as _qs
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    P = json.loads(base64.b64decode(spec).decode("utf-8"))
    mode = P["mode"]
    # Everything the driver needs after the solution ran is captured now.
    _open, _write, _close, _exit = os.open, os.write, os.close, os._exit
    _isinstance, _type, _len, _repr, _id, _getattr = isinstance, type, len, repr, id, getattr
    _int_repr, _float_repr = int.__repr__, float.__repr__
    _ptime, _wtime, _setitimer = time.process_time, time.perf_counter, signal.setitimer
    _BaseException, _AssertionError, _SystemExit = BaseException, AssertionError, SystemExit
    _join = "".join
    _list, _tuple, _dict, _set, _fset, _str, _bool, _intt, _floatt, _cplx = list, tuple, dict, set, frozenset, str, bool, int, float, complex
    _bytes, _NoneT = bytes, type(None)
    _fmt_exc = traceback.format_exception_only
    req = None
    if mode != "stdio":
        data = b""
        while True:
            chunk = os.read(0, 1 << 20)
            if not chunk:
                break
            data += chunk
        req = json.loads(data.decode("utf-8"))
        del data
        try:
            fd = os.open("/dev/null", os.O_RDONLY)
            os.dup2(fd, 0)
            os.close(fd)
        except OSError:
            os.close(0)
        sys.stdin = io.StringIO("")
    nonce = req.pop("nonce") if req else None

    g = {"__name__": "__main__" if mode == "stdio" else "solution", "__builtins__": builtins}
    for line in P["preamble"]:
        try:
            exec(line, g)
        except Exception:
            pass
    def scrub():
        for name in _list(g):
            if name in builtins.__dict__ and not name.startswith("__") and g[name] is not builtins.__dict__[name]:
                del g[name]
    scrub()
    if P.get("setup"):
        exec(compile(P["setup"], "<setup>", "exec"), g)
        scrub()

    if mode == "stdio":
        exec(compile(P["solution"], "<solution>", "exec"), g)
        return
    # A module the warm harness deferred (numpy, for a submission that never names it) is left
    # alone until something uses it: until then no value can be of its types and no solution
    # can have patched it. Reading its __dict__ does not load it.
    def loaded(m):
        return m is not None and "__assay_deferred__" not in (_getattr(m, "__dict__", None) or {})
    if mode == "script":
        # Only the check script runs after the solution in this process, so only it needs the
        # clean state to restore (copying every module's dict costs ~8 ms per test with numpy).
        builtins_snap = dict(builtins.__dict__)
        mod_snap = [(n, (m, dict(m.__dict__))) for n, m in _list(sys.modules.items()) if loaded(m) and _type(_getattr(m, "__dict__", None)) is _dict]
    _O_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    _memoryview = memoryview

    # ---- out-of-band record ----
    def ser(v, out):
        t = _type(v)
        if v is None: out.append("null")
        elif t is _bool: out.append("true" if v else "false")
        elif t is _intt: out.append(_int_repr(v))
        elif t is _floatt:
            r = _float_repr(v)
            out.append("NaN" if r == "nan" else "Infinity" if r == "inf" else "-Infinity" if r == "-inf" else r)
        elif t is _str: out.append(_qs(v))
        elif t is _list:
            out.append("[")
            first = True
            for x in v:
                if not first: out.append(",")
                first = False
                ser(x, out)
            out.append("]")
        elif t is _dict:
            out.append("{")
            first = True
            for k in v:
                if not first: out.append(",")
                first = False
                out.append(_qs(k)); out.append(":"); ser(v[k], out)
            out.append("}")
        else:
            out.append(_qs(_repr(v)))
    def record(body):
        body["nonce"] = nonce
        out = []
        ser(body, out)
        raw = _join(out).encode("utf-8")
        fd = _open("/work/assay-result.json", _O_FLAGS, 0o600)
        view = _memoryview(raw)
        while view:
            n = _write(fd, view)
            view = view[n:]
        _close(fd)
        try:
            sys.stdout.flush()
        except BaseException:
            pass
        _exit(0)
    def describe(e):
        try:
            return _join(_fmt_exc(_type(e), e)).strip()[-2000:]
        except BaseException:
            return "exception"

    # Values returned to the host: plain JSON with tags for what JSON cannot say.
    def numpy_if_loaded():
        m = sys.modules.get("numpy")
        return m if loaded(m) else None
    def enc(v, depth=0):
        if depth > 200:
            raise RecursionError("value nested too deeply")
        t = _type(v)
        if v is None or t is _bool or t is _str or t is _intt or t is _floatt:
            return v
        if t is _list or t is _tuple:
            return [enc(x, depth + 1) for x in v]
        if t is _dict:
            if all(_type(k) is _str for k in v):
                return {k: enc(x, depth + 1) for k, x in v.items()}
            return {"$dict": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        if t is _set or t is _fset:
            return {"$set": [enc(x, depth + 1) for x in v]}
        if t is _cplx:
            return {"$complex": [v.real, v.imag]}
        if t is _bytes:
            return {"$bytes": v.decode("latin-1")}
        np = numpy_if_loaded()
        if np is not None:
            if _isinstance(v, np.ndarray):
                return enc(v.tolist(), depth + 1)
            if _isinstance(v, np.generic):
                return enc(v.item(), depth + 1)
        if _isinstance(v, _bool): return _bool(v)
        if _isinstance(v, _intt): return _int_repr(v) and _intt(v)
        if _isinstance(v, _floatt): return _floatt(v)
        if _isinstance(v, _str): return _str.__str__(v)
        if _isinstance(v, (_list, _tuple)): return [enc(x, depth + 1) for x in v]
        return {"$repr": _repr(v)}

    class _Timeout(BaseException):
        pass
    def on_prof(signum, frame):
        raise _Timeout()

    try:
        exec(compile(P["solution"], "<solution>", "exec"), g)
    except _BaseException as e:
        if _isinstance(e, _SystemExit):
            record({"load_error": "the solution exited while loading (SystemExit)"})
        record({"load_error": describe(e)})

    def resolve(name):
        if "(" in name or "." in name:
            return eval(name, g)
        sol = g.get("Solution")
        if _isinstance(sol, type) and hasattr(sol, name):
            return _getattr(sol(), name)
        if name in g:
            return g[name]
        raise NameError("the solution defines no function or Solution method named %r" % name)

    if mode == "call":
        signal.signal(signal.SIGPROF, on_prof)
        limit = req["limit"]
        results = []
        for c in req["calls"]:
            c0, w0 = _ptime(), _wtime()
            try:
                fn = resolve(c.get("f") or P["entry"])
                _setitimer(signal.ITIMER_PROF, limit)
                try:
                    r = fn(*c["a"])
                finally:
                    _setitimer(signal.ITIMER_PROF, 0)
                v = enc(r)
                results.append({"v": v, "cpu": (_ptime() - c0) * 1000, "wall": (_wtime() - w0) * 1000})
            except _Timeout:
                results.append({"tle": True, "cpu": (_ptime() - c0) * 1000, "wall": (_wtime() - w0) * 1000})
                break
            except _BaseException as e:
                results.append({"exc": describe(e), "exit": _isinstance(e, _SystemExit), "cpu": (_ptime() - c0) * 1000, "wall": (_wtime() - w0) * 1000})
                break
        record({"results": results})

    # mode == "script": the check script, with the entry point guarded.
    OK_EQ = set()
    for t in (object, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset, type(None), range, bool):
        OK_EQ.add(t.__eq__); OK_EQ.add(t.__ne__)
    import collections as _collections
    for t in (_collections.Counter, _collections.OrderedDict, _collections.defaultdict, _collections.deque):
        OK_EQ.add(t.__eq__); OK_EQ.add(t.__ne__)
    numpy_eq = []
    def allow_numpy_eq():
        # numpy may be imported only by the check itself (or loaded lazily): add its
        # comparisons the first time a checked value is seen after that.
        np = numpy_if_loaded()
        if np is None or numpy_eq:
            return
        numpy_eq.append(np)
        OK_EQ.add(np.ndarray.__eq__); OK_EQ.add(np.ndarray.__ne__)
        OK_EQ.add(np.generic.__eq__); OK_EQ.add(np.generic.__ne__)
        for t in set(np.sctypeDict.values()):
            OK_EQ.add(t.__eq__); OK_EQ.add(t.__ne__)
    def check_value(v):
        allow_numpy_eq()
        seen = set()
        stack = [v]
        n = 0
        while stack:
            x = stack.pop()
            n += 1
            if n > 1000000:
                return
            t = _type(x)
            if t.__eq__ not in OK_EQ or t.__ne__ not in OK_EQ:
                raise _AssertionError("the returned value compares with a custom __eq__ (%s)" % t.__name__)
            if _id(x) in seen:
                continue
            seen.add(_id(x))
            if t in (_list, _tuple, _set, _fset) or (_isinstance(x, (_list, _tuple, _set, _fset)) and t.__iter__ in (_list.__iter__, _tuple.__iter__, _set.__iter__, _fset.__iter__)):
                stack.extend(x)
            elif t is _dict:
                stack.extend(x.keys()); stack.extend(x.values())
            else:
                d = _getattr(x, "__dict__", None)
                if _type(d) is _dict:
                    stack.extend(d.values())
    def guard(fn):
        def guarded(*a, **k):
            r = fn(*a, **k)
            check_value(r)
            return r
        return guarded
    entry = P.get("entry")
    try:
        # The check runs in a namespace of its own (preamble + setup + the solution's other names,
        # never shadowing those), with the built-ins and the preamble's modules restored first:
        # a solution that rebinds `abs`, `math.isclose` or `check` cannot change what the test means.
        for name, md in mod_snap:
            live = md[0].__dict__
            for k, v in md[1].items():
                if live.get(k) is not v:
                    live[k] = v
        for k, v in builtins_snap.items():
            if builtins.__dict__.get(k) is not v:
                builtins.__dict__[k] = v
        T = {"__name__": "assay_test", "__builtins__": builtins}
        for line in P["preamble"]:
            try:
                exec(line, T)
            except Exception:
                pass
        for name in _list(T):
            if name in builtins.__dict__ and not name.startswith("__") and T[name] is not builtins.__dict__[name]:
                del T[name]
        preamble_names = set(T)
        if P.get("setup"):
            exec(compile(P["setup"], "<setup>", "exec"), T)
        for name in _list(T):
            if name in builtins.__dict__ and not name.startswith("__") and T[name] is not builtins.__dict__[name]:
                del T[name]
        # The solution's names override the setup's (a HumanEval prompt's stub), never the
        # preamble's or the built-ins.
        for k in _list(g):
            if k not in preamble_names and k not in builtins.__dict__ and not k.startswith("__"):
                T[k] = g[k]
        if entry and "(" not in entry and "." not in entry and entry in g:
            T[entry] = guard(resolve(entry))
        exec(compile(req["script"], "<test>", "exec"), T)
        if P["call_check"]:
            check = T.get("check")
            if not callable(check):
                raise NameError("the test defines no check(candidate)")
            check(guard(resolve(entry)))
    except _AssertionError as e:
        record({"failed": "assert", "message": describe(e)})
    except _BaseException as e:
        if _isinstance(e, _SystemExit):
            record({"failed": "exit", "message": "the program exited before the checks finished (SystemExit)"})
        record({"failed": "exception", "message": describe(e)})
    record({"passed": True})
"""# + "\n"
}
