"""Stored LoRA files (by md5) and the signed PUT paths that upload them (see ``lora``)."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import asdict, dataclass
from urllib.parse import parse_qs

from .auth import key_hash
from .clock import EmulatedClock
from .storage import FileStore, StateDB

_URL_TTL = 3600


@dataclass
class LoraRecord:
    md5: str
    name: str
    key_hash: str
    created_at: float
    size: int = 0
    complete: bool = False


class LoraStore:
    """LoRA files by md5 under ``loras/``, their records in the ``loras`` table."""

    def __init__(self, files: FileStore, db: StateDB, clock: EmulatedClock, secret: bytes) -> None:
        self.files, self.db, self.clock, self.secret = files, db, clock, secret
        self.root = files.root / "loras"
        self.root.mkdir(exist_ok=True)
        self.records = {doc["md5"]: LoraRecord(**doc) for doc in db.all("loras")}

    def request(self, key: str, name: str, md5: str) -> LoraRecord:
        record = self.records.get(md5)
        if record is None:
            record = LoraRecord(md5, name, key_hash(key), self.clock.now())
            self._save(record)
        return record

    def signed_path(self, md5: str) -> str:
        """``/lora-upload/<md5>.safetensors?expires=<t>&signature=<hmac>`` (one emulated hour)."""
        expires = int(self.clock.now()) + _URL_TTL
        return (
            f"/lora-upload/{md5}.safetensors?expires={expires}&signature={self._sign(md5, expires)}"
        )

    def _sign(self, md5: str, expires: int) -> str:
        return hmac.new(self.secret, f"lora|{md5}|{expires}".encode(), hashlib.sha256).hexdigest()

    def check_signature(self, name: str, query: str) -> str:
        """The md5 a signed PUT names; ValueError (a COS error code) otherwise."""
        params = parse_qs(query)
        md5 = name.removesuffix(".safetensors")
        expires = params.get("expires", [""])[0]
        signature = params.get("signature", [""])[0]
        if not expires.isdigit() or not hmac.compare_digest(
            signature, self._sign(md5, int(expires))
        ):
            raise ValueError("SignatureDoesNotMatch")
        if self.clock.now() > int(expires):
            raise ValueError("AccessDenied")
        if md5 not in self.records:
            raise ValueError("NoSuchUpload")
        return md5

    def finish(self, md5: str, temporary: str, size: int) -> None:
        os.replace(temporary, self.root / f"{md5}.safetensors")
        record = self.records[md5]
        record.size, record.complete = size, True
        self._save(record)

    def of_key(self, key: str) -> list[LoraRecord]:
        digest = key_hash(key)
        return [r for r in self.records.values() if r.complete and r.key_hash == digest]

    @property
    def completed(self) -> int:
        return sum(1 for record in self.records.values() if record.complete)

    def _save(self, record: LoraRecord) -> None:
        self.records[record.md5] = record
        self.db.put("loras", record.md5, asdict(record))
