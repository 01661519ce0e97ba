"""Minimal client for the assay grading server (`assay serve`); standard library only.

Environment: ASSAY_URL (default http://127.0.0.1:8080), ASSAY_TOKEN (bearer token, if the
server runs with --token-file), ASSAY_TIMEOUT (seconds, default 300).
"""
import json
import os
import time
import urllib.error
import urllib.request

ASSAY_URL = os.environ.get("ASSAY_URL", "http://127.0.0.1:8080").rstrip("/")
ASSAY_TOKEN = os.environ.get("ASSAY_TOKEN")
ASSAY_TIMEOUT = float(os.environ.get("ASSAY_TIMEOUT", "300"))


def post(path, body, url=None, token=None, timeout=None, attempts=5):
    """POSTs JSON and returns the decoded answer. Retries 429/503/504 (honouring Retry-After)
    and connection errors; any other error status raises with the server's message."""
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    token = token or ASSAY_TOKEN
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for attempt in range(attempts):
        request = urllib.request.Request((url or ASSAY_URL) + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout or ASSAY_TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            if e.code in (429, 503, 504) and attempt + 1 < attempts:
                time.sleep(float(e.headers.get("Retry-After") or 1 + attempt))
                continue
            raise RuntimeError(f"assay {path}: HTTP {e.code}: {e.read().decode(errors='replace')}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if attempt + 1 < attempts:
                time.sleep(1 + attempt)
                continue
            raise


def problem_from_ground_truth(ground_truth):
    """verl/TACO ground truth ({"inputs", "outputs", "fn_name"?}, a dict or JSON text) or
    open-r1 verification_info ({"test_cases": [{"input", "output"}]}) -> an inline item part.
    Raises ValueError (or TypeError/KeyError) for ground truth that is neither."""
    gt = json.loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    if isinstance(gt, dict) and "test_cases" in gt:
        tests = [{"stdin": t["input"], "stdout": t["output"]} for t in gt["test_cases"]]
        return {"problem": {"tests": tests}}
    if isinstance(gt, dict) and "inputs" in gt:
        return {"problem": {"tests": gt}, "format": "taco"}
    if isinstance(gt, dict):
        return {"problem": gt}  # assay's native format (or any format assay detects)
    raise ValueError(f"cannot turn ground truth of type {type(gt).__name__} into a problem")


def grade(items, options=None, **kw):
    """POST /v1/grade: items are dicts with problem/problem_id and response/code."""
    body = {"items": items}
    if options:
        body["options"] = options
    return post("/v1/grade", body, **kw)["results"]


def grade_rows(rows, options=None, **kw):
    """Grades one batch row by row: each row is a callable that returns its item (a dict) or
    raises ValueError/TypeError/KeyError for a malformed row. A malformed row, and one the
    server cannot read (an unknown problem id, outputs and inputs of different lengths), gets
    a result with reward None and an "error"; the other rows are graded in one request."""
    results, items, where = [], [], []
    for n, row in enumerate(rows):
        try:
            item = row()
        except (ValueError, TypeError, KeyError) as e:
            results.append({"index": n, "reward": None, "error": f"invalid row: {type(e).__name__}: {e}"})
            continue
        results.append(None)
        where.append(n)
        items.append(dict(item, id=n))
    if items:
        graded = grade(items, dict(options or {}, invalid_items="error"), **kw)
        for n, result in zip(where, graded):
            results[n] = result
    return results
