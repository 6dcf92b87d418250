"""What the room needs from the vault: the head, the face texture, a track, photo thumbnails.

It works with whatever has been made so far: generated frames for the track when they
exist, otherwise the dataset's best UV texture (a still face), otherwise a plain skin tone.
Photos are decoded one at a time and only small thumbnails are kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from assets import vault_door
from assets.artifacts import KEYS, BustModel, ExpressionTrack, FrameSequence, HeadModel
from scenes.panda_textures import TextureStream

from .errors import UsageError

THUMBNAIL = 256  # pixels on the long side
NEUTRAL_SKIN = (196, 160, 138)


@dataclass
class RoomInputs:
    head: HeadModel
    texture: TextureStream
    track: ExpressionTrack | None
    title: str = ""
    photos: list[np.ndarray] = field(default_factory=list)  # [h,w,3] thumbnails
    texture_source: str = ""
    bust: BustModel | None = None  # the person's hair and upper body, when fitted with this head
    session: object | None = None  # a live therapist session (vr_app.session.binding.SessionHook)


def load_head(vault) -> HeadModel:
    return vault_door.read(vault, "head")


def load_bust(vault) -> BustModel | None:
    """The stored BustModel if it belongs to the stored head (a re-fit head makes it stale), else None;
    an unreadable one is an error (the room would silently lose the person's hair and shoulders)."""
    if not vault.exists(KEYS["bust"]):
        return None
    head_sha = vault.info(KEYS["head"]).meta.get("sha256") if vault.exists(KEYS["head"]) else None
    if head_sha is None or vault.info(KEYS["bust"]).meta.get("head_sha256") != head_sha:
        return None
    return vault_door.read(vault, "bust")


def track_names(vault) -> list[str]:
    return vault_door.names(vault, "track")


def load_track(vault, name: str) -> ExpressionTrack:
    return vault_door.read(vault, "track", name)


def load_texture(vault, track_name: str | None, frames_key: str | None = None) -> tuple[TextureStream, str]:
    """Generated frames for the track if any, else the dataset's best UV texture, else a skin tone."""
    if frames_key:  # an explicit frames blob (e.g. a demo's), which must exist
        if not vault.exists(frames_key):
            raise UsageError(f"no frames stored under {frames_key!r}")
        seq = FrameSequence.from_bytes(vault.get(frames_key))
        return TextureStream(seq.frames, seq.fps), frames_key
    seq = vault_door.read_optional(vault, "frames", track_name) if track_name else None
    if seq is not None:
        return TextureStream(seq.frames, seq.fps), vault_door.key_of("frames", track_name)
    profile = vault_door.read_optional(vault, "profile")
    if profile is not None:
        return TextureStream(profile.best_texture, 1.0), f"{KEYS['profile']} ({profile.best_source})"
    return TextureStream(np.full((64, 64, 3), NEUTRAL_SKIN, np.uint8), 1.0), "plain"


def thumbnail(data: bytes, side: int = THUMBNAIL):
    """An RGB PIL image of at most `side` pixels a side, or None when the bytes are not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (side, side))  # JPEG decodes straight at a fraction of its size
            img = img.convert("RGB")
            img.thumbnail((side, side))
            return img
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def photo_thumbnails(vault, limit: int) -> list[np.ndarray]:
    """Up to `limit` family photos from the vault's originals as RGB thumbnails [h,w,3]."""
    out = []
    for info in vault.list("original/"):
        if len(out) >= limit:
            break
        media = str(info.meta.get("media_type") or info.meta.get("mime") or info.meta.get("kind") or "")
        if media and not media.startswith("image"):
            continue
        img = thumbnail(vault.get(info.key))
        if img is not None:
            out.append(np.asarray(img, dtype=np.uint8).copy())
    return out


def line_textures(vault, names: list[str]) -> list[TextureStream]:
    """One texture stream per line for the viewer's 'next line': the line's generated frames,
    else the still face texture (decrypted once and shared)."""
    still = None
    out = []
    for name in names:
        seq = vault_door.read_optional(vault, "frames", name)
        if seq is not None:
            out.append(TextureStream(seq.frames, seq.fps))
        else:
            if still is None:
                still, _ = load_texture(vault, None)
            out.append(still)
    return out


def load_inputs(vault, track: str | ExpressionTrack | None, frames_key: str | None = None, photos: int = 8,
                texture: TextureStream | None = None) -> RoomInputs:
    """Everything the room needs; `texture` when the caller already holds the face texture."""
    head = load_head(vault)
    name = track if isinstance(track, str) else None
    trk = load_track(vault, track) if isinstance(track, str) else track
    if texture is not None:
        stream, source = texture, "given"
    else:
        stream, source = load_texture(vault, name, frames_key)
    try:
        title = vault.consent.subject_name
    except Exception:  # the title is cosmetic; consent itself was checked by authorize()
        title = ""
    return RoomInputs(head=head, texture=stream, track=trk, title=title, photos=photo_thumbnails(vault, photos),
                      texture_source=source, bust=load_bust(vault))
