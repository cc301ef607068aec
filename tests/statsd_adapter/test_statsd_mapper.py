"""The mapper beyond the reference vectors: strict config errors, glob/regex semantics, the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from podkit.statsd_adapter.mapper import (
    DEFAULT_BUCKETS,
    DEFAULT_QUANTILES,
    Action,
    LRUCache,
    Mapper,
    MapperConfigError,
    MappingError,
    MatchType,
    MetricMapper,
    ObserverType,
    Quantile,
    RandomReplacementCache,
    load_config,
    load_config_file,
    load_mapper,
    make_cache,
)
from podkit.statsd_adapter.mapper.goregex import GoRegexError, compile_go_regex


def mapper(text: str, **options: object) -> MetricMapper:
    return MetricMapper.from_yaml(text, **options)  # type: ignore[arg-type]


def config_error(text: str) -> str:
    with pytest.raises(MapperConfigError) as caught:
        load_config(text)
    return str(caught.value)


# -- strict configuration ---------------------------------------------------------------------------


def test_unknown_mapping_key_names_the_key_and_the_mapping() -> None:
    message = config_error(
        "mappings:\n- match: a.*\n  name: ok\n- match: b.*\n  name: fine\n  lables: {x: y}\n"
    )
    assert "mappings[1]" in message
    assert "'lables'" in message
    assert 'match "b.*"' in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("mapings: []\n", "unknown key 'mapings'"),
        ("defaults:\n  observer: histogram\n", "defaults: unknown key 'observer'"),
        ("mappings:\n- match: a.*\n  name: x\n  buckets: [1]\n", "go under histogram_options"),
        (
            "mappings:\n- match: a.*\n  name: x\n  observer_type: summary\n  summary_options: {maxage: 1m}\n",
            "mappings[0] (match \"a.*\").summary_options: unknown key 'maxage'",
        ),
        (
            "mappings:\n- match: a.*\n  name: x\n  observer_type: summary\n  summary_options:\n    quantiles: [{q: 0.5}]\n",
            "quantiles[0]: unknown key 'q'",
        ),
        (
            "mappings:\n- match: a.*\n  name: x\n  observer_type: histogram\n  histogram_options: {bucket: [1]}\n",
            "unknown key 'bucket'",
        ),
    ],
)
def test_unknown_keys_anywhere_are_rejected(text: str, needle: str) -> None:
    assert needle in config_error(text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("mappings: [\n", "not valid YAML"),
        ("mappings:\n- match: *.x\n  name: y\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
        ("mappings: {match: a}\n", "must be a list"),
        ("mappings:\n- just a string\n", "mappings[0] must be a mapping"),
        ("mappings:\n- match: a.*\n  name: x\n  name: y\n", "defined twice"),
    ],
)
def test_bad_yaml_shapes(text: str, needle: str) -> None:
    assert needle in config_error(text)


@pytest.mark.parametrize("label", ["a", "1abc", "bad-label", "with.dot", "é"])
def test_bad_label_names(label: str) -> None:
    message = config_error(f'mappings:\n- match: a.*\n  name: x\n  labels: {{"{label}": v}}\n')
    assert "invalid label key" in message
    assert "mappings[0]" in message


@pytest.mark.parametrize("name", ["0foo", "foo-bar", "foo.bar", "$", "a b"])
def test_bad_metric_names(name: str) -> None:
    assert "invalid metric name" in config_error(f'mappings:\n- match: a.*\n  name: "{name}"\n')


@pytest.mark.parametrize(
    "match", ["", "a..b", "a.b.", ".a", "a.*b", "1abc.x", "a.b!c", "a.-b", "a.b---c"]
)
def test_bad_glob_matches(match: str) -> None:
    assert "invalid glob match" in config_error(f'mappings:\n- match: "{match}"\n  name: x\n')


@pytest.mark.parametrize(
    ("regex", "why"),
    [
        ("*.foo", "nothing to repeat"),
        ("(a", "missing"),
        ("a(?=b)", "lookahead"),
        ("(a)\\\\1", "backreferences"),
        ("\\\\pL+", "Unicode class"),
        ("a*+", "possessive"),
        ("(?>a)", "atomic"),
        ("a\\\\Z", "invalid escape"),
    ],
)
def test_bad_regexes(regex: str, why: str) -> None:
    message = config_error(f'mappings:\n- match: "{regex}"\n  match_type: regex\n  name: x\n')
    assert "invalid regex" in message
    assert why in message


@pytest.mark.parametrize(
    ("snippet", "needle"),
    [
        ("  action: keep\n", "invalid action type 'keep'"),
        ("  match_type: fsm\n", "invalid match type 'fsm'"),
        ("  match_metric_type: timer\n", "invalid metric type 'timer'"),
        ("  observer_type: hist\n", "invalid observer type 'hist'"),
        ("  ttl: 10\n", "must be a duration with a unit"),
        ("  ttl: 10 parsecs\n", "ttl"),
        ("  honor_labels: maybe\n", "honor_labels must be true or false"),
        ("  scale: big\n", "scale must be a number"),
        ("  labels: [a, b]\n", "labels must be a mapping"),
        (
            "  observer_type: histogram\n  summary_options: {max_age: 1m}\n",
            "cannot use the histogram",
        ),
        (
            "  observer_type: summary\n  histogram_options: {buckets: [1]}\n",
            "cannot use the summary",
        ),
        (
            "  observer_type: summary\n  summary_options: {age_buckets: -1}\n",
            "age_buckets must be a whole number",
        ),
    ],
)
def test_bad_values(snippet: str, needle: str) -> None:
    message = config_error(f"mappings:\n- match: a.*\n  name: x\n{snippet}")
    assert needle in message
    assert "mappings[0]" in message


def test_missing_name() -> None:
    assert "does not set a metric name" in config_error("mappings:\n- match: a.*\n")


def test_empty_configs_are_valid() -> None:
    for text in ("", "---\n", "mappings: []\n", "defaults: {}\nmappings:\n"):
        config = load_config(text)
        assert config.mappings == ()
        assert config.defaults.histogram_options.buckets == DEFAULT_BUCKETS
        assert config.defaults.summary_options.quantiles == DEFAULT_QUANTILES


def test_every_documented_key_is_accepted() -> None:
    config = load_config(
        """
