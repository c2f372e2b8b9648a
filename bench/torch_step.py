#!/usr/bin/env python3
"""torch_step.py — the PyTorch side of `make bench` (same workload as bench_step.c).

One training step = forward + BPTT + update on a batch of 32 sequences of 28 steps
of 28 inputs, one ReLU recurrent layer of H units, linear readout to 10 classes,
cross-entropy at the last step, SGD with gradient clipping (max norm 10):
  rnn    torch.nn.RNN(nonlinearity='relu') + nn.Linear, clip_grad_norm_ per layer
  colei  the straightforward implementation: W = W_pos * sign rebuilt every step,
         a Python loop over time, per-tensor clipping, clamp after the step
  dann   W = W_EE - W_EI @ W_IE (and U, readout likewise) rebuilt every step,
         inhibitory gradient scaling, per-layer clipping, clamp after the step
Prints CSV lines: impl,model,H,threads,sec_per_step,steps_per_s,gflops,cpu_sec_per_step
(median wall and median process CPU time per step over 7 timed repeats).
usage: torch_step.py THREADS H [H ...]
"""
import sys
import time

import torch

T, B, D, M = 28, 32, 28, 10


def flops(H):
    return 6.0 * T * B * H * H + 4.0 * T * B * D * H + 6.0 * B * H * M


def clip_(tensors, g):
    n = torch.sqrt(sum((t.grad ** 2).sum() for t in tensors))
    f = g / (n + 1e-12)
    if f < 1:
        for t in tensors:
            t.grad.mul_(f)


def make(model, H, gen):
    x = torch.rand(T, B, D, generator=gen)
    y = torch.randint(0, M, (B,), generator=gen)
    lr = 1e-3
    if model == "rnn":
        rnn = torch.nn.RNN(D, H, nonlinearity="relu")
        lin = torch.nn.Linear(H, M)
        opt = torch.optim.SGD(list(rnn.parameters()) + list(lin.parameters()), lr=lr)

        def step():
            opt.zero_grad()
            out, _ = rnn(x)
            loss = torch.nn.functional.cross_entropy(lin(out[-1]), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(rnn.parameters(), 10.0)
            torch.nn.utils.clip_grad_norm_(lin.parameters(), 10.0)
            opt.step()
        return step
    if model == "colei":
        ne = H - (H + 9) // 10
        sign = torch.cat([torch.ones(ne), -torch.ones(H - ne)])
        U = (torch.rand(H, D) * 0.1).requires_grad_()
        W = (torch.rand(H, H) * 0.02).requires_grad_()
        b = torch.zeros(H, requires_grad=True)
        Wo = (torch.rand(M, H) * 0.05).requires_grad_()
        bo = torch.zeros(M, requires_grad=True)
        params = [U, W, b, Wo, bo]

        def step():
            for p in params:
                p.grad = None
            We, Woe = W * sign, Wo * sign
            h = torch.zeros(B, H)
            for t in range(T):
                h = torch.relu(x[t] @ U.t() + h @ We.t() + b)
            loss = torch.nn.functional.cross_entropy(h @ Woe.t() + bo, y)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    clip_([p], 10.0)
                    p -= lr * p.grad
                for p in (U, W, Wo):
                    p.clamp_(min=0)
        return step
    ni = max(H // 10, 1)
    s = (1 / 3 / (H - 1)) ** 0.5
    def e(*shape):
        return (torch.rand(*shape) * s).requires_grad_()
    Uee, Uie, Uei = e(H, D), e(ni, D), e(H, ni)
    Wee, Wie, Wei = e(H, H), e(ni, H), e(H, ni)
    b = torch.zeros(H, requires_grad=True)
    Oee, Oie, Oei = e(M, H), e(1, H), e(M, 1)
    bo = torch.zeros(M, requires_grad=True)
    cell = [Uee, Uie, Uei, Wee, Wie, Wei, b]
    out = [Oee, Oie, Oei, bo]
    scale = {id(Uie): H ** -0.5, id(Uei): 1 / D, id(Wie): H ** -0.5, id(Wei): 1 / H,
             id(Oie): M ** -0.5, id(Oei): 1 / H}

    def step():
        for p in cell + out:
            p.grad = None
        U = Uee - Uei @ Uie
        W = Wee - Wei @ Wie
        Wo = Oee - Oei @ Oie
        h = torch.zeros(B, H)
        for t in range(T):
            h = torch.relu(x[t] @ U.t() + h @ W.t() + b)
        loss = torch.nn.functional.cross_entropy(h @ Wo.t() + bo, y)
        loss.backward()
        with torch.no_grad():
            for p in cell + out:
                if id(p) in scale:
                    p.grad.mul_(scale[id(p)])
            clip_(cell, 10.0)
            clip_(out, 10.0)
            for p in cell + out:
                p -= lr * p.grad
            for p in cell[:6] + out[:3]:
                p.clamp_(min=0)
    return step


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(0)
    for H in [int(a) for a in sys.argv[2:]]:
        inner = 50 if H <= 100 else 10 if H <= 300 else 2
        for model in ("rnn", "colei", "dann"):
            step = make(model, H, gen)
            times, cpu = [], []
            for rep in range(8):  # the first is warm-up
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(inner):
                    step()
                if rep:
                    times.append((time.perf_counter() - t0) / inner)
                    cpu.append((time.process_time() - c0) / inner)
            times.sort()
            cpu.sort()
            t, c = times[len(times) // 2], cpu[len(cpu) // 2]
            print(f"torch,{model},{H},{threads},{t:.6g},{1 / t:.2f},{flops(H) / t * 1e-9:.2f},{c:.6g}",
                  flush=True)


if __name__ == "__main__":
    main()
