# alexnet_onnx.py — writes Caffe's bvlc_alexnet (groups, LRN, ceil-mode pooling, softmax) with random weights
# as ONNX, for bench/inference.ts's onnxruntime-node baseline:  python3 bench/alexnet_onnx.py out.onnx
import sys, torch, torch.nn as nn
class AlexNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0), nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(), nn.Linear(4096, 1000), nn.Softmax(dim=1))
    def forward(self, x): return self.classifier(self.features(x))
m = AlexNet().eval()
torch.onnx.export(m, torch.zeros(1, 3, 227, 227), sys.argv[1], input_names=['data'], output_names=['prob'], dynamic_axes={'data': {0: 'batch'}, 'prob': {0: 'batch'}}, opset_version=13)
print('ok')