defaults:
  observer_type: histogram
  match_type: glob
  glob_disable_ordering: true
  ttl: 1m
  summary_options: {quantiles: [{quantile: 0.9, error: 0.01}], max_age: 2m, age_buckets: 3, buf_cap: 50}
  histogram_options: {buckets: [1, 2], native_histogram_bucket_factor: 1.1, native_histogram_max_buckets: 100}
mappings:
- match: "a.*"
  name: "a_${1}"
  labels: {first: "$1"}
  honor_labels: true
  observer_type: summary
  match_type: glob
  help: "Help text"
  action: map
  match_metric_type: observer
  ttl: 30s
  summary_options: {max_age: 5m}
  scale: 1e-3
- match: "b\\\\.(.*)"
  match_type: regex
  name: "b"
  timer_type: histogram
  histogram_options: {buckets: [5]}
"""
    )
    first, second = config.mappings
    assert first.honor_labels is True
    assert first.help == "Help text"
    assert first.ttl == 30.0
    assert first.scale == 0.001
    assert first.summary_options is not None
    assert first.summary_options.max_age == 300.0
    assert first.summary_options.age_buckets == 3  # inherited from defaults
    assert first.summary_options.quantiles[0].quantile == 0.9
    assert second.observer_type is ObserverType.HISTOGRAM  # legacy timer_type
    assert second.match_type is MatchType.REGEX
    assert second.histogram_options is not None
    assert second.histogram_options.buckets == (5.0,)
    assert second.histogram_options.native_histogram_bucket_factor == 1.1  # inherited
    assert second.histogram_options.native_histogram_max_buckets == 100
    assert second.ttl == 60.0  # default ttl


# -- glob semantics ---------------------------------------------------------------------------------


def test_star_matches_exactly_one_segment() -> None:
    m = mapper('mappings:\n- match: "a.*.c"\n  name: "x_${1}"\n')
    assert m.get_mapping("a.b.c", "counter").name == "x_b"
    assert m.get_mapping("a..c", "counter").name == "x_"
    assert not m.get_mapping("a.b.b.c", "counter").matched
    assert not m.get_mapping("a.c", "counter").matched
    assert not m.get_mapping("a.b.c.d", "counter").matched


def test_first_matching_glob_wins_with_ordering() -> None:
    m = mapper('mappings:\n- match: "a.*"\n  name: star\n- match: "a.b"\n  name: literal\n')
    assert m.get_mapping("a.b", "counter").name == "star"


def test_literal_wins_without_ordering() -> None:
    text = 'defaults: {glob_disable_ordering: true}\nmappings:\n- match: "a.*"\n  name: star\n- match: "a.b"\n  name: literal\n'
    m = mapper(text)
    assert m.get_mapping("a.b", "counter").name == "literal"
    assert m.get_mapping("a.c", "counter").name == "star"


def test_a_prefix_pattern_after_a_longer_one_never_matches_like_statsd_exporter() -> None:
    m = mapper('mappings:\n- match: "a.b.c"\n  name: long\n- match: "a.b"\n  name: short\n')
    assert m.get_mapping("a.b.c", "counter").name == "long"
    assert not m.get_mapping("a.b", "counter").matched
    reverse = mapper('mappings:\n- match: "a.b"\n  name: short\n- match: "a.b.c"\n  name: long\n')
    assert reverse.get_mapping("a.b", "counter").name == "short"


def test_globs_are_tried_before_regexes() -> None:
    text = 'mappings:\n- match: ".*"\n  match_type: regex\n  name: regex\n- match: "a.*"\n  name: glob\n'
    m = mapper(text)
    assert m.get_mapping("a.b", "counter").name == "glob"
    assert m.get_mapping("x.y.z", "counter").name == "regex"


def test_match_metric_type_filters_globs_and_regexes() -> None:
    text = """
