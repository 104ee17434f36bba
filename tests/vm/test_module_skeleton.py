"""The module skeleton in vm: shared errors keep each module's published
codes, the field parsers name the field, and every module has the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattchain.modules.accounts import errors as accounts_errors
from wattchain.modules.balancing import errors as balancing_errors
from wattchain.modules.metering import errors as metering_errors
from wattchain.modules.oracle import errors as oracle_errors
from wattchain.modules.registration import errors as registration_errors
from wattchain.modules.trading import errors as trading_errors
from wattchain.vm import errors
from wattchain.vm.fields import (
    GenesisFields,
    arg_amount,
    arg_int,
    arg_zone_id,
    query_address,
    query_int,
    query_optional_int,
)
from wattchain.vm.module import methods_of

MODULES = Path(__file__).resolve().parents[2] / "wattchain" / "modules"
SKELETON = ("keeper", "handlers", "queries", "genesis", "errors", "invariants", "keys",
            "types", "expected")


PUBLISHED_CODES = [
    (accounts_errors.MissingRole, "accounts", 102), (oracle_errors.MissingRole, "oracle", 101),
    (metering_errors.MissingRole, "metering", 101),
    (registration_errors.MissingRole, "registration", 101),
    (balancing_errors.RecordNotFound, "balancing", 120),
    (metering_errors.RecordNotFound, "metering", 150), (errors.InvalidQuery, "query", 32),
    (oracle_errors.RecordNotFound, "oracle", 120), (errors.InvalidArgs, "vm", 12),
    (registration_errors.RecordNotFound, "registration", 150),
    (trading_errors.RecordNotFound, "trading", 150),
    (trading_errors.MarketSuspended, "trading", 111),
]


@pytest.mark.parametrize("error, codespace, code", PUBLISHED_CODES)
def test_shared_errors_keep_each_modules_published_code(error: type[errors.CodedError],
                                                        codespace: str, code: int) -> None:
    assert (error.codespace, error.code) == (codespace, code)


def test_module_errors_are_the_shared_ones() -> None:
    assert issubclass(oracle_errors.MissingRole, errors.MissingRole)
    assert issubclass(oracle_errors.MissingRole, oracle_errors.OracleError)
    assert issubclass(trading_errors.RecordNotFound, errors.RecordNotFound)


@pytest.mark.parametrize("module", sorted(p.name for p in MODULES.iterdir()
                                          if (p / "__init__.py").exists()))
def test_every_module_has_the_same_files(module: str) -> None:
    missing = [name for name in SKELETON if not (MODULES / module / f"{name}.py").exists()]
    assert missing == []


def test_tx_argument_messages_name_the_field_and_its_range() -> None:
    with pytest.raises(errors.InvalidArgs, match="amount must be a positive integer"):
        arg_amount(0, "amount")
    with pytest.raises(errors.InvalidArgs, match=r"round must be an integer in 0\.\.9"):
        arg_int(10, "round", 0, 9)
    with pytest.raises(metering_errors.InvalidTariff, match="price"):
        arg_int("1", "price", 0, 9, metering_errors.InvalidTariff)
    with pytest.raises(errors.InvalidArgs, match="zone id must be 1-32 ASCII"):
        arg_zone_id("a/b")


def test_query_fields() -> None:
    assert query_int({}, "limit", 5) == 5
    assert query_optional_int({"asset_id": None}, "asset_id", low=1) is None
    with pytest.raises(errors.InvalidQuery, match="data.asset_id must be a positive integer"):
        query_optional_int({"asset_id": 0}, "asset_id", low=1)
    with pytest.raises(errors.InvalidQuery, match=r'needs data \{"owner": "0x..."\}'):
        query_address({}, "owner")
    with pytest.raises(errors.InvalidQuery, match="data.owner must be a non-empty string"):
        query_address({"owner": ""}, "owner", message="data.owner must be a non-empty string")


def test_genesis_fields_raise_the_modules_error_with_its_prefix() -> None:
    fields = GenesisFields(balancing_errors.BalancingGenesisError, "balancing: ")
    with pytest.raises(balancing_errors.BalancingGenesisError,
                       match=r"^balancing: horizon must be an integer in 1\.\.96$"):
        fields.integer({"horizon": 0}, "horizon", 1, 96)
    with pytest.raises(balancing_errors.BalancingGenesisError, match="unknown params: x"):
        fields.params({"x": 1}, dict, {"horizon": 4}, {})
    assert fields.params({}, dict, {"horizon": 4}, {}) == {"horizon": 4}
    assert fields.address({"by": "automatic"}, "by", allow_automatic=True) == b""


def test_methods_of_builds_a_table_keyed_by_method_name() -> None:
    class Owner:
        def submit(self) -> str:
            return "submitted"

    table = methods_of(Owner(), "submit")
    assert list(table) == ["submit"] and table["submit"]() == "submitted"
