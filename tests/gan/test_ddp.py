"""DistributedDataParallel on CPU: 2 gloo processes train a tiny model from the vault.

Each rank opens the vault itself (passphrase from the environment, as under torchrun), rank 0
reads the dataset and broadcasts it; ranks draw different batches. Afterwards both ranks must
hold identical weights (gradients were averaged), while their losses differed (different data).
NCCL on GPUs uses the same code path but is not tested here (no GPU on this machine).
"""

import hashlib
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from assets.artifacts import KEYS
from tests.conftest import OWNER_PASS
from tests.gan.synth import TINY, make_dataset


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, home: str, queue) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world),
                       "RANK": str(rank), "LOCAL_RANK": str(rank), "MEMORIAL_HOME": home})
    torch.set_num_threads(1)
    import torch.distributed as dist
    from generation.gan.train import run_subject
    from generation.vault import open_vault

    try:
        with open_vault("rose", OWNER_PASS) as vault:
            _, trainer = run_subject(vault, "cpu-demo", steps=5, progress=False, say=lambda s: None,
                                     overrides={**TINY, "device": "cpu"})
        digest = hashlib.sha256()
        for module in (trainer.G, trainer.D, trainer.G_ema):
            for k, v in sorted(module.state_dict().items()):
                digest.update(k.encode() + v.detach().contiguous().numpy().tobytes())
        queue.put((rank, digest.hexdigest(), trainer.log_lines[-1], trainer.d.world))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.slow
def test_two_gloo_ranks_end_with_identical_weights(make_subject, memorial_home):
    vault = make_subject("rose")
    vault.put(KEYS["dataset"], make_dataset(n=16, res=16).to_bytes(), kind="dataset")
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    mp.start_processes(_worker, args=(2, _free_port(), str(memorial_home), queue), nprocs=2, join=True,
                       start_method="spawn")
    results = sorted(queue.get() for _ in range(2))
    (r0, h0, log0, w0), (r1, h1, log1, w1) = results
    assert (r0, r1, w0, w1) == (0, 1, 2, 2)
    assert h0 == h1
    losses = [{k: v for k, v in __import__("json").loads(x).items() if k.startswith("loss")} for x in (log0, log1)]
    assert losses[0] != losses[1]  # each rank saw its own batches
    from generation.gan import checkpoint
    from generation.vault import open_vault

    assert checkpoint.load(open_vault("rose", OWNER_PASS), "checkpoint/current")["step"] == 5
