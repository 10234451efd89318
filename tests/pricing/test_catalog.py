"""The catalog loader: shipped files load, bad files stop start-up naming file, model and field,
and negotiated-rate files add, override and discount with per-field provenance."""

from __future__ import annotations

import os
import tempfile
import tomllib
from datetime import date
from pathlib import Path

import pytest

from app.pricing.catalog import PRICE_FIELDS, CatalogError, load_catalog, negotiated_files
from app.settings import ROOT

SHIPPED = ROOT / "pricing_data"

BASE = """
provider = "acme"

[[models]]
id = "acme-large"
name = "Acme Large"
provider = "acme"
kind = "general"
context_window = 400000
batch_discount = 0.5
source = "https://acme.example/pricing"
as_of = 2026-10-01
prices = { input = 2.0, cached_input = 0.2, output = 8.0 }
confidence = "provider"
long_context = { threshold_tokens = 200000, prices = { input = 4.0, cached_input = 0.4, output = 12.0 } }

[[models]]
id = "acme-small"
name = "Acme Small"
provider = "acme"
kind = "general"
source = "https://acme.example/pricing"
as_of = 2026-10-01
prices = { input = 0.5, output = 2.0 }
confidence = "provider"

[[models]]
id = "ft:acme-small"
name = "Acme Small fine-tuned"
provider = "acme"
kind = "fine_tuned"
base_model = "acme-small-2026-01-01"
source = "https://acme.example/pricing"
as_of = 2026-10-01
prices = { input = 1.0, output = 4.0 }
confidence = "provider"
training = { price_per_mtok = 3.0 }
"""


