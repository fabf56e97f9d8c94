"""CPU cost of one FER2013 training epoch per architecture (what the zoo's CPU-only runs pay).

Times forward + backward + Adam steps of the real training loop's shape (batch 64, 48x48
grayscale, CS230 augmentation) on one thread, in CPU seconds (``time.process_time``, so a busy
machine does not inflate it), and projects one epoch of FER2013 Training (28,709 faces).

Usage: python bench/bench_train_epoch.py [--arch resnet50 --arch vgg16 ...] [--steps 4]
"""

from __future__ import annotations

import argparse
import time

TRAINING = 28_709


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", action="append")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args()
    import torch
    from torch.nn import functional as F

    from ferviz.models.fermodel import FERModel
    from ferviz.models.registry import create_model, list_models
    from ferviz.train import random_augment

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    print(f"{'arch':18} {'params':>11} {'CPU s/step':>10} {'CPU min/epoch':>13}  (1 thread, "
          f"batch {args.batch})")
    for name in args.arch or [a for a in list_models() if a != "synth_cnn"]:
        net, card = create_model(name)
        model = FERModel(net, card).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(args.batch, 1, 48, 48, generator=g)
        y = torch.randint(0, 7, (args.batch,), generator=g)

        def step() -> None:
            opt.zero_grad()
            F.cross_entropy(model(random_augment(x, g)), y).backward()
            opt.step()

        step()  # warm-up
        t = time.process_time()
        for _ in range(args.steps):
            step()
        per = (time.process_time() - t) / args.steps
        minutes = per * TRAINING / args.batch / 60
        print(f"{name:18} {card.params:>11,} {per:>10.2f} {minutes:>13.1f}",
              flush=True)


if __name__ == "__main__":
    main()
