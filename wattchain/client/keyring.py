"""A keyring of secp256k1 private keys stored by name, one JSON file per key.

Layout: ``<directory>/<name>.json``, mode 0600, in a directory of mode 0700.
Each file records the backend that wrote it, so one directory can hold both:

- ``file``: the 32-byte secret is encrypted with AES-256-GCM under a key
  derived from the password by scrypt. Salt and nonce are random per file.
  The key name and address are authenticated as associated data, so a
  ciphertext copied under another name or address fails to decrypt.
- ``test``: the secret is stored as plain hex. For local development only.

Passwords are never stored and never logged. Every failure is a
``KeyringError`` (or a subclass) whose message a user can act on.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from Crypto.Cipher import AES
from Crypto.Protocol.KDF import scrypt

from wattchain.crypto import (
    ADDRESS_LEN,
    PUBLIC_KEY_LEN,
    PrivateKey,
    address_of,
    format_address,
    parse_address,
)
from wattchain.errors import WattchainError

FORMAT_VERSION = 1
BACKENDS = ("file", "test")
DEFAULT_SCRYPT_N = 2**18
SCRYPT_R = 8
SCRYPT_P = 1
# Bounds on scrypt parameters read from a file, so a corrupt or hostile file
# cannot make decryption allocate gigabytes (memory is 128 * r * n bytes).
MAX_SCRYPT_N = 2**20
MAX_SCRYPT_R = 32
MAX_SCRYPT_P = 16
KEY_LEN = 32
SALT_LEN = 16
NONCE_LEN = 12
TAG_LEN = 16
SECRET_LEN = 32
NAME_RULE = "1 to 64 characters from A-Z, a-z, 0-9, '_', '.' and '-'"
_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_AAD_DOMAIN = b"wattchain/keyring/v1"

Record = Mapping[str, object]


class KeyringError(WattchainError):
    """A keyring operation failed; the message is meant for the user."""

    codespace = "keyring"
    code = 40


class KeyNotFound(KeyringError):
    """No key with the requested name exists."""

    code = 41


class KeyExists(KeyringError):
    """A key with the requested name already exists."""

    code = 42


class WrongPassword(KeyringError):
    """The password does not decrypt the key (or the ciphertext was altered)."""

    code = 43


@dataclass(frozen=True)
class KeyInfo:
    """The public facts about a stored key; reading them needs no password."""

    name: str
    address: bytes
    public_key: bytes
    backend: str

    def to_json(self) -> dict[str, str]:
        """A JSON-ready view: address as ``0x`` hex, public key as plain hex."""
        return {
            "name": self.name,
            "address": format_address(self.address),
            "public_key": self.public_key.hex(),
            "backend": self.backend,
        }


class Keyring:
    """Named private keys in ``directory``.

    Writes (``add``, ``import_key``) use ``backend``; reads work for files of
    either backend. The directory is created (mode 0700) on the first write.
    """

    def __init__(
        self, directory: Path, backend: str = "file", scrypt_n: int = DEFAULT_SCRYPT_N
    ) -> None:
        if backend not in BACKENDS:
            raise KeyringError(f"unknown keyring backend {backend!r}; use 'file' or 'test'")
        if not _is_power_of_two(scrypt_n) or not 2 <= scrypt_n <= MAX_SCRYPT_N:
            raise KeyringError(f"scrypt_n must be a power of two from 2 to {MAX_SCRYPT_N}")
        self.directory = Path(directory)
        self.backend = backend
        self.scrypt_n = scrypt_n

    def add(self, name: str, password: str | None = None) -> tuple[KeyInfo, PrivateKey]:
        """Generate a new key and store it as ``name``.

        Raises KeyExists if ``name`` is taken, KeyringError for a bad name or,
        with the file backend, a missing password.
        """
        key = PrivateKey.generate()
        return self._store(name, key, password), key

    def import_key(self, name: str, secret: bytes, password: str | None = None) -> KeyInfo:
        """Store an existing 32-byte ``secret`` as ``name``; same errors as ``add``."""
        return self._store(name, _private_key_from(secret), password)

    def list(self) -> builtins.list[KeyInfo]:
        """Every stored key, sorted by name; an absent directory holds none."""
        if not self.directory.is_dir():
            return []
        try:
            file_names = os.listdir(self.directory)
        except OSError as exc:
            raise KeyringError(f"cannot read keyring directory {self.directory}: {exc}") from None
        # Sort by name, not file name: "a" < "a.b" but "a.b.json" < "a.json".
        names = sorted(
            file_name.removesuffix(".json")
            for file_name in file_names
            if file_name.endswith(".json")
        )
        return [self.info(name) for name in names if _is_valid_name(name)]

    def info(self, name: str) -> KeyInfo:
        """The public facts about ``name``. Raises KeyNotFound if absent."""
        path = self._existing_path(name)
        return _info_from_record(_read_record(path), name, path)

    def get(self, name: str, password: str | None = None) -> PrivateKey:
        """Load and, for the file backend, decrypt the key ``name``.

        Raises KeyNotFound, WrongPassword (bad password or altered file), or
        KeyringError (missing password, corrupt file).
        """
        path = self._existing_path(name)
        record = _read_record(path)
        info = _info_from_record(record, name, path)
        if info.backend == "test":
            secret = _hex_field(record, "secret", path, SECRET_LEN)
        else:
            secret = _decrypt(record, info, _require_password(name, password), path)
        key = _private_key_from(secret)
        if key.address != info.address:
            raise _corrupt(path, "the secret does not match the recorded address")
        return key

    def export_key(self, name: str, password: str | None = None) -> bytes:
        """The 32-byte secret of ``name``; same errors as ``get``."""
        return self.get(name, password).secret

    def delete(self, name: str) -> None:
        """Remove the key ``name``. Raises KeyNotFound if absent."""
        path = self._existing_path(name)
        try:
            path.unlink()
        except OSError as exc:
            raise KeyringError(f"cannot delete key file {path}: {exc}") from None

    def resolve_address(self, name_or_address: str) -> bytes:
        """``0x`` + 40 hex digits parses as an address; anything else is a key name.

        Raises KeyringError for a malformed address or name, KeyNotFound for
        an unknown name.
        """
        if name_or_address.startswith(("0x", "0X")):
            try:
                return parse_address(name_or_address)
            except ValueError as exc:
                raise KeyringError(str(exc)) from None
        return self.info(name_or_address).address

    def _store(self, name: str, key: PrivateKey, password: str | None) -> KeyInfo:
        path = self._path_for(name)
        if path.exists():
            raise KeyExists(f"a key named '{name}' already exists in {self.directory}")
        record = self._seal(name, key, password)
        self._ensure_directory()
        text = json.dumps(record, indent=2, sort_keys=True) + "\n"
        _write_atomically(path, text.encode())
        return KeyInfo(name, key.address, key.public_key, self.backend)

    def _seal(self, name: str, key: PrivateKey, password: str | None) -> dict[str, object]:
        record: dict[str, object] = {
            "version": FORMAT_VERSION,
            "name": name,
            "address": key.address.hex(),
            "public_key": key.public_key.hex(),
            "backend": self.backend,
        }
        if self.backend == "test":
            record["secret"] = key.secret.hex()
        else:
            record.update(_encrypt(name, key, _require_password(name, password), self.scrypt_n))
        return record

    def _path_for(self, name: str) -> Path:
        if not _is_valid_name(name):
            raise KeyringError(f"invalid key name {name!r}: a name is {NAME_RULE}")
        return self.directory / f"{name}.json"

    def _existing_path(self, name: str) -> Path:
        path = self._path_for(name)
        if not path.is_file():
            raise KeyNotFound(f"no key named '{name}' in {self.directory}")
        return path

    def _ensure_directory(self) -> None:
        if self.directory.is_dir():
            return
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)  # mkdir's mode is narrowed by the umask
        except OSError as exc:
            raise KeyringError(f"cannot create keyring directory {self.directory}: {exc}") from None


def _is_valid_name(name: str) -> bool:
    return _NAME_PATTERN.fullmatch(name) is not None


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def _private_key_from(secret: bytes) -> PrivateKey:
    if not isinstance(secret, bytes) or len(secret) != SECRET_LEN:
        raise KeyringError(f"a private key secret must be {SECRET_LEN} bytes")
    try:
        return PrivateKey(secret)
    except ValueError:
        raise KeyringError("the secret is not a valid secp256k1 private key") from None


def _require_password(name: str, password: str | None) -> str:
    if not password:
        raise KeyringError(f"key '{name}' uses the encrypted file backend: a password is required")
    return password


def _associated_data(name: str, address: bytes) -> bytes:
    # Names cannot contain NUL, so this encoding is unambiguous.
    return b"\x00".join([_AAD_DOMAIN, name.encode(), address])


def _derive_key(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    derived = scrypt(password.encode(), salt, KEY_LEN, N=n, r=r, p=p)
    return derived[0] if isinstance(derived, list) else derived  # one key: always bytes


def _encrypt(name: str, key: PrivateKey, password: str, scrypt_n: int) -> dict[str, object]:
    """The encrypted fields of a file-backend record."""
    salt = secrets.token_bytes(SALT_LEN)
    nonce = secrets.token_bytes(NONCE_LEN)
    cipher = AES.new(
        _derive_key(password, salt, scrypt_n, SCRYPT_R, SCRYPT_P), AES.MODE_GCM, nonce=nonce
    )
    cipher.update(_associated_data(name, key.address))
    ciphertext, tag = cipher.encrypt_and_digest(key.secret)
    return {
        "kdf": {
            "name": "scrypt",
            "n": scrypt_n,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "key_len": KEY_LEN,
            "salt": salt.hex(),
        },
        "cipher": {
            "name": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": (ciphertext + tag).hex(),
        },
    }


def _decrypt(record: Record, info: KeyInfo, password: str, path: Path) -> bytes:
    """The secret in a file-backend record; WrongPassword if it does not authenticate."""
    kdf = _section(record, "kdf", "scrypt", path)
    cipher_fields = _section(record, "cipher", "aes-256-gcm", path)
    if kdf.get("key_len") != KEY_LEN:
        raise _corrupt(path, f"kdf key_len must be {KEY_LEN}")
    n = _int_field(kdf, "n", 2, MAX_SCRYPT_N, path)
    if not _is_power_of_two(n):
        raise _corrupt(path, "kdf n must be a power of two")
    r = _int_field(kdf, "r", 1, MAX_SCRYPT_R, path)
    p = _int_field(kdf, "p", 1, MAX_SCRYPT_P, path)
    salt = _hex_field(kdf, "salt", path, SALT_LEN)
    nonce = _hex_field(cipher_fields, "nonce", path, NONCE_LEN)
    sealed = _hex_field(cipher_fields, "ciphertext", path, SECRET_LEN + TAG_LEN)
    cipher = AES.new(_derive_key(password, salt, n, r, p), AES.MODE_GCM, nonce=nonce)
    cipher.update(_associated_data(info.name, info.address))
    try:
        return cipher.decrypt_and_verify(sealed[:SECRET_LEN], sealed[SECRET_LEN:])
    except ValueError:
        raise WrongPassword(f"wrong password for key '{info.name}'") from None


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0600) so readers never see a partial file."""
    try:
        handle, temp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise KeyringError(f"cannot write key file {path}: {exc}") from None
    try:
        os.chmod(temp_name, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(temp_name)
        raise KeyringError(f"cannot write key file {path}: {exc}") from None


def _read_record(path: Path) -> Record:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyringError(f"cannot read key file {path}: {exc}") from None
    except UnicodeDecodeError:
        raise _corrupt(path, "not UTF-8 text") from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _corrupt(path, f"not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise _corrupt(path, "not a JSON object")
    return record


def _info_from_record(record: Record, name: str, path: Path) -> KeyInfo:
    """Check the public fields of ``record`` (stored as ``name``) and return them."""
    if record.get("version") != FORMAT_VERSION:
        raise _corrupt(path, f"unsupported version {record.get('version')!r}")
    if record.get("name") != name:
        raise _corrupt(path, f"the recorded name does not match the file name '{name}'")
    backend = record.get("backend")
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise _corrupt(path, f"unknown backend {backend!r}")
    address = _hex_field(record, "address", path, ADDRESS_LEN)
    public_key = _hex_field(record, "public_key", path, PUBLIC_KEY_LEN)
    if address_of(public_key) != address:
        raise _corrupt(path, "the address does not match the public key")
    return KeyInfo(name, address, public_key, backend)


def _section(record: Record, key: str, expected_name: str, path: Path) -> Record:
    value = record.get(key)
    if not isinstance(value, dict) or value.get("name") != expected_name:
        raise _corrupt(path, f"field {key!r} must be an object with name {expected_name!r}")
    return value


def _hex_field(record: Record, key: str, path: Path, length: int) -> bytes:
    value = record.get(key)
    if not isinstance(value, str):
        raise _corrupt(path, f"field {key!r} is missing or not text")
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise _corrupt(path, f"field {key!r} is not hex") from None
    if len(data) != length:
        raise _corrupt(path, f"field {key!r} must be {length} bytes")
    return data


def _int_field(record: Record, key: str, low: int, high: int, path: Path) -> int:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _corrupt(path, f"field {key!r} must be an integer from {low} to {high}")
    return value


def _corrupt(path: Path, reason: str) -> KeyringError:
    return KeyringError(f"key file {path} is corrupt: {reason}")