def _dir(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    d = tmp_path / name
    d.mkdir()
    for filename, text in files.items():
        (d / filename).write_text(text, encoding="utf-8")
    return d


def _catalog(tmp_path: Path, negotiated: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    shipped = _dir(tmp_path, "shipped", {"acme.toml": BASE})
    extra = _dir(tmp_path, "extra", negotiated) if negotiated else None
    return load_catalog(shipped, negotiated_files(extra))


def _error(tmp_path: Path, text: str, negotiated: str | None = None) -> str:
    with pytest.raises(CatalogError) as exc:
        if negotiated is None:
            load_catalog(_dir(tmp_path, "bad", {"bad.toml": text}))
        else:
            _catalog(tmp_path, {"deal.toml": negotiated})
    return str(exc.value)


# --- shipped files ------------------------------------------------------------------------


def test_every_shipped_file_loads() -> None:
    catalog = load_catalog(SHIPPED)
    providers = {m.provider for m in catalog.models.values()}
    assert {"openai", "anthropic", "google", "together", "fireworks"} <= providers
    assert catalog.gpus and catalog.throughput


def test_every_shipped_row_has_a_source_and_a_date() -> None:
    catalog = load_catalog(SHIPPED)
    rows = [*catalog.models.values(), *catalog.gpus.values(), *catalog.throughput.values()]
    for row in rows:
        assert str(row.source).startswith("https://"), row.id
        assert isinstance(row.as_of, date), row.id


def test_tiktoken_encodings_are_only_set_on_openai_rows() -> None:
    # Azure OpenAI serves OpenAI's own GPT models, so their rows count tokens exactly too.
    catalog = load_catalog(SHIPPED)
    for entry in catalog.models.values():
        if entry.encoding is not None:
            openai_model = entry.provider == "openai" or (
                entry.provider == "azure" and "/gpt-" in entry.id
            )
            assert openai_model, entry.id


def test_shipped_gpu_prices_cover_h100_a100_l40s() -> None:
    catalog = load_catalog(SHIPPED)
    gpus = " ".join(g.gpu for g in catalog.gpus.values())
    for name in ("H100", "A100 80GB", "L40S"):
        assert name in gpus
    # Several clouds per GPU where prices were found.
    h100_providers = {g.provider for g in catalog.gpus.values() if g.gpu.startswith("H100")}
    assert len(h100_providers) >= 3


def test_shipped_files_are_plain_toml_without_negotiated_tables() -> None:
    for path in SHIPPED.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert "overrides" not in data and "discount_multiplier" not in data, path.name


# --- validation ---------------------------------------------------------------------------


def test_negative_price_names_file_model_and_field(tmp_path: Path) -> None:
    message = _error(
        tmp_path, BASE.replace("input = 0.5, output = 2.0", "input = -0.5, output = 2.0")
    )
    assert "bad.toml" in message
    assert "model 'acme-small', field prices.input" in message


def test_cached_price_above_input_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("cached_input = 0.2", "cached_input = 2.5"))
    assert "model 'acme-large', field prices" in message
    assert "cached_input (2.5) is above input (2.0)" in message


def test_missing_source_is_rejected(tmp_path: Path) -> None:
    text = BASE.replace(
        'source = "https://acme.example/pricing"\nas_of = 2026-10-01\nprices = { input = 0.5',
        "as_of = 2026-10-01\nprices = { input = 0.5",
    )
    message = _error(tmp_path, text)
    assert "model 'acme-small', field source: Field required" in message


def test_unknown_encoding_is_rejected(tmp_path: Path) -> None:
    text = BASE.replace(
        'kind = "general"\nsource', 'kind = "general"\nencoding = "p50k_base"\nsource', 1
    )
    message = _error(tmp_path, text)
    assert "model 'acme-small', field encoding" in message


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    d = _dir(
        tmp_path, "dup", {"a.toml": BASE, "b.toml": BASE.replace('provider = "acme"\n\n', "", 1)}
    )
    with pytest.raises(
        CatalogError, match=r"b\.toml: model 'acme-large', field id: already defined in a\.toml"
    ):
        load_catalog(d)


def test_unknown_base_model_is_rejected(tmp_path: Path) -> None:
    message = _error(
        tmp_path, BASE.replace('base_model = "acme-small-2026-01-01"', 'base_model = "acme-tiny"')
    )
    assert "model 'ft:acme-small', field base_model: 'acme-tiny' is not in the catalog" in message


def test_row_provider_must_match_the_file(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        BASE.replace(
            'provider = "acme"\nkind = "general"\nsource',
            'provider = "other"\nkind = "general"\nsource',
            1,
        ),
    )
    assert "field provider: 'other' differs from the file's provider 'acme'" in message


def test_shutdown_before_deprecation_is_rejected(tmp_path: Path) -> None:
    text = BASE.replace(
        "prices = { input = 0.5, output = 2.0 }",
        "prices = { input = 0.5, output = 2.0 }\nlifecycle = { deprecated = 2027-01-01, shutdown = 2026-06-01 }",
    )
    assert "shutdown (2026-06-01) is before deprecated (2027-01-01)" in _error(tmp_path, text)


def test_long_context_threshold_beyond_the_window_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, BASE.replace("context_window = 400000", "context_window = 128000"))
    assert "threshold_tokens (200000) is not below context_window (128000)" in message


def test_shipped_files_may_not_carry_overrides(tmp_path: Path) -> None:
    text = BASE + "\n[discount_multiplier]\nacme = 0.9\n"
    assert "only negotiated-rate files" in _error(tmp_path, text)


def test_missing_extra_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not a directory"):
        negotiated_files(tmp_path / "nowhere")


# --- negotiated rates ---------------------------------------------------------------------

OVERRIDE = """
[[overrides]]
id = "acme-large"
source = "Acme MSA 2026-17, schedule B"
as_of = 2026-09-15
prices = { input = 1.5 }
"""


def test_catalog_prices_are_labelled_with_their_model() -> None:
    catalog = load_catalog(SHIPPED)
    assert catalog.price_source("gpt-4o", "prices.input") == "catalog:gpt-4o"
    origin = catalog.price_origin("gpt-4o", "prices.input")
    assert origin is not None and origin.file == "openai.toml" and origin.origin == "catalog"


