#!/usr/bin/env python3
"""torch_large.py — the PyTorch side of `make bench`'s lm, objrec and protocol parts.

Same shapes as the dale runs bench/run.sh times, on random data, one thread
(torch.set_num_threads(1)), SGD with gradient clipping; process CPU time
(time.process_time) and wall time, median over the timed repeats after one
warm-up.  Prints CSV lines: torch,PART,WHAT,wall_s,cpu_s (per update, per
evaluation or per token as WHAT says).

  lm H DENSE V T B D REPS EVAL_TOKENS EVAL_ROWS
      torch.nn.RNN(D, H, num_layers=3, nonlinearity='relu') + the ReLU dense
      layers DENSE (e.g. 500,500) + Linear(., V); cross-entropy at every one
      of the T steps of B streams; clip_grad_norm_ 1 per layer; SGD.  The
      update's hidden state is carried over between updates (detached), as
      in truncated BPTT.  Then the evaluation: forward (no grad) over
      EVAL_TOKENS tokens in chunks of EVAL_ROWS rows of T steps; timed on a
      few chunks and scaled to EVAL_TOKENS ("eval" line: seconds per whole
      evaluation).
  objrec H D T B M REPS
      torch.nn.RNN(D, H, relu) + Linear(H, M), the input at step 1 of T and
      zeros after (PyTorch multiplies the zero steps too: nn.RNN has no way
      to skip them), cross-entropy at the last step, clip 1 per layer.
  protocol H T D B M UPDATES EVAL_EVERY EVAL_N EVAL_CHUNK
      the seqMNIST loop: UPDATES updates of nn.RNN(D, H, relu) + Linear on
      batches of B, and every EVAL_EVERY updates a forward over EVAL_N test
      sequences in chunks of EVAL_CHUNK (loss and error); one timed run
      ("update" line: seconds per update including the evaluations; "loop":
      per update without them; "eval": seconds per evaluation).
"""
import sys
import time

import torch

F = torch.nn.functional


def clocks():
    return time.perf_counter(), time.process_time()


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def timed(fn, reps, inner=1):
    """Median (wall, cpu) per call of fn over reps blocks of inner calls, after a warm-up."""
    fn()
    w, c = [], []
    for _ in range(reps):
        w0, c0 = clocks()
        for _ in range(inner):
            fn()
        w1, c1 = clocks()
        w.append((w1 - w0) / inner)
        c.append((c1 - c0) / inner)
    return median(w), median(c)


def clip_layers(mods, g):
    for m in mods:
        torch.nn.utils.clip_grad_norm_(m.parameters(), g)


def out(part, what, w, c):
    print(f"torch,{part},{what},{w:.6g},{c:.6g}", flush=True)


def lm(H, dense, V, T, B, D, reps, eval_tokens, eval_rows):
    gen = torch.Generator().manual_seed(0)
    rnn = torch.nn.RNN(D, H, num_layers=3, nonlinearity="relu")
    layers, width = [], H
    for k in dense:
        layers += [torch.nn.Linear(width, k), torch.nn.ReLU()]
        width = k
    head = torch.nn.Sequential(*layers, torch.nn.Linear(width, V))
    mods = [rnn] + [m for m in head if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.1)
    x = torch.randn(T, B, D, generator=gen)
    y = torch.randint(0, V, (T * B,), generator=gen)
    state = {"h": torch.zeros(3, B, H)}

    def step():
        opt.zero_grad()
        o, h = rnn(x, state["h"])
        state["h"] = h.detach()
        loss = F.cross_entropy(head(o).reshape(T * B, V), y)
        loss.backward()
        clip_layers(mods, 1.0)
        opt.step()

    w, c = timed(step, reps)
    out("lm", "update", w, c)
    if eval_tokens <= 0:
        return
    xe = torch.randn(T, eval_rows, D, generator=gen)
    ye = torch.randint(0, V, (T * eval_rows,), generator=gen)

    def chunk():
        with torch.no_grad():
            o, _ = rnn(xe, torch.zeros(3, eval_rows, H))
            F.cross_entropy(head(o).reshape(T * eval_rows, V), ye, reduction="sum")

    w, c = timed(chunk, reps)
    scale = eval_tokens / (T * eval_rows)
    out("lm", "eval", w * scale, c * scale)


def objrec(H, D, T, B, M, reps):
    gen = torch.Generator().manual_seed(0)
    rnn = torch.nn.RNN(D, H, nonlinearity="relu")
    lin = torch.nn.Linear(H, M)
    opt = torch.optim.SGD(list(rnn.parameters()) + list(lin.parameters()), lr=0.1)
    x = torch.zeros(T, B, D)
    x[0] = torch.rand(B, D, generator=gen)
    y = torch.randint(0, M, (B,), generator=gen)

    def step():
        opt.zero_grad()
        o, _ = rnn(x)
        F.cross_entropy(lin(o[-1]), y).backward()
        clip_layers([rnn, lin], 1.0)
        opt.step()

    w, c = timed(step, reps)
    out("objrec", "update", w, c)


def protocol(H, T, D, B, M, updates, every, n_eval, chunk):
    gen = torch.Generator().manual_seed(0)
    rnn = torch.nn.RNN(D, H, nonlinearity="relu")
    lin = torch.nn.Linear(H, M)
    opt = torch.optim.SGD(list(rnn.parameters()) + list(lin.parameters()), lr=0.01)
    xs = torch.rand(16, T, B, D, generator=gen)
    ys = torch.randint(0, M, (16, B), generator=gen)
    xt = torch.rand(T, n_eval, D, generator=gen)
    yt = torch.randint(0, M, (n_eval,), generator=gen)

    def evaluate():
        with torch.no_grad():
            loss, err = 0.0, 0
            for a in range(0, n_eval, chunk):
                o, _ = rnn(xt[:, a:a + chunk])
                z = lin(o[-1])
                loss += float(F.cross_entropy(z, yt[a:a + chunk], reduction="sum"))
                err += int((z.argmax(1) != yt[a:a + chunk]).sum())
        return loss, err

    def update(i):
        opt.zero_grad()
        o, _ = rnn(xs[i % 16])
        F.cross_entropy(lin(o[-1]), ys[i % 16]).backward()
        clip_layers([rnn, lin], 10.0)
        opt.step()

    update(0)
    evaluate()  # warm-up
    w0, c0 = clocks()
    for i in range(1, updates + 1):
        update(i)
        if i % every == 0:
            evaluate()
    w1, c1 = clocks()
    out("protocol", "update", (w1 - w0) / updates, (c1 - c0) / updates)
    w, c = timed(lambda: update(0), 3, max(updates // 10, 1))
    out("protocol", "loop", w, c)
    w, c = timed(evaluate, 3)
    out("protocol", "eval", w, c)


def main():
    torch.set_num_threads(1)
    part, a = sys.argv[1], sys.argv[2:]
    if part == "lm":
        dense = [int(k) for k in a[1].split(",") if k]
        lm(int(a[0]), dense, int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]), int(a[7]), int(a[8]))
    elif part == "objrec":
        objrec(*[int(v) for v in a[:6]])
    elif part == "protocol":
        protocol(*[int(v) for v in a[:9]])
    else:
        sys.exit(f"torch_large.py: unknown part {part}")


if __name__ == "__main__":
    main()
