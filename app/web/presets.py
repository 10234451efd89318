"""Typical cases as query strings: a preset is a link, so it fills the form with or without JS.

Token counts and costs are illustrative starting points, not measurements; prices come from
the catalog. The self-hosted preset's GPU price and decode throughput are the sourced figures
of shared/reference/pricing-facts.md (H100 SXM at Lambda, Llama 3.1 8B on vLLM); its prefill
throughput is an assumption, labelled as such on the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    summary: str
    values: tuple[tuple[str, str], ...]

    @property
    def query(self) -> str:
        return urlencode(self.values)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "support-chatbot",
        "Support chatbot",
        "200k questions a month growing 5% monthly; long instructions and FAQ in the prompt, cached.",
        (
            ("title", "Support chatbot"),
            ("workload.queries_per_month", "200000"),
            ("workload.monthly_growth", "0.05"),
            ("workload.horizon_months", "12"),
            ("prompted.model", "gpt-4.1"),
            ("prompted.static_prompt_tokens", "4000"),
            ("prompted.dynamic_input_tokens", "800"),
            ("prompted.output_tokens", "300"),
            ("prompted.cache_hit_rate", "0.6"),
            ("finetuned.model", "ft:gpt-4.1-mini"),
            ("finetuned.static_prompt_tokens", "200"),
            ("finetuned.dynamic_input_tokens", "800"),
            ("finetuned.output_tokens", "300"),
            ("finetuned.training.examples", "2000"),
            ("finetuned.cost_per_example", "3"),
            ("finetuned.retrain_every_months", "3"),
            ("finetuned.new_examples_per_retrain", "500"),
            ("factors.requirements_volatility", "medium"),
        ),
    ),
    Preset(
        "document-extraction",
        "Document extraction to strict JSON",
        "50k documents a month; a long schema with examples; a wrong field costs a manual fix.",
        (
            ("title", "Document extraction to strict JSON"),
            ("workload.queries_per_month", "50000"),
            ("workload.horizon_months", "12"),
            ("prompted.model", "gpt-4.1"),
            ("prompted.static_prompt_tokens", "6000"),
            ("prompted.dynamic_input_tokens", "3000"),
            ("prompted.output_tokens", "800"),
            ("prompted.cache_hit_rate", "0.8"),
            ("prompted.error_rate", "0.04"),
            ("prompted.cost_per_error", "2"),
            ("finetuned.model", "ft:gpt-4.1-mini"),
            ("finetuned.static_prompt_tokens", "300"),
            ("finetuned.dynamic_input_tokens", "3000"),
            ("finetuned.output_tokens", "800"),
            ("finetuned.error_rate", "0.015"),
            ("finetuned.cost_per_error", "2"),
            ("finetuned.training.examples", "1500"),
            ("finetuned.training.tokens_per_example", "4000"),
            ("finetuned.cost_per_example", "4"),
            ("factors.requirements_volatility", "low"),
            ("factors.strict_format", "true"),
            ("factors.specialised_domain", "true"),
        ),
    ),
    Preset(
        "classification",
        "High-volume classification",
        "10 million short texts a month into fixed labels; half of them through the batch API.",
        (
            ("title", "High-volume classification"),
            ("workload.queries_per_month", "10000000"),
            ("workload.horizon_months", "12"),
            ("prompted.model", "gpt-4.1-mini"),
            ("prompted.static_prompt_tokens", "2500"),
            ("prompted.dynamic_input_tokens", "200"),
            ("prompted.output_tokens", "5"),
            ("prompted.cache_hit_rate", "0.9"),
            ("prompted.batch_share", "0.5"),
            ("finetuned.model", "ft:gpt-4.1-nano"),
            ("finetuned.static_prompt_tokens", "50"),
            ("finetuned.dynamic_input_tokens", "200"),
            ("finetuned.output_tokens", "5"),
            ("finetuned.batch_share", "0.5"),
            ("finetuned.training.examples", "5000"),
            ("finetuned.training.tokens_per_example", "300"),
            ("finetuned.cost_per_example", "0.5"),
            ("factors.requirements_volatility", "low"),
            ("factors.strict_format", "true"),
        ),
    ),
    Preset(
        "self-hosted-8b",
        "Self-hosted 8B model",
        "20 million queries a month on a fine-tuned 8B model served by vLLM on H100s "
        "(prefill throughput assumed).",
        (
            ("title", "Self-hosted 8B on H100s"),
            ("workload.queries_per_month", "20000000"),
            ("workload.horizon_months", "12"),
            ("prompted.model", "gpt-4.1-mini"),
            ("prompted.static_prompt_tokens", "3000"),
            ("prompted.dynamic_input_tokens", "500"),
            ("prompted.output_tokens", "200"),
            ("prompted.cache_hit_rate", "0.5"),
            ("finetuned.model", ""),
            ("finetuned.static_prompt_tokens", "100"),
            ("finetuned.dynamic_input_tokens", "500"),
            ("finetuned.output_tokens", "200"),
            ("finetuned.training.examples", "3000"),
            ("finetuned.training.gpu_hours", "4"),
            ("finetuned.training.gpu_hourly_price", "3.99"),
            ("finetuned.self_hosted.gpu_hourly_price", "3.99"),
            ("finetuned.self_hosted.gpus_per_replica", "1"),
            ("finetuned.self_hosted.prefill_tokens_per_s", "40000"),
            ("finetuned.self_hosted.decode_tokens_per_s", "8088"),
            ("finetuned.monthly_fixed_cost", "3000"),
        ),
    ),
)