def test_override_replaces_only_the_fields_it_names(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, {"deal.toml": OVERRIDE})
    entry = catalog.models["acme-large"]
    assert entry.prices.input == 1.5
    assert entry.prices.output == 8.0
    assert catalog.price_source("acme-large", "prices.input") == "negotiated:deal.toml"
    assert catalog.price_source("acme-large", "prices.output") == "catalog:acme-large"
    origin = catalog.price_origin("acme-large", "prices.input")
    assert origin is not None and origin.source == "Acme MSA 2026-17, schedule B"
    assert origin.as_of == date(2026, 9, 15)
    # The row is as old as its oldest price.
    assert entry.as_of == date(2026, 9, 15)


def test_discount_multiplier_scales_token_prices_of_the_provider(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, {"deal.toml": "[discount_multiplier]\nacme = 0.8\n"})
    large = catalog.models["acme-large"]
    assert large.prices.input == pytest.approx(1.6)
    assert large.prices.cached_input == pytest.approx(0.16)
    assert large.long_context is not None and large.long_context.prices.output == pytest.approx(9.6)
    # Training and batch discount are not token prices: untouched.
    assert catalog.models["ft:acme-small"].training.price_per_mtok == 3.0  # type: ignore[union-attr]
    assert catalog.price_source("acme-large", "batch_discount") == "catalog:acme-large"
    origin = catalog.price_origin("acme-small", "prices.output")
    assert (
        origin is not None
        and origin.origin == "negotiated"
        and origin.note == "x0.8 discount multiplier"
    )


def test_override_wins_over_discount_multiplier(tmp_path: Path) -> None:
    catalog = _catalog(
        tmp_path, {"a.toml": "[discount_multiplier]\nacme = 0.5\n", "b.toml": OVERRIDE}
    )
    large = catalog.models["acme-large"]
    assert large.prices.input == 1.5  # the negotiated absolute price, not 1.5 * 0.5
    assert large.prices.output == 4.0
    assert catalog.price_source("acme-large", "prices.input") == "negotiated:b.toml"
    assert catalog.price_source("acme-large", "prices.output") == "negotiated:a.toml"


def test_negotiated_file_can_add_a_model(tmp_path: Path) -> None:
    added = (
        BASE.split("[[models]]")[2]
        .replace("acme-small", "acme-private")
        .replace("Acme Small", "Acme Private")
    )
    catalog = _catalog(tmp_path, {"private.toml": "[[models]]" + added})
    assert "acme-private" in catalog.models
    assert catalog.price_source("acme-private", "prices.input") == "negotiated:private.toml"
    assert catalog.negotiated_files == ["private.toml"]


def test_negotiated_file_may_not_redefine_a_shipped_model(tmp_path: Path) -> None:
    message = _error(tmp_path, "", negotiated="[[models]]" + BASE.split("[[models]]")[2])
    assert (
        "model 'acme-small', field id: already defined in acme.toml (use [[overrides]] to change it)"
        in message
    )


def test_override_of_unknown_model_suggests_close_ids(tmp_path: Path) -> None:
    message = _error(
        tmp_path, "", negotiated=OVERRIDE.replace('id = "acme-large"', 'id = "acme-larg"')
    )
    assert (
        "deal.toml: override 'acme-larg', field id: not in the catalog; did you mean acme-large"
        in message
    )


def test_override_that_makes_cached_above_input_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, "", negotiated=OVERRIDE.replace("input = 1.5", "input = 0.1"))
    assert "deal.toml: override 'acme-large'" in message
    assert "cached_input (0.2) is above input (0.1)" in message


def test_override_needs_a_source(tmp_path: Path) -> None:
    message = _error(
        tmp_path, "", negotiated=OVERRIDE.replace('source = "Acme MSA 2026-17, schedule B"\n', "")
    )
    assert "override 'acme-large', field source: Field required" in message


