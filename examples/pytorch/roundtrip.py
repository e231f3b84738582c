"""The PyTorch side of examples/pytorch/roundtrip.js.

    python3 examples/pytorch/roundtrip.py examples/output/pytorch

Reads the model fused-rnn saved (model.safetensors: torch.nn.Sequential names) into the same
network in PyTorch, checks its output on fused-rnn's input against fused-rnn's, trains it for 20
Adam steps, and writes the new weights and PyTorch's output back as from_torch.safetensors for
`node examples/pytorch/roundtrip.js --back`. Uses the safetensors package when installed
(pip install safetensors), else the few lines of the format spec below (F32 only).
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

try:
    from safetensors.torch import load_file, save_file
except ImportError:  # the format: u64 header size, JSON header, raw little-endian data
    def load_file(path):
        with open(path, 'rb') as f:
            data = f.read()
        (n,) = struct.unpack('<Q', data[:8])
        header = json.loads(data[8:8 + n])
        header.pop('__metadata__', None)
        out = {}
        for name, info in header.items():
            assert info['dtype'] == 'F32', (name, info['dtype'])
            begin, end = info['data_offsets']
            raw = bytearray(data[8 + n + begin:8 + n + end])
            out[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(info['shape']).clone()
        return out

    def save_file(tensors, path):
        header, chunks, offset = {}, [], 0
        for name in sorted(tensors):
            raw = tensors[name].detach().contiguous().to(torch.float32).numpy().tobytes()
            header[name] = {'dtype': 'F32', 'shape': list(tensors[name].shape), 'data_offsets': [offset, offset + len(raw)]}
            chunks.append(raw)
            offset += len(raw)
        text = json.dumps(header).encode()
        text += b' ' * ((8 - len(text) % 8) % 8)
        with open(path, 'wb') as f:
            f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


class Net(nn.Module):
    """The fused-rnn model Sequential([LSTM(4 -> 16), Dense(2)]); its state dict has the same names."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.LSTM(4, 16, batch_first=True), nn.Linear(16, 2)])

    def forward(self, x):  # x [B, T, 4]: samples first, as fused-rnn's predict()
        return self.layers[1](self.layers[0](x)[0])


def main(folder):
    torch.manual_seed(0)
    net = Net()
    weights = load_file(os.path.join(folder, 'model.safetensors'))
    net.layers.load_state_dict({k: v for k, v in weights.items()}, strict=True)
    io = load_file(os.path.join(folder, 'io.safetensors'))
    with torch.no_grad():
        y = net(io['x'])
    print(f'PyTorch on fused-rnn\'s weights: max |difference| from fused-rnn\'s output {(y - io["y"]).abs().max().item():.2e}')

    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(20):
        opt.zero_grad()
        loss = ((net(io['x']) - io['target']) ** 2).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        y = net(io['x'])
    out = {k: v.detach() for k, v in net.layers.state_dict().items()}
    out['y_torch'] = y
    save_file(out, os.path.join(folder, 'from_torch.safetensors'))
    print(f'trained 20 Adam steps in PyTorch (loss {loss.item():.4f}); wrote {os.path.join(folder, "from_torch.safetensors")}')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join('examples', 'output', 'pytorch'))
