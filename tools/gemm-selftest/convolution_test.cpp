// convolution_test.cpp — placeholder until the convolution lowering lands.
#include "selftest.h"
void testConvolution(cudnet::cpu::ThreadPool&) {}
void benchConvolution(cudnet::cpu::ThreadPool&) {}