mappings:
- match: "t.*"
  name: glob_gauge
  match_metric_type: gauge
- match: "^t\\\\.(.*)"
  match_type: regex
  name: "regex_${1}"
  match_metric_type: observer
"""
    m = mapper(text)
    assert m.get_mapping("t.x", "gauge").name == "glob_gauge"
    assert m.get_mapping("t.x", "observer").name == "regex_x"
    assert not m.get_mapping("t.x", "counter").matched


def test_metric_names_with_stars_and_dashes() -> None:
    m = mapper('mappings:\n- match: "foo--bar.*"\n  name: "fb_${1}"\n')
    assert m.get_mapping("foo--bar.x-y", "counter").name == "fb_x_y"
    assert m.get_mapping("foo--bar.*", "counter").name == "fb_"


# -- regex semantics --------------------------------------------------------------------------------


def test_regexes_are_unanchored_searches() -> None:
    m = mapper('mappings:\n- match: "b\\\\.c"\n  match_type: regex\n  name: hit\n')
    assert m.get_mapping("a.b.c.d", "counter").matched
    assert not m.get_mapping("abxc", "counter").matched


def test_go_expand_template_rules() -> None:
    text = """
mappings:
- match: "^(?P<svc>[a-z]+)\\\\.(\\\\d+)\\\\.(x)?"
  match_type: regex
  name: "m_${1}_$2"
  labels:
    named: "${svc}"
    literal_dollar: "cost$$"
    long_name: "$2x"
    missing: "${9}"
    optional: "[$3]"
    malformed: "$-1"
"""
    result = mapper(text).get_mapping("web.42.y", "counter")
    assert result.name == "m_web_42"
    assert dict(result.labels) == {
        "named": "web",
        "literal_dollar": "cost$",
        "long_name": "",
        "missing": "",
        "optional": "[]",
        "malformed": "$-1",
    }


def test_go_regex_dialect_translations() -> None:
    assert compile_go_regex("(?<word>[[:alpha:]]+)\\z").search("abc").group("word") == "abc"
    assert compile_go_regex("\\Qa.b\\E").search("xa.by") is not None
    assert compile_go_regex("\\Qa.b\\E").search("axb") is None
    assert compile_go_regex("\\x{41}").search("A") is not None
    assert compile_go_regex("\\d").search("٣") is None  # ASCII classes, like RE2
    with pytest.raises(GoRegexError):
        compile_go_regex("[[:^alpha:]]")


# -- results, labels, defaults ----------------------------------------------------------------------


def test_unmatched_results_use_escaped_names_and_defaults() -> None:
    m = mapper(
        "defaults: {ttl: 45s, observer_type: histogram, histogram_options: {buckets: [1, 2]}}\n"
    )
    result = m.get_mapping("some.metric-name", "observer")
    assert not result.matched
    assert result.mapping is None
    assert result.name == "some_metric_name"
    assert result.ttl == 45.0
    assert result.action is Action.MAP
    assert result.observer_type is ObserverType.HISTOGRAM
    assert result.histogram_buckets == (1.0, 2.0)


def test_results_resolve_options_like_statsd_exporter() -> None:
    text = """
mappings:
- match: "h.*"
  name: h
  observer_type: histogram
- match: "s.*"
  name: s
  observer_type: summary
  summary_options: {max_age: 1m}