def test_two_files_overriding_one_field_is_a_contradiction(tmp_path: Path) -> None:
    with pytest.raises(
        CatalogError,
        match=r"b\.toml: override 'acme-large', field prices\.input: also overridden in a\.toml",
    ):
        _catalog(tmp_path, {"a.toml": OVERRIDE, "b.toml": OVERRIDE})


def test_discount_for_unknown_provider_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, "", negotiated="[discount_multiplier]\nacm = 0.9\n")
    assert (
        "field discount_multiplier.acm: no model of provider 'acm' in the catalog; did you mean acme"
        in message
    )


def test_non_positive_discount_multiplier_is_rejected(tmp_path: Path) -> None:
    message = _error(tmp_path, "", negotiated="[discount_multiplier]\nacme = 0\n")
    assert "discount_multiplier.acme" in message


def test_every_price_field_of_a_shipped_row_has_an_origin() -> None:
    catalog = load_catalog(SHIPPED)
    entry = catalog.models["gpt-5.5"]
    recorded = set(catalog.provenance["gpt-5.5"])
    assert "prices.input" in recorded and "long_context.prices.output" in recorded
    assert recorded <= set(PRICE_FIELDS)
    assert entry.prices.cache_write is None and "prices.cache_write" not in recorded


# --- what the loader reads ----------------------------------------------------------------


def test_catalog_price_above_the_requests_limit_is_refused(tmp_path: Path) -> None:
    # 1e308 passed the old schema and then made every page answer 500.
    message = _error(
        tmp_path, BASE.replace("input = 0.5, output = 2.0", "input = 1e308, output = 2.0")
    )
    assert "bad.toml" in message
    assert "model 'acme-small', field prices.input" in message
    assert "less than or equal to 100000" in message


def test_hosting_fee_above_the_limit_is_refused(tmp_path: Path) -> None:
    text = BASE.replace(
        "training = { price_per_mtok = 3.0 }",
        "training = { price_per_mtok = 3.0 }\nhosting_per_month = 1e13",
    )
    message = _error(tmp_path, text)
    assert "model 'ft:acme-small', field hosting_per_month" in message


def test_negotiated_override_above_the_limit_is_refused(tmp_path: Path) -> None:
    deal = 'id = "acme-small"\nsource = "contract 7"\nas_of = 2026-10-01\nprices = { output = 1e306 }\n'
    message = _error(tmp_path, "", negotiated="[[overrides]]\n" + deal)
    assert "deal.toml" in message and "prices.output" in message


def test_a_fifo_named_toml_is_refused_without_blocking(tmp_path: Path) -> None:
    d = _dir(tmp_path, "fifo", {"acme.toml": BASE})
    os.mkfifo(d / "zz.toml")
    # Nobody writes to the FIFO: a blocking open would hang here for ever.
    with pytest.raises(CatalogError, match=r"zz\.toml: not a regular file"):
        load_catalog(d)


def test_a_directory_named_toml_is_refused(tmp_path: Path) -> None:
    d = _dir(tmp_path, "dirs", {"acme.toml": BASE})
    (d / "sub.toml").mkdir()
    with pytest.raises(CatalogError, match=r"sub\.toml: not a regular file"):
        load_catalog(d)


def test_a_file_above_the_size_limit_is_refused(tmp_path: Path) -> None:
    d = _dir(tmp_path, "big", {"acme.toml": BASE + "#" * 5000 + "\n"})
    with pytest.raises(CatalogError, match=r"acme\.toml: \d+ bytes, above the limit of 4000"):
        load_catalog(d, max_file_bytes=4000)
    assert "acme-small" in load_catalog(d, max_file_bytes=10_000).models


