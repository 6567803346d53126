#!/usr/bin/python3
# Writes test/fixtures/lbfgs-trajectory.json: reference trajectories of torch.optim.LBFGS (max_iter=1,
# no line search, one step() per evaluation) and torch.optim.Adam, for test/optim.test.ts to replay.
#
# Run with the system interpreter that has torch:  /usr/bin/python3 tools/make-lbfgs-fixture.py
# Problems (all float32, the gradient is written explicitly so the TS side can evaluate it the same way):
#   quartic:   f(x) = 0.5 x^T A x - b^T x + 0.25 c sum(x^4),  grad = A x - b + c x^3   (dim 8, A SPD)
#   rosenbrock: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1)
#   scripted:  step() fed a fixed list of gradients (independent of x), including a zero gradient
#              (no update: max|g| <= tolerance_grad), a tiny one (no update: g.d > -tolerance_change,
#              yet torch's state moves on) and pairs with y.s <= 1e-10 (not stored), to pin down torch's
#              bookkeeping on these paths; the fixture also holds how many pairs torch keeps after each step.
#   wolfe:     torch.optim.LBFGS(line_search_fn='strong_wolfe') as one long step() call on the quartic
#              and on Rosenbrock: every point the closure is evaluated at, in order (trial points included).
import json
import os

import numpy as np
import torch

DIM, STEPS, HISTORY = 8, 30, 5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "lbfgs-trajectory.json")


def f32list(t):
    return [float(v) for v in np.asarray(t, dtype=np.float32).ravel()]


def quartic_problem():
    rng = np.random.default_rng(20240517)
    q, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    eig = np.logspace(0, 2, DIM)  # condition number 100
    a = (q * eig) @ q.T
    a = 0.5 * (a + a.T)  # exactly symmetric before and after rounding to float32
    b = rng.standard_normal(DIM)
    x0 = rng.standard_normal(DIM) * 2
    return (torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32),
            torch.tensor(x0, dtype=torch.float32), 0.1)


def run(make_opt, x0, loss_and_grad, steps):
    """One step() per evaluation; record x after every step and the loss the step was given."""
    x = x0.clone().requires_grad_(True)
    opt = make_opt([x])
    xs, losses = [], []

    def closure():
        with torch.no_grad():
            loss, g = loss_and_grad(x.detach())
        x.grad = g.clone()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure)))
        xs.append(f32list(x.detach()))
    return xs, losses


def run_wolfe(x0, loss_and_grad, evals, history):
    """One step() with a strong-Wolfe line search and room for `evals` evaluations; every evaluated x."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=evals, max_eval=evals, history_size=history,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-12)
    xs, losses = [], []

    def closure():
        with torch.no_grad():
            loss, g = loss_and_grad(x.detach())
        xs.append(f32list(x.detach()))
        losses.append(float(loss))
        x.grad = g.clone()
        return loss

    opt.step(closure)
    return xs[:evals], losses[:evals]


def main():
    torch.manual_seed(0)
    a, b, x0, c = quartic_problem()

    def quartic(x):
        ax = a @ x
        loss = 0.5 * torch.dot(x, ax) - torch.dot(b, x) + 0.25 * c * torch.sum(x ** 4)
        return loss, ax - b + c * x ** 3

    def rosenbrock(x):
        u, v = x[0], x[1]
        loss = (1 - u) ** 2 + 100 * (v - u * u) ** 2
        g = torch.stack([-2 * (1 - u) - 400 * u * (v - u * u), 200 * (v - u * u)])
        return loss, g

    lbfgs = lambda p: torch.optim.LBFGS(p, lr=1, max_iter=1, history_size=HISTORY)
    lbfgs_xs, lbfgs_losses = run(lbfgs, x0, quartic, STEPS)
    adam_xs, adam_losses = run(lambda p: torch.optim.Adam(p, lr=0.1), x0, quartic, STEPS)
    rb_x0 = torch.tensor([-1.2, 1.0], dtype=torch.float32)
    rb_steps = 200
    rb_xs, rb_losses = run(lambda p: torch.optim.LBFGS(p, lr=1, max_iter=1, history_size=100),
                           rb_x0, rosenbrock, rb_steps)

    # scripted gradients (dim 4): random ones, a zero one, a tiny one (its direction d is not applied,
    # but torch keeps it, and the tiny g, for the next pair), one roughly opposite to the tiny one (so that
    # pair has y.s > 0 and is stored), then pairs of equal ones (the second of each gives y = 0, not stored)
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(4) for _ in range(3)]
    grads += [np.zeros(4), np.full(4, 1e-5), -0.8 + 0.1 * rng.standard_normal(4)]
    for _ in range(4):
        g = rng.standard_normal(4)
        grads += [g, g]
    grads = [np.asarray(g, dtype=np.float32) for g in grads]
    scripted_x0 = torch.zeros(4)
    x = scripted_x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=4)
    scripted_xs, pairs = [], []  # x after each step, curvature pairs held after each step
    for g in grads:
        def closure(g=g):
            x.grad = torch.from_numpy(g).clone()
            return torch.tensor(0.0)
        opt.step(closure)
        scripted_xs.append(f32list(x.detach()))
        pairs.append(len(opt.state[x].get("old_dirs", [])))

    wq_xs, wq_losses = run_wolfe(x0, quartic, 40, HISTORY)
    wr_xs, wr_losses = run_wolfe(rb_x0, rosenbrock, 60, 100)

    out = {
        "generator": "tools/make-lbfgs-fixture.py",
        "torch": torch.__version__,
        "quartic": {"dim": DIM, "A": f32list(a), "b": f32list(b), "c": c, "x0": f32list(x0)},
        "lbfgs": {"lr": 1, "historySize": HISTORY, "xs": lbfgs_xs, "losses": lbfgs_losses},
        "adam": {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "xs": adam_xs, "losses": adam_losses},
        "rosenbrock": {"x0": f32list(rb_x0), "historySize": 100, "xs": rb_xs, "losses": rb_losses},
        "scripted": {"historySize": 4, "x0": f32list(scripted_x0), "grads": [f32list(g) for g in grads],
                     "xs": scripted_xs, "pairs": pairs},
        "wolfe": {"quartic": {"historySize": HISTORY, "xs": wq_xs, "losses": wq_losses},
                  "rosenbrock": {"historySize": 100, "xs": wr_xs, "losses": wr_losses}},
    }
    with open(OUT, "w") as fh:
        json.dump(out, fh)
        fh.write("\n")
    print(f"wrote {os.path.relpath(OUT)}")
    print("lbfgs losses:", " ".join(f"{v:.6g}" for v in lbfgs_losses))
    print("adam losses:", " ".join(f"{v:.6g}" for v in adam_losses))
    print("rosenbrock x every 20:", [rb_xs[i] for i in range(19, rb_steps, 20)])
    print("scripted pairs stored:", pairs)
    print("wolfe quartic losses:", " ".join(f"{v:.6g}" for v in wq_losses))
    print("wolfe rosenbrock losses:", " ".join(f"{v:.4g}" for v in wr_losses))


if __name__ == "__main__":
    main()
