"""`make prices-report`: the catalog's age per provider, stale rows, and what changes soon."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.pricing.__main__ import main
from app.pricing.catalog import load_catalog
from app.pricing.report import report

CATALOG = """
provider = "acme"

[[models]]
id = "acme-old"
name = "Acme Old"
provider = "acme"
kind = "general"
retired = true
lifecycle = { shutdown = 2026-06-30, successor = "acme-large" }
source = "https://acme.example/pricing"
as_of = 2026-01-10
confidence = "provider"
prices = { input = 1.0, output = 3.0 }

[[models]]
id = "acme-large"
name = "Acme Large"
provider = "acme"
kind = "general"
lifecycle = { deprecated = 2026-12-15, shutdown = 2027-02-01, successor = "acme-next" }
source = "https://acme.example/pricing"
as_of = 2026-07-01
confidence = "provider"
prices = { input = 2.0, output = 8.0 }

[[models.price_changes]]
from = 2027-01-01
prices = { input = 2.5 }
source = "https://acme.example/blog"
as_of = 2026-11-20
confidence = "provider"

[[models]]
id = "acme-next"
name = "Acme Next"
provider = "acme"
kind = "general"
source = "https://tracker.example/acme"
as_of = 2026-11-20
confidence = "secondary"
prices = { input = 3.0, output = 9.0 }
lifecycle = { shutdown = 2027-06-01 }

[[models]]
id = "ft:acme-next"
name = "Acme Next tuned"
provider = "acme"
kind = "fine_tuned"
base_model = "acme-next"
source = "https://acme.example/pricing"
as_of = 2026-11-01
confidence = "provider"
prices = { input = 4.0, output = 12.0 }
training = { price_per_mtok = 5.0, source = "https://acme.example/ft", as_of = 2026-05-01 }
lifecycle = { fine_tuning_closes = 2027-01-20 }

[[gpus]]
id = "h100-acme"
gpu = "H100"
provider = "acme-cloud"
offering = "on demand"
hourly_price = 3.0
source = "https://acme.example/gpus"
as_of = 2026-11-09
confidence = "secondary"
"""

TODAY = date(2026, 12, 1)


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    (tmp_path / "acme.toml").write_text(CATALOG, encoding="utf-8")
    return tmp_path


def test_report_by_hand(catalog_dir: Path) -> None:
    text = report(load_catalog(catalog_dir, today=TODAY), TODAY, 120, 90)
    lines = text.splitlines()
    # acme: 3 offered rows (acme-old is retired), 1 secondary; oldest date is ft:acme-next's
    # training price of 2026-05-01 (214 days), newest 2026-11-20.
    assert (
        "  acme                       3        1          1  2026-05-01  2026-11-20   214" in lines
    )
    assert (
        "  gpus                       1        0          1  2026-11-09  2026-11-09    22" in lines
    )
    stale = lines[
        lines.index("Past the stale threshold (2)") + 1 : lines.index(
            "Past the stale threshold (2)"
        )
        + 3
    ]
    assert stale == [
        "  2026-05-01   214 days  training price   ft:acme-next  (acme.toml)",
        "  2026-07-01   153 days  prices           acme-large  (acme.toml)",
    ]
    # Within 90 days (to 2027-03-01): acme-large's deprecation, price change and shutdown, and
    # ft:acme-next's closure; acme-next's shutdown on 2027-06-01 is further off.
    start = lines.index("Lifecycle dates and price changes within 90 days (4)")
    assert lines[start + 1 :] == [
        "  2026-12-15  in  14 days  deprecated         acme-large  (successor acme-next; acme.toml)",
        "  2027-01-01  in  31 days  price change       acme-large  (input 2.5; acme.toml)",
        "  2027-01-20  in  50 days  fine-tuning closes ft:acme-next  (no new training jobs; acme.toml)",
        "  2027-02-01  in  62 days  shutdown           acme-large  (successor acme-next; acme.toml)",
    ]


def test_report_looks_further_on_request(catalog_dir: Path) -> None:
    text = report(load_catalog(catalog_dir, today=TODAY), TODAY, 120, 200)
    assert "2027-06-01  in 182 days  shutdown           acme-next" in text
    # The fine-tuned row inherits its base's shutdown.
    assert "2027-06-01  in 182 days  shutdown           ft:acme-next" in text


def test_cli_prints_the_report(catalog_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--dir", str(catalog_dir), "--today", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Catalog report for 2026-12-01: prices are stale after")
    assert "Past the stale threshold (2)" in out


def test_cli_report_names_a_broken_catalog(
    catalog_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # On 2027-02-02 acme-large has shut down without being marked retired.
    assert main(["report", "--dir", str(catalog_dir), "--today", "2027-02-02"]) == 2
    assert "model 'acme-large', field retired" in capsys.readouterr().err
