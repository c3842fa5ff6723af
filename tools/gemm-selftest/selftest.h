// selftest.h — shared helpers of the standalone GEMM/convolution self-test.
#pragma once
#include <string>
#include <vector>

#include "cpu/thread_pool.h"

std::vector<float> randomVector(size_t n);
double relativeError(const std::vector<float>& actual, const std::vector<double>& expected);
void check(const std::string& what, double error, double tolerance);
double nowSeconds();
void testConvolution(cudnet::cpu::ThreadPool& pool);
void benchConvolution(cudnet::cpu::ThreadPool& pool);
void tune(const char* only);
