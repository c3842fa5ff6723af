"""pytorch_lenet_alexnet.py — times Caffe's LeNet (batch 64) and AlexNet (batch 16) in PyTorch on the CPU,
as `cudnet time` times them: forward, backward and the SGD update, medians of repeated iterations
after warm-up. Prints one JSON object. Run by bench/torch.ts beside cudnet's own timings."""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn


def lenet():
    # Caffe's examples/mnist/lenet_train_test.prototxt
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(inplace=True), nn.Linear(500, 10))


def alexnet():
    # Caffe's models/bvlc_alexnet/train_val.prototxt (groups, LRN with alpha/n as Caffe, ceil pooling)
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)
    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), lrn(), pool(),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), lrn(), pool(),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), pool(),
        nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5), nn.Linear(4096, 1000))


def time_network(model, shape, classes, iterations, warmup=3):
    x = torch.rand(*shape)
    labels = torch.randint(0, classes, (shape[0],))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    forward, backward, update = [], [], []
    for i in range(warmup + iterations):
        start = time.perf_counter()
        loss = loss_fn(model(x), labels)
        middle = time.perf_counter()
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        end = time.perf_counter()
        optimizer.step()
        done = time.perf_counter()
        if i >= warmup:
            forward.append((middle - start) * 1e3)
            backward.append((end - middle) * 1e3)
            update.append((done - end) * 1e3)
    totals = [f + b + u for f, b, u in zip(forward, backward, update)]
    return {
        'forwardMs': statistics.median(forward), 'backwardMs': statistics.median(backward),
        'updateMs': statistics.median(update), 'iterationMs': statistics.median(totals),
        'forwardBackwardMs': statistics.median([f + b for f, b in zip(forward, backward)]),
    }


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    report = {
        'torch': torch.__version__, 'threads': threads,
        'lenet': time_network(lenet(), (64, 1, 28, 28), 10, iterations=50),
        'alexnet': time_network(alexnet(), (16, 3, 227, 227), 1000, iterations=5),
    }
    print(json.dumps(report))


if __name__ == '__main__':
    main()
