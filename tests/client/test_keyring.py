"""The keyring: named secp256k1 keys on disk, encrypted ("file") or plain ("test")."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from wattchain.client.keyring import (
    DEFAULT_SCRYPT_N,
    KeyExists,
    KeyInfo,
    KeyNotFound,
    Keyring,
    KeyringError,
    WrongPassword,
)
from wattchain.crypto import PrivateKey, format_address

FAST_N = 2**10
PASSWORD = "correct horse battery staple"
SECRET = bytes(range(1, 33))


def password_for(backend: str) -> str | None:
    return PASSWORD if backend == "file" else None


def open_keyring(directory: Path, backend: str = "file") -> Keyring:
    return Keyring(directory, backend=backend, scrypt_n=FAST_N)


def read_record(keyring: Keyring, name: str) -> dict[str, object]:
    record: dict[str, object] = json.loads((keyring.directory / f"{name}.json").read_text())
    return record


def write_record(keyring: Keyring, name: str, record: dict[str, object]) -> None:
    (keyring.directory / f"{name}.json").write_text(json.dumps(record))


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "home" / "keyring"


@pytest.fixture
def keyring(directory: Path) -> Keyring:
    return open_keyring(directory)


@pytest.mark.parametrize("backend", ["file", "test"])
def test_add_list_info_get_round_trip(directory: Path, backend: str) -> None:
    keyring = open_keyring(directory, backend)
    info, key = keyring.add("alice", password_for(backend))

    assert info == KeyInfo("alice", key.address, key.public_key, backend)
    assert keyring.list() == [info]
    assert keyring.info("alice") == info
    assert keyring.get("alice", password_for(backend)).secret == key.secret
    assert info.to_json() == {
        "name": "alice",
        "address": format_address(key.address),
        "public_key": key.public_key.hex(),
        "backend": backend,
    }


def test_key_file_is_0600_in_a_0700_directory(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)

    key_file = keyring.directory / "alice.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(keyring.directory.stat().st_mode) == 0o700
    assert sorted(path.name for path in keyring.directory.iterdir()) == ["alice.json"]


def test_default_scrypt_n_is_2_to_the_18(directory: Path) -> None:
    Keyring(directory).add("alice", PASSWORD)

    kdf = read_record(Keyring(directory), "alice")["kdf"]
    assert isinstance(kdf, dict)
    assert DEFAULT_SCRYPT_N == 2**18
    assert kdf == {**kdf, "name": "scrypt", "n": 2**18, "r": 8, "p": 1, "key_len": 32}


def test_wrong_password_raises_wrong_password(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)

    with pytest.raises(WrongPassword, match="wrong password for key 'alice'"):
        keyring.get("alice", "not the password")


@pytest.mark.parametrize("password", [None, ""])
def test_file_backend_requires_a_password(keyring: Keyring, password: str | None) -> None:
    with pytest.raises(KeyringError, match="password is required"):
        keyring.add("alice", password)
    keyring.add("bob", PASSWORD)
    with pytest.raises(KeyringError, match="password is required"):
        keyring.get("bob", password)


def test_duplicate_name_raises_key_exists(keyring: Keyring) -> None:
    info, _ = keyring.add("alice", PASSWORD)

    with pytest.raises(KeyExists, match="alice"):
        keyring.add("alice", PASSWORD)
    with pytest.raises(KeyExists):
        keyring.import_key("alice", SECRET, PASSWORD)
    assert keyring.info("alice") == info


def test_missing_key_raises_key_not_found(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)

    with pytest.raises(KeyNotFound, match="no key named 'bob'"):
        keyring.info("bob")
    with pytest.raises(KeyNotFound):
        keyring.get("bob", PASSWORD)
    with pytest.raises(KeyNotFound):
        keyring.export_key("bob", PASSWORD)
    with pytest.raises(KeyNotFound):
        keyring.delete("bob")


@pytest.mark.parametrize(
    "name", ["", "a" * 65, "../evil", "a/b", "with space", "tab\t", "new\n", "é", "a\x00b"]
)
def test_bad_name_is_rejected(keyring: Keyring, name: str) -> None:
    with pytest.raises(KeyringError, match="1 to 64 characters"):
        keyring.add(name, PASSWORD)
    with pytest.raises(KeyringError, match="1 to 64 characters"):
        keyring.info(name)
    assert not keyring.directory.exists()


def test_longest_and_punctuated_names_are_accepted(keyring: Keyring) -> None:
    names = ["a" * 64, "A.b-c_9"]
    for name in names:
        keyring.import_key(name, PrivateKey.generate().secret, PASSWORD)

    assert [info.name for info in keyring.list()] == sorted(names)


@pytest.mark.parametrize("backend", ["file", "test"])
def test_import_then_export_returns_the_same_secret(directory: Path, backend: str) -> None:
    keyring = open_keyring(directory, backend)
    info = keyring.import_key("alice", SECRET, password_for(backend))

    assert info.address == PrivateKey(SECRET).address
    assert keyring.export_key("alice", password_for(backend)) == SECRET


@pytest.mark.parametrize("secret", [SECRET[:31], SECRET + b"\x00", bytes(32), b"\xff" * 32])
def test_import_rejects_an_invalid_secret(keyring: Keyring, secret: bytes) -> None:
    with pytest.raises(KeyringError, match="secret"):
        keyring.import_key("alice", secret, PASSWORD)


def test_delete_removes_the_key(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)
    bob, _ = keyring.add("bob", PASSWORD)

    keyring.delete("alice")

    assert not (keyring.directory / "alice.json").exists()
    assert keyring.list() == [bob]
    with pytest.raises(KeyNotFound):
        keyring.get("alice", PASSWORD)


def test_tampered_ciphertext_fails_to_decrypt(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)
    record = read_record(keyring, "alice")
    cipher = record["cipher"]
    assert isinstance(cipher, dict)
    sealed = bytearray.fromhex(cipher["ciphertext"])
    sealed[0] ^= 1
    cipher["ciphertext"] = sealed.hex()
    write_record(keyring, "alice", record)

    with pytest.raises(WrongPassword):
        keyring.get("alice", PASSWORD)


def test_ciphertext_moved_to_another_name_fails_to_decrypt(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)
    record = read_record(keyring, "alice")
    record["name"] = "mallory"
    write_record(keyring, "mallory", record)

    with pytest.raises(WrongPassword):
        keyring.get("mallory", PASSWORD)


def test_secret_and_password_do_not_appear_in_an_encrypted_file(keyring: Keyring) -> None:
    keyring.import_key("alice", SECRET, PASSWORD)

    raw = (keyring.directory / "alice.json").read_bytes()
    assert SECRET not in raw
    assert SECRET.hex().encode() not in raw.lower()
    assert PASSWORD.encode() not in raw
    assert "secret" not in read_record(keyring, "alice")


def test_resolve_address_accepts_names_and_0x_addresses(keyring: Keyring) -> None:
    info, _ = keyring.add("alice", PASSWORD)
    other = PrivateKey.generate().address

    assert keyring.resolve_address("alice") == info.address
    assert keyring.resolve_address(format_address(other)) == other
    assert keyring.resolve_address("0X" + other.hex().upper()) == other


@pytest.mark.parametrize("text", ["0x1234", "0x" + "zz" * 20, "not a name!", "", "a/b"])
def test_resolve_address_rejects_garbage(keyring: Keyring, text: str) -> None:
    with pytest.raises(KeyringError):
        keyring.resolve_address(text)


def test_resolve_address_of_an_unknown_name_raises_key_not_found(keyring: Keyring) -> None:
    with pytest.raises(KeyNotFound):
        keyring.resolve_address("nobody")


def test_either_backend_reads_keys_of_both(directory: Path) -> None:
    file_info, file_key = open_keyring(directory, "file").add("encrypted", PASSWORD)
    test_info, test_key = open_keyring(directory, "test").add("plain")

    for backend in ["file", "test"]:
        keyring = open_keyring(directory, backend)
        assert keyring.list() == [file_info, test_info]
        assert keyring.get("encrypted", PASSWORD).secret == file_key.secret
        assert keyring.get("plain").secret == test_key.secret


def test_list_is_sorted_by_name_and_empty_without_a_directory(keyring: Keyring) -> None:
    assert keyring.list() == []
    for name in ["b", "a.b", "a", "C"]:
        keyring.add(name, PASSWORD)
    (keyring.directory / "notes.txt").write_text("not a key")

    assert [info.name for info in keyring.list()] == ["C", "a", "a.b", "b"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"version": 1}',
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_corrupt_file_raises_keyring_error_naming_the_path(keyring: Keyring, content: str) -> None:
    keyring.directory.mkdir(parents=True)
    path = keyring.directory / "alice.json"
    path.write_text(content, encoding="latin-1")

    with pytest.raises(KeyringError, match="corrupt") as error:
        keyring.info("alice")
    assert str(path) in str(error.value)
    with pytest.raises(KeyringError, match="corrupt"):
        keyring.list()
    with pytest.raises(KeyringError, match="corrupt"):
        keyring.get("alice", PASSWORD)


def test_recorded_address_must_match_the_public_key(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)
    record = read_record(keyring, "alice")
    record["address"] = PrivateKey.generate().address.hex()
    write_record(keyring, "alice", record)

    with pytest.raises(KeyringError, match="address does not match"):
        keyring.info("alice")


def test_hostile_scrypt_parameters_are_refused(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)
    record = read_record(keyring, "alice")
    kdf = record["kdf"]
    assert isinstance(kdf, dict)
    kdf["n"] = 2**30
    write_record(keyring, "alice", record)

    with pytest.raises(KeyringError, match="corrupt"):
        keyring.get("alice", PASSWORD)


@pytest.mark.parametrize(
    ("backend", "scrypt_n"), [("vault", FAST_N), ("file", 1000), ("file", 1), ("file", 2**21)]
)
def test_bad_configuration_is_rejected(directory: Path, backend: str, scrypt_n: int) -> None:
    with pytest.raises(KeyringError):
        Keyring(directory, backend=backend, scrypt_n=scrypt_n)


def test_errors_never_mention_the_password(keyring: Keyring) -> None:
    keyring.add("alice", PASSWORD)

    with pytest.raises(WrongPassword) as error:
        keyring.get("alice", "hunter2-secret-guess")
    assert "hunter2" not in str(error.value)