def test_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    d = tmp_path / "latin"
    d.mkdir()
    (d / "acme.toml").write_bytes(BASE.replace("Acme Small", "Acme Sm\xe4ll").encode("latin-1"))
    with pytest.raises(CatalogError, match=r"acme\.toml: not valid UTF-8 \(byte \d+"):
        load_catalog(d)


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a=" * 5000 + "1" + "}" * 5000])
def test_deeply_nested_toml_names_the_file(tmp_path: Path, nested: str) -> None:
    message = _error(tmp_path, f"notes = {nested}\n")
    assert "bad.toml: not valid TOML: arrays or tables nested too deeply" in message


def test_the_size_limit_is_a_documented_setting() -> None:
    from app.settings import Settings

    assert Settings().pricing_max_file_bytes == 2_000_000
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert "`PRICING_MAX_FILE_BYTES`" in text


# --- lifecycle ----------------------------------------------------------------------------

TODAY = date(2026, 12, 1)
SUCCESSOR = 'lifecycle = { shutdown = 2026-11-30, successor = "acme-small" }\n'


def _with(text: str, row: str, extra: str) -> str:
    """BASE with `extra` lines added to the row whose id is `row`."""
    marker = f'id = "{row}"\n'
    assert marker in text
    return text.replace(marker, marker + extra, 1)


def _load(tmp_path: Path, text: str, today: date = TODAY):  # type: ignore[no-untyped-def]
    d = Path(tempfile.mkdtemp(dir=tmp_path))
    (d / "acme.toml").write_text(text, encoding="utf-8")
    return load_catalog(d, today=today)


def test_a_row_past_its_shutdown_must_be_marked_retired(tmp_path: Path) -> None:
    text = _with(BASE, "acme-large", SUCCESSOR)
    with pytest.raises(
        CatalogError,
        match=r"acme\.toml: model 'acme-large', field retired: shut down on 2026-11-30, on or "
        r"before 2026-12-01",
    ):
        _load(tmp_path, text)


def test_a_shutdown_on_the_load_date_counts_as_past(tmp_path: Path) -> None:
    text = _with(BASE, "acme-large", "lifecycle = { shutdown = 2026-12-01 }\n")
    with pytest.raises(CatalogError, match="field retired: shut down on 2026-12-01"):
        _load(tmp_path, text)
    assert not _load(tmp_path, text, today=date(2026, 11, 30)).models["acme-large"].retired


def test_a_retired_row_with_a_future_shutdown_is_a_contradiction(tmp_path: Path) -> None:
    text = _with(BASE, "acme-large", "retired = true\nlifecycle = { shutdown = 2027-02-01 }\n")
    with pytest.raises(CatalogError, match=r"retired, yet lifecycle\.shutdown is 2027-02-01"):
        _load(tmp_path, text)


def test_retired_rows_stay_for_lookups_but_are_not_offered(tmp_path: Path) -> None:
    catalog = _load(tmp_path, _with(BASE, "acme-large", "retired = true\n" + SUCCESSOR))
    assert catalog.get("acme-large") is not None
    assert {m.id for m in catalog.offered()} == {"acme-small", "ft:acme-small"}
    assert catalog.current_successor("acme-large") is catalog.models["acme-small"]


def test_suggestions_name_only_offered_rows(tmp_path: Path) -> None:
    catalog = _load(tmp_path, _with(BASE, "acme-large", "retired = true\n" + SUCCESSOR))
    assert "acme-large" not in catalog.suggest("acme-larg")


def test_successor_must_be_a_catalog_id(tmp_path: Path) -> None:
    text = _with(BASE, "acme-small", 'lifecycle = { successor = "acme-medium" }\n')
    with pytest.raises(
        CatalogError,
        match=r"model 'acme-small', field lifecycle.successor: 'acme-medium' is not a catalog "
        r"id; did you mean",
    ):
        _load(tmp_path, text)


