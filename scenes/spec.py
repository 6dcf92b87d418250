"""Scene specs: each memorial room is a TOML file in this folder, loaded into typed dataclasses.

A spec is pure data (no Panda3D): positions in metres, Z up, the visitor seated on -Y
looking +Y towards the bust. `build.py` turns a spec into nodes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from assets.errors import UsageError

from . import textures

HERE = Path(__file__).parent
SHAPES = ("box", "cylinder", "sphere", "cone", "capsule", "plane")


@dataclass
class Obj:
    shape: str
    size: list[float]
    pos: list[float]
    hpr: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    color: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    texture: str | None = None
    uv_scale: float = 1.0
    shadow: bool = False
    unlit: bool = False


@dataclass
class Light:
    type: str  # "point" | "directional"
    color: list[float]
    pos: list[float] = field(default_factory=lambda: [0.0, 0.0, 3.0])
    hpr: list[float] = field(default_factory=lambda: [0.0, -45.0, 0.0])
    attenuation: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.3])


@dataclass
class Candle:
    pos: list[float]
    height: float = 0.18
    radius: float = 0.025
    light: bool = False  # add a flickering point light (a few per room, they cost per-vertex lighting)


@dataclass
class Photo:
    pos: list[float]
    hpr: list[float]
    size: list[float]  # width, height in metres (the picture keeps its aspect inside)
    frame_color: list[float] = field(default_factory=lambda: [0.35, 0.24, 0.14])


@dataclass
class SceneSpec:
    name: str
    title: str
    background: list[float]  # clear colour (sky or dark room)
    ambient: list[float]
    camera_pos: list[float]  # the seated visitor's eyes
    camera_look_at: list[float]
    fov: float
    bust_pos: list[float]  # the subject's eye midpoint
    bust_heading: float
    ambience: str  # "garden" | "room" | "chapel": the synthesized ambient sound
    ambience_db: float
    sky: list[list[float]] | None = None  # [zenith, horizon] colours for a sky dome
    lights: list[Light] = field(default_factory=list)
    objects: list[Obj] = field(default_factory=list)
    candles: list[Candle] = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    presentation: str = "bust"  # "bust": free-standing | "portrait": a living portrait on an easel


PRESENTATIONS = ("bust", "portrait")


def available() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.toml"))


def _vec(d: dict, key: str, n: int, where: str, default=None) -> list[float]:
    value = d.get(key, default)
    if value is None:
        raise UsageError(f"{where}: missing '{key}'")
    if not isinstance(value, list) or len(value) != n or not all(isinstance(x, (int, float)) for x in value):
        raise UsageError(f"{where}: '{key}' must be a list of {n} numbers, got {value!r}")
    return [float(x) for x in value]


def parse(data: dict, name: str) -> SceneSpec:
    """Validate a TOML dict into a SceneSpec; every problem names the scene and the field."""
    w = f"scene '{name}'"
    try:
        cam, bust = data["camera"], data["bust"]
    except KeyError as exc:
        raise UsageError(f"{w}: missing table [{exc.args[0]}]") from None
    objects = []
    for i, o in enumerate(data.get("objects", [])):
        ow = f"{w} object {i + 1}"
        if o.get("shape") not in SHAPES:
            raise UsageError(f"{ow}: shape must be one of {', '.join(SHAPES)}, got {o.get('shape')!r}")
        if o.get("texture") is not None and o["texture"] not in textures.MAKERS:
            raise UsageError(f"{ow}: unknown texture {o['texture']!r}")
        objects.append(Obj(shape=o["shape"], size=[float(x) for x in o.get("size", [1, 1, 1])], pos=_vec(o, "pos", 3, ow),
                           hpr=_vec(o, "hpr", 3, ow, [0, 0, 0]), color=_vec(o, "color", 3, ow, [1, 1, 1]),
                           texture=o.get("texture"), uv_scale=float(o.get("uv_scale", 1.0)),
                           shadow=bool(o.get("shadow", False)), unlit=bool(o.get("unlit", False))))
    lights = []
    for i, li in enumerate(data.get("lights", [])):
        lw = f"{w} light {i + 1}"
        if li.get("type") not in ("point", "directional"):
            raise UsageError(f"{lw}: type must be 'point' or 'directional'")
        lights.append(Light(type=li["type"], color=_vec(li, "color", 3, lw), pos=_vec(li, "pos", 3, lw, [0, 0, 3]),
                            hpr=_vec(li, "hpr", 3, lw, [0, -45, 0]),
                            attenuation=_vec(li, "attenuation", 3, lw, [1, 0, 0.3])))
    candles = [Candle(pos=_vec(c, "pos", 3, f"{w} candle {i + 1}"), height=float(c.get("height", 0.18)),
                      radius=float(c.get("radius", 0.025)), light=bool(c.get("light", False)))
               for i, c in enumerate(data.get("candles", []))]
    photos = [Photo(pos=_vec(p, "pos", 3, f"{w} photo {i + 1}"), hpr=_vec(p, "hpr", 3, f"{w} photo {i + 1}", [0, 0, 0]),
                    size=_vec(p, "size", 2, f"{w} photo {i + 1}"),
                    frame_color=_vec(p, "frame_color", 3, f"{w} photo {i + 1}", [0.35, 0.24, 0.14]))
              for i, p in enumerate(data.get("photos", []))]
    amb = data.get("ambience", {})
    if amb.get("kind", "room") not in ("garden", "room", "chapel"):
        raise UsageError(f"{w}: ambience kind must be garden, room or chapel")
    sky = data.get("sky")
    presentation = bust.get("presentation", "bust")
    if presentation not in PRESENTATIONS:
        raise UsageError(f"{w} [bust]: presentation must be one of {', '.join(PRESENTATIONS)}, got {presentation!r}")
    return SceneSpec(
        name=name, title=str(data.get("title", name)), background=_vec(data, "background", 3, w, [0, 0, 0]),
        ambient=_vec(data, "ambient", 3, w, [0.2, 0.2, 0.2]), camera_pos=_vec(cam, "pos", 3, f"{w} [camera]"),
        camera_look_at=_vec(cam, "look_at", 3, f"{w} [camera]"), fov=float(cam.get("fov", 50)),
        bust_pos=_vec(bust, "pos", 3, f"{w} [bust]"), bust_heading=float(bust.get("heading", 0)),
        ambience=amb.get("kind", "room"), ambience_db=float(amb.get("level_db", -30)),
        sky=[_vec(sky, "zenith", 3, f"{w} [sky]"), _vec(sky, "horizon", 3, f"{w} [sky]")] if sky else None,
        lights=lights, objects=objects, candles=candles, photos=photos, presentation=presentation)


def load(name_or_path: str | Path) -> SceneSpec:
    """A scene by name (a TOML here) or by path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = HERE / f"{name_or_path}.toml"
        if not path.is_file():
            raise UsageError(f"unknown scene {str(name_or_path)!r} (available: {', '.join(available())})")
    elif not path.is_file():
        raise UsageError(f"scene file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"scene file {path.name} is not valid TOML: {exc}") from None
    return parse(data, path.stem)
