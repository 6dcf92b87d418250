"""RoomState (pure) and the encrypted op log, without any network."""

from __future__ import annotations

import pytest

from assets.errors import TamperError
from vr_app.room import protocol as p
from vr_app.room import store
from vr_app.room.state import OpRefused, RoomState

KEY = bytes(range(32))


def _do(state: RoomState, raw: str, member: str, role: str, now: float = 100.0) -> int:
    record = state.check(p.parse_client(raw), member, role, now)
    state.apply(state.seq + 1, record)
    return state.seq


def test_items_belong_to_the_room_and_only_owner_or_placer_may_remove_them():
    state = RoomState()
    candle = _do(state, '{"type":"light_candle","rid":1,"position":[0,0,1]}', "ben", "family")
    note = _do(state, '{"type":"place_note","rid":2,"position":[1,0,1],"text":"love"}', "cara", "family")
    with pytest.raises(OpRefused, match="placed by cara"):
        _do(state, f'{{"type":"remove_item","rid":3,"item":"i{note}"}}', "ben", "family")
    _do(state, f'{{"type":"candle_out","rid":4,"item":"i{candle}"}}', "ben", "family")
    assert state.items[f"i{candle}"].lit is False
    with pytest.raises(OpRefused, match="not a lit candle"):
        _do(state, f'{{"type":"candle_out","rid":5,"item":"i{candle}"}}', "ben", "family")
    _do(state, f'{{"type":"remove_item","rid":6,"item":"i{note}"}}', "anna", "owner")
    assert list(state.items) == [f"i{candle}"]


@pytest.mark.parametrize("role,allowed", [
    ("owner", {"light_candle", "kick", "mute", "close", "play_line"}),
    ("family", {"light_candle", "play_line"}),
    ("therapist", {"pause", "play_line"}),
    ("viewer", set()),
])
def test_permission_matrix_per_role(role, allowed):
    messages = {
        "light_candle": '{"type":"light_candle","rid":1,"position":[0,0,1]}',
        "kick": '{"type":"kick","rid":1,"member":"zed"}',
        "mute": '{"type":"mute","rid":1,"member":"zed"}',
        "close": '{"type":"close","rid":1}',
        "pause": '{"type":"pause","rid":1}',
        "play_line": '{"type":"play_line","rid":1,"track":"hello"}',
    }
    got = set()
    for kind, raw in messages.items():
        try:
            RoomState().check(p.parse_client(raw), "me", role, 0.0)
            got.add(kind)
        except OpRefused as exc:
            assert exc.code == "forbidden"
    assert got == allowed


def test_line_is_scheduled_on_the_server_clock_and_pause_shifts_it():
    state = RoomState()
    _do(state, '{"type":"play_line","rid":1,"track":"hello","delay":2}', "ben", "family", now=100.0)
    assert state.line.start_at == pytest.approx(102.0, abs=1e-9)
    _do(state, '{"type":"pause","rid":2}', "tess", "therapist", now=103.0)
    _do(state, '{"type":"pause","rid":3,"paused":false}', "tess", "therapist", now=110.0)
    assert state.line.start_at == pytest.approx(109.0, abs=1e-9)  # resumes where it stopped
    _do(state, '{"type":"end","rid":4}', "tess", "therapist")
    with pytest.raises(OpRefused) as closed:
        _do(state, '{"type":"light_candle","rid":5,"position":[0,0,1]}', "anna", "owner")
    assert closed.value.code == "closed"


def test_op_log_replays_to_the_same_state_and_cuts_a_torn_tail(tmp_path):
    log = store.FileOpLog("rose", "main", KEY, folder=tmp_path)
    log.acquire()
    live = log.load()
    for i in range(5):
        record = live.check(p.parse_client(f'{{"type":"light_candle","rid":{i},"position":[{i},0,1]}}'), "ben",
                            "family", 1.0)
        live.apply(live.seq + 1, record)
        log.append([(live.seq, record)])
    log.close()
    with open(tmp_path / "ops.log", "ab") as fh:
        fh.write(b"6 AAAA")  # a write cut short by kill -9 (never acknowledged)
    again = store.FileOpLog("rose", "main", KEY, folder=tmp_path)
    again.acquire()
    assert again.load().to_json() == live.to_json()
    assert (tmp_path / "ops.log").read_bytes().endswith(b"\n")
    with pytest.raises(store.RoomBusy):
        store.FileOpLog("rose", "main", KEY, folder=tmp_path).acquire()  # one process per room
    again.close()


def test_op_log_is_encrypted_and_tampering_is_detected(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "SNAPSHOT_EVERY", 3)
    log = store.FileOpLog("rose", "main", KEY, folder=tmp_path)
    log.acquire()
    state = log.load()
    for i in range(4):
        record = state.check(p.parse_client(f'{{"type":"place_note","rid":{i},"position":[0,0,1],"text":"secret{i}"}}'),
                             "ben", "family", 1.0)
        state.apply(state.seq + 1, record)
        log.append([(state.seq, record)])
        log.maybe_snapshot(state)
    log.close()
    assert (tmp_path / "snapshot.bin").exists()  # 3 ops compacted into the snapshot, 1 left in the log
    raw = (tmp_path / "ops.log").read_bytes() + (tmp_path / "snapshot.bin").read_bytes()
    assert b"secret" not in raw
    reload = store.FileOpLog("rose", "main", KEY, folder=tmp_path)
    assert reload.load().to_json() == state.to_json()
    reload.close()
    line = (tmp_path / "ops.log").read_bytes()
    (tmp_path / "ops.log").write_bytes(line[:-5] + (b"A" if line[-5:-4] != b"A" else b"B") + line[-4:])
    with pytest.raises(TamperError):
        store.FileOpLog("rose", "main", KEY, folder=tmp_path).load()
    with pytest.raises(TamperError):
        store.FileOpLog("rose", "main", b"\x01" * 32, folder=tmp_path).load()


def test_pose_frames_are_fixed_size_and_checked():
    frame = p.encode_pose(7, 12.5, tuple(float(i) for i in range(21)))
    assert len(frame) == p.POSE_UP_BYTES == 97
    assert p.decode_pose(frame) == (7, 12.5, tuple(float(i) for i in range(21)))
    with pytest.raises(p.ProtocolError):
        p.decode_pose(frame[:-1])
    with pytest.raises(p.ProtocolError):
        p.decode_pose(p.encode_pose(1, 0.0, (float("nan"),) * 21))


def test_pose_batches_round_trip_and_refuse_a_wrong_length():
    pose = tuple(float(i) / 4 for i in range(21))
    batch = p.encode_batch(5.0, [p.encode_batch_entry(2, 7, 1.5, pose), p.encode_batch_entry(3, 8, 1.75, pose)])
    assert p.decode_batch(batch) == (5.0, [(2, 7, 1.5, pose), (3, 8, 1.75, pose)])
    assert p.batch_send_times(batch) == [1.5, 1.75]
    with pytest.raises(p.ProtocolError):
        p.decode_batch(batch[:-1])
