"""The spreadsheet formulas of docs/spreadsheets.md, run in a real LibreOffice Calc.

The inputs and the Calc formulas are read from the doc's `calc-inputs` and `calc` blocks,
pointed at this checkout's app served on loopback, and entered in a headless Calc (through
UNO: saved, then opened again with links updated on load, so every WEBSERVICE fetches). The
sheet runs in an en-US and a de-DE locale (comma decimals), for a scenario that pays back and
one that never does; every cell must equal what the API answers for the same scenario.

Skipped loudly where LibreOffice Calc or Debian's python3-uno is missing; a failure under
CI=true, where `make test` installs them (the Makefile's `calc` target).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "spreadsheets.md"
HOST = "http://tune.example.internal"
SYSTEM_PYTHON = "/usr/bin/python3"
HELPER = Path(__file__).parent / "fixtures" / "calc_sheet.py"
# The scenario inputs of the doc's sheet, by cell, and the query names they fill.
QUERY_OF = {
    "B1": "workload.queries_per_month",
    "B2": "workload.monthly_growth",
    "B3": "workload.horizon_months",
    "B4": "prompted.model",
    "B5": "finetuned.model",
}


def block(kind: str) -> dict[str, str]:
    """`CELL: content` lines of the doc's fenced block of that kind, in order."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"^```{re.escape(kind)}\n(.*?)^```", text, flags=re.M | re.S)
    assert found, f"no ```{kind} block in {DOC.name}"
    cells = {}
    for line in found.group(1).splitlines():
        ref, _, content = line.partition(": ")
        assert re.fullmatch(r"[A-Z]+[0-9]+", ref), line
        cells[ref] = content
    return cells


def test_the_doc_gives_the_same_sheet_for_calc_and_excel() -> None:
    calc, excel = block("calc"), block("excel")
    assert set(QUERY_OF) == set(block("calc-inputs"))
    # Excel's form is Calc's with `,` between arguments (rows 11 to 14 repeat row 10's shape).
    for ref, formula in excel.items():
        assert ref in calc
        assert _with_commas(calc[ref]) == formula, ref


def _with_commas(formula: str) -> str:
    """Calc's `;` argument separators as Excel's en-US `,` (not inside string literals)."""
    parts = formula.split('"')
    return '"'.join(p.replace(";", ",") if i % 2 == 0 else p for i, p in enumerate(parts))


def skip_loudly(reason: str) -> None:
    message = f"LIBREOFFICE TEST NOT RUN: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (make test installs libreoffice-calc under CI=true)")
    print(f"\nSKIPPING: {message}")
    pytest.skip(message)


def calc_available() -> str | None:
    if shutil.which("soffice") is None:
        return "soffice is missing (apt-get install libreoffice-calc python3-uno)"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        return f"{SYSTEM_PYTHON} cannot import uno (apt-get install python3-uno)"
    return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("the app did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def api(base: str, query: list[tuple[str, str]]) -> str:
    with urllib.request.urlopen(f"{base}/api/v1/compare?{urlencode(query)}", timeout=10) as r:
        return str(r.read().decode())


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


SHEETS = [
    # (name, office locale, queries per month): 250,000 pays back; 1,000 never does.
    ("en_pays", "en-US", None),
    ("de_pays", "de-DE", None),
    ("de_never", "de-DE", 1000),
]


@pytest.fixture(scope="module")
def results(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    why = calc_available()
    if why is not None:
        skip_loudly(why)
    workdir = tmp_path_factory.mktemp("calc")
    formulas = {ref: f.replace(HOST, server) for ref, f in block("calc").items()}
    # The formula the doc used to give, to show the locale is really comma-decimal.
    formulas["E10"] = "=VALUE(C10)"
    sheets = []
    for name, locale, volume in SHEETS:
        inputs: dict[str, object] = {
            ref: _number(v) if re.fullmatch(r"[0-9.]+", v) else v
            for ref, v in block("calc-inputs").items()
        }
        if volume is not None:
            inputs["B1"] = volume
        sheets.append({"name": name, "locale": locale, "inputs": inputs, "formulas": formulas})
    spec = workdir / "spec.json"
    spec.write_text(json.dumps({"workdir": str(workdir), "sheets": sheets}), encoding="utf-8")
    done = subprocess.run(
        [SYSTEM_PYTHON, str(HELPER), str(spec)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, dict] = json.loads(done.stdout.strip().splitlines()[-1])
    for name, _, _ in SHEETS:
        out[name]["inputs"] = next(s["inputs"] for s in sheets if s["name"] == name)
    return out


@pytest.mark.parametrize("name", [s[0] for s in SHEETS])
def test_every_cell_equals_the_apis_answer(
    results: dict[str, dict], server: str, name: str
) -> None:
    sheet = results[name]
    inputs = sheet["inputs"]
    scenario = [(QUERY_OF[ref], str(inputs[ref])) for ref in QUERY_OF]
    # B7, the scenario's URL, holds `.` decimals whatever the locale.
    url = sheet["B7"]["string"]
    assert url.startswith(server + "/api/v1/compare?")
    assert dict(parse_qsl(urlsplit(url).query)) == dict(scenario)
    checked = 0
    for ref, formula in block("calc").items():
        field = re.search(r"field=([a-z_.0-9]+)", formula)
        if not formula.startswith("=WEBSERVICE") or field is None:
            continue
        answer = api(server, [*scenario, ("field", field.group(1))])
        raw = sheet[ref]
        assert raw["error"] == 0 and raw["string"] == answer, (ref, raw, answer)
        typed_ref = "D" + ref[1:]
        if typed_ref in sheet:
            typed = sheet[typed_ref]
            assert typed["error"] == 0, (typed_ref, typed)
            if answer == "":
                assert typed["string"] == "never", (typed_ref, typed)
            else:
                assert typed["result"] == 1 and typed["value"] == float(answer), (typed_ref, typed)
        checked += 1
    assert checked >= 5


def test_the_scenario_that_never_pays_back_says_never(results: dict[str, dict]) -> None:
    assert results["de_never"]["D11"]["string"] == "never"
    assert results["de_pays"]["D11"]["string"] != "never"


def test_the_locale_was_comma_decimal(results: dict[str, dict]) -> None:
    # VALUE() reads "63653.93..." with the locale's decimal comma and fails; NUMBERVALUE does not.
    assert results["de_pays"]["E10"]["error"] != 0
    assert results["en_pays"]["E10"]["error"] == 0
    assert results["en_pays"]["E10"]["value"] == results["en_pays"]["D10"]["value"]
