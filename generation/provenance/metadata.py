"""The implicit label in container metadata: content type AIGC, producer, content id.

The field layout follows China's labelling standard for AI-generated content (an `AIGC`
object with Label, ContentProducer, ProduceID ...); the same JSON goes into a PNG iTXt chunk,
a WAV LIST/INFO comment and the MP4 `comment` tag. It is written before the C2PA signature,
so the signature covers it.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from assets.errors import MemorialError

KEY = "AIGC"


def aigc_json(content_id: str, producer: str = "Memorial VR") -> str:
    return json.dumps({KEY: {"Label": "1", "ContentType": "AIGC", "ContentProducer": producer,
                             "ProduceID": content_id, "ReservedCode1": "AI-generated likeness"}},
                      ensure_ascii=False, separators=(",", ":"))


# ----- PNG ------------------------------------------------------------------------------------

_PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_chunks(raw: bytes):
    if not raw.startswith(_PNG_SIG):
        raise MemorialError("not a PNG file")
    pos = len(_PNG_SIG)
    while pos + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        if pos + 12 + length > len(raw):
            raise MemorialError("PNG file is truncated")
        yield kind, raw[pos + 8:pos + 8 + length], raw[pos:pos + 12 + length]
        pos += 12 + length


def write_png(path: Path, text: str) -> None:
    raw = path.read_bytes()
    itxt = _png_chunk(b"iTXt", KEY.encode() + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))
    out = [_PNG_SIG]
    for kind, _, whole in _png_chunks(raw):
        if kind == b"IEND":
            out.append(itxt)
        out.append(whole)
    path.write_bytes(b"".join(out))


def read_png(path: Path) -> dict | None:
    for kind, data, _ in _png_chunks(path.read_bytes()):
        if kind == b"iTXt" and data.startswith(KEY.encode() + b"\x00"):
            return json.loads(data[len(KEY) + 5:].decode("utf-8"))
    return None


# ----- WAV ------------------------------------------------------------------------------------

def write_wav(path: Path, text: str) -> None:
    """Append a LIST/INFO chunk with ICMT (comment) and ISFT (software) and fix the RIFF size."""
    raw = bytearray(path.read_bytes())
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise MemorialError("not a WAV file")
    def sub(tag: bytes, value: str) -> bytes:
        data = value.encode("utf-8") + b"\x00"
        if len(data) % 2:
            data += b"\x00"
        return tag + struct.pack("<I", len(data)) + data
    body = b"INFO" + sub(b"ICMT", text) + sub(b"ISFT", "Memorial VR")
    riff_end = 8 + struct.unpack("<I", raw[4:8])[0]
    del raw[riff_end:]
    if len(raw) % 2:
        raw += b"\x00"
    raw += b"LIST" + struct.pack("<I", len(body)) + body
    raw[4:8] = struct.pack("<I", len(raw) - 8)
    path.write_bytes(bytes(raw))


def read_wav(path: Path) -> dict | None:
    raw = path.read_bytes()
    pos = 12
    while pos + 8 <= len(raw):
        tag, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        if tag == b"LIST" and raw[pos + 8:pos + 12] == b"INFO":
            sub = pos + 12
            while sub + 8 <= pos + 8 + size:
                stag, ssize = raw[sub:sub + 4], struct.unpack("<I", raw[sub + 4:sub + 8])[0]
                if stag == b"ICMT":
                    try:
                        return json.loads(raw[sub + 8:sub + 8 + ssize].rstrip(b"\x00").decode("utf-8"))
                    except ValueError:
                        return None
                sub += 8 + ssize + (ssize % 2)
        pos += 8 + size + (size % 2)
    return None


# ----- MP4 ------------------------------------------------------------------------------------

def write_mp4(path: Path, text: str) -> None:
    """Remux (no re-encode) with the JSON in the container's comment tag."""
    import av

    tmp = path.with_name(f".{path.name}.meta.mp4")
    try:
        with av.open(str(path)) as src, av.open(str(tmp), "w", format="mp4") as dst:
            dst.metadata.update({k: v for k, v in src.metadata.items() if k not in ("comment", "description")})
            dst.metadata["comment"] = text
            dst.metadata["description"] = "AI-generated likeness"
            mapping = {}
            for stream in src.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = dst.add_stream_from_template(stream)
            for packet in src.demux(*[s for s in src.streams if s.index in mapping]):
                if packet.dts is None:
                    continue
                packet.stream = mapping[packet.stream.index]
                dst.mux(packet)
        tmp.replace(path)
    except av.error.FFmpegError as exc:
        raise MemorialError(f"could not add metadata to {path.name}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def read_mp4(path: Path) -> dict | None:
    import av

    with av.open(str(path)) as src:
        text = src.metadata.get("comment")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


WRITERS = {"image/png": write_png, "audio/wav": write_wav, "video/mp4": write_mp4}
READERS = {"image/png": read_png, "audio/wav": read_wav, "video/mp4": read_mp4}


def write(path: Path, media_type: str, content_id: str) -> None:
    WRITERS[media_type](path, aigc_json(content_id))


def read(path: Path, media_type: str) -> dict | None:
    """The AIGC metadata object, or None when absent or unreadable."""
    reader = READERS.get(media_type)
    if reader is None:
        return None
    try:
        return reader(path)
    except (MemorialError, OSError, ValueError, UnicodeDecodeError):
        return None
    except Exception as exc:  # av raises its own error types for damaged files
        if type(exc).__module__.startswith("av"):
            return None
        raise


# ----- glTF binary (.glb) and Wavefront .obj -----------------------------------------------------

def _glb_split(raw: bytes) -> tuple[dict, bytes]:
    if len(raw) < 20 or raw[:4] != b"glTF":
        raise MemorialError("not a glTF binary (.glb) file")
    version, length = struct.unpack("<II", raw[4:12])
    if version != 2 or length > len(raw):
        raise MemorialError("glTF binary is truncated or not version 2")
    json_len, json_type = struct.unpack("<I4s", raw[12:20])
    if json_type != b"JSON" or 20 + json_len > len(raw):
        raise MemorialError("glTF binary has no JSON chunk")
    doc = json.loads(raw[20:20 + json_len].decode("utf-8"))
    rest = raw[20 + json_len:length]
    return doc, rest


def _glb_join(doc: dict, rest: bytes) -> bytes:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + rest
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body


def write_glb(path: Path, text: str) -> None:
    """Put the AIGC object in `asset.extras` and say it in `asset.copyright` too."""
    doc, rest = _glb_split(path.read_bytes())
    asset = doc.setdefault("asset", {"version": "2.0"})
    asset.setdefault("extras", {})[KEY] = json.loads(text)[KEY]
    asset["copyright"] = "AI-generated likeness (Memorial VR)"
    path.write_bytes(_glb_join(doc, rest))


def read_glb(path: Path) -> dict | None:
    doc, _ = _glb_split(path.read_bytes())
    found = doc.get("asset", {}).get("extras", {}).get(KEY)
    return {KEY: found} if isinstance(found, dict) else None


def glb_images(path: Path) -> list[bytes]:
    """The encoded images (PNG/JPEG bytes) embedded in a .glb's binary chunk."""
    doc, rest = _glb_split(path.read_bytes())
    if len(rest) < 8:
        return []
    bin_len, bin_type = struct.unpack("<I4s", rest[:8])
    if bin_type != b"BIN\x00":
        return []
    blob = rest[8:8 + bin_len]
    out = []
    for image in doc.get("images", []):
        view = doc.get("bufferViews", [])[image["bufferView"]] if "bufferView" in image else None
        if view is not None:
            start = view.get("byteOffset", 0)
            out.append(blob[start:start + view["byteLength"]])
    return out


_OBJ_PREFIX = "# AIGC "


def write_obj(path: Path, text: str) -> None:
    raw = path.read_bytes()
    header = f"# AI-generated likeness (Memorial VR)\n{_OBJ_PREFIX}{text}\n".encode("utf-8")
    path.write_bytes(header + raw)


def read_obj(path: Path) -> dict | None:
    with open(path, "rb") as fh:
        for _ in range(5):
            line = fh.readline().decode("utf-8", "replace")
            if line.startswith(_OBJ_PREFIX):
                return json.loads(line[len(_OBJ_PREFIX):])
    return None


WRITERS.update({"model/gltf-binary": write_glb, "model/obj": write_obj})
READERS.update({"model/gltf-binary": read_glb, "model/obj": read_obj})
