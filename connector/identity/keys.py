"""The node's private keys: Ed25519 and P-256 (P-384 in memory only), kept as JWK files in the node's `keys/` folder.

Files are created 0600 in a 0700 folder and refused when group/others can read them, the way
ssh treats its keys. With a passphrase, each JWK is stored as a JWE (PBES2-HS512+A256KW,
A256GCM) so a copied folder is useless without it.
"""

from __future__ import annotations

import json
import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

from connector.errors import ConnectorError, Reason
from connector.identity.base64url import decode as b64u_decode

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_ALG = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}
_CURVES = {"P-256": (ec.SECP256R1, hashes.SHA256, 32), "P-384": (ec.SECP384R1, hashes.SHA384, 48)}
_FILES = {"Ed25519": "ed25519.jwk", "P-256": "p256.jwk"}
_KDF_ALG = "PBES2-HS512+A256KW"
_ENC = "A256GCM"
_P2C = 16384  # PBKDF2 rounds: the most jwcrypto accepts when decrypting (its DoS guard)


class Key:
    """A private key with its public half; `kid` is the RFC 7638 thumbprint."""

    def __init__(self, private: PrivateKey) -> None:
        if isinstance(private, ed25519.Ed25519PrivateKey):
            self.crv = "Ed25519"
        elif isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(
            private.curve, ec.SECP256R1 | ec.SECP384R1
        ):
            # P-384 only for in-memory keys (did:key, ecdsa-rdfc-2019): the store holds P-256
            self.crv = "P-256" if isinstance(private.curve, ec.SECP256R1) else "P-384"
        else:
            raise ConnectorError(Reason.KEYSTORE, "only Ed25519, P-256 and P-384 keys are supported")
        self._private = private
        self.alg = _ALG[self.crv]
        self._jwk = jwk.JWK.from_pyca(private)
        self.kid: str = self._jwk.thumbprint()

    def public_jwk(self) -> dict[str, Any]:
        full = self._jwk.export_public(as_dict=True)
        return {k: full[k] for k in ("kty", "crv", "x", "y") if k in full}

    def private_jwk(self) -> dict[str, Any]:
        """The full JWK (with `d`): for storing, and for handing to other tools in tests."""
        full = self._jwk.export_private(as_dict=True)
        return {k: full[k] for k in ("kty", "crv", "x", "y", "d") if k in full}

    def sign(self, data: bytes) -> bytes:
        """A raw signature: 64 bytes for Ed25519, r||s (JOSE form: 64 bytes for ES256, 96 for
        ES384, the hash being the curve's)."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            return self._private.sign(data)
        _, digest, size = _CURVES[self.crv]
        r, s = decode_dss_signature(self._private.sign(data, ec.ECDSA(digest())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def __repr__(self) -> str:  # never print private material
        return f"Key(crv={self.crv!r}, kid={self.kid!r})"


def generate_key(crv: str) -> Key:
    """A fresh in-memory key (for did:key tools and tests)."""
    if crv == "Ed25519":
        return Key(ed25519.Ed25519PrivateKey.generate())
    if crv in _CURVES:
        return Key(ec.generate_private_key(_CURVES[crv][0]()))
    raise ConnectorError(Reason.BAD_INPUT, f"unsupported curve {crv!r}: use Ed25519, P-256 or P-384")


def key_from_jwk(data: dict[str, Any]) -> Key:
    """A Key from a private JWK dict (raises KEYSTORE on anything else)."""
    try:
        private = jwk.JWK(**data).get_op_key("sign")
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise ConnectorError(Reason.KEYSTORE, f"not a usable private JWK: {exc}") from None
    return Key(private)


# --- verification with a public JWK (shared by LD proofs and JOSE) --------------------------


@lru_cache(maxsize=256)
def _public_key(fields: tuple[tuple[str, str], ...]) -> Any:
    # cached: a verifier sees the same few issuer keys over and over
    return jwk.JWK(**dict(fields)).get_op_key("verify")


_PUBLIC_FIELDS = ("kty", "crv", "x", "y", "n", "e")
# RSA is accepted on credentials from other wallets (DCP: "RSA, EC and EdDSA"), never for ours
RSA_ALGS = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512,
            "PS256": hashes.SHA256, "PS384": hashes.SHA384, "PS512": hashes.SHA512}
MIN_RSA_BITS = 2048


def _rsa_bits(public: dict[str, Any]) -> int:
    try:
        return len(b64u_decode(public["n"]).lstrip(b"\0")) * 8
    except (KeyError, TypeError, ValueError):
        return 0


def jwk_alg(public: dict[str, Any]) -> str | None:
    """The JOSE alg a public JWK is used with here, or None if unsupported."""
    if public.get("kty") == "OKP" and public.get("crv") == "Ed25519":
        return "EdDSA"
    if public.get("kty") == "EC" and public.get("crv") in _CURVES:
        return _ALG[public["crv"]]
    return None


def key_algs(public: dict[str, Any]) -> tuple[str, ...]:
    """Every JOSE alg a public JWK may verify here (an RSA key of at least 2048 bits: RS*, PS*)."""
    single = jwk_alg(public)
    if single is not None:
        return (single,)
    if public.get("kty") == "RSA" and _rsa_bits(public) >= MIN_RSA_BITS:
        return tuple(RSA_ALGS)
    return ()


def verify_signature(public: dict[str, Any], alg: str, data: bytes, signature: bytes) -> bool:
    """True if `signature` (raw, JOSE form) over `data` is valid for that public JWK and alg."""
    if alg not in key_algs(public):
        return False
    try:
        key = _public_key(tuple((k, public[k]) for k in _PUBLIC_FIELDS if k in public))
        if alg in RSA_ALGS:
            digest = RSA_ALGS[alg]()
            pad = padding.PKCS1v15() if alg.startswith("RS") else padding.PSS(
                mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            key.verify(signature, data, pad, digest)
        elif alg == "EdDSA":
            key.verify(signature, data)
        else:
            _, digest, size = _CURVES[public["crv"]]
            if len(signature) != 2 * size:
                return False
            r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(digest()))
        return True
    except (InvalidSignature, JWException, ValueError, TypeError, KeyError):
        return False


# --- the store --------------------------------------------------------------------------------


def _refuse(message: str) -> ConnectorError:
    return ConnectorError(Reason.KEYSTORE, message)


def _seal(key: Key, passphrase: str | None) -> bytes:
    plain = json.dumps(key.private_jwk(), sort_keys=True).encode()
    if passphrase is None:
        return plain
    secret = jwk.JWK.from_password(passphrase)
    token = jwe.JWE(plain, json.dumps({"alg": _KDF_ALG, "enc": _ENC, "p2c": _P2C, "cty": "jwk+json"}))
    token.add_recipient(secret)
    return token.serialize(compact=True).encode()


def _unseal(path: Path, raw: bytes, passphrase: str | None) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        if passphrase is not None:
            raise _refuse(f"the key file {path} is not encrypted, but a passphrase was given")
        try:
            data = json.loads(text)
        except ValueError:
            raise _refuse(f"the key file {path} is corrupted (not valid JSON)") from None
        if not isinstance(data, dict):
            raise _refuse(f"the key file {path} is corrupted (not a JWK)")
        return data
    if text.count(".") != 4:
        raise _refuse(f"the key file {path} is corrupted (neither a JWK nor a JWE)")
    if passphrase is None:
        raise _refuse(f"the key file {path} is encrypted: a passphrase is needed")
    try:
        token = jwe.JWE()
        token.deserialize(text, key=jwk.JWK.from_password(passphrase))
        data = json.loads(token.payload)
    except (JWException, ValueError, TypeError):
        # JWE authentication fails the same way for a wrong passphrase and for a damaged file
        raise _refuse(
            f"cannot decrypt the key file {path}: wrong passphrase or corrupted file"
        ) from None
    if not isinstance(data, dict):
        raise _refuse(f"the key file {path} is corrupted (not a JWK)")
    return data


def _write_new(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyStore:
    """The node's two signing keys, loaded from (or created in) one folder."""

    def __init__(self, folder: Path, ed25519_key: Key, p256_key: Key) -> None:
        self.folder = folder
        self.ed25519 = ed25519_key
        self.p256 = p256_key

    def key(self, crv: str) -> Key:
        return self.ed25519 if crv == "Ed25519" else self.p256

    @classmethod
    def create(cls, folder: Path, passphrase: str | None = None) -> KeyStore:
        folder = Path(folder)
        if passphrase == "":
            raise _refuse("an empty passphrase is not accepted: give one, or none at all")
        if folder.exists() and not folder.is_dir():
            raise _refuse(f"{folder} exists and is not a folder")
        existing = [n for n in _FILES.values() if (folder / n).exists()]
        if existing:
            raise _refuse(f"a key store already exists in {folder}; it will not be overwritten")
        made = not folder.exists()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        keys = {crv: generate_key(crv) for crv in _FILES}
        temps: list[Path] = []
        try:
            # write everything to temporary names first: a failure leaves no half store
            for crv, name in _FILES.items():
                temp = folder / f".{name}.tmp"
                temps.append(temp)
                _write_new(temp, _seal(keys[crv], passphrase))
            for name in _FILES.values():
                os.rename(folder / f".{name}.tmp", folder / name)
        except OSError as exc:
            for temp in temps:
                temp.unlink(missing_ok=True)
            if made:
                folder.rmdir()
            raise _refuse(f"cannot write the key store in {folder}: {exc.strerror}") from None
        return cls(folder, keys["Ed25519"], keys["P-256"])

    @classmethod
    def open(cls, folder: Path, passphrase: str | None = None) -> KeyStore:
        folder = Path(folder)
        if not folder.is_dir():
            raise _refuse(f"there is no key store in {folder} (run `communs init` first)")
        loaded: dict[str, Key] = {}
        for crv, name in _FILES.items():
            loaded[crv] = cls._load(folder / name, crv, passphrase)
        return cls(folder, loaded["Ed25519"], loaded["P-256"])

    @staticmethod
    def _load(path: Path, crv: str, passphrase: str | None) -> Key:
        try:
            info = path.stat()
        except FileNotFoundError:
            raise _refuse(f"the key file {path} is missing") from None
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(f"the key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise _refuse(
                f"the key file {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):o}); run `chmod 600 {path}`"
            )
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise _refuse(f"cannot read the key file {path}: {exc.strerror}") from None
        data = _unseal(path, raw, passphrase)
        if data.get("crv") != crv or "d" not in data:
            raise _refuse(f"the key file {path} does not hold a private {crv} key")
        try:
            return key_from_jwk(data)
        except ConnectorError:
            raise _refuse(f"the key file {path} is corrupted (invalid {crv} key)") from None
