"""Seeded fuzzing of every parser (see :mod:`tests.fuzz`): about a thousand
mutated samples, each read or refused with a typed error naming the file,
within a memory bound relative to a parse of the unchanged sample.
``bench/bench_fuzz.py`` runs ten thousand cases per parser and also bounds
their time."""

import pytest

from tests import fuzz

CASES = {"camt": 300, "tito": 150, "ktl": 150, "pain001": 150, "pain002": 150, "finvoice": 200, "detection": 200}


def test_every_parser_has_samples():
    found = fuzz.samples()
    assert set(CASES) == set(fuzz.PARSERS)
    for parser, (_functions, sample_set) in fuzz.PARSERS.items():
        assert found[sample_set], f"no samples for {parser}"


def test_cases_are_repeatable():
    assert fuzz.case_input("camt", 7) == fuzz.case_input("camt", 7)
    assert fuzz.case_input("camt", 7) != fuzz.case_input("camt", 8)


@pytest.mark.parametrize("parser", sorted(CASES))
def test_fuzzed_input_is_read_or_refused_with_a_typed_error_in_bounds(parser):
    result = fuzz.run(parser, CASES[parser])
    assert result.cases == CASES[parser], result.failures[:10]
    assert not result.failures, "\n".join(result.failures[:20])
    # the mutations do reach the checks: some inputs are refused
    assert result.refused > 0
