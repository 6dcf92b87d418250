"""The desktop window's controls beyond candles, driven through the same key map the window binds,
rendered offscreen: the note box shows while open, the note and a vault photo reach another member."""

from __future__ import annotations

import asyncio
import io

import numpy as np

from tests.room.conftest import BackgroundRoom, join, url
from tests.room.test_room_view import likeness_vault  # noqa: F401  (the fixture)


def _near(frame: np.ndarray, rgb: tuple[float, ...], tol: int = 30) -> np.ndarray:
    return (np.abs(frame[..., :3].astype(int) - (np.array(rgb[:3]) * 255).astype(int)) <= tol).all(axis=-1)


def test_a_member_writes_a_note_and_places_a_vault_photo_from_the_window(likeness_vault, tmp_path):  # noqa: F811
    from PIL import Image

    from scenes.spec import load as load_spec
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.room.access import make_invite, room_keys
    from vr_app.room.client import RoomClient
    from vr_app.room.join import Session
    from vr_app.room.ui import ENTRY_COLOR, NoteEntry, desktop_keys
    from vr_app.room.view import RoomView

    picture = np.zeros((60, 90, 3), np.uint8)
    picture[:, :45] = (240, 200, 30)  # left half yellow, right half blue
    picture[:, 45:] = (30, 60, 220)
    raw = io.BytesIO()
    Image.fromarray(picture).save(raw, "PNG")
    likeness_vault.put("original/garden-day", raw.getvalue(), kind="original", meta={"media_type": "image/png"})
    likeness_vault.put("original/voice-memo", b"not a photo", kind="original", meta={"media_type": "audio/wav"})
    spec = load_spec("garden")
    room = BackgroundRoom(likeness_vault)
    loop = asyncio.new_event_loop()
    try:
        ben = room.call(join(room.server, "ben"))
        empty = _bens_view(ben, spec)
        anna = loop.run_until_complete(RoomClient.connect(
            url(room.server), "anna", invite=make_invite(room_keys(likeness_vault), "rose", "anna")))
        with OffscreenRenderer((320, 240)) as renderer:
            view = RoomView(renderer.stage, anna, spec, None)
            session = Session(loop, anna, view)
            entry = NoteEntry(renderer.stage.aspect2d, renderer.stage.aspect, session.leave_note)
            left = []
            keys = desktop_keys(session, entry, leave=lambda: left.append(True))
            session.step()
            closed = renderer.frame()
            keys["n"]()
            session.step()
            opened = renderer.frame()
            entry.entry.set_text("We  miss you,\nMum")
            keys["c"]()  # typed into the box: no candle
            keys["p"]()  # likewise: no photo
            keys["enter"]()
            renderer.stage.camera.set_h(renderer.stage.camera.get_h() + 25)  # turn a little: the photo goes elsewhere
            keys["p"]()
            for _ in range(400):
                session.step()
                if len(anna.state.items) >= 2:
                    break
            keys["n"]()
            entry.entry.set_text("never sent")
            keys["escape"]()  # closes the box, drops its text, and does not leave the room
            box_closed, left_room = not entry.is_open, bool(left)
            keys["escape"]()  # box closed: now esc leaves
            for _ in range(20):
                session.step()
        Image.fromarray(np.concatenate([closed, opened], axis=1)).save(tmp_path / "anna.png")
        loop.run_until_complete(anna.close())  # she sat where ben sits: her avatar would hide his view
        room.call(ben.wait_until(lambda c: "anna" not in c.presence, timeout=10))
        room.call(ben.wait_until(lambda c: len(c.state.items) >= 2, timeout=10))
        room.call(ben.request_photo("original/garden-day"))
        room.call(ben.wait_until(lambda c: "original/garden-day" in c.photos, timeout=10))
        seen = _bens_view(ben, spec)
        Image.fromarray(np.concatenate([empty, seen], axis=1)).save(tmp_path / "ben.png")
        items = sorted(ben.state.items.values(), key=lambda i: i.id)
        room.call(ben.close())
    finally:
        loop.close()
        room.close()

    band = slice(int(0.85 * 240), 240)  # the box sits along the bottom of the window
    assert _near(opened[band], ENTRY_COLOR).sum() > 1000 and _near(closed[band], ENTRY_COLOR).sum() < 50
    assert box_closed and not left_room and left == [True]
    assert [(i.kind, i.owner) for i in items] == [("note", "anna"), ("photo", "anna")]
    assert items[0].text == "We miss you, Mum"  # one line on the card
    assert items[1].photo == "original/garden-day"  # the audio original is not offered as a photo
    assert session.refused == []
    yellow = (seen[..., 0] > 180) & (seen[..., 1] > 150) & (seen[..., 2] < 90)
    blue = (seen[..., 2] > 160) & (seen[..., 0] < 90)
    assert yellow.sum() > 30 and blue.sum() > 30  # the photo hangs where anna placed it, in ben's view
    card = _pale(seen) & ~_pale(empty)  # pale and unsaturated where the empty room had none: the note card
    assert card.sum() > 300 and _pale(empty).sum() > 0


def _pale(frame: np.ndarray) -> np.ndarray:
    return (frame[..., :3].min(axis=-1) > 120) & (np.ptp(frame[..., :3].astype(int), axis=-1) < 90)


def _bens_view(ben, spec) -> np.ndarray:
    from vr_app.offscreen import OffscreenRenderer
    from vr_app.room.view import RoomView

    with OffscreenRenderer((320, 240)) as renderer:
        view = RoomView(renderer.stage, ben, spec, None)
        renderer.stage.camera.set_p(renderer.stage.camera.get_p() - 8)  # ben looks down a little, at the cards
        view.update(0.0)
        return renderer.frame()


def test_only_owners_and_family_may_list_the_vault_photos(room_vault):
    from tests.room.conftest import run, running_server

    async def scenario():
        async with running_server(room_vault) as server:
            ben, vic = await join(server, "ben"), await join(server, "vic")
            await ben.request_photo_list()
            await vic.request_photo_list()
            await ben.wait_until(lambda c: c.photo_keys is not None, timeout=5)
            await vic.wait_until(lambda c: c.errors, timeout=5)
            assert vic.photo_keys is None and vic.errors[-1]["code"] == "forbidden"
            await ben.close()
            await vic.close()
            return ben.photo_keys

    assert run(scenario()) == []  # the fixture's vault holds no photos
