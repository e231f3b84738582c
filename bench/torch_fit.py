#!/usr/bin/env python3
"""The PyTorch peer of `npm run bench:fit` (bench/fit.js runs it in the same run when Debian's
python3-torch is installed): the same model and training loop written the usual PyTorch way.

    python3 bench/torch_fit.py --epochs=N --threads=N

Model: nn.LSTM(64, 128) -> nn.Linear(128, 10) on h_n (the last step), cross-entropy, Adam(1e-3),
clip_grad_norm_(1.0); 2048 random sequences of T=50 in shuffled batches of 64. Prints one JSON
line: {"seconds": ..., "updates": ...} for the timed run (after one warm-up epoch).
"""
import json
import sys
import time

import torch

args = dict(a.lstrip('-').split('=') for a in sys.argv[1:])
epochs = int(args.get('epochs', 2))
torch.set_num_threads(int(args.get('threads', 1)))
N, T, I, H, C, B = 2048, 50, 64, 128, 10, 64
g = torch.Generator().manual_seed(7)
x = torch.rand(N, T, I, generator=g) * 2 - 1
y = torch.randint(0, C, (N,), generator=g)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(I, H)
        self.head = torch.nn.Linear(H, C)

    def forward(self, xb):  # xb [T, B, I]
        _, (h, _) = self.lstm(xb)
        return self.head(h[-1])


def train(n_epochs):
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    updates = 0
    for _ in range(n_epochs):
        order = torch.randperm(N, generator=g)
        for s in range(0, N, B):
            idx = order[s:s + B]
            xb = x[idx].transpose(0, 1).contiguous()
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            updates += 1
    return updates


train(1)
t0 = time.perf_counter()
updates = train(epochs)
print(json.dumps({'seconds': time.perf_counter() - t0, 'updates': updates, 'torch': torch.__version__}))
