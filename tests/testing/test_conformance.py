"""Every registered model passes the public conformance checks (one parametrized test)."""

from __future__ import annotations

import pytest

from detente.models.registry import available_models, get_model_class
from detente.testing.conformance import CHECKS, EXPECTED_FAILURES

CASES = []
for _model in available_models():
    for _check in CHECKS:
        reason = EXPECTED_FAILURES.get((_model, _check))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        CASES.append(pytest.param(_model, _check, marks=marks, id=f"{_model}-{_check}"))


@pytest.mark.parametrize(("model", "check"), CASES)
def test_conformance(model: str, check: str) -> None:
    CHECKS[check](get_model_class(model))