- match: "d.*"
  name: d
  action: drop
  honor_labels: true
"""
    m = mapper(text)
    histogram = m.get_mapping("h.x", "observer")
    assert histogram.histogram_buckets == DEFAULT_BUCKETS
    summary = m.get_mapping("s.x", "observer")
    assert summary.observer_type is ObserverType.SUMMARY
    assert summary.summary_options.quantiles == DEFAULT_QUANTILES
    assert summary.summary_options.max_age == 60.0
    dropped = m.get_mapping("d.x", "counter")
    assert dropped.action is Action.DROP
    assert dropped.honor_labels is True
    assert dropped.observer_type is ObserverType.SUMMARY  # the exporter's fallback


def test_result_names_raw_and_escaped_and_the_configured_mapping() -> None:
    m = mapper('mappings:\n- match: "a.*"\n  name: "x_${1}"\n')
    result = m.get_mapping("a.b-c", "counter")
    assert result.raw_name == "x_b-c"
    assert result.name == "x_b_c"
    assert result.mapping is m.config.mappings[0]
    assert result.mapping.name == "x_${1}"


# -- cache ------------------------------------------------------------------------------------------


def test_cache_serves_repeats_and_is_bounded() -> None:
    m = mapper('mappings:\n- match: "a.*"\n  name: "x_${1}"\n', cache_size=2)
    first = m.get_mapping("a.1", "counter")
    assert m.get_mapping("a.1", "counter") is first
    m.get_mapping("a.2", "counter")
    m.get_mapping("a.3", "counter")
    assert len(m.cache) == 2
    assert m.get_mapping("a.1", "counter") is not first  # evicted, recomputed
    assert m.get_mapping("a.1", "gauge").name == "x_1"  # type is part of the key
    assert m.cache.hits == 1


def test_lru_evicts_the_least_recently_used() -> None:
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert len(cache) == 2


def test_random_replacement_cache_and_disabled_cache() -> None:
    cache: RandomReplacementCache[int, int] = RandomReplacementCache(10, seed=1)
    for i in range(100):
        cache.put(i, i)
    assert len(cache) == 10
    assert sum(cache.get(i) is not None for i in range(100)) == 10
    off = make_cache(0, "lru")
    off.put("a", 1)
    assert off.get("a") is None
    with pytest.raises(ValueError, match="cache type"):
        make_cache(10, "fifo")
    with pytest.raises(ValueError, match="cache size"):
        LRUCache(-1)


def test_load_mapper(tmp_path: Path) -> None:
    assert len(load_mapper(None)) == 0
    assert load_mapper("").get_mapping("a.b", "counter").name == "a_b"
    path = tmp_path / "mapping.yml"
    path.write_text('mappings:\n- match: "a.*"\n  name: x\n', encoding="utf-8")
    loaded = load_mapper(path, cache_size=10, cache_type="random")
    assert isinstance(loaded, Mapper)
    assert len(loaded) == 1
    assert loaded.get_mapping("a.b", "counter").name == "x"
    path.write_text("mappings:\n- match: a.*\n  nmae: x\n", encoding="utf-8")
    with pytest.raises(MappingError, match=str(path)):
        load_mapper(path)
    with pytest.raises(MapperConfigError, match="cannot read"):
        load_mapper(tmp_path / "missing.yml")


def test_older_default_buckets_and_quantiles_are_used_when_the_options_have_none() -> None:
    config = load_config(
        "defaults:\n  buckets: [1, 2]\n  quantiles: [{quantile: 0.3, error: 0.1}]\n"
        "  summary_options: {max_age: 5m}\n"
    )
    assert config.defaults.histogram_options.buckets == (1.0, 2.0)
    assert config.defaults.summary_options.quantiles == (Quantile(0.3, 0.1),)
    assert config.defaults.summary_options.max_age == 0  # replaced whole, as statsd_exporter does
    newer = load_config("defaults:\n  buckets: [1]\n  histogram_options: {buckets: [5]}\n")
    assert newer.defaults.histogram_options.buckets == (5.0,)


def test_reserved_label_names_are_refused() -> None:
    with pytest.raises(MapperConfigError, match="reserved"):
        load_config("mappings:\n- match: a.*\n  name: x\n  labels: {__name__: y}\n")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "mappings:\n"])
def test_empty_or_truncated_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(MapperConfigError, match=r"truncated|empty"):
        load_config_file(str(path))
    assert load_config(text).mappings == ()  # as configuration text, it means no mappings
