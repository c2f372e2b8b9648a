#!/usr/bin/python3
"""objrec_probe.py — how learnable is an objrec data set from its pixels?

Trains a multinomial logistic regression (one linear layer, 7225 -> categories)
on the training images with the task's batch (16) and plain SGD, and prints
train / validation / test error every 5 epochs.  A set whose validation error
stays near chance (87.5 % for 8 categories) under this probe carries little
category information at the pixel level; docs/objrec.md uses it to choose the
default pose variation.  Needs python3-numpy and python3-torch (Debian).

    /usr/bin/python3 tools/objrec_probe.py data/objrec [--lr 0.01] [--epochs 50] [--seed 0]
"""
import argparse
import os

import numpy as np
import torch


def load(d, split):
    x = np.fromfile(os.path.join(d, f"{split}-images-idx3-ubyte"), np.uint8, offset=16)
    y = np.fromfile(os.path.join(d, f"{split}-labels-idx1-ubyte"), np.uint8, offset=8)
    x = x.reshape(len(y), -1).astype(np.float32) / 255
    return torch.tensor(x), torch.tensor(y.astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", help="the data set folder (with train-images-idx3-ubyte ...)")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train")
    xva, yva = load(a.data, "val")
    xte, yte = load(a.data, "test")
    C = int(ytr.max()) + 1
    lin = torch.nn.Linear(xtr.shape[1], C)
    opt = torch.optim.SGD(lin.parameters(), lr=a.lr)
    g = torch.Generator().manual_seed(a.seed)
    nb = len(ytr) // a.batch

    def err(x, y):
        with torch.no_grad():
            return 100.0 * (lin(x).argmax(1) != y).float().mean().item()

    print(f"{a.data}: {len(ytr)}/{len(yva)}/{len(yte)} images, {xtr.shape[1]} pixels, {C} categories, "
          f"chance {100.0 * (C - 1) / C:.1f} %")
    for e in range(a.epochs):
        perm = torch.randperm(len(ytr), generator=g)
        loss = 0.0
        for i in range(nb):
            idx = perm[i * a.batch:(i + 1) * a.batch]
            lo = torch.nn.functional.cross_entropy(lin(xtr[idx]), ytr[idx])
            opt.zero_grad()
            lo.backward()
            opt.step()
            loss += lo.item()
        if (e + 1) % 5 == 0 or e + 1 == a.epochs:
            print(f"epoch {e + 1:3d}  train loss {loss / nb:.3f}  error % train {err(xtr, ytr):5.1f}  "
                  f"val {err(xva, yva):5.1f}  test {err(xte, yte):5.1f}", flush=True)


if __name__ == "__main__":
    main()