def test_successor_chains_may_not_loop(tmp_path: Path) -> None:
    text = _with(BASE, "acme-small", 'lifecycle = { successor = "acme-large" }\n')
    text = _with(text, "acme-large", 'lifecycle = { successor = "acme-small" }\n')
    with pytest.raises(CatalogError, match="chain of successors comes back"):
        _load(tmp_path, text)


OLD = """
[[models]]
id = "acme-old"
name = "Acme Old"
provider = "acme"
kind = "general"
retired = true
lifecycle = { shutdown = 2026-06-30, successor = "acme-large" }
source = "https://acme.example/pricing"
as_of = 2026-06-01
prices = { input = 1.0, output = 3.0 }
confidence = "provider"
"""


def test_successor_chain_skips_retired_rows(tmp_path: Path) -> None:
    # acme-old -> acme-large (retired too) -> acme-small: the way on is acme-small.
    catalog = _load(tmp_path, _with(BASE + OLD, "acme-large", "retired = true\n" + SUCCESSOR))
    assert catalog.current_successor("acme-old") is catalog.models["acme-small"]
    assert catalog.current_successor("acme-small") is None


def test_a_fine_tuned_row_shuts_down_with_its_base(tmp_path: Path) -> None:
    text = _with(
        BASE,
        "acme-small",
        'lifecycle = { shutdown = 2027-03-01, source = "https://acme.example/d" }\n',
    )
    text = _with(
        text,
        "ft:acme-small",
        "lifecycle = { shutdown = 2027-06-01, fine_tuning_closes = 2027-05-01 }\n",
    )
    life = _load(tmp_path, text).models["ft:acme-small"].lifecycle
    assert life is not None
    assert life.shutdown == date(2027, 3, 1)
    assert life.fine_tuning_closes == date(2027, 3, 1)
    assert str(life.source) == "https://acme.example/d"
    assert "from base model 'acme-small'" in (life.note or "")


def test_a_fine_tuned_row_keeps_its_own_earlier_shutdown(tmp_path: Path) -> None:
    text = _with(BASE, "acme-small", "lifecycle = { shutdown = 2027-03-01 }\n")
    text = _with(text, "ft:acme-small", "lifecycle = { shutdown = 2027-01-15 }\n")
    life = _load(tmp_path, text).models["ft:acme-small"].lifecycle
    assert life is not None and life.shutdown == date(2027, 1, 15) and life.note is None


def test_a_fine_tuned_row_of_a_retired_base_must_be_retired_too(tmp_path: Path) -> None:
    text = _with(
        BASE, "acme-small", "retired = true\n" + SUCCESSOR.replace("acme-small", "acme-large")
    )
    with pytest.raises(
        CatalogError,
        match=r"model 'ft:acme-small', field retired: shut down on 2026-11-30 \(shutdown "
        r"2026-11-30 from base model 'acme-small'\)",
    ):
        _load(tmp_path, text)


def test_routes_taking_training_jobs_through_a_date(tmp_path: Path) -> None:
    text = _with(BASE, "ft:acme-small", "lifecycle = { fine_tuning_closes = 2027-01-06 }\n")
    catalog = _load(tmp_path, text)
    ft = catalog.models["ft:acme-small"]
    assert catalog.takes_training_jobs(ft, date(2027, 1, 5))
    assert not catalog.takes_training_jobs(ft, date(2027, 1, 6))
    # A general row has no training price: it is no route.
    assert not catalog.takes_training_jobs(catalog.models["acme-large"], date(2027, 1, 1))


def test_a_row_that_shuts_down_while_the_process_runs_is_no_longer_offered(
    tmp_path: Path,
) -> None:
    catalog = _load(tmp_path, _with(BASE, "acme-large", "lifecycle = { shutdown = 2027-01-14 }\n"))
    assert "acme-large" in {m.id for m in catalog.offered(date(2027, 1, 13))}
    assert "acme-large" not in {m.id for m in catalog.offered(date(2027, 1, 14))}
    assert catalog.get("acme-large") is not None
