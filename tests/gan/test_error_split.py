import numpy as np

from generation.gan.error_split import REGIONS, edge_split, noise_floor, region_map, region_psnr


def _ramp(t_count=12, side=32):
    """Frames whose picture brightens linearly in time (motion the estimator must not count) [T,S,S,3]."""
    base = np.linspace(60, 160, side)[None, :, None] + np.zeros((side, side, 3))
    return np.stack([base + 3.0 * t for t in range(t_count)])


def test_noise_floor_recovers_known_noise_and_ignores_linear_motion():
    rng = np.random.default_rng(0)
    clean = _ramp()
    sigma = 4.0
    frames = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).round().astype(np.uint8)
    masks = np.ones(frames.shape[:3], bool)
    got = noise_floor(frames, masks)["all"]
    want = 10 * np.log10(255 ** 2 / (sigma ** 2 + 1 / 12))  # + the rounding's own variance
    assert abs(got - want) < 0.4, (got, want)
    noiseless = noise_floor(clean.round().astype(np.uint8), masks)["all"]
    assert noiseless > want + 15, noiseless  # linear motion alone is not noise


def test_noise_floor_uses_only_texels_all_three_frames_saw_and_skips_gaps():
    rng = np.random.default_rng(1)
    frames = np.clip(_ramp() + rng.normal(0, 2.0, _ramp().shape), 0, 255).round().astype(np.uint8)
    masks = np.ones(frames.shape[:3], bool)
    frames[5, :, :16] = 255  # one frame's left half is garbage, but no frame saw it
    masks[5, :, :16] = False
    left_seen = noise_floor(frames, masks)["all"]
    assert left_seen > 10 * np.log10(255 ** 2 / 4.0) - 0.5, left_seen
    times = np.arange(len(frames)) * 0.04
    times[6:] += 0.04  # a missing frame between 5 and 6: triples across it are skipped
    assert np.isfinite(noise_floor(frames, masks, times)["all"])
    assert np.isnan(noise_floor(frames[:3], masks[:3], np.array([0.0, 0.04, 0.12]))["all"])


def _toy_head(side=64):
    """A 'head' whose 478 landmarks sit on a grid in UV, with lip landmark 13 at the texture's centre."""
    uvs = np.stack(np.meshgrid(np.linspace(0.02, 0.98, 22), np.linspace(0.02, 0.98, 22)), -1).reshape(-1, 2)[:478]
    uvs = uvs.copy()
    uvs[13] = (0.5, 0.5)
    return uvs.astype(np.float32), np.arange(478)


def test_region_map_labels_texels_by_their_nearest_landmark():
    uvs, lmv = _toy_head()
    reg = region_map(uvs, lmv, 64)
    assert reg.shape == (64, 64)
    assert REGIONS[reg[32, 32]] == "mouth" and REGIONS[reg[31, 31]] == "mouth"
    # landmark 0 is a lip point at uv (0.02, 0.02): bottom-left in UV, so the last row, first column
    assert REGIONS[reg[63, 0]] == "mouth"
    assert REGIONS[reg[0, 0]] == "rest"  # top-left: landmark 462, in no region


def test_region_psnr_puts_the_error_where_it_is():
    side = 64
    uvs, lmv = _toy_head(side)
    reg = region_map(uvs, lmv, side)
    real = np.full((4, side, side, 3), 120, np.uint8)
    pred = real.copy()
    mouth = reg == REGIONS.index("mouth")
    pred[:, mouth] += 10  # only the mouth is wrong
    masks = np.ones((4, side, side), bool)
    got = region_psnr(pred, real, masks, reg)
    assert abs(got["mouth"][0] - 10 * np.log10(255 ** 2 / 100)) < 1e-6
    assert got["mouth"][1] == 1.0 and got["rest"][1] == 0.0
    assert got["rest"][0] == float("inf") and got["all"][0] < got["rest"][0]
    assert np.isnan(region_psnr(pred, real, np.zeros_like(masks), reg)["mouth"][0])
    assert set(got) == {"all", *REGIONS}


def test_edge_split_separates_the_border_of_the_seen_area():
    side = 40
    real = np.full((2, side, side, 3), 100, np.uint8)
    masks = np.zeros((2, side, side), bool)
    masks[:, 10:30, 10:30] = True  # a 20x20 seen square
    pred = real.copy()
    pred[:, 10:12, 10:30] += 20  # wrong only on its top two rows: the edge
    got = edge_split(pred, real, masks, px=4)
    assert got["inside_db"] == float("inf")
    assert got["edge_error"] == 1.0
    assert abs(got["edge_texels"] - (400 - 12 * 12) / 400) < 1e-9  # inside: the 12x12 core
    assert abs(got["edge_db"] - 10 * np.log10(255 ** 2 / (400 * 40 / 256))) < 1e-6  # 40 of 256 edge texels at 20²
    full = np.ones((1, side, side), bool)  # the picture's own border is an edge too
    assert abs(edge_split(real[:1], real[:1], full, px=2)["edge_texels"] - (1 - 36 ** 2 / 40 ** 2)) < 1e-9
