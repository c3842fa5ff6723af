// gemm.cpp — entry points of the dense algebra ops: gemm, addRowBias, sumRowsInto (see Backend for the math).
#include "../common.h"

namespace cudnet::binding {

static std::string describeGemm(bool transA, bool transB, int M, int N, int K) {
  return std::string("gemm(") + (transA ? "T" : "N") + (transB ? "T" : "N") + ", M=" + std::to_string(M) +
         ", N=" + std::to_string(N) + ", K=" + std::to_string(K) + ")";
}

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C): C[M,N] = alpha*op(A)*op(B) + beta*C
CUDNET_ENTRY(gemm) {
  bool transA = boolArg(info, 0, "transA"), transB = boolArg(info, 1, "transB");
  int M = static_cast<int>(countArg(info, 2, "M")), N = static_cast<int>(countArg(info, 3, "N"));
  int K = static_cast<int>(countArg(info, 4, "K"));
  float alpha = static_cast<float>(numberArg(info, 5, "alpha"));
  BufferRef A = bufferArg(info, 6, "A"), B = bufferArg(info, 7, "B");
  float beta = static_cast<float>(numberArg(info, 8, "beta"));
  BufferRef C = bufferArg(info, 9, "C");
  requireCount("gemm", "A", A, static_cast<size_t>(M) * K);
  requireCount("gemm", "B", B, static_cast<size_t>(K) * N);
  requireCount("gemm", "C", C, static_cast<size_t>(M) * N);
  auto device = commonDevice("gemm", {&A, &B, &C});
  // With beta = 0, C's old values are not read.
  size_t sizeA = static_cast<size_t>(M) * K, sizeB = static_cast<size_t>(K) * N, sizeC = static_cast<size_t>(M) * N;
  BufferUse output = beta == 0.f ? writes(C, sizeC) : updates(C, sizeC);
  submit(device, {reads(A, sizeA), reads(B, sizeB), output},
         [=] { device->backend().gemm(transA, transB, M, N, K, alpha, A->data(), B->data(), beta, C->data()); },
         [=] { return describeGemm(transA, transB, M, N, K); });
  return info.Env().Undefined();
}

// addRowBias(rows, columns, bias, y): y[i, j] += bias[j]
CUDNET_ENTRY(addRowBias) {
  int rows = static_cast<int>(countArg(info, 0, "rows")), columns = static_cast<int>(countArg(info, 1, "columns"));
  BufferRef bias = bufferArg(info, 2, "bias"), y = bufferArg(info, 3, "y");
  requireCount("addRowBias", "bias", bias, columns);
  requireCount("addRowBias", "y", y, static_cast<size_t>(rows) * columns);
  auto device = commonDevice("addRowBias", {&bias, &y});
  submit(device, {reads(bias, columns), updates(y, static_cast<size_t>(rows) * columns)},
         [=] { device->backend().addRowBias(rows, columns, bias->data(), y->data()); },
         [=] { return "addRowBias(rows=" + std::to_string(rows) + ", columns=" + std::to_string(columns) + ")"; });
  return info.Env().Undefined();
}

// sumRowsInto(rows, columns, dy, db): db[j] += sum_i dy[i, j]
CUDNET_ENTRY(sumRowsInto) {
  int rows = static_cast<int>(countArg(info, 0, "rows")), columns = static_cast<int>(countArg(info, 1, "columns"));
  BufferRef dy = bufferArg(info, 2, "dy"), db = bufferArg(info, 3, "db");
  requireCount("sumRowsInto", "dy", dy, static_cast<size_t>(rows) * columns);
  requireCount("sumRowsInto", "db", db, columns);
  auto device = commonDevice("sumRowsInto", {&dy, &db});
  submit(device, {reads(dy, static_cast<size_t>(rows) * columns), updates(db, columns)},
         [=] { device->backend().sumRowsInto(rows, columns, dy->data(), db->data()); },
         [=] { return "sumRowsInto(rows=" + std::to_string(rows) + ", columns=" + std::to_string(columns) + ")"; });
  return info.Env().Undefined();
}

}  // namespace cudnet::binding
